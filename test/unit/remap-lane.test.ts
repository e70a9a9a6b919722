import { UsageError } from '../../src/errors';
import { MAX_LANE_LENGTH, validateLaneName } from '../../src/remap/lane';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('validateLaneName', () => {
  it.each(['a', '1', 'feature-x', 'a-b-c', '0abc9', 'x'.repeat(MAX_LANE_LENGTH), 'pr-1234'])('accepts %j', (lane) => {
    expect(validateLaneName(lane)).toBe(lane);
  });

  it('uses the documented message for invalid characters', () => {
    const err = thrown(() => validateLaneName('Feature_X'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(
      `lane name "Feature_X" is invalid: use lowercase letters, digits and '-', start and end with a letter or digit, at most 40 characters`,
    );
  });

  it.each(['', '-a', 'a-', '-', 'A', 'a_b', 'a.b', 'a b', 'é', 'a/b', 'a\nb', ' a'])('rejects %j naming the value', (lane) => {
    const err = thrown(() => validateLaneName(lane));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(`lane name ${JSON.stringify(lane)} is invalid`);
    expect(err.message).not.toContain('\n');
  });

  it('rejects names longer than 40 characters, saying how long', () => {
    const lane = 'a'.repeat(MAX_LANE_LENGTH + 1);
    const err = thrown(() => validateLaneName(lane));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(`"${lane}" is too long (41 characters)`);
    expect(err.message).toContain('at most 40 characters');
  });
});
