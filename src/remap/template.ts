import { UsageError } from '../errors';

export type TemplateKind = 'topic' | 'subject' | 'group';

export interface TemplateVars {
  lane: string;
  /** The source topic, subject or group name (whichever the template's kind is). */
  name: string;
}

export type CompiledTemplate = (vars: TemplateVars) => string;

export const DEFAULT_TOPIC_TEMPLATE = '{lane}.{topic}';
export const DEFAULT_SUBJECT_TEMPLATE = '{lane}.{subject}';
export const DEFAULT_GROUP_TEMPLATE = '{lane}.{group}';

type Part = { kind: 'literal'; text: string } | { kind: 'lane' } | { kind: 'name' };

// Topic names only accept these characters, so a literal outside them can never render
// to a valid topic; refusing it here lets the error name the flag instead of a topic.
const TOPIC_LITERAL_CHAR = /^[a-zA-Z0-9._-]$/;

/**
 * Parses a naming template once so every rendered name is cheap and every template
 * mistake surfaces before anything is written. There is no escape syntax for braces:
 * topic names and group ids cannot meaningfully contain them, and keeping `{`/`}`
 * reserved makes typos such as `{lane.{topic}` an error instead of a silent literal.
 */
export function compileTemplate(template: string, kind: TemplateKind, flagName: string): CompiledTemplate {
  const shown = `${flagName} ${JSON.stringify(template)}`;
  const allowed = `use {lane} and {${kind}}`;
  const parts: Part[] = [];
  let literal = '';
  let hasLane = false;
  let hasName = false;

  for (let i = 0; i < template.length; i++) {
    const ch = template.charAt(i);
    if (ch === '}') {
      throw new UsageError(`${shown} has an unmatched '}' at position ${i}: ${allowed}, braces are not allowed elsewhere`, undefined, { options: [flagName] });
    }
    if (ch !== '{') {
      if (kind === 'topic' && !TOPIC_LITERAL_CHAR.test(ch)) {
        throw new UsageError(
          `${shown} contains ${JSON.stringify(ch)}, which Kafka topic names do not allow: use only letters, digits, '.', '_' and '-' around {lane} and {topic}`,
          undefined,
          { options: [flagName] },
        );
      }
      literal += ch;
      continue;
    }
    const close = template.indexOf('}', i + 1);
    const reopen = template.indexOf('{', i + 1);
    if (close === -1 || (reopen !== -1 && reopen < close)) {
      throw new UsageError(`${shown} has an unmatched '{' at position ${i}: ${allowed}, braces are not allowed elsewhere`, undefined, { options: [flagName] });
    }
    const placeholder = template.slice(i + 1, close);
    if (placeholder !== 'lane' && placeholder !== kind) {
      throw new UsageError(`${shown} has unknown placeholder {${placeholder}}: ${allowed}`, undefined, { options: [flagName] });
    }
    if (literal) parts.push({ kind: 'literal', text: literal });
    literal = '';
    if (placeholder === 'lane') {
      parts.push({ kind: 'lane' });
      hasLane = true;
    } else {
      parts.push({ kind: 'name' });
      hasName = true;
    }
    i = close;
  }
  if (literal) parts.push({ kind: 'literal', text: literal });

  if (!hasLane) {
    // Without the lane in the name, lane data would land in names shared with the
    // source and with every other lane.
    throw new UsageError(
      `${shown} has no {lane} placeholder: add {lane} so names stay inside the lane, e.g. ${JSON.stringify(`{lane}.{${kind}}`)}`,
      undefined,
      { options: [flagName] },
    );
  }
  if (!hasName) {
    throw new UsageError(
      `${shown} has no {${kind}} placeholder: add {${kind}}, otherwise every ${kind} would get the same name, e.g. ${JSON.stringify(`{lane}.{${kind}}`)}`,
      undefined,
      { options: [flagName] },
    );
  }

  return (vars) => {
    let out = '';
    for (const part of parts) {
      out += part.kind === 'literal' ? part.text : part.kind === 'lane' ? vars.lane : vars.name;
    }
    return out;
  };
}

const escapeRegex = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The inverse of a template for one lane: the source (base) name `rendered` was made from,
 * or null when the template cannot have produced `rendered` for `lane`. Pure. The template
 * is checked as compileTemplate checks it. A repeated `{kind}` must repeat the same text;
 * whatever matches, the answer is checked by rendering it again, so only a name that
 * renders back to `rendered` exactly is ever returned (the base is then unique: the
 * rendered length fixes the base's length).
 */
export function invertTemplate(template: string, kind: TemplateKind, flagName: string, lane: string, rendered: string): string | null {
  const render = compileTemplate(template, kind, flagName);
  let re = '';
  let captured = false;
  for (const part of template.split(/(\{lane\}|\{topic\}|\{subject\}|\{group\})/)) {
    if (part === '{lane}') re += escapeRegex(lane);
    else if (part === `{${kind}}`) {
      re += captured ? '\\1' : '(.+)';
      captured = true;
    } else re += escapeRegex(part);
  }
  const m = new RegExp(`^${re}$`, 's').exec(rendered);
  const base = m?.[1];
  if (base === undefined || render({ lane, name: base }) !== rendered) return null;
  return base;
}
