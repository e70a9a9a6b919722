/**
 * `registerKeepingIds` (kbak recover --keep-schema-ids) against the stack's real Apicurio 3.3.3.
 * Its Confluent-compatible API accepts `PUT /mode/{subject}` IMPORT and an `id` in the
 * registration body, but stores the schema under an ID of its own (and version 1): kbak must
 * stop with one clear line before any record would be written, and leave no subject behind.
 * The registry's state is read with plain fetch() (not kbak's client) before and after.
 * The IMPORT contract itself (a registry that honours it) is tested against a fake,
 * test/unit/keep-ids.test.ts: no IMPORT-capable registry installs on this machine.
 */
import type { SchemaEntry, SubjectEntry } from '../../src/backup/manifest';
import { ExitCode, SafetyError } from '../../src/errors';
import { silentLogger } from '../../src/output/logger';
import { registerKeepingIds } from '../../src/schema/keep-ids';
import { selectSchemas } from '../../src/schema/register';
import { RegistryClient } from '../../src/schema/registry-client';
import { stackEnv, uniqueName } from '../support/stack';

/** IDs far beyond what the stack's Apicurio hands out, so its own ID can never match by chance. */
const ADDRESS_ID = 1_000_007;
const ORDER_ID = 1_000_012;
const ADDRESS = '{"type":"record","name":"Address","namespace":"keepids","fields":[{"name":"street","type":"string"}]}';
const ORDER = '{"type":"record","name":"Order","namespace":"keepids","fields":[{"name":"n","type":"long"},{"name":"to","type":"keepids.Address"}]}';

const SCHEMAS: SchemaEntry[] = [
  { id: ADDRESS_ID, schemaType: 'AVRO', schema: ADDRESS, references: [], registrations: [{ subject: 'address', version: 1 }], usedInRecords: false },
  {
    id: ORDER_ID,
    schemaType: 'AVRO',
    schema: ORDER,
    references: [{ name: 'keepids.Address', subject: 'address', version: 1 }],
    registrations: [{ subject: 'orders-value', version: 2 }],
    usedInRecords: true,
  },
];
const SUBJECT_ENTRIES: SubjectEntry[] = [{ subject: 'orders-value', compatibility: 'FULL' }];

async function json(url: string): Promise<unknown> {
  const res = await fetch(url);
  return res.json();
}

describe("registerKeepingIds against the stack's Apicurio 3.3.3 (accepts IMPORT, assigns its own IDs)", () => {
  const url = stackEnv().registryUrl;

  it('refuses with one clear line (exit 6) and leaves no subject, version or subject mode behind', async () => {
    const prefix = uniqueName('keepids');
    const address = `${prefix}-address`;
    const orders = `${prefix}-orders-value`;
    const selection = selectSchemas(SCHEMAS, new Set(['orders']), new Set(['orders']), (subjects) => new Map(subjects.map((s) => [s, `${prefix}-${s}`])));
    const before = { live: await json(`${url}/subjects`), all: await json(`${url}/subjects?deleted=true`) };

    const err = await registerKeepingIds(new RegistryClient({ url }), selection, SUBJECT_ENTRIES, silentLogger()).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(SafetyError);
    expect((err as SafetyError).exitCode).toBe(ExitCode.SAFETY);
    const line = (err as SafetyError).oneLine();
    expect(line).toMatch(
      new RegExp(
        `^schema registry ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not keep schema IDs in IMPORT mode: asked for ID ${ADDRESS_ID}, it assigned \\d+ \\(recover without --keep-schema-ids: payload IDs are then rewritten to the target registry's\\)$`,
      ),
    );
    expect(line).not.toContain('\n');
    expect(Number(/it assigned (\d+)/.exec(line)![1])).not.toBe(ADDRESS_ID);

    expect(await json(`${url}/subjects`)).toEqual(before.live);
    expect(await json(`${url}/subjects?deleted=true`)).toEqual(before.all);
    expect(await json(`${url}/subjects/${address}/versions`)).toMatchObject({ error_code: 40401 });
    expect(await json(`${url}/subjects/${orders}/versions`)).toMatchObject({ error_code: 40401 });
    // Apicurio answers a subject's mode with the global one when it has none of its own: READWRITE again, not IMPORT.
    expect(await json(`${url}/mode/${address}`)).toEqual({ mode: 'READWRITE' });
    expect(await json(`${url}/mode/${orders}`)).toEqual({ mode: 'READWRITE' });
    expect(await json(`${url}/schemas/ids/${ADDRESS_ID}`)).toMatchObject({ error_code: 40403 });
  });
});
