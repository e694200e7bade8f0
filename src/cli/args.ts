/**
 * Argument parsing shared by the `intquant` commands: `node:util` parseArgs in strict mode, with
 * every parse problem turned into a `UsageError` (exit code 2).
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A command-line usage error: exit code 2, with a pointer to `--help`. */
export class UsageError extends Error {
  /** The command whose `--help` explains the fix ('' for the top level). */
  readonly command: string;
  constructor(message: string, command = '') {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export interface Parsed<O extends Options> {
  values: { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  positionals: string[];
}

/** Parse `args` for `command`; `--help` / `-h` are always accepted (check `values.help`). */
export function parseCommandArgs<O extends Options>(command: string, args: string[], options: O):
  Parsed<O> & { help: boolean } {
  try {
    const r = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
    });
    const values = r.values as Record<string, unknown>;
    return { values: values as Parsed<O>['values'], positionals: r.positionals, help: values.help === true };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    let msg = String(err.message ?? e).split('\n')[0]!;
    if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const m = /Unknown option '([^']+)'/.exec(msg);
      msg = `unknown option '${m ? m[1] : '?'}'`;
    } else if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const m = /Option '(?:-\w, )?(--?[\w-]+)/.exec(msg);
      msg = m ? `option '${m[1]}' needs a value` : msg;
    }
    throw new UsageError(msg, command);
  }
}

/** One of `choices`, or a usage error naming the option. */
export function choice<T extends string>(command: string, option: string, value: string | undefined, choices: readonly T[], fallback?: T): T {
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`${option} is required (${choices.join(' or ')})`, command);
  }
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`${option} must be ${choices.map((c) => `'${c}'`).join(' or ')}, got '${value}'`, command);
  }
  return value as T;
}

/** An integer option from a fixed set. */
export function intChoice(command: string, option: string, value: string | undefined, choices: readonly number[], fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !choices.includes(n)) {
    throw new UsageError(`${option} must be one of ${choices.join(', ')}, got '${value}'`, command);
  }
  return n;
}

/** Exactly `names.length` positional arguments. */
export function positionals(command: string, got: string[], names: readonly string[]): string[] {
  if (got.length < names.length) throw new UsageError(`missing ${names.slice(got.length).map((n) => `<${n}>`).join(' ')}`, command);
  if (got.length > names.length) throw new UsageError(`unexpected argument '${got[names.length]}'`, command);
  return got;
}
