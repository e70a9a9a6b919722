/**
 * The inverse of the lane templates (src/remap/template.ts invertTemplate, src/remap/base-names.ts):
 * every base name renders back to the lane name it came from, and a name the templates
 * cannot have produced for the lane is refused (null), never guessed.
 */
import fc from 'fast-check';
import { LaneBaseNames } from '../../src/remap/base-names';
import { LaneNaming } from '../../src/remap/plan-names';
import { compileTemplate, invertTemplate } from '../../src/remap/template';

const DEFAULTS = { topic: '{lane}.{topic}', subject: '{lane}.{subject}', group: '{lane}.{group}' };

describe('invertTemplate', () => {
  it('gives the base name of the default templates, and null for names of another lane or none', () => {
    expect(invertTemplate('{lane}.{topic}', 'topic', 't', 'alpha', 'alpha.orders')).toBe('orders');
    expect(invertTemplate('{lane}.{topic}', 'topic', 't', 'alpha', 'alpha.a.b')).toBe('a.b');
    expect(invertTemplate('{lane}.{topic}', 'topic', 't', 'alpha', 'beta.orders')).toBeNull();
    expect(invertTemplate('{lane}.{topic}', 'topic', 't', 'alpha', 'alpha.')).toBeNull();
    expect(invertTemplate('{lane}.{topic}', 'topic', 't', 'alpha', 'alphaXorders')).toBeNull();
    expect(invertTemplate('{lane}.{topic}', 'topic', 't', 'alpha', 'orders')).toBeNull();
  });

  it('handles a suffix lane, literals that are regex characters, and a repeated placeholder', () => {
    expect(invertTemplate('{topic}__{lane}', 'topic', 't', 'a-1', 'orders__a-1')).toBe('orders');
    expect(invertTemplate('({lane})+{group}', 'group', 'g', 'x', '(x)+svc')).toBe('svc');
    expect(invertTemplate('({lane})+{group}', 'group', 'g', 'x', 'x+svc')).toBeNull();
    expect(invertTemplate('{lane}-{group}-{group}', 'group', 'g', 'x', 'x-ab-ab')).toBe('ab');
    expect(invertTemplate('{lane}-{group}-{group}', 'group', 'g', 'x', 'x-ab-ac')).toBeNull();
    expect(invertTemplate('{lane}.{lane}.{topic}', 'topic', 't', 'x', 'x.x.o')).toBe('o');
    expect(invertTemplate('{lane}.{lane}.{topic}', 'topic', 't', 'x', 'x.y.o')).toBeNull();
  });

  it('refuses a bad template as compileTemplate does', () => {
    expect(() => invertTemplate('{topic}', 'topic', '--topic-template', 'x', 'o')).toThrow(/no \{lane\} placeholder/);
  });

  it('inverts every rendered name (property)', () => {
    const lane = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    const literal = fc.stringMatching(/^[a-zA-Z0-9._-]{0,3}$/);
    const base = fc.stringMatching(/^[a-zA-Z0-9._-]{1,12}$/);
    fc.assert(
      fc.property(lane, literal, literal, literal, fc.boolean(), base, (l, a, b, c, laneFirst, name) => {
        const template = laneFirst ? `${a}{lane}${b}{topic}${c}` : `${a}{topic}${b}{lane}${c}`;
        const rendered = compileTemplate(template, 'topic', 't')({ lane: l, name });
        const back = invertTemplate(template, 'topic', 't', l, rendered);
        // The inverse may differ from `name` only if another base renders to the same text, which the check excludes.
        expect(back).not.toBeNull();
        expect(compileTemplate(template, 'topic', 't')({ lane: l, name: back! })).toBe(rendered);
      }),
      { seed: 17, numRuns: 500 },
    );
  });
});

describe('LaneBaseNames', () => {
  const topics = new Map([
    ['alpha.orders', 'orders'],
    ['alpha.a-value', 'a-value'],
  ]);

  it('maps lane names back so that LaneNaming maps them forward again', () => {
    const base = new LaneBaseNames('alpha', DEFAULTS);
    const forward = new LaneNaming({ lane: 'alpha' });
    expect(base.topic('alpha.orders')).toBe('orders');
    // TopicNameStrategy subjects follow their topic back.
    expect(base.subject('alpha.orders-value', topics)).toBe('orders-value');
    expect(base.subject('alpha.orders-key', topics)).toBe('orders-key');
    expect(base.subject('alpha.a-value-value', topics)).toBe('a-value-value');
    // Other subjects through the subject template.
    expect(base.subject('alpha.com.acme.Order', topics)).toBe('com.acme.Order');
    expect(base.group('alpha.billing-svc')).toBe('billing-svc');
    for (const s of ['alpha.orders-value', 'alpha.com.acme.Order', 'alpha.a-value-value']) {
      const b = base.subject(s, topics)!;
      expect(forward.subject(b, new Map([...topics].map(([l, t]) => [t, l])))).toBe(s);
    }
  });

  it("refuses names the lane's templates cannot have produced", () => {
    const base = new LaneBaseNames('alpha', DEFAULTS);
    expect(base.topic('beta.orders')).toBeNull();
    expect(base.topic('alpha.bad topic')).toBeNull();
    expect(base.group('beta.svc')).toBeNull();
    expect(base.subject('beta.orders-value', topics)).toBeNull();
    // A subject template name whose base is a TopicNameStrategy subject of a snapshot topic:
    // LaneNaming would have named it alpha.orders-value, not this.
    const custom = new LaneBaseNames('alpha', { ...DEFAULTS, subject: 'subj.{lane}.{subject}' });
    expect(custom.subject('subj.alpha.orders-value', topics)).toBeNull();
    expect(custom.subject('subj.alpha.com.acme.Order', topics)).toBe('com.acme.Order');
  });

  it('follows custom templates', () => {
    const base = new LaneBaseNames('x', { topic: 'lane_{lane}_{topic}', subject: '{subject}@{lane}', group: '{group}.{lane}' });
    const t = new Map([['lane_x_orders', 'orders']]);
    expect(base.topic('lane_x_orders')).toBe('orders');
    expect(base.subject('lane_x_orders-value', t)).toBe('orders-value');
    expect(base.subject('common@x', t)).toBe('common');
    expect(base.group('svc.x')).toBe('svc');
    expect(base.group('x.svc')).toBeNull();
  });
});
