/**
 * The policies the docs show are policies kbak accepts: the README's "Seeding from production"
 * example and docs/masking-policy.md's complete example parse as they are printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy, topicRules } from '../../src/mask/policy';

const ROOT = join(__dirname, '..', '..');

/** The first ```yaml block after `heading` in a Markdown file. */
function yamlAfter(file: string, heading: string): string {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`${file} has no ${heading}`);
  const m = /```yaml\n([\s\S]*?)```/.exec(text.slice(at));
  if (!m) throw new Error(`no yaml block after ${heading} in ${file}`);
  return m[1]!;
}

describe('the documented policies parse', () => {
  it('README "Seeding from production"', () => {
    const p = parsePolicy(yamlAfter('README.md', '### Seeding from production'), { name: 'README.md' });
    expect(p.topics.map((t) => t.match)).toEqual(['orders|payments', 'customers', 'audit\\..*']);
    expect(topicRules(p, 'payments')?.value.map((r) => r.pathText)).toContain('customer.id');
    expect(topicRules(p, 'audit.log')?.value).toEqual([]);
    expect(topicRules(p, 'auditXlog')).toBeNull();
  });

  it('docs/masking-policy.md "A complete example"', () => {
    const p = parsePolicy(yamlAfter('docs/masking-policy.md', '## A complete example'), { name: 'masking-policy.md' });
    expect(p.topics.length).toBeGreaterThanOrEqual(3);
  });
});
