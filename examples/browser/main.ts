/**
 * The browser example: quantize one weight matrix to int8 and int4, show how close the
 * quantized layers stay to float (SQNR of weights and outputs) and how long one matrix–vector
 * product takes with intquant's kernels against plain JavaScript, as a chart. The page is
 * served by examples/browser/serve.ts (`npm run example:browser`), which imports intquant's
 * browser build through the page's import map.
 */
import type * as Intquant from '../../src/index.browser.js';

const N = 2048, K = 2048, RUNS = 25;
const entry: string = 'intquant'; // resolved by the page's import map
const iq = (await import(entry)) as typeof Intquant;

const $ = (id: string) => document.getElementById(id)!;
const status = (text: string) => { $('status').textContent = text; };

/** Seeded weights with a few outliers per row, like a trained layer's. */
function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32, v = ((Math.imul(s, 22695477) + 1) >>> 0) / 2 ** 32;
    out[i] = Math.sqrt(-2 * Math.log(u + 1e-12)) * Math.cos(2 * Math.PI * v) * 0.02 * (i % 509 === 0 ? 8 : 1);
  }
  return out;
}

interface Timing { median: number; q1: number; q3: number }

/** Median time of `fn` in µs over RUNS runs after a warm-up, and the spread (quartiles). */
function time(fn: () => unknown): Timing {
  for (let i = 0; i < 3; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    fn();
    t.push((performance.now() - t0) * 1000);
  }
  t.sort((a, b) => a - b);
  const at = (q: number) => t[Math.min(t.length - 1, Math.round(q * (t.length - 1)))]!;
  return { median: at(0.5), q1: at(0.25), q3: at(0.75) };
}

/** y = W·x in float32, the way plain JavaScript does it. */
function gemvF32(w: Float32Array, x: Float32Array, y: Float32Array): Float32Array {
  for (let n = 0; n < N; n++) {
    let acc = 0;
    const row = n * K;
    for (let k = 0; k < K; k++) acc += w[row + k]! * x[k]!;
    y[n] = acc;
  }
  return y;
}

const nextFrame = () => new Promise((r) => setTimeout(r, 0));

async function main(): Promise<void> {
  status('loading the kernels…');
  await iq.init();
  $('runtime').textContent = `kernels: ${iq.backend()} · ${iq.threads()} thread${iq.threads() > 1 ? 's' : ''} · `
    + `crossOriginIsolated: ${String(globalThis.crossOriginIsolated)}`;
  const w = seeded(N * K, 1), x = seeded(K, 2);
  const yRef = gemvF32(w, x, new Float32Array(N));

  status(`quantizing a ${N}×${K} matrix…`);
  await nextFrame();
  const int8 = iq.QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8' });
  const int4 = iq.QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', groupSize: 32 });
  const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
  const rows: [string, string, number][] = [
    ['float32', mib(4 * N * K), Infinity],
    ['int8 per channel, int8 activations (W8A8)', mib(int8.byteLength), iq.sqnr(yRef, int8.forward(x))],
    ['int4 groups of 32, int8 activations (W4A8)', mib(int4.byteLength), iq.sqnr(yRef, int4.forward(x))],
  ];
  $('sqnr').innerHTML = `<tr><th>${N}×${K} weights</th><th>bytes</th><th>output SQNR vs float32</th></tr>`
    + rows.map(([name, size, db]) => `<tr><td>${name}</td><td>${size}</td><td>${Number.isFinite(db) ? `${db.toFixed(1)} dB` : '—'}</td></tr>`).join('');

  status('timing one matrix–vector product…');
  await nextFrame();
  const y = new Float32Array(N);
  const bars = [
    { name: 'plain JS float32', ...time(() => gemvF32(w, x, y)) },
    { name: 'intquant int8 (W8A8)', ...time(() => int8.forward(x, y)) },
    { name: 'intquant int4 (W4A8)', ...time(() => int4.forward(x, y)) },
  ];
  int8.dispose();
  int4.dispose();
  drawChart(bars);
  status(`y = W·x for a ${N}×${K} matrix: median of ${RUNS} runs each, whiskers from the first to the third quartile`);
  document.body.dataset.done = 'true';
}

/** Horizontal bars: the median, a whisker over the quartiles, the time and the ratio to plain JS. */
function drawChart(bars: ({ name: string } & Timing)[]): void {
  const width = 760, rowH = 46, left = 190, top = 10, plot = width - left - 190;
  const max = Math.max(...bars.map((b) => b.q3));
  const base = bars[0]!.median;
  const x = (us: number) => left + (us / max) * plot;
  const rows = bars.map((b, i) => {
    const y = top + i * rowH;
    const ratio = i === 0 ? '' : ` · ${(base / b.median).toFixed(1)}× plain JS`;
    const label = b.median < 1000 ? `${b.median.toFixed(0)} µs` : `${(b.median / 1000).toFixed(2)} ms`;
    return `<text x="${left - 10}" y="${y + 22}" text-anchor="end">${b.name}</text>
      <rect x="${left}" y="${y + 6}" width="${(x(b.median) - left).toFixed(1)}" height="24" fill="${i === 0 ? '#9aa5b1' : '#2f6fde'}" rx="3"/>
      <line x1="${x(b.q1).toFixed(1)}" x2="${x(b.q3).toFixed(1)}" y1="${y + 18}" y2="${y + 18}" stroke="#1d2530" stroke-width="1.5"/>
      <text x="${(x(b.q3) + 8).toFixed(1)}" y="${y + 22}">${label}${ratio}</text>`;
  }).join('');
  $('chart').innerHTML = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + bars.length * rowH + 10}" font-family="sans-serif" font-size="14">${rows}</svg>`;
}

main().catch((e: unknown) => {
  status(`failed: ${(e as Error).message}`);
  document.body.dataset.done = 'error';
  throw e;
});
