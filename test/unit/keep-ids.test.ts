/**
 * `registerKeepingIds` / `previewKeepingIds` (src/schema/keep-ids.ts) over real HTTP, against
 * test/support/import-registry.ts: a fake of the Confluent Schema Registry's IMPORT contract.
 * No IMPORT-capable registry installs on this machine (Confluent's is not on Maven Central,
 * Karapace not on PyPI or in Debian, Redpanda's is inside its server binary, and there is no
 * Docker daemon: the fake's header says what was checked), so the contract is tested against the
 * fake; the stack's Apicurio, which assigns its own IDs, is test/integration/keep-ids-apicurio.test.ts.
 * What the registry holds afterwards is read with plain fetch(), not with kbak's RegistryClient.
 */
import type { SchemaEntry, SubjectEntry } from '../../src/backup/manifest';
import { ExitCode, SafetyError } from '../../src/errors';
import { silentLogger } from '../../src/output/logger';
import { previewKeepingIds, registerKeepingIds } from '../../src/schema/keep-ids';
import { registrationKey, selectSchemas, type SchemaSelection } from '../../src/schema/register';
import { RegistryClient, RegistryHttpError } from '../../src/schema/registry-client';
import { startImportRegistry, type ImportRegistry } from '../support/import-registry';

const ADDRESS = '{"type":"record","name":"Address","fields":[{"name":"street","type":"string"}]}';
const ORDER_V2 = '{"type":"record","name":"Order","fields":[{"name":"n","type":"long"}]}';
const ORDER_V3 = '{"type":"record","name":"Order","fields":[{"name":"n","type":"long"},{"name":"to","type":"Address"}]}';
const OTHER = '{"type":"record","name":"Other","fields":[{"name":"x","type":"int"}]}';

/** A backup of topic `orders`: orders-value versions 2 (ID 9) and 3 (ID 12, referencing address v1, ID 7). */
const SCHEMAS: SchemaEntry[] = [
  { id: 7, schemaType: 'AVRO', schema: ADDRESS, references: [], registrations: [{ subject: 'address', version: 1 }], usedInRecords: false },
  { id: 9, schemaType: 'AVRO', schema: ORDER_V2, references: [], registrations: [{ subject: 'orders-value', version: 2 }], usedInRecords: true },
  {
    id: 12,
    schemaType: 'AVRO',
    schema: ORDER_V3,
    references: [{ name: 'Address', subject: 'address', version: 1 }],
    registrations: [{ subject: 'orders-value', version: 3 }],
    usedInRecords: true,
  },
];
const SUBJECT_ENTRIES: SubjectEntry[] = [
  { subject: 'orders-value', compatibility: 'FULL' },
  { subject: 'address', compatibility: null },
];

function selection(rename?: Record<string, string>): SchemaSelection {
  return selectSchemas(SCHEMAS, new Set(['orders']), new Set(['orders']), (subjects) => new Map(subjects.map((s) => [s, rename?.[s] ?? s])));
}

async function get(reg: ImportRegistry, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${reg.url}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Seeds IDs 1..3 under another subject, so the fake's own next ID (4) is none of the backup's. */
function seedUnrelated(reg: ImportRegistry): void {
  reg.seed('unrelated-value', 1, 1, '{"type":"string"}');
  reg.seed('unrelated-value', 2, 2, '{"type":"int"}');
  reg.seed('unrelated-value', 3, 3, '{"type":"long"}');
}

let reg: ImportRegistry;
afterEach(async () => reg?.stop());

describe('registerKeepingIds against a fake of the IMPORT contract (no IMPORT-capable registry installs here)', () => {
  it('keeps every ID and version, a schema with references included, and gives the subject its compatibility level', async () => {
    reg = await startImportRegistry();
    seedUnrelated(reg);
    const result = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger());

    expect(result.versionsCreated).toBe(3);
    expect(result.subjectsRegistered).toEqual(['address', 'orders-value']);
    expect(result.byRegistration.get(registrationKey('orders-value', 3))).toEqual({ laneSubject: 'orders-value', laneVersion: 3, laneId: 12, created: true });
    expect([...result.byId.keys()].sort((a, b) => a - b)).toEqual([7, 9, 12]);

    const v3 = await get(reg, '/subjects/orders-value/versions/3');
    expect(v3.body).toMatchObject({ id: 12, version: 3, references: [{ name: 'Address', subject: 'address', version: 1 }] });
    expect((await get(reg, '/subjects/orders-value/versions/2')).body).toMatchObject({ id: 9, version: 2 });
    expect((await get(reg, '/subjects/address/versions/1')).body).toMatchObject({ id: 7, version: 1 });
    expect((await get(reg, '/schemas/ids/12')).body.schema).toBe(ORDER_V3);
    // References first: address before the order that references it; versions in source order.
    const registered = reg.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/versions'));
    expect(registered.map((r) => [r.path, (r.body as { id: number }).id, (r.body as { version: number }).version])).toEqual([
      ['/subjects/address/versions', 7, 1],
      ['/subjects/orders-value/versions', 9, 2],
      ['/subjects/orders-value/versions', 12, 3],
    ]);
    expect((await get(reg, '/config/orders-value')).body).toEqual({ compatibilityLevel: 'FULL' });
    expect((await get(reg, '/config/address')).status).toBe(404);
  });

  it("follows --rename: the target subject and the references' subjects are the renamed ones, the IDs the original", async () => {
    reg = await startImportRegistry();
    const result = await registerKeepingIds(
      new RegistryClient({ url: reg.url }),
      selection({ 'orders-value': 'orders-copy-value', address: 'address-copy' }),
      SUBJECT_ENTRIES,
      silentLogger(),
    );
    expect(result.byRegistration.get(registrationKey('orders-value', 3))).toMatchObject({ laneSubject: 'orders-copy-value', laneId: 12 });
    expect((await get(reg, '/subjects/orders-copy-value/versions/3')).body).toMatchObject({
      id: 12,
      references: [{ name: 'Address', subject: 'address-copy', version: 1 }],
    });
  });

  it('puts every subject mode back: an own mode as it was, none where there was none', async () => {
    reg = await startImportRegistry();
    reg.subjectModes.set('address', 'READWRITE');
    await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger());
    expect((await get(reg, '/mode/address')).body).toEqual({ mode: 'READWRITE' });
    expect((await get(reg, '/mode/orders-value')).body).toMatchObject({ error_code: 40409 });
    // Each subject was in IMPORT for its registrations only (the fake refuses an id outside IMPORT).
    const modeWrites = reg.writes().filter((r) => r.path.startsWith('/mode/'));
    expect(modeWrites.map((r) => `${r.method} ${r.path} ${JSON.stringify(r.body ?? null)}`)).toEqual([
      'PUT /mode/address {"mode":"IMPORT"}',
      'PUT /mode/orders-value {"mode":"IMPORT"}',
      'DELETE /mode/address null',
      'PUT /mode/address {"mode":"READWRITE"}',
      'DELETE /mode/orders-value null',
    ]);
  });

  it('puts the modes back when a registration fails midway, and reports the failure', async () => {
    reg = await startImportRegistry({ failRegistration: 2 });
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryHttpError);
    expect((err as RegistryHttpError).status).toBe(500);
    expect(reg.subjectModes.size).toBe(0);
    expect((await get(reg, '/mode/address')).status).toBe(404);
    expect((await get(reg, '/mode/orders-value')).status).toBe(404);
  });

  it('reuses a subject that holds the same schema under the same ID, and writes nothing to it', async () => {
    reg = await startImportRegistry();
    reg.seed('address', 1, 7, ADDRESS);
    const result = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger());
    expect(result.byRegistration.get(registrationKey('address', 1))).toEqual({ laneSubject: 'address', laneVersion: 1, laneId: 7, created: false });
    expect(result.versionsCreated).toBe(2);
    expect(reg.writes().filter((r) => r.path.includes('/address'))).toEqual([]);
    expect((await get(reg, '/subjects/orders-value/versions/3')).body).toMatchObject({ id: 12 });
  });

  it("adds the missing versions to a subject holding only the backup's own (a resumed recovery), with IMPORT forced", async () => {
    reg = await startImportRegistry();
    reg.seed('address', 1, 7, ADDRESS);
    reg.seed('orders-value', 2, 9, ORDER_V2);
    const result = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger());
    expect(result.versionsCreated).toBe(1);
    expect(reg.writes().map((r) => `${r.method} ${r.path}`)).toContain('PUT /mode/orders-value?force=true');
    expect((await get(reg, '/subjects/orders-value/versions/3')).body).toMatchObject({ id: 12, version: 3 });
  });

  it('refuses an ID that holds another schema with exit 6, before anything is written', async () => {
    reg = await startImportRegistry();
    reg.seed('other-value', 1, 12, OTHER);
    const before = reg.snapshot();
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyError);
    expect((err as SafetyError).exitCode).toBe(ExitCode.SAFETY);
    expect((err as SafetyError).message).toBe(
      `cannot keep schema IDs in ${reg.url}: schema ID 12 (for orders-value version 3) holds another schema in the target registry`,
    );
    expect((err as SafetyError).hint).toMatch(/^recover without --keep-schema-ids/);
    expect(reg.writes()).toEqual([]);
    expect(reg.snapshot()).toEqual(before);
  });

  it("refuses a subject holding the schema under another ID, and one holding versions that are not the backup's", async () => {
    reg = await startImportRegistry();
    reg.seed('address', 1, 40, ADDRESS);
    reg.seed('orders-value', 1, 41, OTHER);
    const preview = await previewKeepingIds(new RegistryClient({ url: reg.url }), selection());
    expect(preview.entries.map((e) => [e.targetSubject, e.version, e.action])).toEqual([
      ['address', 1, 'refuse'],
      ['orders-value', 2, 'refuse'],
      ['orders-value', 3, 'refuse'],
    ]);
    expect(preview.refusals).toEqual([
      "subject address holds the backup's schema 7 under ID 40",
      "subject orders-value already holds versions that are not the backup's (1): IMPORT mode cannot add schema IDs to it",
    ]);
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect((err as SafetyError).exitCode).toBe(ExitCode.SAFETY);
    expect((err as SafetyError).message).toMatch(/subject address holds the backup's schema 7 under ID 40 \(and 1 more\)$/);
    expect(reg.writes()).toEqual([]);
  });

  it('refuses a subject with soft-deleted versions (IMPORT would delete them for good), before anything is written', async () => {
    reg = await startImportRegistry();
    reg.seed('orders-value', 1, 41, OTHER);
    await fetch(`${reg.url}/subjects/orders-value`, { method: 'DELETE' });
    const before = reg.snapshot();
    reg.requests.length = 0;
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect((err as SafetyError).exitCode).toBe(ExitCode.SAFETY);
    expect((err as SafetyError).message).toBe(
      `cannot keep schema IDs in ${reg.url}: subject orders-value holds soft-deleted versions (1), which IMPORT mode would delete for good`,
    );
    expect(reg.writes()).toEqual([]);
    expect(reg.snapshot()).toEqual(before);
  });

  it('turns a registry refusing IMPORT for a subject that got versions since the plan (42205) into one line with exit 6, modes put back', async () => {
    reg = await startImportRegistry({
      // Someone registers under orders-value while address is being imported.
      onRequest: (r, fake) => {
        if (r.method === 'PUT' && r.path === '/mode/address') fake.seed('orders-value', 1, 41, OTHER);
      },
    });
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyError);
    expect((err as SafetyError).oneLine()).toBe(
      `cannot keep schema IDs for subject orders-value: schema registry PUT /mode/orders-value at ${reg.url} failed: HTTP 422 (42205): Cannot import since found existing subjects (recover without --keep-schema-ids: payload IDs are then rewritten to the target registry's)`,
    );
    expect(reg.subjectModes.size).toBe(0);
  });

  it('refuses a registry without the mode API (404) with exit 6 and one line', async () => {
    reg = await startImportRegistry({ noModes: true });
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect((err as SafetyError).exitCode).toBe(ExitCode.SAFETY);
    expect((err as SafetyError).message).toBe(`schema registry ${reg.url} has no IMPORT mode (PUT /mode/address answered HTTP 404)`);
    expect(reg.snapshot()).toEqual({});
  });

  it('allows an ID the target already gives the same schema under another subject', async () => {
    reg = await startImportRegistry();
    reg.seed('shared-address', 1, 7, ADDRESS);
    const preview = await previewKeepingIds(new RegistryClient({ url: reg.url }), selection());
    expect(preview.entries[0]).toMatchObject({ targetSubject: 'address', action: 'create', idShared: true });
    await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger());
    expect((await get(reg, '/subjects/address/versions/1')).body).toMatchObject({ id: 7 });
  });

  it('previews without writing: existing subjects, free, taken and reused IDs', async () => {
    reg = await startImportRegistry();
    reg.seed('address', 1, 7, ADDRESS);
    const preview = await previewKeepingIds(new RegistryClient({ url: reg.url }), selection());
    expect(preview.subjects).toEqual([
      { subject: 'address', versions: [1], softDeleted: [], force: false },
      { subject: 'orders-value', versions: [], softDeleted: [], force: false },
    ]);
    expect(preview.entries.map((e) => [e.targetSubject, e.schemaId, e.action, e.targetVersion])).toEqual([
      ['address', 7, 'reuse', 1],
      ['orders-value', 9, 'create', 2],
      ['orders-value', 12, 'create', 3],
    ]);
    expect(preview.refusals).toEqual([]);
    expect(reg.writes()).toEqual([]);
  });

  it('refuses a registry that takes IMPORT but assigns its own IDs (as Apicurio) at the first registration, leaving no subject, version or mode', async () => {
    reg = await startImportRegistry({ assignsOwnIds: true });
    seedUnrelated(reg);
    const before = reg.snapshot();
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SafetyError);
    expect((err as SafetyError).oneLine()).toBe(
      `schema registry ${reg.url} does not keep schema IDs in IMPORT mode: asked for ID 7, it assigned 4 (recover without --keep-schema-ids: payload IDs are then rewritten to the target registry's)`,
    );
    expect(reg.snapshot()).toEqual(before);
    expect(reg.subjectModes.size).toBe(0);
    // Only the first registration's subject was touched; orders-value never was.
    expect(reg.writes().filter((r) => r.path.includes('orders-value'))).toEqual([]);
  });

  it("removes every version it created when a later registration gets an ID of the registry's choosing", async () => {
    reg = await startImportRegistry({ assignsOwnIds: true });
    // The fake's next ID is 7: the first registration (address, ID 7) gets it by chance.
    for (let id = 1; id <= 6; id++) reg.seed('unrelated-value', id, id, `{"type":"fixed","name":"F${id}","size":${id}}`);
    const before = reg.snapshot();
    const err = await registerKeepingIds(new RegistryClient({ url: reg.url }), selection(), SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);
    expect((err as SafetyError).message).toMatch(/asked for ID 9, it assigned 8$/);
    expect(reg.snapshot()).toEqual(before);
    expect(reg.subjectModes.size).toBe(0);
  });
});

describe('the IMPORT fake follows the documented contract (Confluent error codes), so the tests above mean something', () => {
  const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${reg.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const put = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const res = await fetch(`${reg.url}${path}`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it('READWRITE refuses an id (42205); IMPORT refuses a registration without one; a non-empty subject refuses IMPORT unless forced', async () => {
    reg = await startImportRegistry();
    expect(await post('/subjects/s/versions', { schema: ADDRESS, id: 5 })).toEqual({
      status: 422,
      body: { error_code: 42205, message: 'Subject s is not in import mode' },
    });
    expect((await put('/mode/s', { mode: 'IMPORT' })).body).toEqual({ mode: 'IMPORT' });
    expect((await post('/subjects/s/versions', { schema: ADDRESS })).body).toMatchObject({ error_code: 42205 });
    expect(await post('/subjects/s/versions', { schema: ADDRESS, id: 5, version: 3 })).toEqual({ status: 200, body: { id: 5 } });
    expect((await post('/subjects/t/versions', { schema: OTHER, id: 5 })).body).toMatchObject({ error_code: 42205 }); // t not in IMPORT
    expect((await put('/mode/t', { mode: 'IMPORT' })).status).toBe(200);
    expect((await post('/subjects/t/versions', { schema: OTHER, id: 5 })).body).toEqual({
      error_code: 42205,
      message: 'Overwrite new schema with id 5 is not permitted.',
    });
    expect((await put('/mode/s', { mode: 'READWRITE' })).status).toBe(200);
    expect((await put('/mode/s', { mode: 'IMPORT' })).body).toEqual({ error_code: 42205, message: 'Cannot import since found existing subjects' });
    expect((await put('/mode/s?force=true', { mode: 'IMPORT' })).status).toBe(200);
    expect((await put('/mode/s', { mode: 'NOPE' })).body).toMatchObject({ error_code: 42204 });
    expect((await get(reg, '/mode/u')).body).toMatchObject({ error_code: 40409 });
    expect((await get(reg, '/mode/u?defaultToGlobal=true')).body).toEqual({ mode: 'READWRITE' });
  });
});

describe("RegistryClient's mode and version calls, with a URL query (a proxy's token), against the IMPORT fake", () => {
  it("joins a path's own query and the configured one with '&'", async () => {
    reg = await startImportRegistry();
    const client = new RegistryClient({ url: `${reg.url}/?token=abc` });
    reg.seed('s', 1, 5, ADDRESS);
    await client.setSubjectMode('s', 'IMPORT', { force: true });
    expect(await client.subjectMode('s')).toBe('IMPORT');
    expect(await client.deleteSubjectMode('s')).toBe(true);
    expect(await client.deleteSubjectMode('s')).toBe(false);
    expect(await client.subjectMode('s')).toBeNull();
    expect(await client.subjectMode('s', { defaultToGlobal: true })).toBe('READWRITE');
    expect(await client.deleteSubjectVersion('s', 1)).toBe(true);
    expect(await client.deleteSubjectVersion('s', 1)).toBe(false);
    expect(reg.requests.filter((r) => r.method !== 'GET').map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /mode/s?force=true&token=abc',
      'DELETE /mode/s?token=abc',
      'DELETE /mode/s?token=abc',
      'DELETE /subjects/s/versions/1?token=abc',
      'DELETE /subjects/s/versions/1?permanent=true&token=abc',
      'DELETE /subjects/s/versions/1?token=abc',
      'DELETE /subjects/s/versions/1?permanent=true&token=abc',
    ]);
    expect(reg.snapshot()).toEqual({});
  });
});
