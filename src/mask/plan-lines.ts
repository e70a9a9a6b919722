/**
 * A masked restore's plan as `kbak restore --dry-run --policy` shows it: per topic and
 * schema, every field with the action that applies (`keep` where no rule does), and the
 * warnings of the PII detector about fields no rule covers. Pure.
 */
import { table } from '../output/table';
import type { FieldPlanRow } from './body';
import type { MaskPlanView } from './compile';
import { partialKeepText, type FieldAction } from './policy';
import type { MaskingProvenance } from './provenance';

/** A warning about a field that looks personal and that no rule masks. */
export interface PersonalFieldWarning {
  topic: string;
  schemaId: number;
  part: 'key' | 'value';
  path: string;
  kind: string;
  evidence: string;
  /** A rule that masks it, as the policy writes it (ruleText). */
  suggested: string;
}

export function actionText(a: FieldAction): string {
  if (a.kind === 'partial') return `partial ${partialKeepText(a)}`;
  if (a.kind === 'fake') return `fake ${a.fake}`;
  return a.kind;
}

/** A rule as a policy writes it (what a dry run suggests is pasted into the policy as it is). */
export function ruleText(path: string, a: FieldAction): string {
  const p = /^[A-Za-z_$][A-Za-z0-9_$.-]*$/.test(path) ? path : JSON.stringify(path);
  if (a.kind === 'partial') return `{ path: ${p}, action: partial, keep: ${partialKeepText(a)} }`;
  if (a.kind === 'fake') return `{ path: ${p}, action: fake, fake: ${a.fake} }`;
  return `{ path: ${p}, action: ${a.kind === 'null' ? '"null"' : a.kind} }`;
}

const rowAction = (f: FieldPlanRow): string => (f.rule === null ? 'keep (no rule)' : actionText(f.rule.action));

export function maskPlanLines(view: MaskPlanView, provenance: MaskingProvenance, warnings: readonly PersonalFieldWarning[] = []): string[] {
  const lines = [
    `masking: policy ${provenance.policy} (sha256 ${provenance.policySha256.slice(0, 12)}…, key fingerprint ${provenance.keyFingerprint}, ${provenance.faker})`,
  ];
  for (const t of view.topics) {
    if (t.status === 'copied') {
      lines.push(`  ${t.topic}: copied as it is (no entry of the policy lists it; unlisted topics are copied)`);
      continue;
    }
    const details = [
      `entry ${t.at}`,
      t.sample ? `sample ${t.sample}` : 'no sample',
      `key ${t.key}`,
      t.headers.length > 0 ? `headers ${t.headers.join(', ')}` : 'headers kept',
    ];
    lines.push(`  ${t.topic} (${details.join('; ')})`);
    if (t.schemas.length === 0) lines.push('    no schema in the backup: values are read as plain JSON');
    for (const s of t.schemas) {
      lines.push(`    ${s.part} schema ${s.id} (${s.subject}, ${s.schemaType})`);
      const rows = s.fields.map((f) => [f.path, f.type.label, rowAction(f)]);
      lines.push(...(rows.length > 0 ? table(null, rows).map((l) => `      ${l}`) : ['      (no fields)']));
    }
  }
  if (warnings.length > 0) {
    lines.push(`warning: ${warnings.length} field${warnings.length === 1 ? '' : 's'} no rule masks look${warnings.length === 1 ? 's' : ''} personal:`);
    for (const w of warnings) {
      lines.push(
        `  ${w.topic} ${w.part} schema ${w.schemaId}: ${w.path} looks like ${w.kind} (${w.evidence}); e.g. { path: ${w.path}, action: ${w.suggested} }`,
      );
    }
  }
  return lines;
}

export function maskPlanJSON(view: MaskPlanView, provenance: MaskingProvenance, warnings: readonly PersonalFieldWarning[] = []): Record<string, unknown> {
  return {
    ...provenance,
    topics: view.topics.map((t) => ({
      topic: t.topic,
      status: t.status,
      entry: t.at,
      sample: t.sample,
      key: t.key,
      headers: t.headers,
      schemas: t.schemas.map((s) => ({
        id: s.id,
        subject: s.subject,
        part: s.part,
        schemaType: s.schemaType,
        fields: s.fields.map((f) => ({
          path: f.path,
          type: f.type.label,
          action: f.rule === null ? 'keep' : actionText(f.rule.action),
          rule: f.rule?.at ?? null,
        })),
      })),
    })),
    warnings,
  };
}
