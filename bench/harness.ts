/**
 * Shared benchmark machinery: timing with benchmark.js, the result row every suite emits,
 * the printed table, the JSON file and the SVG chart.
 *
 * Every row compares one of our kernels with a baseline measured in the same run, so ratios are
 * meaningful even on a noisy shared machine.
 */
import Benchmark from 'benchmark';
import { cpus } from 'node:os';
import { readFileSync } from 'node:fs';
import { backend, threads } from '../src/index.js';

export interface Timing {
  /** Median time per call, microseconds (over every sample of every round). */
  medianUs: number;
  /** Spread: (p75 − p25) / median, in percent. */
  spreadPct: number;
  samples: number;
  /** Median µs of each round when measured by `measureInterleaved` (for paired ratios). */
  rounds?: number[];
  /** Which measureInterleaved call produced it: only timings of one call are paired. */
  group?: number;
}

export interface BenchRow {
  suite: string;
  kernel: string;
  m: number;
  n: number;
  k: number;
  medianUs: number;
  spreadPct: number;
  /** Multiply-accumulates per second / 1e9 (element ops for element-wise suites). */
  gmacs: number;
  /** Bytes of weights (or input bytes for element-wise suites) streamed per second / 1e9. */
  weightGBs: number;
  baseline: string;
  baselineMedianUs: number;
  speedup: number;
  /** Bytes the operand occupies in wasm memory, when relevant. */
  bytes?: number;
  /** The kernel build that ran: 'simd128' or 'relaxed-simd'. */
  backend?: string;
  /** Threads our kernels used for this row (the calling thread included; threads suite: the contender's count). */
  threads?: number;
  /**
   * How `speedup` was formed: 'paired-rounds' = the median over interleaved rounds of
   * (baseline round median ÷ our round median), so drift of a shared machine cancels;
   * 'medians' = ratio of the two overall medians.
   */
  ratio?: 'paired-rounds' | 'medians';
  /** Number of interleaved rounds behind a paired ratio. */
  rounds?: number;
  /** The engine and CPU it ran on: Node and V8 versions, CPU model, the SIMD flags that matter here. */
  node?: string;
  v8?: string;
  cpu?: string;
  cpuFlags?: string[];
}

/** CPU flags that decide how V8 lowers our SIMD (vpdpbusd needs AVX-VNNI or AVX512-VNNI). */
const FLAGS_OF_INTEREST = ['avx2', 'avx512f', 'avx512bw', 'avx_vnni', 'avx512_vnni'];

let engine: { node: string; v8: string; cpu: string; cpuFlags: string[] } | undefined;
/** Node, V8, CPU model and flags (from /proc/cpuinfo on Linux; empty elsewhere). */
export function engineInfo(): { node: string; v8: string; cpu: string; cpuFlags: string[] } {
  if (engine) return engine;
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    const all = new Set((line?.split(':')[1] ?? '').trim().split(/\s+/));
    flags = FLAGS_OF_INTEREST.filter((f) => all.has(f));
  } catch { /* not Linux */ }
  engine = { node: process.version, v8: process.versions.v8, cpu: cpus()[0]?.model ?? 'unknown CPU', cpuFlags: flags };
  return engine;
}

export interface SuiteOptions {
  /** Seconds budget per measurement (benchmark.js maxTime), split over the rounds. */
  maxTime: number;
  /** Interleaved rounds per comparison (see measureInterleaved); default 4. */
  rounds?: number;
  /** Restrict sizes (suite-specific labels such as "1024x1024"); empty = suite default. */
  sizes: string[];
}

export interface Suite {
  name: string;
  description: string;
  run(opts: SuiteOptions): Promise<BenchRow[]> | BenchRow[];
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Time `fn` with benchmark.js; returns median and inter-quartile spread. */
export function measure(name: string, fn: () => void, maxTime: number): Timing {
  fn(); // warm up: let V8's optimising tier take over before timing
  return summarize(sampleSync(name, fn, maxTime, 10));
}

/** benchmark.js samples (seconds per call) of `fn` for about `maxTime` seconds. */
function sampleSync(name: string, fn: () => void, maxTime: number, minSamples: number): number[] {
  const b = new Benchmark(name, fn, { maxTime, minSamples, initCount: 1 });
  b.run({ async: false });
  if (b.error) throw b.error;
  return [...b.stats.sample];
}

/** Single-call samples (seconds) of an async `fn` for about `maxTime` seconds. */
async function sampleAsync(fn: () => Promise<unknown>, maxTime: number, minSamples: number): Promise<number[]> {
  const samples: number[] = [];
  const deadline = performance.now() + maxTime * 1000;
  while (samples.length < minSamples || (performance.now() < deadline && samples.length < 1000)) {
    const t0 = performance.now();
    await fn();
    samples.push((performance.now() - t0) / 1000);
  }
  return samples;
}

let groups = 0;

function summarize(samples: number[], rounds?: number[], group?: number): Timing {
  const s = [...samples].sort((x, y) => x - y);
  const med = quantile(s, 0.5);
  const t: Timing = { medianUs: med * 1e6, spreadPct: ((quantile(s, 0.75) - quantile(s, 0.25)) / med) * 100, samples: s.length };
  if (rounds) t.rounds = rounds;
  if (group !== undefined) t.group = group;
  return t;
}

/** One contender of an interleaved measurement. */
export interface Contender {
  name: string;
  /** Sync functions are timed with benchmark.js; async ones (peer runtimes) call by call. */
  fn: () => unknown;
  async?: boolean;
  /** Seconds for this contender over all rounds (default: the suite's maxTime). */
  maxTime?: number;
}

/**
 * Time several contenders in interleaved rounds, the order reversed every other round
 * (A B C, C B A, A B C, …), each round getting maxTime/rounds seconds per contender. All samples
 * pool into the median and spread; each round's median is kept so makeRow can pair rounds: on a
 * shared VM whose memory bandwidth drifts by ±30 % over seconds, a ratio of two back-to-back
 * medians taken minutes apart is mostly drift, while the per-round ratios see the same
 * conditions. The reversal cancels position: here the first contender after another one's
 * DRAM-bound run measured 2–8 % slower than in second place (docs/kernels.md).
 */
export async function measureInterleaved(contenders: Contender[], opts: SuiteOptions): Promise<Timing[]> {
  const rounds = Math.max(1, Math.floor(opts.rounds ?? 4));
  for (const c of contenders) { // warm up: optimising tier, caches, peers' first-run allocations
    if (c.async) { await c.fn(); await c.fn(); } else c.fn();
  }
  const pooled = contenders.map(() => [] as number[]);
  const medians = contenders.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let j = 0; j < contenders.length; j++) {
      const i = r & 1 ? contenders.length - 1 - j : j;
      const c = contenders[i]!;
      const budget = (c.maxTime ?? opts.maxTime) / rounds;
      const samples = c.async
        ? await sampleAsync(c.fn as () => Promise<unknown>, budget, 3)
        : sampleSync(c.name, c.fn as () => void, budget, 4);
      pooled[i]!.push(...samples);
      medians[i]!.push(quantile([...samples].sort((x, y) => x - y), 0.5) * 1e6);
    }
  }
  const group = ++groups;
  return contenders.map((_, i) => summarize(pooled[i]!, medians[i]!, group));
}

/** A timing with every figure multiplied by k (e.g. k GEMVs as the baseline of one GEMM). */
export function scaled(t: Timing, k: number): Timing {
  const out: Timing = { ...t, medianUs: t.medianUs * k };
  if (t.rounds) out.rounds = t.rounds.map((v) => v * k);
  return out;
}

/** Build a row from our timing and the baseline's, computing rates and the ratio. */
export function makeRow(
  fields: { suite: string; kernel: string; m: number; n: number; k: number; macs: number; weightBytes: number; baseline: string; bytes?: number; threads?: number },
  ours: Timing, base: Timing,
): BenchRow {
  const secs = ours.medianUs / 1e6;
  const row: BenchRow = {
    suite: fields.suite, kernel: fields.kernel, m: fields.m, n: fields.n, k: fields.k,
    medianUs: round(ours.medianUs, 2), spreadPct: round(ours.spreadPct, 1),
    gmacs: round(fields.macs / secs / 1e9, 3),
    weightGBs: round(fields.weightBytes / secs / 1e9, 3),
    baseline: fields.baseline, baselineMedianUs: round(base.medianUs, 2),
    speedup: round(base.medianUs / ours.medianUs, 2),
    ratio: 'medians',
  };
  if (ours.rounds && base.rounds && ours.group === base.group && ours.rounds.length > 1) {
    const r = ours.rounds.map((v, i) => base.rounds![i]! / v).sort((x, y) => x - y);
    row.speedup = round(quantile(r, 0.5), 2);
    row.ratio = 'paired-rounds';
    row.rounds = r.length;
  }
  if (fields.bytes !== undefined) row.bytes = fields.bytes;
  row.backend = backend();
  row.threads = fields.threads ?? threads();
  Object.assign(row, engineInfo());
  return row;
}

const round = (x: number, d: number): number => Math.round(x * 10 ** d) / 10 ** d;

export function machineDescription(): string {
  const e = engineInfo();
  return `${e.cpu} (${cpus().length} cores; ${e.cpuFlags.join(' ') || 'no AVX2'}), Node ${e.node} (V8 ${e.v8}), ${process.platform}-${process.arch}, backend ${backend()}, ${threads()} threads`;
}

export function formatTable(rows: BenchRow[]): string {
  const head = ['suite', 'kernel', 'threads', 'm×n×k', 'median µs', 'spread', 'GMAC/s', 'GB/s', 'baseline', 'base µs', 'speedup'];
  const body = rows.map((r) => [
    r.suite, r.kernel, String(r.threads ?? ''), `${r.m}×${r.n}×${r.k}`, r.medianUs.toFixed(1), `±${r.spreadPct.toFixed(1)}%`,
    r.gmacs.toFixed(2), r.weightGBs.toFixed(2), r.baseline, r.baselineMedianUs.toFixed(1), `${r.speedup.toFixed(1)}×`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => (i >= 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(' | ') + ' |';
  return [line(head), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

/**
 * A grouped bar chart: one group per (kernel, shape) — our GMAC/s in blue, then every baseline
 * and peer measured against it in grey (GMAC/s on the same work), log-free and dependency-free.
 */
export function svgChart(rows: BenchRow[], title: string): string {
  const groups = new Map<string, { label: string; ours: number; bases: { name: string; gmacs: number }[] }>();
  for (const r of rows) {
    const key = `${r.suite}|${r.kernel}|${r.m}|${r.n}|${r.k}`;
    let g = groups.get(key);
    if (!g) { g = { label: `${r.kernel} ${r.m}×${r.n}×${r.k}`, ours: r.gmacs, bases: [] }; groups.set(key, g); }
    g.bases.push({ name: r.baseline, gmacs: baselineGmacs(r) });
  }
  const W = 1100, barH = 14, gap = 12, pad = 300, top = 50;
  const all = [...groups.values()];
  const max = Math.max(1e-9, ...all.map((g) => g.ours), ...all.flatMap((g) => g.bases.map((b) => b.gmacs)));
  const x = (v: number) => (v / max) * (W - pad - 330);
  const esc = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  const parts: string[] = [];
  let y = top;
  for (const g of all) {
    parts.push(`<text x="10" y="${y + 11}" font-weight="bold">${esc(g.label)}</text>`);
    const bars = [{ name: 'intquant', gmacs: g.ours, fill: '#2b7bb9' }, ...g.bases.map((b) => ({ ...b, fill: '#b8b8b8' }))];
    for (const b of bars) {
      parts.push(
        `<rect x="${pad}" y="${y}" width="${Math.max(0.5, x(b.gmacs)).toFixed(1)}" height="${barH}" fill="${b.fill}"/>`,
        `<text x="${(pad + x(b.gmacs) + 4).toFixed(1)}" y="${y + 11}">${b.gmacs.toFixed(2)} GMAC/s — ${esc(b.name)}</text>`,
      );
      y += barH + 2;
    }
    y += gap;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 20}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="10" y="40" fill="#555">GMAC/s per kernel and shape: intquant (blue) and each baseline or peer measured in the same run (grey)</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

function baselineGmacs(r: BenchRow): number {
  return r.gmacs / Math.max(r.speedup, 1e-12);
}

/** Time an async call (peer runtimes): warm up, then sample single calls for `maxTime` seconds. */
export async function measureAsync(fn: () => Promise<unknown>, maxTime: number, minSamples = 7): Promise<Timing> {
  await fn();
  await fn();
  return summarize(await sampleAsync(fn, maxTime, minSamples));
}
