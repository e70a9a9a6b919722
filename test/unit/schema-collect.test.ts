/**
 * The dump keeps only the registrations a restore can use: in a shared registry, lanes
 * seeded from the cluster register the same content under their own subjects, and a
 * backup must not grow (nor its dump slow down) with every lane ever made.
 */
import { SchemaCollector, relevantRegistrations } from '../../src/schema/collect';
import type { RegistryClient, SchemaDefinition, SubjectVersion } from '../../src/schema/registry-client';
import { withSchemaId } from '../../src/schema/framing';

type Reg = { subject: string; version: number };

/** A registry in memory: enough of RegistryClient for the collector, and a call log. */
function fakeRegistry(schemas: Map<number, SchemaDefinition & { regs: Reg[] }>): { client: RegistryClient; calls: string[] } {
  const calls: string[] = [];
  const client = {
    schemaById: async (id: number) => {
      calls.push(`schema ${id}`);
      const s = schemas.get(id);
      return s ? { schemaType: s.schemaType, schema: s.schema, references: s.references } : null;
    },
    idVersions: async (id: number) => {
      calls.push(`versions ${id}`);
      return schemas.get(id)?.regs.map((r) => ({ ...r })) ?? [];
    },
    subjectVersion: async (subject: string, version: number): Promise<SubjectVersion | null> => {
      calls.push(`subject ${subject} ${version}`);
      for (const [id, s] of schemas) {
        if (s.regs.some((r) => r.subject === subject && r.version === version)) {
          return { subject, version, id, schema: s.schema, schemaType: s.schemaType, references: s.references };
        }
      }
      return null;
    },
    subjectCompatibility: async (subject: string) => {
      calls.push(`compat ${subject}`);
      return null;
    },
  } as unknown as RegistryClient;
  return { client, calls };
}

const framed = (id: number): Buffer => withSchemaId(Buffer.from([0, 0, 0, 0, 0, 1]), id);

describe('relevantRegistrations', () => {
  it("keeps only the dumped topics' own subjects when there are any", () => {
    const regs = [
      { subject: 'lane-a.orders-value', version: 1 },
      { subject: 'orders-value', version: 3 },
      { subject: 'payments-value', version: 1 },
      { subject: 'orders-key', version: 1 },
    ];
    expect(relevantRegistrations(regs, new Set(['orders']))).toEqual([
      { subject: 'orders-value', version: 3 },
      { subject: 'orders-key', version: 1 },
    ]);
  });

  it("without a dumped topic's subject keeps the record-name subjects, not other topics' or lane copies", () => {
    const regs = [
      { subject: 'com.acme.Order', version: 2 },
      { subject: 'lane-a.com.acme.Order', version: 1 },
      { subject: 'lane-b.lane-a.com.acme.Order', version: 1 },
      { subject: 'payments-value', version: 1 },
      { subject: 'lane-a.payments-value', version: 1 },
    ];
    expect(relevantRegistrations(regs, new Set(['orders']))).toEqual([{ subject: 'com.acme.Order', version: 2 }]);
  });

  it('keeps every subject when nothing else tells them apart', () => {
    const regs = [
      { subject: 'payments-value', version: 1 },
      { subject: 'refunds-value', version: 4 },
    ];
    expect(relevantRegistrations(regs, new Set(['orders']))).toEqual(regs);
  });
});

describe('SchemaCollector.resolve', () => {
  it('does not look up the subjects of lanes that share the schema content', async () => {
    const laneRegs = Array.from({ length: 500 }, (_, i) => ({ subject: `lane-${i}.orders-value`, version: 1 }));
    const { client, calls } = fakeRegistry(
      new Map([[7, { schemaType: 'AVRO', schema: '"string"', references: [], regs: [...laneRegs, { subject: 'orders-value', version: 2 }] }]]),
    );
    const c = new SchemaCollector();
    c.observe(framed(7));
    const out = await c.resolve(client, new Set(['orders']));
    expect(out.schemas).toHaveLength(1);
    expect(out.schemas[0]!.registrations).toEqual([{ subject: 'orders-value', version: 2 }]);
    expect(out.subjects.map((s) => s.subject)).toEqual(['orders-value']);
    expect(calls.filter((x) => x.startsWith('compat'))).toEqual(['compat orders-value']);
  });

  it("keeps a referenced schema's referenced version only, and its own subjects once records use it too", async () => {
    const ref = { name: 'com.acme.Money', subject: 'money', version: 1 };
    const { client } = fakeRegistry(
      new Map([
        [
          12,
          {
            schemaType: 'AVRO',
            schema: '"money"',
            references: [],
            regs: [
              { subject: 'money', version: 1 },
              { subject: 'lane-x.money', version: 1 },
              { subject: 'orders-key', version: 1 },
            ],
          },
        ],
        [9, { schemaType: 'AVRO', schema: '"order"', references: [ref], regs: [{ subject: 'orders-value', version: 1 }] }],
      ]),
    );
    const onlyRef = new SchemaCollector();
    onlyRef.observe(framed(9));
    const a = await onlyRef.resolve(client, new Set(['orders']));
    expect(a.schemas.find((s) => s.id === 12)!.registrations).toEqual([{ subject: 'money', version: 1 }]);
    expect(a.schemas.find((s) => s.id === 12)!.usedInRecords).toBe(false);

    // IDs resolve in ascending order, so 12 is first reached as 9's reference and only
    // then as an ID the records use.
    const both = new SchemaCollector();
    both.observe(framed(9));
    both.observe(framed(12));
    const b = await both.resolve(client, new Set(['orders']));
    expect(b.schemas.find((s) => s.id === 12)!.registrations).toEqual([
      { subject: 'money', version: 1 },
      { subject: 'orders-key', version: 1 },
    ]);
    expect(b.schemas.find((s) => s.id === 12)!.usedInRecords).toBe(true);
  });
});
