/**
 * `intquant demo [--quick] [--json] [--out file] [--seed n]` — the end-to-end MNIST demo.
 * Exit codes: 0 ok, 2 usage error (message on stderr), 1 failure (thrown to the caller's handler).
 */
import { writeFileSync } from 'node:fs';
import { formatDemo, runDemo } from './run.js';

export const DEMO_HELP = `intquant demo — float MLP → PTQ (W8A8, W4A8; min-max, MSE) → QAT → integer kernels, on MNIST

usage:
  intquant demo [--quick] [--json] [--out <file>] [--seed <n>]

  --quick       reduced run (3,000 training images, fewer epochs; ~20 s)
  --json        the result as JSON instead of the text table (progress stays on stderr)
  --out <file>  write the JSON to <file>; stdout then gets the text table, or nothing with --json
  --seed <n>    seed for initialisation and shuffling (default 1)
  --no-progress no progress output on stderr

Data: the 10,000 digits of the mnist package; per digit the last 200 are the test set.`;

export async function demoCommand(argv: string[]): Promise<number> {
  let quick = false, json = false, progress = true, out: string | undefined, seed: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    switch (a) {
      case '--help': case '-h': console.log(DEMO_HELP); return 0;
      case '--quick': quick = true; break;
      case '--json': json = true; break;
      case '--no-progress': progress = false; break;
      case '--out': case '--seed': {
        const v = argv[++i];
        if (v === undefined || v.startsWith('--')) return usage(`${a} needs a value`);
        if (a === '--out') out = v;
        else {
          if (!/^\d+$/.test(v)) return usage(`--seed must be a non-negative integer, got '${v}'`);
          seed = Number(v);
        }
        break;
      }
      default: return usage(`unknown argument '${a}' for 'demo'`);
    }
  }
  const result = await runDemo({ quick, seed, progress });
  const text = JSON.stringify(result, null, 2);
  if (out !== undefined) writeFileSync(out, `${text}\n`);
  if (!json) console.log(formatDemo(result));
  else if (out === undefined) console.log(text);
  return 0;
}

function usage(msg: string): number {
  console.error(`intquant demo: ${msg}\nrun 'intquant demo --help' for usage`);
  return 2;
}
