/**
 * Schema registry HTTP errors as one line: the status, the service's short message, what to
 * do; never the raw body. Bodies as Confluent's registry sends them (its error JSON
 * `{error_code, message}`) and as the stack's Apicurio sends them (captured from it: its
 * ccompat API's Confluent-shaped errors, and its problem details `{detail, title, status, name}`
 * for paths it does not know), served by a local HTTP server to the real client.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ExitCode, KbakError } from '../../src/errors';
import { apicurioCompatUrl, RegistryClient, RegistryHttpError } from '../../src/schema/registry-client';
import { oneLine, parseRegistryErrorBody, SHORT_MESSAGE_CHARS } from '../../src/schema/registry-errors';

/** Confluent Schema Registry's error bodies (io.confluent.kafka.schemaregistry.rest.exceptions). */
const CONFLUENT = {
  subjectNotFound: '{"error_code":40401,"message":"Subject \'orders-value\' not found."}',
  incompatible:
    '{"error_code":409,"message":"Schema being registered is incompatible with an earlier schema for subject \\"orders-value\\", details: [{errorType:\'READER_FIELD_MISSING_DEFAULT_VALUE\', description:\'The field \'n\' at path \'/fields/1\' in the new schema has no default value and is missing in the old schema\', additionalInfo:\'n\'}, {oldSchemaVersion: 1}, {oldSchema: \'{\\"type\\":\\"record\\",\\"name\\":\\"S\\",\\"fields\\":[{\\"name\\":\\"a\\",\\"type\\":\\"string\\"}]}\'}, {compatibility: \'BACKWARD\'}]"}',
  invalid: '{"error_code":42201,"message":"Either the input schema or one its references is invalid"}',
  unauthorized: '{"error_code":401,"message":"Unauthorized"}',
  internal: '{"error_code":50001,"message":"Error in the backend data store"}',
};

/** Captured from the stack's Apicurio 3.3.3 with curl. */
const APICURIO = {
  /** GET <root>/schemas/types: RESTEASY's answer for a path outside every API. */
  rootNotFound:
    '{"detail":"NotFoundException: RESTEASY003210: Could not find resource for full path: http://127.0.0.1:8481/schemas/types","title":"RESTEASY003210: Could not find resource for full path: http://127.0.0.1:8481/schemas/types","status":404,"name":"NotFoundException"}',
  /** GET /apis/registry/v2/schemas/types: the native API's error shape. */
  nativeNotFound:
    '{"message":"RESTEASY003210: Could not find resource for full path: http://127.0.0.1:8481/apis/registry/v2/schemas/types","error_code":404,"detail":"NotFoundException: RESTEASY003210: Could not find resource for full path: http://127.0.0.1:8481/apis/registry/v2/schemas/types","name":"NotFoundException"}',
  /** GET /apis/ccompat/v7/subjects/nope/versions. */
  subjectNotFound: '{"message":"Subject \'nope\' not found.","error_code":40401}',
  /** POST /apis/ccompat/v7/subjects/x/versions with {"schema":"{not avro"}. */
  invalid: '{"message":"Failed to discover artifact type from content.","error_code":42201}',
};

describe('parseRegistryErrorBody', () => {
  it("takes Confluent's message and error code", () => {
    expect(parseRegistryErrorBody(CONFLUENT.subjectNotFound)).toEqual({ errorCode: 40401, short: "Subject 'orders-value' not found." });
    expect(parseRegistryErrorBody(CONFLUENT.invalid)).toEqual({ errorCode: 42201, short: 'Either the input schema or one its references is invalid' });
  });

  it("takes Apicurio's problem title without the exception name, and its ccompat messages", () => {
    expect(parseRegistryErrorBody(APICURIO.rootNotFound)).toEqual({
      errorCode: undefined,
      short: 'RESTEASY003210: Could not find resource for full path: http://127.0.0.1:8481/schemas/types',
    });
    expect(parseRegistryErrorBody('{"detail":"NotFoundException: gone","status":404}').short).toBe('gone');
    expect(parseRegistryErrorBody(APICURIO.subjectNotFound)).toEqual({ errorCode: 40401, short: "Subject 'nope' not found." });
    expect(parseRegistryErrorBody(APICURIO.nativeNotFound)).toEqual({
      errorCode: 404,
      short: 'RESTEASY003210: Could not find resource for full path: http://127.0.0.1:8481/apis/registry/v2/schemas/types',
    });
    expect(parseRegistryErrorBody(APICURIO.invalid)).toEqual({ errorCode: 42201, short: 'Failed to discover artifact type from content.' });
  });

  it(`cuts a long message to ${SHORT_MESSAGE_CHARS} characters on one line`, () => {
    const { short } = parseRegistryErrorBody(CONFLUENT.incompatible);
    expect(short.length).toBe(SHORT_MESSAGE_CHARS);
    expect(short.startsWith('Schema being registered is incompatible with an earlier schema for subject "orders-value"')).toBe(true);
    expect(short.endsWith('…')).toBe(true);
  });

  it("reads a proxy's HTML page by its title, plain text as it is, nothing as ''", () => {
    expect(parseRegistryErrorBody('<html><head><title>502 Bad Gateway</title></head><body><h1>502</h1>\n<hr>nginx</body></html>').short).toBe(
      '502 Bad Gateway',
    );
    expect(parseRegistryErrorBody('<p>no\r\nentry</p><script>x()</script>').short).toBe('no entry');
    expect(parseRegistryErrorBody('upstream connect error\nor disconnect').short).toBe('upstream connect error or disconnect');
    expect(parseRegistryErrorBody('')).toEqual({ errorCode: undefined, short: '' });
    expect(parseRegistryErrorBody('[1,2]').short).toBe('[1,2]');
  });

  it('removes control characters (no terminal escapes from a service)', () => {
    expect(oneLine('a\u001b[2Jb\u0007c\n\td')).toBe('a [2Jb c d');
  });
});

describe('apicurioCompatUrl', () => {
  it('maps an Apicurio root or native API URL to its ccompat API, and leaves other paths alone', () => {
    expect(apicurioCompatUrl('http://reg:8080')).toBe('http://reg:8080/apis/ccompat/v7');
    expect(apicurioCompatUrl('http://reg:8080/')).toBe('http://reg:8080/apis/ccompat/v7');
    expect(apicurioCompatUrl('https://reg/apis')).toBe('https://reg/apis/ccompat/v7');
    expect(apicurioCompatUrl('https://reg/apis/registry/v2')).toBe('https://reg/apis/ccompat/v7');
    expect(apicurioCompatUrl('https://reg/apis/registry/v3/groups')).toBe('https://reg/apis/ccompat/v7');
    expect(apicurioCompatUrl('https://reg/apis/ccompat/v7')).toBeNull();
    expect(apicurioCompatUrl('https://proxy/registry')).toBeNull();
    expect(apicurioCompatUrl('not a url')).toBeNull();
  });
});

describe('RegistryClient errors, one line each', () => {
  let server: Server;
  let url: string;
  const routes = new Map<string, { status: number; body: string; type?: string }>();
  beforeAll(async () => {
    server = createServer((req, res) => {
      const path = (req.url ?? '').split('?')[0]!;
      const r = routes.get(`${req.method} ${path}`) ?? {
        status: 404,
        body: APICURIO.rootNotFound.replaceAll('http://127.0.0.1:8481/schemas/types', `http://x${req.url}`),
      };
      res.writeHead(r.status, { 'Content-Type': r.type ?? 'application/json' }).end(r.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function failure(p: Promise<unknown>): Promise<KbakError> {
    const err = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(KbakError);
    const e = err as KbakError;
    expect(e.oneLine()).not.toMatch(/[\r\n]/);
    // The service's message, never its body.
    expect(e.oneLine()).not.toMatch(/"(error_code|detail|title)"/);
    return e;
  }

  it('an incompatible schema (409): status, code, the message cut, and what to do', async () => {
    routes.set('POST /subjects/orders-value/versions', { status: 409, body: CONFLUENT.incompatible });
    const e = await failure(new RegistryClient({ url }).register('orders-value', { schemaType: 'AVRO', schema: '{}', references: [] }));
    expect(e).toBeInstanceOf(RegistryHttpError);
    expect(e.exitCode).toBe(ExitCode.SERVICE);
    expect(e.retriable).toBe(false);
    expect(e.message).toMatch(
      new RegExp(`^schema registry POST /subjects/orders-value/versions at ${url} failed: HTTP 409: Schema being registered is incompatible .{20,}…$`),
    );
    expect(e.hint).toBe("the schema is incompatible with the subject's earlier versions: check the subject's compatibility level");
  });

  it('an invalid schema (422, 42201) and a backend failure (500, retriable)', async () => {
    routes.set('POST /subjects/bad/versions', { status: 422, body: CONFLUENT.invalid });
    const e = await failure(new RegistryClient({ url }).register('bad', { schemaType: 'AVRO', schema: '{', references: [] }));
    expect(e.message).toBe(
      `schema registry POST /subjects/bad/versions at ${url} failed: HTTP 422 (42201): Either the input schema or one its references is invalid`,
    );
    routes.set('GET /subjects', { status: 500, body: CONFLUENT.internal });
    const s = await failure(new RegistryClient({ url }).subjects());
    expect(s.message).toBe(`schema registry GET /subjects at ${url} failed: HTTP 500 (50001): Error in the backend data store`);
    expect(s.retriable).toBe(true);
    expect(s.hint).toMatch(/registry failed: retry later/);
  });

  it('wrong credentials (401): named as such, with the option to fix, not retriable, the password never shown', async () => {
    routes.set('GET /schemas/types', { status: 401, body: CONFLUENT.unauthorized });
    const e = await failure(new RegistryClient({ url, username: 'u', password: 'hunter2-secret' }).check());
    expect(e.message).toBe(`the schema registry at ${url} denied GET /schemas/types (HTTP 401: Unauthorized)`);
    expect(e.hint).toMatch(/^check the registry user and password/);
    expect(e.options).toEqual(['registry.auth']);
    expect(e.retriable).toBe(false);
    expect(JSON.stringify(e.toJSON())).not.toContain('hunter2');
    routes.delete('GET /schemas/types');
  });

  it("a 404 outside the API (Apicurio's RESTEASY answer) names the URL setting; the query token the registry echoes is hidden", async () => {
    const e = await failure(new RegistryClient({ url: `${url}/prefix?token=s3cr3t-token` }).subjects());
    expect(e.message).toBe(
      `schema registry GET /subjects at ${url}/prefix failed: HTTP 404: RESTEASY003210: Could not find resource for full path: http://x/prefix/subjects?…`,
    );
    expect(e.options).toEqual(['registry.url']);
    expect(e.oneLine()).not.toContain('s3cr3t');
  });

  it('a proxy HTML page and an empty body: the title, else the status text', async () => {
    routes.set('GET /config/x', { status: 403, body: '<html><title>403 Forbidden</title><body>denied</body></html>', type: 'text/html' });
    const e = await failure(new RegistryClient({ url }).subjectCompatibility('x'));
    expect(e.message).toMatch(/\(HTTP 403: 403 Forbidden\)$/);
    routes.set('GET /schemas/ids/7', { status: 400, body: '' });
    const b = await failure(new RegistryClient({ url }).schemaById(7));
    expect(b.message).toBe(`schema registry GET /schemas/ids/7 at ${url} failed: HTTP 400: Bad Request`);
  });
});
