/**
 * `npm run bench [-- --suite quant,gemv] [--sizes 1024x1024] [--max-time 0.5] [--rounds 4] [--threads n] [--json]`
 * Runs the chosen suites, prints one table, writes bench/results/latest.json and latest.svg.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { init } from '../src/index.js';
import { formatTable, machineDescription, svgChart, type BenchRow, type Suite } from './harness.js';
import { SUITES } from './suites/index.js';

export interface BenchCliOptions { suites: string[]; sizes: string[]; maxTime: number; rounds: number; json: boolean; out?: string; threads?: number }

export function parseBenchArgs(argv: string[]): BenchCliOptions {
  const o: BenchCliOptions = { suites: [], sizes: [], maxTime: 0.5, rounds: 4, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => { const v = argv[++i]; if (v === undefined) throw new Error(`${a} needs a value`); return v; };
    if (a === '--suite' || a === '--suites') o.suites.push(...next().split(','));
    else if (a === '--sizes') o.sizes.push(...next().split(','));
    else if (a === '--max-time') o.maxTime = Number(next());
    else if (a === '--rounds') o.rounds = Number(next());
    else if (a === '--json') o.json = true;
    else if (a === '--threads') o.threads = Number(next());
    else if (a === '--out') o.out = next();
    else if (a === '--help' || a === '-h') {
      console.log(`usage: npm run bench -- [--suite ${Object.keys(SUITES).join(',')}] [--sizes NxK,...] [--max-time s] [--rounds n] [--threads n] [--json] [--out dir]`);
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  for (const s of o.suites) if (!(s in SUITES)) throw new Error(`unknown suite '${s}'; choose from ${Object.keys(SUITES).join(', ')}`);
  if (!(o.maxTime > 0)) throw new Error('--max-time must be a positive number of seconds');
  if (!Number.isInteger(o.rounds) || o.rounds < 1) throw new Error('--rounds must be a whole number ≥ 1');
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1)) throw new Error('--threads must be a whole number ≥ 1 (1 = the calling thread only)');
  return o;
}

export async function runBench(o: BenchCliOptions): Promise<BenchRow[]> {
  await init(o.threads === undefined ? {} : { threads: o.threads });
  const names = o.suites.length ? o.suites : Object.keys(SUITES);
  const rows: BenchRow[] = [];
  if (!o.json) console.log(`intquant bench — ${machineDescription()}\n`);
  for (const name of names) {
    const suite: Suite = SUITES[name]!;
    if (!o.json) console.error(`running ${name}: ${suite.description}`);
    rows.push(...(await suite.run({ maxTime: o.maxTime, rounds: o.rounds, sizes: o.sizes })));
  }
  const outDir = o.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify(rows, null, 2) + '\n');
  writeFileSync(join(outDir, 'latest.svg'), svgChart(rows, `intquant — ${machineDescription()}`));
  if (o.json) console.log(JSON.stringify(rows, null, 2));
  else console.log(formatTable(rows) + `\n\nwrote ${join(outDir, 'latest.json')} and latest.svg`);
  return rows;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === realpathSync(process.argv[1])) {
  runBench(parseBenchArgs(process.argv.slice(2))).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
}
