/**
 * The masking flags' refusals that need no service: each one line, exit 2, before the store or
 * a cluster is asked anything.
 */
import { runInProcess } from '../support/cli-in-process';

const line = (r: { stderr: string[] }): string => r.stderr.join('').trim();

describe('masking flags on the command line', () => {
  it('kbak recover refuses --policy by name: recovery restores production, not a lane', async () => {
    const r = await runInProcess(['recover', '--topic', 'orders', '--policy', 'p.yaml', '--source', '/nonexistent']);
    expect(r.code).toBe(2);
    expect(line(r)).toMatch(/--policy/);
    expect(line(r).split('\n')).toHaveLength(1);
  });

  it('--unlisted and --on-undecodable apply to a masked restore only', async () => {
    for (const flag of [
      ['--unlisted', 'copy'],
      ['--on-undecodable', 'drop'],
    ]) {
      const r = await runInProcess(['restore', '--lane', 'fx', ...flag, '--source', '/nonexistent']);
      expect(r.code).toBe(2);
      expect(line(r)).toContain(`${flag[0]} applies to a masked restore only`);
    }
  });

  it('--on-undecodable and --unlisted take only their words', async () => {
    const r = await runInProcess(['restore', '--lane', 'fx', '--policy', 'p.yaml', '--on-undecodable', 'skip']);
    expect(r.code).toBe(2);
    expect(line(r)).toContain('--on-undecodable skip is not one of stop, drop');
    const u = await runInProcess(['restore', '--lane', 'fx', '--policy', 'p.yaml', '--unlisted', 'maybe']);
    expect(u.code).toBe(2);
    expect(line(u)).toContain('--unlisted maybe is not one of copy, refuse');
  });
});
