import { UsageError } from '../../src/errors';
import { MAX_TOPIC_NAME_LENGTH, metricName, topicsCollide, validateTopicName } from '../../src/remap/topic-name';

const ctx = 'lane topic for "orders"';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message.startsWith(ctx)).toBe(true);
    return message;
  }
  throw new Error('expected a throw');
}

describe('validateTopicName', () => {
  it.each(['a', 'feature-x.orders', 'A_b-C.9', '...', '.a', 'x'.repeat(MAX_TOPIC_NAME_LENGTH), '__consumer_offsets'])('accepts %j', (name) => {
    expect(validateTopicName(name, ctx)).toBe(name);
  });

  it('rejects the empty name', () => {
    expect(usageMessage(() => validateTopicName('', ctx))).toContain('is empty');
  });

  it.each(['.', '..'])('rejects %j', (name) => {
    expect(usageMessage(() => validateTopicName(name, ctx))).toContain(`is ${JSON.stringify(name)}: Kafka does not allow`);
  });

  it('rejects names over 249 characters, naming the name and length', () => {
    const name = 'x'.repeat(MAX_TOPIC_NAME_LENGTH + 1);
    const msg = usageMessage(() => validateTopicName(name, ctx));
    expect(msg).toContain(`"${name}", 250 characters long`);
    expect(msg).toContain('at most 249');
  });

  it.each([
    ['a b', ' '],
    ['a/b', '/'],
    ['a:b', ':'],
    ['lane.ordérs', 'é'],
    ['a\nb', '\n'],
    ['a+b', '+'],
  ])('rejects %j naming the illegal character', (name, ch) => {
    const msg = usageMessage(() => validateTopicName(name, ctx));
    expect(msg).toContain(`is ${JSON.stringify(name)}, which contains ${JSON.stringify(ch)}`);
  });
});

describe('topicsCollide', () => {
  it.each([
    ['a.b', 'a_b'],
    ['a_b', 'a.b'],
    ['x.y_z', 'x_y.z'],
    ['..', '__'],
  ])('%j and %j collide', (a, b) => {
    expect(topicsCollide(a, b)).toBe(true);
  });

  it.each([
    ['a.b', 'a.b'],
    ['a_b', 'a_b'],
    ['a.b', 'a-b'],
    ['a.b', 'a.c'],
    ['a.b', 'a_bc'],
    ['A.b', 'a_b'],
  ])('%j and %j do not collide', (a, b) => {
    expect(topicsCollide(a, b)).toBe(false);
  });

  it('maps dots to underscores like Kafka metric names', () => {
    expect(metricName('a.b.c_d')).toBe('a_b_c_d');
  });
});
