/**
 * A small HTTP fake of the Confluent Schema Registry's IMPORT contract, for the tests of
 * `kbak recover --keep-schema-ids` (src/schema/keep-ids.ts).
 *
 * Why a fake: no IMPORT-capable registry installs on this machine. Confluent's Schema Registry is
 * not on Maven Central (the package lists here mark even its io.confluent client artifacts
 * "not-served"); Karapace is not on PyPI (`pip index versions karapace`: no matching
 * distribution) nor in Debian (`apt-cache search karapace`: nothing); Redpanda's registry is part
 * of its server binary, which no reachable registry ships (`apt-cache search redpanda`: nothing),
 * and there is no Docker daemon to run an image. The stack's registry, Apicurio 3.3.3, accepts
 * IMPORT mode and an `id` but assigns its own IDs (test/integration/keep-ids-apicurio.test.ts).
 * So the contract is tested against this fake, written from Confluent's own sources
 * (io.confluent.kafka.schemaregistry: KafkaSchemaRegistry.register/checkRegisterMode/setMode/
 * checkIfSchemaWithIdExist, ModeResource, rest.exceptions.Errors):
 *
 * - Modes: global (default READWRITE) and per subject. `GET /mode/{s}` answers the subject's own
 *   mode or 404/40409; with `?defaultToGlobal=true` the mode in force. `PUT /mode/{s}`
 *   `{"mode":"IMPORT"}` is refused with 422/42205 "Cannot import since found existing subjects"
 *   while the subject has live versions and is not in IMPORT already, unless `?force=true`;
 *   its soft-deleted versions are hard-deleted then. An unknown mode is 422/42204.
 *   `DELETE /mode/{s}` removes the subject's mode (404/40401 when it has none).
 * - `POST /subjects/{s}/versions`: with an `id` outside IMPORT, 422/42205 "Subject s is not in
 *   import mode"; without one outside READWRITE, 42205 "... is not in read-write mode"; READONLY
 *   refuses both. In IMPORT the given id and version are stored (no compatibility check); an id
 *   that holds another schema is 42205 "Overwrite new schema with id N is not permitted." (the
 *   same schema may hold one id under several subjects). The answer is `{"id": N}`. The ID counter
 *   is the highest ID stored + 1, as Confluent's IncrementalIdGenerator.
 * - Lookup `POST /subjects/{s}`, `GET /subjects`, `GET /subjects/{s}/versions[/{v}]` (soft-deleted
 *   ones too with `?deleted=true`),
 *   `GET /schemas/ids/{id}[/versions]`, `GET|PUT /config/{s}` (40408 when the subject has no
 *   level), soft and permanent `DELETE /subjects/{s}[/versions/{v}]` (a soft delete of a subject's
 *   last version removes its mode and config, as Confluent does).
 *
 * Schemas are compared as text (no parsing or canonical form) and compatibility is never checked:
 * kbak's IMPORT path needs neither. `assignsOwnIds` makes it behave as the stack's Apicurio does:
 * IMPORT mode and the `id` are accepted, and ignored. `failRegistration` answers one
 * registration with 500/50001, for a failure midway; `noModes` has no `/mode` API (404).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeReference {
  name: string;
  subject: string;
  version: number;
}

interface Content {
  schema: string;
  schemaType: string;
  references: FakeReference[];
}

interface Version extends Content {
  version: number;
  id: number;
  deleted: boolean;
}

export interface ImportRegistryOptions {
  /** Accept IMPORT and an `id`, then assign its own ID and the next version (as Apicurio 3.3.3). */
  assignsOwnIds?: boolean;
  /** Answer the n-th registration (1-based, counting every POST .../versions) with HTTP 500. */
  failRegistration?: number;
  /** No `/mode` API at all (404), as a registry without modes. */
  noModes?: boolean;
  /** Called with each request before it is answered (a test's way to change the state in between). */
  onRequest?: (request: LoggedRequest, registry: ImportRegistry) => void;
}

export interface LoggedRequest {
  method: string;
  path: string;
  body: unknown;
}

const MODES = new Set(['READWRITE', 'READONLY', 'READONLY_OVERRIDE', 'IMPORT']);

class Reply extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: number,
    message: string,
  ) {
    super(message);
  }
}

const sameContent = (a: Content, b: Content): boolean =>
  a.schema === b.schema && a.schemaType === b.schemaType && JSON.stringify(a.references) === JSON.stringify(b.references);

export class ImportRegistry {
  readonly requests: LoggedRequest[] = [];
  globalMode = 'READWRITE';
  readonly subjectModes = new Map<string, string>();
  readonly configs = new Map<string, string>();
  private readonly subjects = new Map<string, Version[]>();
  private registrations = 0;
  private server?: Server;
  url = '';

  constructor(private readonly options: ImportRegistryOptions = {}) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Stores a version directly (test set-up), as an import would. */
  seed(subject: string, version: number, id: number, schema: string, references: FakeReference[] = [], schemaType = 'AVRO'): void {
    const list = this.subjects.get(subject) ?? [];
    list.push({ version, id, schema, schemaType, references, deleted: false });
    list.sort((a, b) => a.version - b.version);
    this.subjects.set(subject, list);
  }

  /** Writes this fake was asked for (anything but GET and the lookup POST /subjects/{s}). */
  writes(): LoggedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && !(r.method === 'POST' && /^\/subjects\/[^/]+$/.test(r.path)));
  }

  /** Every subject with its versions, soft-deleted ones included: the whole state to compare before/after. */
  snapshot(): Record<string, Array<{ version: number; id: number; deleted: boolean }>> {
    const out: Record<string, Array<{ version: number; id: number; deleted: boolean }>> = {};
    for (const [s, list] of [...this.subjects].sort()) out[s] = list.map((v) => ({ version: v.version, id: v.id, deleted: v.deleted }));
    return out;
  }

  private live(subject: string): Version[] {
    return (this.subjects.get(subject) ?? []).filter((v) => !v.deleted);
  }

  private byId(id: number): Version | undefined {
    for (const list of this.subjects.values()) for (const v of list) if (v.id === id) return v;
    return undefined;
  }

  private nextId(): number {
    let max = 0;
    for (const list of this.subjects.values()) for (const v of list) max = Math.max(max, v.id);
    return max + 1;
  }

  private modeInScope(subject: string): string {
    if (this.globalMode === 'READONLY_OVERRIDE') return this.globalMode;
    return this.subjectModes.get(subject) ?? this.globalMode;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const logged = { method, path: `${url.pathname}${url.search}`, body };
    this.requests.push(logged);
    try {
      this.options.onRequest?.(logged, this);
      const answer = this.route(method, url, body as Record<string, unknown> | undefined);
      res.writeHead(200, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(answer));
    } catch (err) {
      const r = err instanceof Reply ? err : new Reply(500, 50001, String(err));
      res.writeHead(r.status, { 'Content-Type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify({ error_code: r.errorCode, message: r.message }));
    }
  }

  private route(method: string, url: URL, body: Record<string, unknown> | undefined): unknown {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    const [head, a, b, c] = parts;
    if (head === 'schemas' && a === 'types') return ['AVRO', 'JSON', 'PROTOBUF'];
    if (head === 'subjects' && a === undefined && method === 'GET')
      return [...this.subjects.keys()].filter((s) => this.live(s).length > 0 || q.get('deleted') === 'true').sort();
    if (head === 'subjects' && a !== undefined && b === undefined) {
      if (method === 'POST') return this.lookup(a, body!);
      if (method === 'DELETE') return this.deleteVersions(a, undefined, q.get('permanent') === 'true');
    }
    if (head === 'subjects' && a !== undefined && b === 'versions') {
      if (c === undefined && method === 'GET') {
        const listed = q.get('deleted') === 'true' ? (this.subjects.get(a) ?? []) : this.live(a);
        if (listed.length === 0) throw new Reply(404, 40401, `Subject '${a}' not found.`);
        return listed.map((v) => v.version);
      }
      if (c === undefined && method === 'POST') return this.register(a, body!);
      if (c !== undefined && method === 'GET') {
        const live = this.live(a);
        if (live.length === 0) throw new Reply(404, 40401, `Subject '${a}' not found.`);
        const v = c === 'latest' ? live[live.length - 1] : live.find((x) => x.version === Number(c));
        if (!v) throw new Reply(404, 40402, `Version ${c} not found.`);
        return { subject: a, version: v.version, id: v.id, schema: v.schema, schemaType: v.schemaType, references: v.references };
      }
      if (c !== undefined && method === 'DELETE') return this.deleteVersions(a, Number(c), q.get('permanent') === 'true');
    }
    if (head === 'schemas' && a === 'ids' && b !== undefined) {
      const v = this.byId(Number(b));
      if (!v) throw new Reply(404, 40403, `Schema ${b} not found`);
      if (c === 'versions') {
        const out: Array<{ subject: string; version: number }> = [];
        for (const [s, list] of this.subjects) for (const x of list) if (x.id === v.id && !x.deleted) out.push({ subject: s, version: x.version });
        return out;
      }
      return { schema: v.schema, schemaType: v.schemaType, references: v.references };
    }
    if (head === 'mode' && !this.options.noModes) return this.mode(method, a, q, body);
    if (head === 'config' && a !== undefined) {
      if (method === 'GET') {
        const level = this.configs.get(a);
        if (level === undefined) throw new Reply(404, 40408, `Subject '${a}' does not have subject-level compatibility configured`);
        return { compatibilityLevel: level };
      }
      if (method === 'PUT') {
        this.configs.set(a, String(body!.compatibility));
        return { compatibility: body!.compatibility };
      }
    }
    throw new Reply(404, 404, `HTTP 404 Not Found: ${method} ${url.pathname}`);
  }

  private mode(method: string, subject: string | undefined, q: URLSearchParams, body: Record<string, unknown> | undefined): unknown {
    if (subject === undefined) {
      if (method === 'GET') return { mode: this.globalMode };
      this.globalMode = String(body!.mode);
      return { mode: this.globalMode };
    }
    if (method === 'GET') {
      const own = this.subjectModes.get(subject);
      if (own !== undefined) return { mode: own };
      if (q.get('defaultToGlobal') === 'true') return { mode: this.globalMode };
      throw new Reply(404, 40409, `Subject '${subject}' does not have subject-level mode configured`);
    }
    if (method === 'DELETE') {
      const own = this.subjectModes.get(subject);
      if (own === undefined) throw new Reply(404, 40401, `Subject '${subject}' not found.`);
      this.subjectModes.delete(subject);
      return { mode: own };
    }
    const mode = typeof body?.mode === 'string' ? body.mode.toUpperCase() : '';
    if (!MODES.has(mode)) throw new Reply(422, 42204, 'Invalid mode. Valid values are READWRITE, READONLY, READONLY_OVERRIDE and IMPORT.');
    if (mode === 'IMPORT' && this.modeInScope(subject) !== 'IMPORT' && q.get('force') !== 'true') {
      if (this.live(subject).length > 0) throw new Reply(422, 42205, 'Cannot import since found existing subjects');
      this.subjects.delete(subject); // the soft-deleted versions go for good
    }
    this.subjectModes.set(subject, mode);
    return { mode };
  }

  private register(subject: string, body: Record<string, unknown>): unknown {
    this.registrations++;
    if (this.options.failRegistration === this.registrations) throw new Reply(500, 50001, 'Error while registering the schema in the backend Kafka store');
    const content: Content = {
      schema: String(body.schema),
      schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO',
      references: (body.references as FakeReference[] | undefined) ?? [],
    };
    const mode = this.modeInScope(subject);
    if (mode === 'READONLY' || mode === 'READONLY_OVERRIDE') throw new Reply(422, 42205, `Subject ${subject} is in read-only mode`);
    const askedId = typeof body.id === 'number' ? body.id : -1;
    const askedVersion = typeof body.version === 'number' ? body.version : 0;
    if (askedId >= 0 && mode !== 'IMPORT') throw new Reply(422, 42205, `Subject ${subject} is not in import mode`);
    if (askedId < 0 && mode !== 'READWRITE') throw new Reply(422, 42205, `Subject ${subject} is not in read-write mode`);
    const list = this.subjects.get(subject) ?? [];
    const live = list.filter((v) => !v.deleted);
    const nextVersion = list.reduce((m, v) => Math.max(m, v.version + 1), 1);
    const sameHere = live.find((v) => sameContent(v, content));

    if (askedId < 0 || this.options.assignsOwnIds) {
      if (sameHere) return { id: sameHere.id };
      let id = this.nextId();
      for (const l of this.subjects.values()) for (const v of l) if (sameContent(v, content)) id = v.id;
      list.push({ ...content, version: nextVersion, id, deleted: false });
      this.subjects.set(subject, list);
      return { id };
    }
    if (sameHere && sameHere.id === askedId && (askedVersion === 0 || askedVersion === sameHere.version)) return { id: askedId };
    const holder = this.byId(askedId);
    if (holder && !sameContent(holder, content)) throw new Reply(422, 42205, `Overwrite new schema with id ${askedId} is not permitted.`);
    const version = askedVersion > 0 ? askedVersion : nextVersion;
    const kept = list.filter((v) => v.version !== version);
    kept.push({ ...content, version, id: askedId, deleted: false });
    kept.sort((x, y) => x.version - y.version);
    this.subjects.set(subject, kept);
    return { id: askedId };
  }

  private lookup(subject: string, body: Record<string, unknown>): unknown {
    const content: Content = {
      schema: String(body.schema),
      schemaType: typeof body.schemaType === 'string' ? body.schemaType : 'AVRO',
      references: (body.references as FakeReference[] | undefined) ?? [],
    };
    const live = this.live(subject);
    if (live.length === 0) throw new Reply(404, 40401, `Subject '${subject}' not found.`);
    const v = live.find((x) => sameContent(x, content));
    if (!v) throw new Reply(404, 40403, 'Schema not found');
    return { subject, id: v.id, version: v.version, schema: v.schema };
  }

  private deleteVersions(subject: string, version: number | undefined, permanent: boolean): unknown {
    const list = this.subjects.get(subject) ?? [];
    const chosen = list.filter((v) => version === undefined || v.version === version);
    if (list.length === 0) throw new Reply(404, 40401, `Subject '${subject}' not found.`);
    if (chosen.length === 0) throw new Reply(404, 40402, `Version ${version} not found.`);
    if (permanent) {
      if (chosen.some((v) => !v.deleted)) {
        throw version === undefined
          ? new Reply(404, 40405, `Subject '${subject}' was not deleted first before being permanently deleted`)
          : new Reply(404, 40407, `Subject '${subject}' Version ${version} was not deleted first before being permanently deleted`);
      }
      const left = list.filter((v) => !chosen.includes(v));
      if (left.length > 0) this.subjects.set(subject, left);
      else this.subjects.delete(subject);
      return version ?? chosen.map((v) => v.version);
    }
    if (chosen.every((v) => v.deleted)) {
      throw version === undefined
        ? new Reply(404, 40404, `Subject '${subject}' was soft deleted.Set permanent=true to delete permanently`)
        : new Reply(404, 40406, `Subject '${subject}' Version ${version} was soft deleted.Set permanent=true to delete permanently`);
    }
    for (const v of chosen) v.deleted = true;
    if (this.live(subject).length === 0) {
      this.subjectModes.delete(subject);
      this.configs.delete(subject);
    }
    return version ?? chosen.map((v) => v.version);
  }
}

/** Starts a fake on 127.0.0.1 on a free port. */
export async function startImportRegistry(options?: ImportRegistryOptions): Promise<ImportRegistry> {
  return new ImportRegistry(options).start();
}
