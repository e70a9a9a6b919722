/**
 * The manifest's optional `acls` (FORMAT.md "ACL binding", settled question 23): the shape of
 * one binding, which bindings of a cluster belong to a backup, and their order. Pure: the
 * dump asks the broker (KafkaAdapter.describeAcls) and hands the bindings here.
 */
import { z } from 'zod';

/** More bindings than this make a manifest corrupt (settled question 23): a bound, not a quota. */
export const MAX_ACL_BINDINGS = 10_000;

export const ACL_OPERATIONS = [
  'ALL',
  'READ',
  'WRITE',
  'CREATE',
  'DELETE',
  'ALTER',
  'DESCRIBE',
  'CLUSTER_ACTION',
  'DESCRIBE_CONFIGS',
  'ALTER_CONFIGS',
  'IDEMPOTENT_WRITE',
  'CREATE_TOKENS',
  'DESCRIBE_TOKENS',
] as const;

export const aclBindingSchema = z.object({
  resourceType: z.enum(['TOPIC', 'GROUP']),
  resourceName: z.string().min(1).max(255),
  patternType: z.enum(['LITERAL', 'PREFIXED']),
  principal: z.string().min(1).max(1024),
  host: z.string().min(1).max(255),
  operation: z.enum(ACL_OPERATIONS),
  permissionType: z.enum(['ALLOW', 'DENY']),
});

export type AclBinding = z.infer<typeof aclBindingSchema>;

/** The fields in the order of FORMAT.md's table, which is also the sort order. */
const FIELDS = ['resourceType', 'resourceName', 'patternType', 'principal', 'host', 'operation', 'permissionType'] as const;

/** One string per binding, equal exactly for equal bindings (JSON keeps the fields apart). */
export function aclKey(b: AclBinding): string {
  return JSON.stringify(FIELDS.map((f) => b[f]));
}

/** Field by field, UTF-16 code units (JavaScript's `<`, as every sort of FORMAT.md). */
export function compareAcls(a: AclBinding, b: AclBinding): number {
  for (const f of FIELDS) {
    if (a[f] < b[f]) return -1;
    if (a[f] > b[f]) return 1;
  }
  return 0;
}

/** The index of the first binding equal to an earlier one, or -1. Linear (a set of keys). */
export function firstDuplicateAcl(bindings: readonly AclBinding[]): number {
  const seen = new Set<string>();
  for (const [i, b] of bindings.entries()) {
    const k = aclKey(b);
    if (seen.has(k)) return i;
    seen.add(k);
  }
  return -1;
}

/**
 * The bindings a backup holds (settled question 23): those of its topics and of the groups
 * whose offsets it holds, sorted, each once. A broker's binding outside the format's shape
 * (a resource type or operation it does not list, a name beyond its length) is left out,
 * as it could not be written. A prefix is looked up in the sorted names (the names it
 * prefixes follow it directly), so the cost is O((bindings + names) · log names).
 */
export function selectAcls(bindings: readonly unknown[], topics: readonly string[], groups: readonly string[]): AclBinding[] {
  const sorted = { TOPIC: [...new Set(topics)].sort(), GROUP: [...new Set(groups)].sort() };
  const kept = new Map<string, AclBinding>();
  for (const raw of bindings) {
    const parsed = aclBindingSchema.safeParse(raw);
    if (!parsed.success) continue;
    const b = parsed.data;
    const names = sorted[b.resourceType];
    const at = lowerBound(names, b.resourceName);
    const applies =
      b.patternType === 'PREFIXED' ? at < names.length && names[at]!.startsWith(b.resourceName) : b.resourceName === '*' || names[at] === b.resourceName;
    if (applies) kept.set(aclKey(b), b);
  }
  return [...kept.values()].sort(compareAcls);
}

/** The first index whose name is not below `name` (names sorted by code units). */
export function lowerBound(names: readonly string[], name: string): number {
  let lo = 0;
  let hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid]! < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
