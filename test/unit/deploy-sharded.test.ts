/**
 * The sharded Kubernetes examples (deploy/components/sharded-dump, lane-seed-sharded; issue 21)
 * against kbak's own code: every pod's `--shard N` with the index Kubernetes gives it parses to
 * the right shard, and the exit codes that fail a shard at once are exactly those of kbak's
 * errors that a retry cannot cure. (scripts/validate-deploy checks the Kubernetes side: the
 * Indexed Job's fields, their agreement with --shard, the downward API, secrets, resources.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConflictError, IntegrityError, KbakError, NotFoundError, SafetyError, ServiceError, UsageError } from '../../src/errors';
import { JOB_INDEX_ENV, parseShardSpec } from '../../src/model/shard';

const COMPONENTS = join(__dirname, '..', '..', 'deploy', 'components');

interface JobSpec {
  completionMode?: string;
  completions?: number;
  parallelism?: number;
  podFailurePolicy?: { rules: { action: string; onExitCodes?: { operator: string; values: number[] } }[] };
  template: { spec: { containers: { name: string; args?: string[] }[] } };
}

/** The Job spec of a manifest: a Job's own, or a CronJob's (or a CronJob patch's) template. */
function jobSpec(...path: string[]): JobSpec {
  const doc = parseYaml(readFileSync(join(COMPONENTS, ...path), 'utf8')) as { kind: string; spec: { jobTemplate?: { spec: JobSpec } } & JobSpec };
  return doc.kind === 'CronJob' ? doc.spec.jobTemplate!.spec : doc.spec;
}

const SHARDED: [string, JobSpec][] = [
  ['sharded-dump (the CronJob patch)', jobSpec('sharded-dump', 'cronjob-dump-sharded.yaml')],
  ['lane-seed-sharded (the Job)', jobSpec('lane-seed-sharded', 'job-lane-seed-sharded.yaml')],
];

function shardArg(spec: JobSpec): string {
  const args = spec.template.spec.containers[0]!.args ?? [];
  const at = args.indexOf('--shard');
  expect(at).toBeGreaterThan(-1);
  return args[at + 1]!;
}

describe.each(SHARDED)('deploy: %s', (_name, spec) => {
  it("gives every pod its own shard from Kubernetes' index, and no index outside the shards", () => {
    expect(spec.completionMode).toBe('Indexed');
    const completions = spec.completions!;
    expect(spec.parallelism).toBe(completions);
    const shard = shardArg(spec);
    const seen = new Set<number>();
    // Kubernetes numbers an Indexed Job's pods 0..completions-1 in JOB_COMPLETION_INDEX.
    for (let i = 0; i < completions; i++) {
      const s = parseShardSpec(shard, { [JOB_INDEX_ENV]: String(i) });
      expect(s).toEqual({ index: i, count: completions });
      seen.add(s.index);
    }
    expect(seen.size).toBe(completions);
    expect(() => parseShardSpec(shard, { [JOB_INDEX_ENV]: String(completions) })).toThrow(UsageError);
  });

  it('fails a shard at once exactly on the exit codes of the errors a retry cannot cure', () => {
    const failIndex = (spec.podFailurePolicy?.rules ?? [])
      .filter((r) => r.action === 'FailIndex' && r.onExitCodes?.operator === 'In')
      .flatMap((r) => r.onExitCodes!.values);
    const never: KbakError[] = [new UsageError('u'), new NotFoundError('n'), new IntegrityError('c'), new SafetyError('s')];
    for (const e of never) expect(e.retriable).toBe(false);
    expect([...failIndex].sort((a, b) => a - b)).toEqual(never.map((e) => e.exitCode).sort((a, b) => a - b));
    // What a retry can cure (a service back, a lock released) is retried, never failed at once.
    for (const e of [new ServiceError('kafka', 'k'), new ConflictError('l')]) {
      expect(e.retriable).toBe(true);
      expect(failIndex).not.toContain(e.exitCode);
    }
  });
});
