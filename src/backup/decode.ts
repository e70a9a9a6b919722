/**
 * `kbak cat --decode`: Confluent-framed keys and values decoded with the schemas stored in
 * the backup's manifest, never a registry. Avro via avsc (referenced named types first),
 * JSON Schema payloads are JSON after the 5-byte frame, Protobuf via protobufjs with the
 * message indexes after the frame selecting the message type. A payload that cannot be
 * decoded is shown raw with the reason, never dropped.
 */
import avro from 'avsc';
import protobuf from 'protobufjs';
import type { SchemaEntry } from './manifest';
import { framedSchemaId, FRAME_HEADER_BYTES } from '../schema/framing';

type Decoder = (body: Buffer) => unknown;

/** Zigzag varint, as Confluent writes Protobuf message indexes. */
function readVarint(buf: Buffer, pos: number): { value: number; pos: number } {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated message index');
    const b = buf[pos++]!;
    result |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
    if (shift > 28) throw new Error('message index varint too long');
  }
  return { value: (result >>> 1) ^ -(result & 1), pos };
}

/** Avro values as JSON: bytes as base64, longs beyond 2^53 as strings. */
function avroJson(v: unknown): unknown {
  if (Buffer.isBuffer(v)) return v.toString('base64');
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(avroJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, avroJson(x)]));
  return v;
}

export class SchemaDecoder {
  private readonly byId = new Map<number, SchemaEntry>();
  private readonly cache = new Map<number, Decoder>();

  constructor(private readonly schemas: SchemaEntry[]) {
    for (const s of schemas) this.byId.set(s.id, s);
  }

  private referenced(s: SchemaEntry): SchemaEntry[] {
    return s.references.flatMap((r) => {
      const hit = this.schemas.find((x) => x.registrations.some((g) => g.subject === r.subject && g.version === r.version));
      return hit ? [...this.referenced(hit), hit] : [];
    });
  }

  private build(s: SchemaEntry): Decoder {
    if (s.schemaType === 'JSON') return (body) => JSON.parse(body.toString('utf8'));
    if (s.schemaType === 'AVRO') {
      const registry: Record<string, avro.Type> = {};
      for (const r of this.referenced(s)) avro.Type.forSchema(JSON.parse(r.schema), { registry });
      const type = avro.Type.forSchema(JSON.parse(s.schema), { registry });
      return (body) => avroJson(type.fromBuffer(body));
    }
    const root = new protobuf.Root();
    for (const r of this.referenced(s)) protobuf.parse(r.schema, root, { keepCase: true });
    const parsed = protobuf.parse(s.schema, root, { keepCase: true });
    const ns = parsed.package ? root.lookup(parsed.package) : root;
    const topLevel = ((ns as protobuf.Namespace | null)?.nestedArray ?? []).filter((x): x is protobuf.Type => x instanceof protobuf.Type);
    return (body) => {
      // Message indexes: a count, then the path; a lone 0 means [0] (the first message).
      let { value: count, pos } = readVarint(body, 0);
      const path: number[] = [];
      if (count === 0) path.push(0);
      while (count-- > 0) {
        const r = readVarint(body, pos);
        path.push(r.value);
        pos = r.pos;
      }
      let type: protobuf.Type | undefined = topLevel[path[0]!];
      for (const i of path.slice(1)) type = type?.nestedArray.filter((x): x is protobuf.Type => x instanceof protobuf.Type)[i];
      if (!type) throw new Error(`no message at index path ${path.join('.')}`);
      return type.toObject(type.decode(body.subarray(pos)), { longs: String, bytes: String, enums: String, defaults: false });
    };
  }

  /** `{ schemaId, decoded }` for a framed payload with a known schema, else `{ raw, error? }`. */
  decode(payload: Buffer | null): unknown {
    if (payload === null) return null;
    const id = framedSchemaId(payload);
    const s = id === null ? undefined : this.byId.get(id);
    if (id === null || !s) return { raw: payload.toString('base64'), ...(id !== null ? { error: `schema ${id} is not in the backup` } : {}) };
    try {
      let d = this.cache.get(id);
      if (!d) {
        d = this.build(s);
        this.cache.set(id, d);
      }
      return { schemaId: id, schemaType: s.schemaType, decoded: d(payload.subarray(FRAME_HEADER_BYTES)) };
    } catch (err) {
      return { raw: payload.toString('base64'), schemaId: id, error: `cannot decode with schema ${id}: ${(err as Error).message}` };
    }
  }
}
