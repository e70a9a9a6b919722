/**
 * "See before you seed": what the PII detector (detect.ts) says about a backup's fields,
 * from their names and from the values of each topic's first records (field-samples.ts).
 * Two uses: the warnings of `restore --dry-run --policy` about fields no rule masks, and
 * `kbak policy init`, a starting policy with those fields pre-filled for review.
 */
import type { Backup } from '../backup/catalog';
import { SchemaDecoder } from '../backup/decode';
import { compileMaskPlan, type MaskPlanView } from './compile';
import { detectPersonal, type Detection } from './detect';
import { sampleFields, sampleKey } from './field-samples';
import { ruleText, type PersonalFieldWarning } from './plan-lines';
import type { MaskPolicy } from './policy';
import { renderStarterPolicy } from './policy-init';

type ViewTopic = MaskPlanView['topics'][number];

/** Each schema's fields of one topic, with what the detector makes of those `only` selects. */
async function detectTopic(
  backup: Backup,
  t: ViewTopic,
  only: (f: ViewTopic['schemas'][number]['fields'][number]) => boolean,
): Promise<Array<{ schema: ViewTopic['schemas'][number]; detections: Map<string, Detection | null> }>> {
  const sampled = t.schemas.map((s) => ({ id: s.id, part: s.part, masker: s.masker, paths: s.fields.filter(only).map((f) => f.path) }));
  const samples = await sampleFields(backup, t.topic, sampled);
  return t.schemas.map((schema) => {
    const detections = new Map<string, Detection | null>();
    for (const f of schema.fields.filter(only)) {
      detections.set(f.path, detectPersonal({ path: f.path, type: f.type }, samples.get(sampleKey(schema.part, schema.id, f.path)) ?? []));
    }
    return { schema, detections };
  });
}

/** Fields no rule masks (no rule, or `keep`) that look personal, topic by topic. */
export async function personalWarnings(backup: Backup, view: MaskPlanView): Promise<PersonalFieldWarning[]> {
  const out: PersonalFieldWarning[] = [];
  for (const t of view.topics) {
    const found = await detectTopic(backup, t, (f) => f.rule === null || f.rule.action.kind === 'keep');
    for (const { schema, detections } of found) {
      for (const [path, d] of detections) {
        if (d === null) continue;
        out.push({ topic: t.topic, schemaId: schema.id, part: schema.part, path, kind: d.kind, evidence: d.evidence, suggested: ruleText(path, d.suggested) });
      }
    }
  }
  return out;
}

/** A policy that lists every topic and nothing else: compiling it yields each schema's fields. */
function listingPolicy(): MaskPolicy {
  return {
    source: '(policy init)',
    version: 1,
    key: { from: 'env', env: 'KBAK_MASK_KEY', encoding: 'base64', at: '(policy init)' },
    unlisted: 'copy',
    topics: [{ match: '.*', pattern: /^(?:.*)$/s, value: [], key: null, headers: [], sample: null, at: '(policy init)' }],
  };
}

export interface StarterPolicy {
  text: string;
  topics: number;
  /** Fields pre-filled with an action (detected as personal). */
  detected: number;
}

/** `kbak policy init`: a starting policy for `topics` of the backup, for review. */
export async function starterPolicy(backup: Backup, topics: readonly string[]): Promise<StarterPolicy> {
  const { manifest } = backup;
  const plan = compileMaskPlan({
    policy: listingPolicy(),
    // No rule is compiled, so no action ever uses the key.
    key: Buffer.alloc(32),
    schemas: new SchemaDecoder(manifest.schemas),
    allSchemas: manifest.schemas,
    topics,
    unlistedCopy: true,
    keySets: new Map(),
  });
  let detected = 0;
  const input: Parameters<typeof renderStarterPolicy>[0] = { backup: `${backup.ref.cluster}/${backup.ref.backupId}`, topics: [] };
  for (const t of plan.view.topics) {
    const found = await detectTopic(backup, t, () => true);
    input.topics.push({
      topic: t.topic,
      schemas: found.map(({ schema, detections }) => ({
        id: schema.id,
        subject: schema.subject,
        part: schema.part,
        fields: schema.fields.map((f) => {
          const detection = detections.get(f.path) ?? null;
          if (detection) detected++;
          return { path: f.path, type: f.type, detection };
        }),
      })),
    });
  }
  return { text: renderStarterPolicy(input), topics: input.topics.length, detected };
}
