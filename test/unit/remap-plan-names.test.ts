import { renderError } from '../../src/cli/errors';
import { SafetyError, UsageError, type KbakError } from '../../src/errors';
import { LaneNaming, MAX_GROUP_ID_LENGTH } from '../../src/remap/plan-names';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect((err as Error).message).not.toContain('\n');
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('LaneNaming construction', () => {
  it('validates the lane once, up front', () => {
    const err = thrown(() => new LaneNaming({ lane: 'Feature_X' }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('lane name "Feature_X" is invalid');
  });

  it.each([
    ['topicTemplate', '{topic}', '--topic-template "{topic}" has no {lane}'],
    ['subjectTemplate', '{lane}.{topic}', '--subject-template "{lane}.{topic}" has unknown placeholder {topic}'],
    ['groupTemplate', '{lane}.{group', `--group-template "{lane}.{group" has an unmatched '{'`],
  ])('validates %s up front, naming the option (the CLI shows its flag)', (key, template, expected) => {
    const err = thrown(() => new LaneNaming({ lane: 'feature-x', [key]: template }));
    expect(err).toBeInstanceOf(UsageError);
    expect((err as KbakError).options).toEqual([key]);
    expect(err.message).toContain(expected.replace(/^--[a-z]+-template/, key));
    expect(renderError(err).line).toContain(expected);
  });
});

describe('LaneNaming.topic / group', () => {
  const naming = new LaneNaming({ lane: 'feature-x' });

  it('uses the default templates', () => {
    expect(naming.lane).toBe('feature-x');
    expect(naming.topic('orders')).toBe('feature-x.orders');
    expect(naming.group('billing')).toBe('feature-x.billing');
  });

  it('uses custom templates', () => {
    const custom = new LaneNaming({ lane: 'pr-7', topicTemplate: '{topic}--{lane}', groupTemplate: 'lane-{lane}-{group}' });
    expect(custom.topic('orders')).toBe('orders--pr-7');
    expect(custom.group('billing')).toBe('lane-pr-7-billing');
  });

  it('validates the rendered topic, naming the source topic', () => {
    const err = thrown(() => naming.topic('bad topic'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('lane topic for "bad topic" is "feature-x.bad topic", which contains " "');
  });

  it('refuses a lane topic over Kafka length limit', () => {
    const source = 'o'.repeat(240);
    const err = thrown(() => naming.topic(source));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(`lane topic for "${source}"`);
    expect(err.message).toContain('250 characters long');
  });

  it('accepts a lane topic of exactly 249 characters', () => {
    expect(naming.topic('o'.repeat(249 - 'feature-x.'.length))).toHaveLength(249);
  });

  it('keeps group ids to 255 characters', () => {
    const fits = 'g'.repeat(MAX_GROUP_ID_LENGTH - 'feature-x.'.length);
    expect(naming.group(fits)).toHaveLength(255);
    const err = thrown(() => naming.group(fits + 'g'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain(`lane group for "${fits}g"`);
    expect(err.message).toContain('256 characters long');
    expect(err.message).toContain('groupTemplate');
    expect(renderError(err).line).toContain('use a shorter lane or --group-template');
  });

  it('builds a topic map', () => {
    expect(naming.topicMap(['orders', 'payments'])).toEqual(
      new Map([
        ['orders', 'feature-x.orders'],
        ['payments', 'feature-x.payments'],
      ]),
    );
  });
});

describe('LaneNaming.subject', () => {
  const naming = new LaneNaming({ lane: 'feature-x' });
  const topicMap = naming.topicMap(['orders', 'a-value', 'a', 'weird-key']);

  it.each([
    // TopicNameStrategy subjects of restored topics follow the lane topic.
    ['orders-value', 'feature-x.orders-value'],
    ['orders-key', 'feature-x.orders-key'],
    // A topic that itself ends in -value: only one suffix is stripped.
    ['a-value-value', 'feature-x.a-value-value'],
    ['a-value-key', 'feature-x.a-value-key'],
    ['a-value', 'feature-x.a-value'],
    ['weird-key-value', 'feature-x.weird-key-value'],
    // Everything else goes through the subject template.
    ['com.acme.Order', 'feature-x.com.acme.Order'],
    ['orders-com.acme.Order', 'feature-x.orders-com.acme.Order'],
    ['common.proto', 'feature-x.common.proto'],
    ['payments-value', 'feature-x.payments-value'],
    ['orders', 'feature-x.orders'],
    ['orders-values', 'feature-x.orders-values'],
    ['-value', 'feature-x.-value'],
    ['subject with spaces/and:colons', 'feature-x.subject with spaces/and:colons'],
  ])('%j → %j', (source, lane) => {
    expect(naming.subject(source, topicMap)).toBe(lane);
  });

  it('follows the topic template, not the subject template, for TopicNameStrategy subjects', () => {
    const custom = new LaneNaming({ lane: 'l1', topicTemplate: '{topic}.{lane}', subjectTemplate: 'lanes/{lane}/{subject}' });
    const map = custom.topicMap(['orders']);
    expect(custom.subject('orders-value', map)).toBe('orders.l1-value');
    expect(custom.subject('orders-key', map)).toBe('orders.l1-key');
    expect(custom.subject('com.acme.Order', map)).toBe('lanes/l1/com.acme.Order');
  });

  it('treats the empty-named topic like any other map key', () => {
    expect(naming.subject('-value', new Map([['', 'x']]))).toBe('x-value');
  });

  it('rejects only the empty subject', () => {
    const err = thrown(() => naming.subject('', topicMap));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toContain('source subject is empty');
  });

  it('maps a set of subjects', () => {
    expect(naming.subjectMap(['orders-value', 'common.proto'], topicMap)).toEqual(
      new Map([
        ['orders-value', 'feature-x.orders-value'],
        ['common.proto', 'feature-x.common.proto'],
      ]),
    );
  });

  it('refuses a lane subject that is also a source subject', () => {
    const custom = new LaneNaming({ lane: 'a', subjectTemplate: '{lane}{subject}' });
    const err = thrown(() => custom.subjectMap(['b', 'ab'], new Map()));
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.message).toContain('lane subject for "b" is "ab", which is also a source subject');
  });

  it('refuses two source subjects landing in one lane subject', () => {
    // Topic and subject templates disagree, so a TopicNameStrategy subject can meet a
    // templated one: topic fx.a → fx.a.fx, subject a.fx-value → fx.a.fx-value.
    const custom = new LaneNaming({ lane: 'fx', topicTemplate: '{topic}.{lane}' });
    const map = custom.topicMap(['fx.a']);
    const err = thrown(() => custom.subjectMap(['fx.a-value', 'a.fx-value'], map));
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.message).toContain('source subjects "fx.a-value" and "a.fx-value" would both be restored into lane subject "fx.a.fx-value"');
  });
});

describe('LaneNaming.assertNoCollisions', () => {
  it('passes a normal plan with no warnings', () => {
    const naming = new LaneNaming({ lane: 'feature-x' });
    expect(naming.assertNoCollisions(['orders', 'payments'], ['orders', 'payments', 'feature-x.orders'])).toEqual([]);
  });

  it('refuses a lane topic that is one of the selected source topics', () => {
    const naming = new LaneNaming({ lane: 'a', topicTemplate: '{lane}{topic}' });
    const err = thrown(() => naming.assertNoCollisions(['b', 'ab'], ['b', 'ab']));
    expect(err).toBeInstanceOf(SafetyError);
    expect(err.message).toContain('lane topic for "b" is "ab", which is also a source topic being restored');
  });

  it('refuses even when the selected source topic is no longer in the cluster', () => {
    const naming = new LaneNaming({ lane: 'a', topicTemplate: '{lane}{topic}' });
    expect(thrown(() => naming.assertNoCollisions(['b', 'ab'], []))).toBeInstanceOf(SafetyError);
  });

  it('allows a lane topic that already exists outside the selection (an earlier restore)', () => {
    const naming = new LaneNaming({ lane: 'feature-x' });
    expect(naming.assertNoCollisions(['orders'], ['orders', 'feature-x.orders'])).toEqual([]);
  });

  it('does not refuse a template that puts the lane after the topic', () => {
    const naming = new LaneNaming({ lane: 'b', topicTemplate: '{topic}{lane}' });
    expect(naming.assertNoCollisions(['a', 'c'], ['a', 'c'])).toEqual([]);
  });

  it('ignores a topic selected twice', () => {
    const naming = new LaneNaming({ lane: 'feature-x' });
    expect(naming.assertNoCollisions(['orders', 'orders'], ['orders'])).toEqual([]);
  });

  it('warns when a lane topic differs from a cluster topic only by . vs _', () => {
    const naming = new LaneNaming({ lane: 'feature-x' });
    const warnings = naming.assertNoCollisions(['orders'], ['orders', 'feature-x_orders']);
    expect(warnings).toEqual([
      `lane topic "feature-x.orders" differs from topic "feature-x_orders" only by '.' vs '_': their metrics would clash and Kafka may refuse to create it`,
    ]);
  });

  it('warns once when two lane topics differ only by . vs _', () => {
    const naming = new LaneNaming({ lane: 'feature-x' });
    const warnings = naming.assertNoCollisions(['a.b', 'a_b'], ['a.b', 'a_b']);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"feature-x.a.b"');
    expect(warnings[0]).toContain('"feature-x.a_b"');
  });

  it('propagates invalid lane topic names', () => {
    const naming = new LaneNaming({ lane: 'feature-x' });
    expect(thrown(() => naming.assertNoCollisions(['bad name'], []))).toBeInstanceOf(UsageError);
  });
});
