/**
 * The contract between the masking plan (compile.ts) and the three payload formats
 * (avro-body.ts, protobuf-body.ts, json-body.ts): a schema and a topic's field rules go in,
 * a BodyMasker comes out. Each format walks its own bytes; only the leaves a rule covers are
 * decoded, masked (leaf.ts) and re-encoded, every other byte is copied as it was.
 *
 * "Body": a payload without its 5-byte Confluent frame (magic and schema ID). For Protobuf
 * the body starts with the message indexes; the walker reads them and keeps them.
 */
import type { LeafType, LeafValue } from './leaf';
import type { FieldPath } from './path';
import type { FieldRule } from './policy';

/** One leaf field of a schema, with the rule that covers it (for the dry-run plan and the PII detector). */
export interface FieldPlanRow {
  /** The field's path in the policy's grammar (path.ts formatFieldPath), unions and oneofs passed through. */
  path: string;
  type: LeafType;
  /** The rule covering it (its pathText equals path, or covers it through [*] or {*}), or null: kept as it is. */
  rule: FieldRule | null;
}

/** A payload a BodyMasker cannot read: the record is never written as it is (fail closed). */
export class UndecodablePayload extends Error {
  override readonly name = 'UndecodablePayload';
}

export interface BodyMasker {
  /** Every leaf field, in schema order (for Protobuf: of every message type of the file, prefixed by the message's name). */
  readonly fields: readonly FieldPlanRow[];
  /**
   * The masked body. Untouched bytes stay byte-equal; the result decodes with the same
   * schema. Throws UndecodablePayload when the body does not decode with the schema (or
   * holds more than the decode limits allow).
   */
  mask(body: Buffer): Buffer;
  /**
   * The values at `path` in this body (none when absent or null on the way), decoded as
   * leaf.ts represents them: what `sample.by` and the PII detector read. Throws
   * UndecodablePayload as mask does.
   */
  values(body: Buffer, path: FieldPath): LeafValue[];
}

/** What compiling rules against one schema gives: a masker, or the refusals (each one line, no position: compile.ts adds topic, schema and rule location). */
export type BodyCompile = { ok: true; masker: BodyMasker } | { ok: false; errors: BodyRefusal[] };

export interface BodyRefusal {
  rule: FieldRule;
  /** E.g. `matches no field` or `action null needs a field that may be null, and string may not (use redact)`. */
  problem: string;
}
