/**
 * The README's library example as a user runs it. examples/library.js is the README's block,
 * byte for byte; node runs it from a folder where `require('kbak')` resolves to the package
 * `npm pack` makes of this checkout (its dependencies linked from this checkout's
 * node_modules, so nothing is downloaded), against the stack, on a topic of Avro records
 * registered in the stack's registry. What it did is checked without kbak: the manifest's
 * JSON, the lane topic's bytes as kcat reads them, the lane subject through the registry's
 * REST API.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runKbak } from '../support/kbak-cli';
import { createTopic, produce } from '../support/produce';
import { stackEnv, testKafka, uniqueName } from '../support/stack';

const ROOT = join(__dirname, '..', '..');
const EXAMPLE = join(ROOT, 'examples', 'library.js');
const RECORDS = 20;

/** The fenced js block of README's "Using kbak as a library" section (there is exactly one). */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Using kbak as a library\n');
  const end = readme.indexOf('\n## ', start + 1);
  const blocks = [...readme.slice(start, end).matchAll(/\n```js\n([\s\S]*?)\n```\n/g)].map((m) => `${m[1]}\n`);
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

/** A folder where `require('kbak')` finds the packed package, as after `npm install <tarball>`. */
function installPacked(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kbak-library-example-'));
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop()!;
  mkdirSync(join(dir, 'node_modules'));
  execFileSync('tar', ['-xzf', join(dir, tarball), '-C', join(dir, 'node_modules')]);
  renameSync(join(dir, 'node_modules', 'package'), join(dir, 'node_modules', 'kbak'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules', 'kbak', 'node_modules'));
  copyFileSync(EXAMPLE, join(dir, 'library.js'));
  return dir;
}

/** Values of a topic's partition as kcat reads them (`%S:%s`: length, then the raw bytes). */
function kcatValues(topic: string, partition: number): Array<Buffer | null> {
  const out = execFileSync(
    'kcat',
    ['-C', '-b', stackEnv().brokers.join(','), '-t', topic, '-p', String(partition), '-o', 'beginning', '-e', '-q', '-f', '%S:%s'],
    { maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
  );
  const values: Array<Buffer | null> = [];
  for (let p = 0; p < out.length;) {
    const colon = out.indexOf(':', p);
    const length = Number(out.toString('latin1', p, colon));
    values.push(length < 0 ? null : out.subarray(colon + 1, colon + 1 + length));
    p = colon + 1 + Math.max(0, length);
  }
  return values;
}

it('README block and examples/library.js are the same text', () => {
  expect(readmeExample()).toBe(readFileSync(EXAMPLE, 'utf8'));
});

it('the library example dumps with the registry and seeds a lane with its own schema IDs', async () => {
  const topic = uniqueName('example-orders');
  const lane = uniqueName('example');
  const kafka = testKafka('kbak-library-example');
  await createTopic(kafka, topic, 2);
  const registry = new SchemaRegistry({ host: stackEnv().registryUrl });
  const schema = { type: 'record', name: 'Order', namespace: 'kbak.example', fields: [{ name: 'id', type: 'int' }] };
  const { id: sourceId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });
  const records = [];
  for (let i = 0; i < RECORDS; i++) {
    records.push({
      partition: i % 2,
      key: Buffer.from(`k${i}`),
      value: await registry.encode(sourceId, { id: i }),
      headers: [],
      timestamp: String(Date.now()),
    });
  }
  await produce(kafka, topic, records);

  const dir = installPacked();
  const dest = join(dir, 'backups');
  const r = spawnSync(process.execPath, ['library.js'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 150_000,
    env: {
      PATH: process.env.PATH,
      KBAK_BROKERS: stackEnv().brokers.join(','),
      KBAK_SCHEMA_REGISTRY_URL: stackEnv().registryUrl,
      EXAMPLE_TOPIC: topic,
      EXAMPLE_LANE: lane,
      EXAMPLE_DEST: dest,
    },
  });
  try {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = r.stdout.split('\n');
    const first = /^backup (\S+): 20 records, 1 schemas$/.exec(out[0]!);
    expect(first).not.toBeNull();
    expect(out[1]).toMatch(/^backup \S+: 0 new records, 20 in all$/);
    expect(out[2]).toMatch(new RegExp(`^store: ${first![1]} \\(full\\), \\S+ \\(incremental\\) of 2$`));
    expect(out.filter((l) => l.startsWith('verify '))).toEqual([expect.stringMatching(/: ok$/), expect.stringMatching(/: ok$/)]);
    expect(out).toContain(`first record of ${topic}/0: offset 0, key k0, value of ${records[0]!.value.length} bytes`);
    expect(out).toContain(`${RECORDS} records with a value in the latest backup`);
    const restored = out.map((l) => new RegExp(`^lane ${lane}: 20 records, 1 subjects, schema IDs (.*)$`).exec(l)).find((m) => m !== null);
    expect(restored).toBeDefined();
    const idMap = JSON.parse(restored![1]!) as Record<string, number>;
    expect(Object.keys(idMap)).toEqual([String(sourceId)]);
    const laneId = idMap[String(sourceId)]!;
    expect(out).toContain(`lane ${lane} topics: ${lane}.${topic}`);
    expect(out.find((l) => l.startsWith('lanes: '))).toContain(`${lane} (20 records)`);
    expect(out).toContain(`deleting lane ${lane} would remove ${lane}.${topic} and ${lane}.${topic}-value`);
    expect(out).toContain('prune would remove 0 backups');
    expect(out).toContain('stale locks removed: 0');

    // The backup holds the schema: its manifest, read as plain JSON.
    const manifest = JSON.parse(readFileSync(join(dest, 'example', first![1]!, 'manifest.json'), 'utf8'));
    expect(manifest.schemaRegistry).toEqual({ url: stackEnv().registryUrl });
    expect(manifest.schemas.map((s: { id: number }) => s.id)).toEqual([sourceId]);
    // Every lane record carries the lane subject's ID (Confluent framing: magic 0, then the ID).
    const values = [...kcatValues(`${lane}.${topic}`, 0), ...kcatValues(`${lane}.${topic}`, 1)];
    expect(values).toHaveLength(RECORDS);
    for (const v of values) expect([v![0], v!.readUInt32BE(1)]).toEqual([0, laneId]);
    const subject = (await (await fetch(`${stackEnv().registryUrl}/subjects/${lane}.${topic}-value/versions/latest`)).json()) as { id: number };
    expect(subject.id).toBe(laneId);
  } finally {
    const cleanup = await runKbak(['lane', 'delete', lane, '--yes', '--ignore-not-found', '--schema-registry-url', stackEnv().registryUrl]);
    expect(cleanup.code).toBe(0);
  }
}, 180_000);
