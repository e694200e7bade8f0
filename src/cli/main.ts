#!/usr/bin/env node
/**
 * The `intquant` command line. `npm start` runs `intquant` with no arguments: the end-to-end
 * MNIST demo (float MLP → PTQ → QAT → integer kernels).
 * Exit codes: 0 ok, 1 failure (one-line reason), 2 usage error.
 *
 * One module per command (src/cli/<command>.ts, each exporting a `Command`); to add one, append
 * it to COMMANDS.
 */
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { UsageError } from './args.js';
import type { Command } from './command.js';
import { reportCommand } from './report.js';
import { quantizeCommand } from './quantize.js';
import { dequantizeCommand } from './dequantize.js';
import { benchCommand } from './bench.js';
import { demoCommand } from './demo.js';
import { packageVersion } from './version.js';

export { UsageError } from './args.js';

export const COMMANDS: readonly Command[] = [demoCommand, reportCommand, quantizeCommand, dequantizeCommand, benchCommand];

export function helpText(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return `intquant ${packageVersion()} — integer quantization for Node.js

usage: intquant <command> [options]      (intquant <command> --help for details)

commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}

synopsis:
${COMMANDS.map((c) => `  ${c.synopsis}`).join('\n')}

  intquant --help | --version

With no command, intquant runs \`demo\` (what \`npm start\` prints).
Exit codes: 0 ok, 1 failure (one-line reason on stderr), 2 usage error.

environment:
  INTQUANT_BACKEND=auto|simd128|relaxed-simd   which kernel build runs (default auto: relaxed SIMD
                                               when the engine has it and it passes its self-test)
  INTQUANT_EXPERIMENTAL_RELAXED_SIMD=1         Node 20: turn on V8's relaxed-SIMD flag in this
                                               process so auto can pick the relaxed build
  INTQUANT_THREADS=n                           threads the kernels use, the calling thread
                                               included (default: every core; 1 = no workers)
  INTQUANT_SHARED_MEMORY=0                     an unshared wasm memory and one thread (what a
                                               browser page without cross-origin isolation gets)`;
}

/** Run one command line; resolves to the exit code, throws UsageError (exit 2) or other errors (exit 1). */
export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  if (args.length === 0) return demoCommand.run([]);
  const first = args[0]!;
  if (first === '--help' || first === '-h') { console.log(helpText()); return 0; }
  if (first === '--version' || first === '-V') { console.log(packageVersion()); return 0; }
  if (first === 'help') {
    const cmd = args[1] === undefined ? undefined : COMMANDS.find((c) => c.name === args[1]);
    if (args[1] !== undefined && !cmd) throw new UsageError(`unknown command '${args[1]}'`);
    if (cmd) return cmd.run(['--help']);
    console.log(helpText());
    return 0;
  }
  // `intquant --json` = `intquant report --json` (the embedded report), as before commands existed
  if (first.startsWith('-')) return reportCommand.run(args);
  const cmd = COMMANDS.find((c) => c.name === first);
  if (!cmd) throw new UsageError(`unknown command '${first}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
  return cmd.run(args.slice(1));
}

/** One line: an error's message without stack or continuation lines. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/\s*\n\s*/g, ' ').trim() || (e instanceof Error ? e.name : 'unknown error');
}

/** `main` with errors turned into exit codes and one-line messages on stderr. */
export async function runCli(argv: string[]): Promise<number> {
  try {
    return await main(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`intquant${e.command ? ` ${e.command}` : ''}: ${oneLine(e)}`);
      console.error(`run 'intquant${e.command ? ` ${e.command}` : ''} --help' for usage`);
      return 2;
    }
    console.error(`intquant: ${oneLine(e)}`);
    return 1;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
