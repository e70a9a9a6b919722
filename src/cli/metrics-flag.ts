/**
 * `--metrics-push URL` for the commands a CronJob runs: after the run (success or
 * failure) one push to the Pushgateway. A failed push is a warning, never the run's
 * result: the backup is what matters, and a missing push shows up as a stale
 * last-success time anyway.
 */
import type { Command } from 'commander';
import { KbakError } from '../errors';
import { pushMetrics, runMetrics, type Metric } from '../output/metrics';
import type { Logger } from '../output/logger';

export function addMetricsOption(cmd: Command): Command {
  return cmd.option('--metrics-push <url>', 'push run metrics to this Prometheus Pushgateway at the end (env KBAK_METRICS_PUSH)');
}

export interface RunReport {
  cluster: string;
  perTopic?: Array<{ topic: string; records: number; storedBytes: number }>;
  extra?: Metric[];
}

/** Runs `body`; with a URL, pushes success or failure metrics afterwards, then returns or rethrows. */
export async function withMetrics<T>(
  command: string,
  url: string | undefined,
  fallbackCluster: string,
  logger: Logger,
  body: () => Promise<{ result: T; report: RunReport }>,
  /** More grouping labels (a sharded dump's `shard`), so that runs side by side do not overwrite each other's metrics. */
  grouping: Record<string, string> = {},
): Promise<T> {
  const t0 = Date.now();
  let out: { result: T; report: RunReport };
  try {
    out = await body();
  } catch (err) {
    if (url) {
      const exitCode = err instanceof KbakError ? err.exitCode : 1;
      await pushMetrics(
        url,
        { command, cluster: fallbackCluster, ...grouping },
        runMetrics(command, { ok: false, durationMs: Date.now() - t0, exitCode }),
      ).catch((e: unknown) => logger.warn({ err: (e as Error).message }, `metrics push failed: ${(e as Error).message}`));
    }
    throw err;
  }
  if (url) {
    await pushMetrics(
      url,
      { command, cluster: out.report.cluster, ...grouping },
      runMetrics(command, { ok: true, durationMs: Date.now() - t0, perTopic: out.report.perTopic, extra: out.report.extra }),
    ).catch((e: unknown) => logger.warn({ err: (e as Error).message }, `metrics push failed: ${(e as Error).message}`));
  }
  return out.result;
}
