/**
 * A narrow client for the Confluent Schema Registry REST API (also served by Apicurio's
 * /apis/ccompat/v7 and other compatible registries). The usual JS registry client
 * covers encode/decode and registration but not the reads a backup needs (an ID's
 * subjects and versions, references by subject/version, per-subject compatibility), so
 * kbak speaks the few endpoints it needs directly.
 */
import { redactUrl } from '../config/settings';
import { ServiceError, UsageError, type KbakErrorOptions } from '../errors';
import { retry, type RetryPolicy } from '../util/retry';
import { oneLine, parseRegistryErrorBody, registryErrorHint } from './registry-errors';
import type { SchemaType } from '../backup/manifest';

export interface SchemaReference {
  name: string;
  subject: string;
  version: number;
}

export interface SchemaDefinition {
  schemaType: SchemaType;
  schema: string;
  references: SchemaReference[];
}

export interface SubjectVersion extends SchemaDefinition {
  subject: string;
  version: number;
  id: number;
}

export interface RegistryConfig {
  url: string;
  username?: string;
  password?: string;
}

/** Confluent error codes kbak reacts to. */
const SUBJECT_NOT_FOUND = 40401;
const VERSION_NOT_FOUND = 40402;
const SCHEMA_NOT_FOUND = 40403;
const SUBJECT_COMPATIBILITY_NOT_FOUND = 40408;
const SUBJECT_SOFT_DELETED = 40404;
const VERSION_SOFT_DELETED = 40406;
const SUBJECT_MODE_NOT_FOUND = 40409;

/**
 * A registry's write modes (Confluent's `/mode` API, also served by Redpanda and Karapace).
 * IMPORT is the one that accepts a schema with its own ID and version in the registration body
 * and refuses a registration without them; READWRITE refuses an `id` (42205).
 */
export type RegistryMode = 'READWRITE' | 'READONLY' | 'READONLY_OVERRIDE' | 'IMPORT';

/** The ID and version a schema keeps when it is registered in IMPORT mode. */
export interface ImportedIdentity {
  id: number;
  version: number;
}

/** An HTTP error answer of the registry: retriable for 5xx, 408 and 429 (it may answer later), not for other 4xx. */
export class RegistryHttpError extends ServiceError {
  constructor(
    readonly status: number,
    readonly errorCode: number | undefined,
    message: string,
    hint?: string,
    opts?: KbakErrorOptions,
  ) {
    super('schema-registry', message, hint, { ...opts, retriable: opts?.retriable ?? (status >= 500 || status === 408 || status === 429) });
  }
}

function normalizeType(t: string | undefined): SchemaType {
  return (t ?? 'AVRO').toUpperCase() as SchemaType;
}

/**
 * Network errors, timeouts and 502/503/504 are retried with backoff (0.5 s doubling, 5
 * attempts, about 7.5 s): a registry restarting, or a proxy blip, must not fail a dump that
 * has already read every record. Every request kbak sends is safe to repeat: reads, and
 * registrations, which a registry answers with the same ID when the schema is already there.
 */
const REGISTRY_RETRY = { initialMs: 500, maxMs: 4000, attempts: 5 } as const satisfies RetryPolicy;
const RETRY_STATUS = new Set([502, 503, 504]);
/** A registry that accepts the connection but never answers is given up on after this. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Thrown (and retried) for a gateway error answer while attempts are left; the last one is returned as is. */
class Busy extends Error {}

async function fetchWithRetry(url: string, init: RequestInit): Promise<Response> {
  return retry(
    async (attempt) => {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      if (attempt >= REGISTRY_RETRY.attempts || !RETRY_STATUS.has(res.status)) return res;
      await res.body?.cancel();
      throw new Busy(`HTTP ${res.status}`);
    },
    REGISTRY_RETRY,
    // What fetch() throws is the network or the timeout: all worth another attempt.
    { retriable: () => true },
  );
}

export class RegistryClient {
  private readonly base: string;
  private readonly auth?: string;

  /** The URL as printed in messages and manifests: no credentials. */
  private readonly shown: string;
  private readonly query: string;

  constructor(config: RegistryConfig) {
    // Credentials written into the URL (https://user:pass@host) become Basic auth: fetch()
    // refuses such URLs, and they must never be echoed.
    let user = config.username;
    let password = config.password;
    let base = config.url;
    let query = '';
    try {
      const u = new URL(config.url);
      if (u.username !== '' || u.password !== '') {
        user ??= decodeURIComponent(u.username);
        password ??= decodeURIComponent(u.password);
        u.username = '';
        u.password = '';
      }
      // A query (a proxy's token) goes after each request path, not before it.
      query = u.search;
      u.search = '';
      u.hash = '';
      base = u.toString();
    } catch {
      /* settings validated it; an odd URL fails at fetch with a redacted message */
    }
    this.base = base.replace(/\/+$/, '');
    this.query = query;
    this.shown = redactUrl(this.base);
    if (user) this.auth = `Basic ${Buffer.from(`${user}:${password ?? ''}`).toString('base64')}`;
  }

  /** Without credentials. */
  get url(): string {
    return this.shown;
  }

  private async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
    if (this.auth) headers.Authorization = this.auth;
    if (body !== undefined) headers['Content-Type'] = 'application/vnd.schemaregistry.v1+json';
    let res: Response;
    // The configured query (a proxy's token) joins a path's own query (?permanent=true) with '&'.
    const query = this.query.length > 1 && path.includes('?') ? `&${this.query.slice(1)}` : this.query;
    try {
      res = await fetchWithRetry(`${this.base}${path}${query}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new ServiceError(
        'schema-registry',
        `cannot reach the schema registry at ${this.shown}: ${cause}`,
        'check the registry URL and that the registry is up',
        { cause: err, options: ['registry.url'] },
      );
    }
    const text = await res.text();
    if (!res.ok) throw this.httpError(res.status, res.statusText, text, method, path);
    return (text.length > 0 ? JSON.parse(text) : undefined) as T;
  }

  /** An error answer as one line: the status, the service's short message (never the raw body), what to do. */
  private httpError(status: number, statusText: string, body: string, method: string, path: string): RegistryHttpError {
    const parsed = parseRegistryErrorBody(body);
    // A registry may echo the request URL: the query (a proxy's token) must not reach the message.
    const short = this.query.length > 1 ? parsed.short.split(this.query.slice(1)).join('…') : parsed.short;
    const said = short || oneLine(statusText);
    const detail = `HTTP ${status}${parsed.errorCode !== undefined && parsed.errorCode !== status ? ` (${parsed.errorCode})` : ''}${said ? `: ${said}` : ''}`;
    const hint = registryErrorHint(status, parsed.errorCode);
    if (status === 401 || status === 403) {
      return new RegistryHttpError(status, parsed.errorCode, `the schema registry at ${this.shown} denied ${method} ${path} (${detail})`, hint, {
        options: ['registry.auth'],
      });
    }
    return new RegistryHttpError(status, parsed.errorCode, `schema registry ${method} ${path} at ${this.shown} failed: ${detail}`, hint, {
      options: status === 404 && parsed.errorCode === undefined ? ['registry.url'] : [],
    });
  }

  private static notFound(err: unknown, ...codes: number[]): boolean {
    return err instanceof RegistryHttpError && (err.status === 404 || (err.errorCode !== undefined && codes.includes(err.errorCode)));
  }

  /**
   * Fails with a clear error when the registry is unreachable, refuses us, or the URL is not a
   * Confluent-compatible API. An Apicurio URL without its compatibility path (the server's root,
   * or its native /apis/registry/v2|v3 API) answers 404 on every path kbak uses, and every
   * "not found" would read as "no such subject": that is refused (a UsageError naming the URL to
   * use) once /apis/ccompat/v7 on the same server is seen to answer.
   */
  async check(): Promise<void> {
    // The smallest authenticated answer every Confluent-compatible registry gives (Confluent
    // 5.5+, Karapace, Apicurio ccompat), unlike GET /subjects, which lists a shared registry's every subject.
    try {
      await this.request<string[]>('GET', '/schemas/types');
    } catch (err) {
      if (!(err instanceof RegistryHttpError) || err.status !== 404) throw err;
      const ccompat = apicurioCompatUrl(this.base);
      if (ccompat && (await this.answers(`${ccompat}/schemas/types`))) {
        throw new UsageError(
          `the schema registry URL ${this.shown} is not a Confluent-compatible API (HTTP 404 on GET /schemas/types), but ${redactUrl(ccompat)} answers: an Apicurio registry`,
          `use ${redactUrl(ccompat)}: Apicurio serves the Confluent-compatible API under /apis/ccompat/v7`,
          { options: ['registry.url'], cause: err },
        );
      }
      throw err;
    }
  }

  /** Whether GET `url` answers 2xx (with this client's credentials); never throws. */
  private async answers(url: string): Promise<boolean> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (this.auth) headers.Authorization = this.auth;
    try {
      const res = await fetch(`${url}${this.query}`, { headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  async schemaById(id: number): Promise<SchemaDefinition | null> {
    try {
      const r = await this.request<{ schema: string; schemaType?: string; references?: SchemaReference[] }>('GET', `/schemas/ids/${id}`);
      return { schemaType: normalizeType(r.schemaType), schema: r.schema, references: r.references ?? [] };
    } catch (err) {
      if (RegistryClient.notFound(err, SCHEMA_NOT_FOUND)) return null;
      throw err;
    }
  }

  async idVersions(id: number): Promise<Array<{ subject: string; version: number }>> {
    try {
      return await this.request<Array<{ subject: string; version: number }>>('GET', `/schemas/ids/${id}/versions`);
    } catch (err) {
      if (RegistryClient.notFound(err, SCHEMA_NOT_FOUND)) return [];
      throw err;
    }
  }

  async subjectVersion(subject: string, version: number | 'latest'): Promise<SubjectVersion | null> {
    try {
      const r = await this.request<{ subject: string; version: number; id: number; schema: string; schemaType?: string; references?: SchemaReference[] }>(
        'GET',
        `/subjects/${encodeURIComponent(subject)}/versions/${version}`,
      );
      return { subject: r.subject, version: r.version, id: r.id, schema: r.schema, schemaType: normalizeType(r.schemaType), references: r.references ?? [] };
    } catch (err) {
      if (RegistryClient.notFound(err, SUBJECT_NOT_FOUND, VERSION_NOT_FOUND)) return null;
      throw err;
    }
  }

  /** A subject's live versions; with `deleted`, its soft-deleted ones too. */
  async subjectVersions(subject: string, opts?: { deleted?: boolean }): Promise<number[]> {
    try {
      return await this.request<number[]>('GET', `/subjects/${encodeURIComponent(subject)}/versions${opts?.deleted ? '?deleted=true' : ''}`);
    } catch (err) {
      if (RegistryClient.notFound(err, SUBJECT_NOT_FOUND)) return [];
      throw err;
    }
  }

  async subjects(): Promise<string[]> {
    return this.request<string[]>('GET', '/subjects');
  }

  /** The subject's own level; null when it has none and inherits the global level. */
  async subjectCompatibility(subject: string): Promise<string | null> {
    try {
      const r = await this.request<{ compatibilityLevel?: string; compatibility?: string }>('GET', `/config/${encodeURIComponent(subject)}`);
      return r.compatibilityLevel ?? r.compatibility ?? null;
    } catch (err) {
      if (RegistryClient.notFound(err, SUBJECT_NOT_FOUND, SUBJECT_COMPATIBILITY_NOT_FOUND)) return null;
      throw err;
    }
  }

  async setSubjectCompatibility(subject: string, level: string): Promise<void> {
    await this.request('PUT', `/config/${encodeURIComponent(subject)}`, { compatibility: level });
  }

  /**
   * Deletes a subject for good: soft delete first (Confluent refuses a hard delete of a live
   * subject), then permanent. A subject that is absent or already soft-deleted is fine, so
   * rerunning after a half-finished delete works. Returns false when there was nothing.
   */
  async deleteSubject(subject: string): Promise<boolean> {
    const path = `/subjects/${encodeURIComponent(subject)}`;
    let existed = true;
    try {
      await this.request('DELETE', path);
    } catch (err) {
      if (!RegistryClient.notFound(err, SUBJECT_NOT_FOUND, SUBJECT_SOFT_DELETED)) throw err;
      existed = (err as RegistryHttpError).errorCode === SUBJECT_SOFT_DELETED;
    }
    try {
      await this.request('DELETE', `${path}?permanent=true`);
      return true;
    } catch (err) {
      if (!RegistryClient.notFound(err, SUBJECT_NOT_FOUND)) throw err;
      return existed;
    }
  }

  /**
   * Registers (or finds, when identical) a schema under a subject; returns the ID the registry
   * answered. With `keep`, asks for that ID and version (the body's `id` and `version`): a
   * registry grants it only to a subject in IMPORT mode (else 42205), and one that does not
   * implement IMPORT may ignore it, so the caller compares the answer with what it asked for.
   */
  async register(subject: string, def: SchemaDefinition, keep?: ImportedIdentity): Promise<number> {
    const body: Record<string, unknown> = { schema: def.schema };
    // Confluent treats an absent schemaType as AVRO; some registries reject an explicit AVRO less often than others.
    if (def.schemaType !== 'AVRO') body.schemaType = def.schemaType;
    if (def.references.length > 0) body.references = def.references;
    if (keep) {
      body.id = keep.id;
      body.version = keep.version;
    }
    const r = await this.request<{ id: number }>('POST', `/subjects/${encodeURIComponent(subject)}/versions`, body);
    return r.id;
  }

  /**
   * A subject's mode: its own (subject level), or null when it has none; with `defaultToGlobal`,
   * the mode in force for it (its own, else the global one).
   */
  async subjectMode(subject: string, opts?: { defaultToGlobal?: boolean }): Promise<string | null> {
    const query = opts?.defaultToGlobal ? '?defaultToGlobal=true' : '';
    try {
      const r = await this.request<{ mode?: string }>('GET', `/mode/${encodeURIComponent(subject)}${query}`);
      return r.mode ?? null;
    } catch (err) {
      if (RegistryClient.notFound(err, SUBJECT_NOT_FOUND, SUBJECT_MODE_NOT_FOUND)) return null;
      throw err;
    }
  }

  /**
   * Sets a subject-level mode. A registry refuses IMPORT for a subject that holds schemas
   * (42205 "Cannot import since found existing subjects"; Redpanda also counts soft-deleted
   * ones) unless `force`.
   */
  async setSubjectMode(subject: string, mode: string, opts?: { force?: boolean }): Promise<void> {
    await this.request('PUT', `/mode/${encodeURIComponent(subject)}${opts?.force ? '?force=true' : ''}`, { mode });
  }

  /** Removes a subject's own mode so it follows the global one again; false when it had none. */
  async deleteSubjectMode(subject: string): Promise<boolean> {
    try {
      await this.request('DELETE', `/mode/${encodeURIComponent(subject)}`);
      return true;
    } catch (err) {
      if (RegistryClient.notFound(err, SUBJECT_NOT_FOUND, SUBJECT_MODE_NOT_FOUND)) return false;
      throw err;
    }
  }

  /**
   * Deletes one version of a subject for good (soft, then permanent, as deleteSubject does);
   * the subject goes with its last version. False when the version was not there.
   */
  async deleteSubjectVersion(subject: string, version: number): Promise<boolean> {
    const path = `/subjects/${encodeURIComponent(subject)}/versions/${version}`;
    let existed = true;
    try {
      await this.request('DELETE', path);
    } catch (err) {
      if (!RegistryClient.notFound(err, SUBJECT_NOT_FOUND, VERSION_NOT_FOUND, VERSION_SOFT_DELETED)) throw err;
      existed = (err as RegistryHttpError).errorCode === VERSION_SOFT_DELETED;
    }
    try {
      await this.request('DELETE', `${path}?permanent=true`);
      return true;
    } catch (err) {
      if (!RegistryClient.notFound(err, SUBJECT_NOT_FOUND, VERSION_NOT_FOUND)) throw err;
      return existed;
    }
  }

  /** The version under which this exact schema is registered in a subject, or null. */
  async lookup(subject: string, def: SchemaDefinition): Promise<{ id: number; version: number } | null> {
    const body: Record<string, unknown> = { schema: def.schema };
    if (def.schemaType !== 'AVRO') body.schemaType = def.schemaType;
    if (def.references.length > 0) body.references = def.references;
    try {
      const r = await this.request<{ id: number; version: number }>('POST', `/subjects/${encodeURIComponent(subject)}`, body);
      return { id: r.id, version: r.version };
    } catch (err) {
      if (RegistryClient.notFound(err, SUBJECT_NOT_FOUND, SCHEMA_NOT_FOUND)) return null;
      throw err;
    }
  }
}

/**
 * Where Apicurio's Confluent-compatible API would be, for a URL that looks like an Apicurio
 * server without it: its root (empty path), or its native API (/apis/registry/...) or the
 * /apis folder. Null for any other path (a proxy's prefix, a Confluent registry's root).
 */
export function apicurioCompatUrl(base: string): string | null {
  let u: URL;
  try {
    u = new URL(base);
  } catch {
    return null;
  }
  const path = u.pathname.replace(/\/+$/, '');
  if (path !== '' && path !== '/apis' && !/^\/apis\/registry(\/|$)/.test(path)) return null;
  u.pathname = '/apis/ccompat/v7';
  u.search = '';
  u.hash = '';
  return u.toString();
}
