/**
 * `--metrics-push URL`: one push to a Prometheus Pushgateway at the end of a run, so that a
 * CronJob (which Prometheus cannot scrape: it is gone by then) still leaves metrics behind.
 * The text exposition format is built here (pure), the push is one HTTP POST to
 * `<URL>/metrics/job/kbak/command/<command>/cluster/<cluster>`. POST, not PUT: a failed
 * run replaces only the metrics it sends, so the last success time of the previous good
 * run stays visible next to the failure.
 */
import { ServiceError } from '../errors';

export interface Metric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

const escapeLabel = (v: string): string => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function exposition(metrics: Metric[]): string {
  const lines: string[] = [];
  for (const m of metrics) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const s of m.samples) {
      const labels = Object.entries(s.labels ?? {});
      lines.push(
        `${m.name}${labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : ''} ${Number.isFinite(s.value) ? s.value : 0}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Pushgateway grouping key in the URL path; values are URL-encoded (base64 form not needed for these). */
export function pushUrl(base: string, grouping: Record<string, string>): string {
  const path = Object.entries(grouping)
    .map(([k, v]) => `${k}/${encodeURIComponent(v)}`)
    .join('/');
  return `${base.replace(/\/+$/, '')}/metrics/job/kbak/${path}`;
}

export async function pushMetrics(base: string, grouping: Record<string, string>, metrics: Metric[], timeoutMs = 10_000): Promise<void> {
  const url = pushUrl(base, grouping);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: exposition(metrics),
      headers: { 'content-type': 'text/plain; version=0.0.4' },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ServiceError('pushgateway', `cannot push metrics to ${new URL(base).origin}: ${(err as Error).message}`, 'check --metrics-push', { cause: err });
  }
  if (!res.ok)
    throw new ServiceError('pushgateway', `the Pushgateway at ${new URL(base).origin} answered ${res.status} ${res.statusText}`, 'check --metrics-push');
}

const now = (): number => Date.now() / 1000;

/** The metrics of a finished run (success) or a failed one. */
export function runMetrics(
  command: string,
  outcome:
    | { ok: true; durationMs: number; perTopic?: Array<{ topic: string; records: number; storedBytes: number }>; extra?: Metric[] }
    | { ok: false; durationMs: number; exitCode: number },
): Metric[] {
  const p = `kbak_${command}`;
  const common: Metric[] = [
    { name: `${p}_success`, help: `1 if the last kbak ${command} run succeeded, 0 if it failed`, type: 'gauge', samples: [{ value: outcome.ok ? 1 : 0 }] },
    { name: `${p}_duration_seconds`, help: `duration of the last kbak ${command} run`, type: 'gauge', samples: [{ value: outcome.durationMs / 1000 }] },
  ];
  if (!outcome.ok) {
    return [
      ...common,
      {
        name: `${p}_last_failure_timestamp_seconds`,
        help: `end of the last failed kbak ${command} run (Unix time)`,
        type: 'gauge',
        samples: [{ value: now() }],
      },
      { name: `${p}_exit_code`, help: `exit code of the last kbak ${command} run`, type: 'gauge', samples: [{ value: outcome.exitCode }] },
    ];
  }
  const topics = outcome.perTopic ?? [];
  return [
    ...common,
    {
      name: `${p}_last_success_timestamp_seconds`,
      help: `end of the last successful kbak ${command} run (Unix time)`,
      type: 'gauge',
      samples: [{ value: now() }],
    },
    { name: `${p}_exit_code`, help: `exit code of the last kbak ${command} run`, type: 'gauge', samples: [{ value: 0 }] },
    ...(topics.length
      ? [
          {
            name: `${p}_records`,
            help: 'records read by the last successful run, per topic',
            type: 'gauge' as const,
            samples: topics.map((t) => ({ labels: { topic: t.topic }, value: t.records })),
          },
          {
            name: `${p}_stored_bytes`,
            help: 'bytes written to the store by the last successful run, per topic',
            type: 'gauge' as const,
            samples: topics.map((t) => ({ labels: { topic: t.topic }, value: t.storedBytes })),
          },
        ]
      : []),
    ...(outcome.extra ?? []),
  ];
}
