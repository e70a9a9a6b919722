/**
 * A schema registry's HTTP error answer as one line a user can act on: the status, the
 * service's own short message and what to do, never the raw body. Registries answer in
 * several shapes: Confluent (and Karapace, Apicurio's ccompat API) `{error_code, message}`,
 * Apicurio's problem details `{title, detail, status, name}` (RESTEASY's "could not find
 * resource" among them), a proxy's HTML page, or nothing. Pure: registry-client.ts sends the
 * requests.
 */

/** The longest service message kept in an error line; a longer one is cut with "…". */
export const SHORT_MESSAGE_CHARS = 160;

export interface RegistryErrorBody {
  /** Confluent's error_code (40401 ...), when the body has one. */
  errorCode: number | undefined;
  /** The service's message, on one line, at most SHORT_MESSAGE_CHARS characters; '' when it sent none. */
  short: string;
}

/** Text on one line without control characters, cut to `max` characters. */
export function oneLine(text: string, max = SHORT_MESSAGE_CHARS): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  const controls = /[\u0000-\u001f\u007f-\u009f]+/g;
  const flat = text.replace(controls, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim().length > 0 ? v : undefined);

/**
 * The service's short message from an error body. Java exception names in front of a
 * message (`NotFoundException: ...`) are dropped: they say nothing the status does not.
 */
export function parseRegistryErrorBody(body: string): RegistryErrorBody {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  if (json !== null && typeof json === 'object' && !Array.isArray(json)) {
    const j = json as Record<string, unknown>;
    const errorCode = typeof j.error_code === 'number' && Number.isSafeInteger(j.error_code) ? j.error_code : undefined;
    // Confluent: message. Apicurio problem details: the title is the short form, detail the long one.
    const text = str(j.message) ?? str(j.title) ?? str(j.detail) ?? str(j.error) ?? '';
    return { errorCode, short: oneLine(text.replace(/^(?:[\w$.]+(?:Exception|Error)):\s*/, '')) };
  }
  // Not JSON: an HTML page (a proxy, a login page) says most in its title, else its text.
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1];
  const text = title ?? body.replace(/<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, ' ').replace(/<[^>]*>/g, ' ');
  return { errorCode: undefined, short: oneLine(text) };
}

/** What to do about an HTTP error status of the registry. */
export function registryErrorHint(status: number, errorCode: number | undefined): string {
  if (status === 401 || status === 403) return 'check the registry user and password (and that this user may use the subjects)';
  if (errorCode === 40401 || errorCode === 40402 || errorCode === 40403) return 'the subject, version or schema is not in this registry';
  if (status === 404) return 'check the registry URL: it must point at the Confluent-compatible API (for Apicurio, the URL ends with /apis/ccompat/v7)';
  if (status === 409) return "the schema is incompatible with the subject's earlier versions: check the subject's compatibility level";
  if (status === 422) return 'the registry refused the schema or request as invalid';
  if (status === 408 || status === 429) return 'the registry is overloaded: retry later';
  if (status >= 500) return "the registry failed: retry later, or look at the registry's logs";
  return 'check the registry URL and settings';
}
