/**
 * `kbak recover --with-acls`: the backup's ACL bindings (manifest `acls`, FORMAT.md settled
 * point 23) re-created on the target cluster. The plan is pure (planAclRecovery); recoverAcls
 * reads the target's bindings and creates the missing ones.
 *
 * What is re-created by default: literal bindings of the recovered topics (under their
 * recovered names) and of the recovered groups, which reach only what the recovery itself
 * brings. Prefixed and wildcard (`*`) bindings reach every topic or group of the target whose
 * name they match, data the backup has nothing to do with: recovering into another (a shared,
 * a staging) cluster, an ALLOW would hand a principal that cluster's other topics, a DENY could
 * stop its other applications. A cautious recovery does not widen or narrow access to anything
 * it did not bring, so these are left out and listed in the plan's `skipped`, each with why;
 * `{ broad: true }` re-creates them as they are (a rename does not change them; the plan notes
 * a prefix that no longer matches a renamed topic, or newly matches one).
 */
import { UsageError } from '../errors';
import { aclBindingSchema, aclKey, lowerBound, type AclBinding } from '../backup/acls';
import { KafkaServiceError, type AclBindingInfo, type AclResourceType, type KafkaAdapter } from '../kafka/adapter';
import type { Logger } from '../output/logger';

export interface AclRecoveryPlan {
  /** Bindings to create on the target, recovered names in place, in the backup's order. */
  create: AclBindingInfo[];
  /** Bindings the target already has: not created again. */
  present: AclBindingInfo[];
  /**
   * The backup's bindings this recovery does not create, each with why; `reason` sorts them:
   * `broad` (prefixed or wildcard, left out without `broad`: worth a warning), `not-recovered`
   * (their topic or group is not recovered), `unknown` (outside the backup format).
   */
  skipped: Array<{ binding: AclBindingInfo; why: string; reason: 'broad' | 'not-recovered' | 'unknown' }>;
  /** What a reader of the plan should know about the created ones (a prefix a rename left behind, or newly reaches). */
  notes: string[];
}

export interface AclRecoveryOptions {
  /** Also re-create prefixed and wildcard bindings (cluster-wide reach; see the module comment). Default false. */
  broad?: boolean;
  /** recoverAcls reads the target and plans, creating nothing (`--dry-run`). */
  dryRun?: boolean;
}

/**
 * `--with-acls` asked of a backup that holds no ACLs (its manifest has no `acls`: the dump could
 * not capture them). Exit 2: the command line asks for what this backup cannot give, and it is
 * changed by dropping the flag or choosing another backup; nothing was at risk, so not a safety refusal (6).
 */
export class BackupHasNoAclsError extends UsageError {
  override readonly code = 'NO_ACLS_IN_BACKUP';
  constructor(backupId?: string) {
    super(
      `${backupId === undefined ? 'the backup' : `backup ${backupId}`} holds no ACLs: the dump that wrote it could not capture them (no authorizer, or a principal without DESCRIBE on the cluster)`,
      'recover without --with-acls, or choose a backup whose `kbak inspect` shows ACLs',
    );
  }
}

/** The backup's bindings for `--with-acls`, or BackupHasNoAclsError when it holds none: for the caller to ask before anything is written. */
export function requireBackupAcls<T extends AclBindingInfo>(acls: readonly T[] | undefined, backupId?: string): readonly T[] {
  if (acls === undefined) throw new BackupHasNoAclsError(backupId);
  return acls;
}

/**
 * The one conversion between the adapter's binding and the format's: a binding outside the
 * format (an operation or resource type it does not list, a name beyond its length) is null.
 */
function asFormatBinding(b: AclBindingInfo): AclBinding | null {
  const parsed = aclBindingSchema.safeParse(b);
  return parsed.success ? parsed.data : null;
}

const NOUN: Record<AclResourceType, string> = { TOPIC: 'topic', GROUP: 'group' };

/**
 * Which of the backup's bindings a recovery re-creates: literal TOPIC bindings of recovered
 * topics follow a rename (topicNames: source → target, every recovered topic, equal when not
 * renamed); GROUP bindings of recovered groups keep their names; prefixed and wildcard bindings
 * are kept as they are, and created only with `broad` (a note when a prefix no longer matches a
 * renamed topic, or newly matches one). Bindings of topics and groups not being recovered are skipped, and so is any
 * binding the target already has (`present`). Pure; a prefix is looked up in the sorted names
 * (those it reaches follow it), so O((bindings + names) · log names) plus the renamed topics a
 * created prefix reaches.
 */
export function planAclRecovery(
  backupAcls: readonly AclBindingInfo[] | undefined,
  topicNames: ReadonlyMap<string, string>,
  groups: ReadonlySet<string>,
  existing: readonly AclBindingInfo[],
  opts: AclRecoveryOptions = {},
): AclRecoveryPlan {
  const acls = requireBackupAcls(backupAcls);
  const held = new Set<string>();
  for (const b of existing) {
    const f = asFormatBinding(b);
    if (f) held.add(aclKey(f));
  }
  const plan: AclRecoveryPlan = { create: [], present: [], skipped: [], notes: [] };
  const planned = new Set<string>();
  const sorted: Record<AclResourceType, readonly string[]> = { TOPIC: [...topicNames.keys()].sort(), GROUP: [...groups].sort() };
  const renames = [...topicNames].filter(([source, target]) => source !== target);
  const renamed = renames.map(([source]) => source).sort();
  const sourceOf = new Map(renames.map(([source, target]) => [target, source]));
  const renamedTo = [...sourceOf.keys()].sort();
  for (const binding of acls) {
    const f = asFormatBinding(binding);
    if (!f) {
      plan.skipped.push({ binding, why: 'not an ACL binding the backup format holds', reason: 'unknown' });
      continue;
    }
    const noun = NOUN[f.resourceType];
    let target: AclBinding;
    if (f.patternType === 'LITERAL' && f.resourceName !== '*') {
      const name = f.resourceType === 'TOPIC' ? topicNames.get(f.resourceName) : groups.has(f.resourceName) ? f.resourceName : undefined;
      if (name === undefined) {
        plan.skipped.push({ binding, why: `${noun} ${f.resourceName} is not recovered`, reason: 'not-recovered' });
        continue;
      }
      target = { ...f, resourceName: name };
    } else {
      const wildcard = f.patternType === 'LITERAL';
      const names = sorted[f.resourceType];
      // The names a prefix reaches follow it directly in the sorted names.
      const first = names[wildcard ? 0 : lowerBound(names, f.resourceName)];
      const what = wildcard ? `a wildcard binding (every ${noun})` : `a prefixed binding (every ${noun} starting with ${f.resourceName})`;
      if (first === undefined || !first.startsWith(wildcard ? '' : f.resourceName)) {
        plan.skipped.push({ binding, why: `${what} that reaches no recovered ${noun}`, reason: 'not-recovered' });
        continue;
      }
      if (!opts.broad) {
        const effect =
          f.permissionType === 'ALLOW'
            ? `it would grant ${f.principal} ${f.operation} on the target's other ${noun}s too`
            : `it would deny ${f.principal} ${f.operation} on the target's other ${noun}s too; without it the recovered ${noun}s are less restricted than in the source`;
        plan.skipped.push({ binding, why: `${what}: ${effect} (create it by hand if the target should have it)`, reason: 'broad' });
        continue;
      }
      if (!wildcard && f.resourceType === 'TOPIC') {
        for (let i = lowerBound(renamed, f.resourceName); i < renamed.length && renamed[i]!.startsWith(f.resourceName); i++) {
          const source = renamed[i]!;
          const target = topicNames.get(source)!;
          if (!target.startsWith(f.resourceName))
            plan.notes.push(
              `the prefixed binding ${f.resourceName} (${f.permissionType} ${f.principal} ${f.operation}) no longer reaches topic ${source}, recovered as ${target}`,
            );
        }
        for (let i = lowerBound(renamedTo, f.resourceName); i < renamedTo.length && renamedTo[i]!.startsWith(f.resourceName); i++) {
          const source = sourceOf.get(renamedTo[i]!)!;
          if (!source.startsWith(f.resourceName))
            plan.notes.push(
              `the prefixed binding ${f.resourceName} (${f.permissionType} ${f.principal} ${f.operation}) now also reaches topic ${renamedTo[i]}, recovered from ${source}, which it did not reach in the source`,
            );
        }
      }
      target = f;
    }
    const key = aclKey(target);
    if (planned.has(key)) continue;
    planned.add(key);
    (held.has(key) ? plan.present : plan.create).push(target);
  }
  return plan;
}

/** What to do when the target refuses ACLs, by Kafka's code. */
const REFUSED: Record<string, { what: string; hint: string }> = {
  SECURITY_DISABLED: {
    what: 'the target cluster has no authorizer, so it holds no ACLs',
    hint: 'configure authorizer.class.name on its brokers, or recover without --with-acls',
  },
  CLUSTER_AUTHORIZATION_FAILED: {
    what: 'the principal may not read and create ACLs on the target',
    hint: 'grant it DESCRIBE and ALTER on the cluster, or recover without --with-acls',
  },
};

/** Kafka's refusal as one line naming what failed and what to do; other failures as they are. */
function refusal(err: unknown, doing: string): unknown {
  const code = err instanceof KafkaServiceError ? err.kafkaCode : undefined;
  const r = code === undefined ? undefined : REFUSED[code];
  if (!r) return err;
  return new KafkaServiceError(`cannot recover ACLs (${doing}): ${r.what} (${code})`, code, r.hint, { cause: err, retriable: false });
}

/**
 * Reads the target's bindings for the affected resource types (describeAcls) and creates the
 * missing ones (createAcls, one request; none with `dryRun`). A backup without `acls` is BackupHasNoAclsError
 * before anything is asked. Creating again after an interruption is harmless: what is present is skipped.
 */
export async function recoverAcls(
  kafka: KafkaAdapter,
  backupAcls: readonly AclBindingInfo[] | undefined,
  topicNames: ReadonlyMap<string, string>,
  groups: ReadonlySet<string>,
  logger: Logger,
  opts: AclRecoveryOptions = {},
): Promise<AclRecoveryPlan> {
  const acls = requireBackupAcls(backupAcls);
  const types = new Set(acls.map((b) => b.resourceType));
  const existing: AclBindingInfo[] = [];
  try {
    if (types.has('TOPIC') && topicNames.size > 0) existing.push(...(await kafka.describeAcls({ resourceType: 'TOPIC' })));
    if (types.has('GROUP') && groups.size > 0) existing.push(...(await kafka.describeAcls({ resourceType: 'GROUP' })));
  } catch (err) {
    throw refusal(err, 'reading the ACLs of the target');
  }
  const plan = planAclRecovery(acls, topicNames, groups, existing, opts);
  // Bindings of what is not recovered are expected to stay behind; a broad one left out changes what the target enforces.
  for (const s of plan.skipped) {
    if (s.reason === 'not-recovered') logger.debug({ binding: s.binding }, `ACL binding not re-created: ${s.why}`);
    else logger.warn({ binding: s.binding }, `ACL binding not re-created: ${s.why}`);
  }
  for (const n of plan.notes) logger.warn({}, n);
  if (opts.dryRun) return plan;
  try {
    await kafka.createAcls(plan.create);
  } catch (err) {
    throw refusal(err, `creating ${plan.create.length} bindings`);
  }
  logger.info(
    { created: plan.create.length, present: plan.present.length, skipped: plan.skipped.length },
    `ACLs: ${plan.create.length} created, ${plan.present.length} already present, ${plan.skipped.length} not re-created`,
  );
  return plan;
}
