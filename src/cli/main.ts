#!/usr/bin/env node
/**
 * The `intquant` command line. `npm start` runs `intquant` with no arguments: the quantization
 * report on the embedded heavy-tailed matrix.
 * Exit codes: 0 ok, 1 failure (one-line reason), 2 usage error.
 */
import { fileURLToPath } from 'node:url';
import { realpathSync } from 'node:fs';
import { init } from '../index.js';
import { heavyTailedMatrix } from '../data/heavy-tailed.js';
import { formatReport, quantReport } from './quant-report.js';

const HELP = `intquant — integer quantization for Node.js

usage:
  intquant [report] [--json]    quantization report (SQNR, max error, bytes per scheme)
                                on the embedded seeded heavy-tailed 256×512 matrix
  intquant --help               this text

npm start runs \`intquant report\`.`;

export class UsageError extends Error {}

export async function main(argv: string[]): Promise<number> {
  const args = [...argv];
  const cmd = args[0] && !args[0].startsWith('-') ? args.shift()! : 'report';
  if (args.includes('--help') || args.includes('-h') || cmd === 'help') {
    console.log(HELP);
    return 0;
  }
  switch (cmd) {
    case 'report': {
      const json = takeFlag(args, '--json');
      if (args.length) throw new UsageError(`unknown argument '${args[0]}' for 'report'`);
      await init();
      const m = heavyTailedMatrix();
      const rows = quantReport(m.data, m.rows, m.cols);
      if (json) {
        console.log(JSON.stringify({ data: m.description, floatBytes: m.data.length * 4, rows }, null, 2));
      } else {
        console.log(`intquant quantization report — ${m.description}\n`);
        console.log(formatReport(rows, m.data.length * 4));
        console.log('\nSQNR: 10·log10(Σx² / Σ(x − Q/DQ(x))²); bytes: packed values + float32 scales + zero points.');
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

function takeFlag(args: string[], flag: string): boolean {
  const i = args.indexOf(flag);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        console.error(`intquant: ${e.message}\nrun 'intquant --help' for usage`);
        process.exit(2);
      }
      console.error(`intquant: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(1);
    },
  );
}
