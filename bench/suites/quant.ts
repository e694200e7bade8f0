/**
 * quant suite (issue 2): element-wise quantize and dequantize float32 ↔ int8, per tensor and per
 * axis (axis 0 of [n/1024, 1024]: one scale per output channel, the weight layout), at 1M and 16M
 * elements. The SIMD kernels run through the tensor API on data resident in wasm memory
 * (zero-copy); the baseline is the scalar JS reference (src/reference/quant.ts) on plain typed
 * arrays, measured in the same run. One more row times the array API (copies in and out included).
 * Every kernel result is checked equal to the reference before it is timed.
 *
 * gmacs = elements / s / 1e9; weightGBs = input bytes / s / 1e9 (float32 in for quantize, int8 in
 * for dequantize). `--sizes 1M,16M` picks sizes.
 */
import { dequantizeTensor, quantize, quantizeTensor, Tensor, type QParams } from '../../src/index.js';
import { Rng } from '../../src/data/random.js';
import { dequantizeBlocks, dequantizeRun, quantizeBlocks, quantizeRun } from '../../src/reference/quant.js';
import { makeRow, measureInterleaved, type BenchRow, type Suite, type SuiteOptions } from '../harness.js';

const DEFAULT_SIZES = ['1M', '16M'];
const COLS = 1024;

function parseCount(s: string): number {
  const m = /^(\d+)([KM]?)$/i.exec(s);
  if (!m) throw new Error(`size '${s}' is not an element count like 1M or 65536`);
  const mult = m[2]!.toUpperCase() === 'M' ? 1 << 20 : m[2]!.toUpperCase() === 'K' ? 1 << 10 : 1;
  const n = Number(m[1]) * mult;
  if (n % COLS !== 0) throw new Error(`size '${s}' must be a multiple of ${COLS}`);
  return n;
}

function sameInts(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`${what}: kernel differs from the reference at ${i} (${a[i]} vs ${b[i]})`);
}
function sameFloats(a: Float32Array, b: Float32Array, what: string): void {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) throw new Error(`${what}: kernel differs from the reference at ${i}`);
}

/** Slow scalar baselines get a shorter budget (benchmark.js still takes ≥ 10 samples). */
const slowTime = (maxTime: number, n: number): number => (n > 4e6 ? Math.min(maxTime, 0.25) : maxTime);

async function runQuant(opts: SuiteOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const wanted = (opts.sizes.length ? opts.sizes : DEFAULT_SIZES).filter((s) => /^\d+[KM]?$/i.test(s));
  for (const size of wanted) {
    const n = parseCount(size);
    const R = n / COLS;
    const rng = new Rng(n);
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.gaussian();
    const scale = Math.fround(8 / 255);
    const chScales = Float32Array.from({ length: R }, () => Math.fround((4 + 4 * rng.next()) / 127));
    const chZps = new Float32Array(R);
    const perTensor: QParams = { qtype: 'int8', scale };
    const perAxis: QParams = { qtype: 'int8', scale: chScales, axis: 0 };
    const modes = [['per-tensor', perTensor], ['per-axis', perAxis]] as const;

    using xt = Tensor.from(x, [R, COLS]) as Tensor<'float32'>;
    using qt = Tensor.empty('int8', [R, COLS]);
    using yt = Tensor.empty('float32', [R, COLS]);
    const qRef = new Int8Array(n), yRef = new Float32Array(n);

    for (const [mode, p] of modes) {
      const refQ = mode === 'per-tensor'
        ? () => quantizeRun(x, 0, qRef, 0, n, scale, 0, -128, 127)
        : () => quantizeBlocks(x, qRef, R, COLS, COLS, chScales, chZps, R, -128, 127);
      const refDQ = mode === 'per-tensor'
        ? () => dequantizeRun(qRef, 0, yRef, 0, n, scale, 0)
        : () => dequantizeBlocks(qRef, yRef, R, COLS, COLS, chScales, chZps, R);
      // verify before timing
      quantizeTensor(xt, p, qt);
      refQ();
      sameInts(qt.toArray(), qRef, `quantize ${mode} ${size}`);
      dequantizeTensor(qt, p, yt);
      refDQ();
      sameFloats(yt.toArray(), yRef, `dequantize ${mode} ${size}`);

      const arrayApi = mode === 'per-tensor';
      const [tQ, tQref, tD, tDref, tArr] = await measureInterleaved([
        { name: `quantize ${mode} ${size}`, fn: () => { quantizeTensor(xt, p, qt); } },
        { name: `ref quantize ${mode} ${size}`, fn: refQ, maxTime: slowTime(opts.maxTime, n) },
        { name: `dequantize ${mode} ${size}`, fn: () => { dequantizeTensor(qt, p, yt); } },
        { name: `ref dequantize ${mode} ${size}`, fn: refDQ, maxTime: slowTime(opts.maxTime, n) },
        ...(arrayApi ? [{ name: `quantize() array ${size}`, fn: () => { quantize(x, [R, COLS], p); } }] : []),
      ], opts);
      const base = { suite: 'quant', m: R, n: COLS, k: 1, macs: n, baseline: 'scalar JS reference' };
      rows.push(makeRow({ ...base, kernel: `quantize f32→int8 ${mode}`, weightBytes: 4 * n, bytes: 4 * n }, tQ!, tQref!));
      rows.push(makeRow({ ...base, kernel: `dequantize int8→f32 ${mode}`, weightBytes: n, bytes: n }, tD!, tDref!));
      if (arrayApi) rows.push(makeRow({ ...base, kernel: 'quantize() array API incl. copies', weightBytes: 4 * n, bytes: 4 * n }, tArr!, tQref!));
    }
  }
  return rows;
}

export const quantSuite: Suite = {
  name: 'quant',
  description: 'element-wise quantize/dequantize f32↔int8, per tensor and per axis, SIMD kernels vs the scalar JS reference (1M, 16M elements)',
  run: runQuant,
};
