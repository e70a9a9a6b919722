/**
 * The command that applies a dry run: the same arguments without --dry-run, quoted for a
 * POSIX shell, with every secret masked (`***`): the values of the password flags, the
 * password of a URL's user info and a URL's query (a proxy's token). A masked command is
 * said to be so, with where the secret can come from instead.
 */
import type { Command } from 'commander';

/** Flags whose value is a secret. */
const SECRET_FLAGS = ['--sasl-password', '--schema-registry-password'];
export const MASK = '***';

/** The user's arguments of the parse that ran `cmd` (after `node kbak`). */
export function userArgs(cmd: Command): string[] {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  // commander keeps the argv it parsed on the root command (not in its typings).
  const raw = (root as unknown as { rawArgs?: unknown }).rawArgs;
  return Array.isArray(raw) ? raw.slice(2).map(String) : [];
}

/** An argument as a POSIX shell reads it back. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A URL's password and query masked; anything that is not a URL with them unchanged. */
function maskUrl(arg: string): string {
  return arg
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@]*)@/gi, (_m, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      return `${scheme}${colon === -1 ? info : `${info.slice(0, colon)}:${MASK}`}@`;
    })
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)\?[^\s#]*/gi, `$1?${MASK}`);
}

export interface ApplyCommand {
  /** The command line, secrets masked. */
  line: string;
  /** Whether anything was masked (the line then needs the secrets again, or their environment variables). */
  masked: boolean;
}

/** `kbak <args>` without --dry-run, secrets masked. */
export function applyCommand(args: readonly string[]): ApplyCommand {
  const out: string[] = [];
  let masked = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--dry-run') continue;
    const eq = a.indexOf('=');
    const flag = eq === -1 ? a : a.slice(0, eq);
    if (SECRET_FLAGS.includes(flag)) {
      masked = true;
      if (eq !== -1) out.push(`${flag}=${MASK}`);
      else {
        out.push(a);
        if (i + 1 < args.length) {
          out.push(MASK);
          i++;
        }
      }
      continue;
    }
    const m = maskUrl(a);
    if (m !== a) masked = true;
    out.push(m);
  }
  // The mask is quoted too: a shell would expand a bare *** into file names.
  return { line: ['kbak', ...out].map(shellQuote).join(' '), masked };
}

/** A plan's lines, ended by the command that applies it (the same arguments without --dry-run, secrets masked), and its JSON with that command. */
export function withApplyCommand(
  command: Command,
  plan: { lines: readonly string[]; json: Record<string, unknown> },
): { lines: string[]; json: Record<string, unknown> } {
  const apply = applyCommand(userArgs(command));
  return {
    lines: [
      ...plan.lines,
      `to apply this plan, run: ${apply.line}`,
      ...(apply.masked ? [`  (secrets are shown as ${MASK}: give them again, or set KBAK_SASL_PASSWORD / KBAK_SCHEMA_REGISTRY_PASSWORD)`] : []),
    ],
    json: { ...plan.json, applyCommand: apply.line },
  };
}
