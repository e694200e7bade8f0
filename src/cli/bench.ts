/**
 * `intquant bench [--suite …] [--sizes …] [--max-time s] [--rounds n] [--json]` — the benchmark suite
 * (bench/run.ts). The suite ships with the repository, not with the npm package (it needs the
 * `benchmark` devDependency and optional ONNX Runtime peers), so it is loaded at run time from
 * ../../bench/run relative to this file: found when running from a clone (tsx), absent from an
 * installed package, where the command says to run `npm run bench` in a clone instead.
 */
import { IntquantError } from '../errors.js';
import { parseCommandArgs, UsageError } from './args.js';
import type { Command } from './command.js';

const NAME = 'bench';

interface BenchModule {
  parseBenchArgs(argv: string[]): unknown;
  runBench(options: unknown): Promise<unknown>;
}

async function loadBench(): Promise<BenchModule> {
  // A computed specifier: tsc must not pull bench/ into the package build.
  const spec = new URL(['..', '..', 'bench', 'run.js'].join('/'), import.meta.url).href;
  try {
    return (await import(spec)) as BenchModule;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new IntquantError('IQ_BENCH_UNAVAILABLE',
        'the benchmark suite ships with the repository, not the npm package: clone it and run `npm install && npm run bench`');
    }
    throw e;
  }
}

export const benchCommand: Command = {
  name: NAME,
  summary: 'benchmark the kernels against scalar JS, float32 JS and ONNX Runtime',
  synopsis: 'intquant bench [--suite name,…] [--sizes NxK,…] [--max-time s] [--rounds n] [--threads n] [--json]',
  help: `usage: intquant bench [--suite name,…] [--sizes NxK,…] [--max-time s] [--rounds n] [--threads n] [--json] [--out dir]

Runs the benchmark suites (bench/run.ts; every kernel is verified against a reference before
it is timed), prints one table and writes <out>/latest.json and latest.svg (default
bench/results). Same as \`npm run bench -- …\` in a clone of the repository; the suite is not
part of the npm package.

options:
  --suite a,b      suites to run (default: all; see bench/suites/index.ts)
  --sizes NxK,…    matrix sizes (suite-specific defaults)
  --max-time s     seconds per measurement, split over the rounds (default 0.5)
  --rounds n       interleaved rounds per comparison; speedups are the median of
                   per-round ratios (default 4)
  --threads n      threads the kernels use, the calling thread included (default:
                   INTQUANT_THREADS, else every core); the threads suite compares
                   n threads with 1 on the same kernels in interleaved rounds
  --json           print the rows as JSON
  --out dir        where latest.json / latest.svg go
  -h, --help       this text`,

  async run(args) {
    // Validate the shape of the arguments here (usage errors without loading the suite).
    const a = parseCommandArgs(NAME, args, {
      suite: { type: 'string', multiple: true }, suites: { type: 'string', multiple: true }, sizes: { type: 'string', multiple: true },
      'max-time': { type: 'string' }, rounds: { type: 'string' }, threads: { type: 'string' }, json: { type: 'boolean' }, out: { type: 'string' },
    });
    if (a.help) { console.log(this.help); return 0; }
    if (a.positionals.length) throw new UsageError(`unexpected argument '${a.positionals[0]}'`, NAME);
    const mod = await loadBench();
    let options: unknown;
    try {
      options = mod.parseBenchArgs(args);
    } catch (e) {
      throw new UsageError(e instanceof Error ? e.message : String(e), NAME);
    }
    await mod.runBench(options);
    return 0;
  },
};
