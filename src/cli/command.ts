/** The shape every `intquant` command module exports. */
export interface Command {
  name: string;
  /** One line for `intquant --help`. */
  summary: string;
  /** Usage line(s) for `intquant --help`. */
  synopsis: string;
  /** Full text for `intquant <command> --help`. */
  help: string;
  /** Exit code 0 on success; throws UsageError (exit 2) or any other error (exit 1). */
  run(args: string[]): Promise<number>;
}

/** Prefix an error's message with the tensor it concerns (keeps its class and code). */
export function inTensor(name: string, e: unknown): unknown {
  if (e instanceof Error && !e.message.startsWith(`tensor '${name}'`)) e.message = `tensor '${name}': ${e.message}`;
  return e;
}
