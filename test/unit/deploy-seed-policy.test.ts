/**
 * The example policy the masked lane-seed Job mounts (deploy/components/lane-seed-masked,
 * issue 19): it parses as a policy, names the key's variable the Job sets from its Secret, and
 * is the example of docs/masking-policy.md, so the two cannot drift apart.
 * (scripts/validate-deploy checks the Kubernetes side: the Job, its ConfigMap and Secret refs.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parsePolicy } from '../../src/mask/policy';

const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'components', 'lane-seed-masked');
const read = (...p: string[]) => readFileSync(join(...p), 'utf8');

describe('deploy: the masked lane seed', () => {
  const policyText = read(DIR, 'seed-policy.yaml');

  it('mounts a policy that parses and takes its key from KBAK_MASK_KEY, the variable the Job sets', () => {
    const policy = parsePolicy(policyText, { name: 'seed-policy.yaml' });
    expect(policy.key).toMatchObject({ from: 'env', env: 'KBAK_MASK_KEY', encoding: 'base64' });
    expect(policy.unlisted).toBe('refuse');
    const job = read(DIR, 'job-lane-seed-masked.yaml');
    expect(job).toMatch(/- name: KBAK_MASK_KEY\n\s+valueFrom:\n\s+secretKeyRef:\n\s+name: kbak-mask-key\n\s+key: KBAK_MASK_KEY\n/);
    expect(job).toMatch(/- --policy\n\s+- \/policy\/seed-policy\.yaml\n/);
  });

  it("is docs/masking-policy.md's complete example, line for line", () => {
    const docs = read(ROOT, 'docs', 'masking-policy.md');
    const example = /## A complete example\n\n```yaml\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(example).toBeDefined();
    const body = policyText
      .split('\n')
      .filter((l) => !l.startsWith('#'))
      .join('\n');
    expect(body).toBe(example);
  });

  it('mounts the key list the example policy samples by', () => {
    expect(policyText).toContain('keys-from: /seed/customers.txt');
    expect(read(DIR, 'job-lane-seed-masked.yaml')).toMatch(/- name: seed-keys\n\s+mountPath: \/seed\n/);
    expect(read(DIR, 'kustomization.yaml')).toMatch(/- name: kbak-seed-keys\n\s+files:\n\s+- customers\.txt\n/);
  });
});
