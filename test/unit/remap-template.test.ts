import { UsageError } from '../../src/errors';
import { DEFAULT_GROUP_TEMPLATE, DEFAULT_SUBJECT_TEMPLATE, DEFAULT_TOPIC_TEMPLATE, TemplateKind, compileTemplate } from '../../src/remap/template';

function usageMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a throw');
}

describe('compileTemplate', () => {
  it('exports the lane-prefix defaults', () => {
    expect(DEFAULT_TOPIC_TEMPLATE).toBe('{lane}.{topic}');
    expect(DEFAULT_SUBJECT_TEMPLATE).toBe('{lane}.{subject}');
    expect(DEFAULT_GROUP_TEMPLATE).toBe('{lane}.{group}');
  });

  it.each<[string, TemplateKind, string]>([
    [DEFAULT_TOPIC_TEMPLATE, 'topic', 'feature-x.orders'],
    [DEFAULT_SUBJECT_TEMPLATE, 'subject', 'feature-x.orders'],
    [DEFAULT_GROUP_TEMPLATE, 'group', 'feature-x.orders'],
    ['{topic}.{lane}', 'topic', 'orders.feature-x'],
    ['lane_{lane}__{topic}_v1', 'topic', 'lane_feature-x__orders_v1'],
    ['{lane}{topic}', 'topic', 'feature-xorders'],
    ['{lane}.{topic}.{lane}.{topic}', 'topic', 'feature-x.orders.feature-x.orders'],
    ['{lane}/{group}', 'group', 'feature-x/orders'],
    ['{lane}:{subject}', 'subject', 'feature-x:orders'],
  ])('renders %j (%s)', (template, kind, expected) => {
    expect(compileTemplate(template, kind, '--x')({ lane: 'feature-x', name: 'orders' })).toBe(expected);
  });

  it('inserts names verbatim, even ones that look like placeholders', () => {
    const render = compileTemplate('{lane}.{subject}', 'subject', '--subject-template');
    expect(render({ lane: 'l', name: '{lane}' })).toBe('l.{lane}');
  });

  it('refuses a template without {lane}', () => {
    const msg = usageMessage(() => compileTemplate('copy.{topic}', 'topic', '--topic-template'));
    expect(msg).toContain('--topic-template "copy.{topic}" has no {lane} placeholder');
  });

  it('refuses an empty template', () => {
    expect(usageMessage(() => compileTemplate('', 'group', '--group-template'))).toContain('--group-template "" has no {lane}');
  });

  it.each<[string, TemplateKind, string]>([
    ['{lane}.orders', 'topic', '{topic}'],
    ['{lane}', 'subject', '{subject}'],
    ['{lane}-consumers', 'group', '{group}'],
  ])('refuses %j without the entity placeholder', (template, kind, placeholder) => {
    const msg = usageMessage(() => compileTemplate(template, kind, `--${kind}-template`));
    expect(msg).toContain(`--${kind}-template ${JSON.stringify(template)} has no ${placeholder} placeholder`);
  });

  it.each<[string, TemplateKind, string]>([
    ['{lane}.{topc}', 'topic', '{topc}'],
    ['{lane}.{subject}', 'topic', '{subject}'],
    ['{lane}.{topic}', 'subject', '{topic}'],
    ['{lane}.{group}.{env}', 'group', '{env}'],
    ['{lane}.{}.{topic}', 'topic', '{}'],
    ['{Lane}.{topic}', 'topic', '{Lane}'],
    ['{ lane }.{topic}', 'topic', '{ lane }'],
  ])('refuses unknown placeholder in %j', (template, kind, placeholder) => {
    const msg = usageMessage(() => compileTemplate(template, kind, '--flag'));
    expect(msg).toContain(`--flag ${JSON.stringify(template)} has unknown placeholder ${placeholder}`);
    expect(msg).toContain(`use {lane} and {${kind}}`);
  });

  it.each([
    ['{lane.{topic}', "unmatched '{' at position 0"],
    ['{lane}.{topic', "unmatched '{' at position 7"],
    ['{lane}}.{topic}', "unmatched '}' at position 6"],
    ['}{lane}.{topic}', "unmatched '}' at position 0"],
    ['{lane}.{{topic}}', "unmatched '{' at position 7"],
  ])('refuses unbalanced braces in %j', (template, what) => {
    const msg = usageMessage(() => compileTemplate(template, 'topic', '--topic-template'));
    expect(msg).toContain(`--topic-template ${JSON.stringify(template)} has an ${what}`);
  });

  it('refuses literal characters no topic name can hold, naming the flag', () => {
    const msg = usageMessage(() => compileTemplate('{lane}/{topic}', 'topic', '--topic-template'));
    expect(msg).toContain('--topic-template "{lane}/{topic}" contains "/"');
  });

  it('checks the flag it is given for every kind', () => {
    expect(usageMessage(() => compileTemplate('{subject}', 'subject', '--subject-template'))).toMatch(/^--subject-template /);
    expect(usageMessage(() => compileTemplate('{group}', 'group', '--group-template'))).toMatch(/^--group-template /);
  });
});
