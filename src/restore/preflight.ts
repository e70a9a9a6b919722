/**
 * The restore's preflight: what would make a restore fail half-way is asked first, with
 * calls that change nothing, before the ledger's intent or any lane topic, subject or group
 * is written (a real run and --dry-run make the same checks):
 * - the store: the backup's manifest is still there and a segment of it can be read;
 * - the schema registry, when the plan needs one: it answers the Confluent API kbak speaks
 *   (an Apicurio URL without /apis/ccompat/v7 is named as such), with these credentials;
 * - Kafka: the principal may create the lane topics (CreateTopics with validate_only), delete
 *   those it replaces, write those it reuses or resumes, and read and write the lane ledger
 *   (the Metadata response's authorized operations; a validate_only creation when the ledger
 *   topic does not exist yet). Authentication itself failed earlier, at the first Kafka call.
 *
 * Missing rights are ServiceErrors (exit 4, not retriable): the README's exit-code table
 * files "denied access" under 4, and 6 (safety) is for refusals that protect data.
 */
import type { Backup } from '../backup/catalog';
import { manifestKey } from '../backup/layout';
import { classifyError, IntegrityError, NotFoundError } from '../errors';
import { KafkaServiceError, type KafkaAdapter, type TopicOperation, type TopicSpec } from '../kafka/adapter';
import { ledgerTopicSpec, withRetry } from '../lane/kafka-ops';
import { someOf } from '../output/words';
import type { RegistryClient } from '../schema/registry-client';
import type { RestorePlan, TopicPlan } from './plan';
import type { LaneAction } from './safety';

export interface PreflightTarget {
  kafka: KafkaAdapter;
  plan: RestorePlan;
  actions: ReadonlyMap<string, LaneAction>;
  ledgerTopic: string;
  /** Live brokers (the ledger topic's replication factor). */
  brokers: number;
  /** The lane topics as they would be created. */
  spec: (t: TopicPlan) => TopicSpec;
}

/** Whether the plan uses the registry: schemas to register, or subjects to check and create. */
export function needsRegistry(plan: RestorePlan): boolean {
  return plan.registrations.length > 0 || plan.subjects.length > 0;
}

/** The store and the registry: checked before anything is asked of Kafka beyond the plan's facts. */
export async function checkSources(backup: Backup, plan: RestorePlan, registry: RegistryClient | null): Promise<void> {
  await checkStore(backup, plan);
  if (registry && needsRegistry(plan)) await registry.check();
}

/** The backup's manifest is still in the store and the first block of one of its segments reads. */
export async function checkStore(backup: Backup, plan: RestorePlan): Promise<void> {
  const { store, ref } = backup;
  const key = manifestKey(ref.cluster, ref.backupId);
  try {
    if ((await store.size(key)) === null)
      throw new NotFoundError(
        `backup ${ref.cluster}/${ref.backupId} is no longer in ${store.location} (no ${key})`,
        'list the backups with kbak list and restore another',
      );
    const planned = new Set(plan.topics.map((t) => t.source));
    const seg = backup.manifest.topics
      .filter((t) => planned.has(t.name))
      .flatMap((t) => t.partitions)
      .find((p) => p.segments.length > 0)?.segments[0];
    if (!seg) return;
    const segKey = backup.storeKey(seg);
    // A segment the manifest names but the store lacks is a damaged backup (exit 5), as when
    // the records are read (backup/catalog.ts), not a wrong request.
    const missing = (cause?: unknown): IntegrityError =>
      new IntegrityError(
        `segment ${segKey} named by the manifest of ${ref.cluster}/${ref.backupId} is missing from ${store.location}`,
        'the backup is incomplete; restore from another backup',
        { cause },
      );
    // The first chunk is enough to know the object exists and this principal may read it.
    try {
      for await (const chunk of store.read(segKey)) {
        if (chunk.length > 0) return;
      }
    } catch (err) {
      if (err instanceof NotFoundError) throw missing(err);
      throw err;
    }
    if (seg.storedBytes > 0) throw missing();
  } catch (err) {
    throw classifyError(err, `reading backup ${ref.backupId} in ${store.location}`);
  }
}

const denied = (err: unknown): boolean =>
  err instanceof KafkaServiceError && (err.kafkaCode === 'TOPIC_AUTHORIZATION_FAILED' || err.kafkaCode === 'CLUSTER_AUTHORIZATION_FAILED');

function refusal(what: string, code: string | undefined, hint: string, cause?: unknown): KafkaServiceError {
  return new KafkaServiceError(`Kafka denies ${what}${code ? ` (${code})` : ''}: the restore stopped before writing anything`, code, hint, {
    retriable: false,
    cause,
  });
}

/** The principal's rights on the lane topics and the ledger, asked without changing anything. */
export async function checkKafkaRights(t: PreflightTarget): Promise<void> {
  const { kafka, plan, actions } = t;
  const byAction = (...a: LaneAction[]): TopicPlan[] => plan.topics.filter((x) => a.includes(actions.get(x.lane)!));
  const prefixed = plan.topics.length > 0 && plan.topics.every((x) => x.lane.startsWith(`${plan.lane}.`));
  const prefix = prefixed ? ` (a prefixed ACL on "${plan.lane}." covers every topic of the lane)` : '';

  const toCreate = byAction('create');
  const verdict = toCreate.length > 0 ? await creationVerdict(kafka, toCreate.map(t.spec)) : 'allowed';
  // 'exists': created meanwhile by someone else; the run's own checks deal with that.
  if (verdict instanceof KafkaServiceError)
    throw refusal(
      `creating the lane topics ${names(toCreate)}`,
      verdict.kafkaCode,
      `grant the principal kbak connects as CREATE on these topics${prefix} or on the cluster, or connect as one that has it`,
      verdict,
    );
  await checkExisting(t, byAction);
}

/**
 * CreateTopics with validate_only: `allowed`, `exists` (refused only because a topic exists,
 * so authorization passed), or the denial (TOPIC_ or CLUSTER_AUTHORIZATION_FAILED).
 */
async function creationVerdict(kafka: KafkaAdapter, specs: TopicSpec[]): Promise<'allowed' | 'exists' | KafkaServiceError> {
  try {
    await withRetry(() => kafka.validateCreateTopics(specs));
    return 'allowed';
  } catch (err) {
    if ((err as KafkaServiceError).kafkaCode === 'TOPIC_ALREADY_EXISTS') return 'exists';
    if (denied(err)) return err as KafkaServiceError;
    throw err;
  }
}

async function checkExisting(t: PreflightTarget, byAction: (...a: LaneAction[]) => TopicPlan[]): Promise<void> {
  const { kafka, ledgerTopic } = t;
  const existing = byAction('replace', 'reuse', 'resume');
  const access = await withRetry(() => kafka.topicAccess([...existing.map((x) => x.lane), ledgerTopic]));
  const lacking = (name: string, need: TopicOperation[]): TopicOperation[] => {
    const a = access.get(name);
    return a?.state === 'exists' ? need.filter((op) => !a.operations.has(op)) : need;
  };
  for (const x of existing) {
    const action = t.actions.get(x.lane)!;
    // Replace deletes and creates the topic again; reuse and resume write into it (resume reads its last records too).
    const need: TopicOperation[] = action === 'replace' ? ['DELETE', 'CREATE'] : action === 'resume' ? ['READ', 'WRITE'] : ['WRITE'];
    const missing = lacking(x.lane, need);
    // Creation may be granted on the cluster instead: a validate_only creation of the topic says (TOPIC_ALREADY_EXISTS when allowed).
    if (action === 'replace' && missing.length === 1 && missing[0] === 'CREATE' && (await creationVerdict(kafka, [t.spec(x)])) === 'exists') continue;
    if (missing.length > 0)
      throw refusal(
        `${missing.join(' and ')} on lane topic ${x.lane} (needed to ${action} it)`,
        'TOPIC_AUTHORIZATION_FAILED',
        `grant the principal kbak connects as ${missing.join(', ')} on the lane's topics, or connect as one that has them`,
      );
  }
  const ledger = access.get(ledgerTopic);
  if (ledger?.state === 'missing') {
    const verdict = await creationVerdict(kafka, [ledgerTopicSpec(ledgerTopic, t.brokers)]);
    if (verdict instanceof KafkaServiceError)
      throw refusal(
        `creating the lane ledger topic ${ledgerTopic}`,
        verdict.kafkaCode,
        `create ${ledgerTopic} (one compacted partition) as an administrator, or grant CREATE, READ and WRITE on it`,
        verdict,
      );
    return;
  }
  const missing = lacking(ledgerTopic, ['READ', 'WRITE']);
  if (missing.length > 0)
    throw refusal(
      `${missing.join(' and ')} on the lane ledger topic ${ledgerTopic} (a restore records the lane there first)`,
      'TOPIC_AUTHORIZATION_FAILED',
      `grant the principal kbak connects as READ and WRITE on topic ${ledgerTopic}, or connect as one that has them`,
    );
}

function names(topics: TopicPlan[]): string {
  return someOf(
    topics.map((t) => t.lane),
    5,
  );
}
