/**
 * gemv suite (issue 3): exact int8 GEMV at N×K = 256², 1024², 4096², 11008×4096, 4096×11008 and
 * GEMM M = 8 at 4096², each against the scalar JS int8 reference (plain loops over Int8Array) and
 * a plain JS Float32Array GEMV, all measured in the same run; QuantizedLinear (float in, float
 * out) against the float32 loop; ONNX Runtime MatMulInteger / MatMul rows when installed
 * (`npm run bench:peers`), each verified equal to the exact product before it is timed.
 *
 * `--sizes 1024x1024,gemm` picks sizes ("gemm" = the M = 8 prefill row).
 */
import { PackedInt8Matrix, QuantizedLinear } from '../../src/index.js';
import { Rng } from '../../src/data/random.js';
import { refGemvF32, refGemvInt8Plain } from '../../src/reference/gemv.js';
import { makeRow, measure, type BenchRow, type Suite, type SuiteOptions, type Timing } from '../harness.js';
import { matMulFloatPeers, matMulIntegerPeers } from '../peers/matmul.js';

const DEFAULT_SIZES = ['256x256', '1024x1024', '4096x4096', '11008x4096', '4096x11008', 'gemm'];

function parseSize(s: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`size '${s}' is not NxK`);
  return [Number(m[1]), Number(m[2])];
}

/** Slow scalar baselines get a shorter budget (benchmark.js still takes ≥ 10 samples). */
const slowTime = (maxTime: number, macs: number): number => (macs > 4e6 ? Math.min(maxTime, 0.25) : maxTime);

async function runGemv(opts: SuiteOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const wanted = opts.sizes.length ? opts.sizes : DEFAULT_SIZES;
  for (const size of wanted.filter((s) => /^\d+x\d+$/.test(s))) {
    const [N, K] = parseSize(size);
    const rng = new Rng(N * 31 + K);
    const w = rng.int8Array(N * K);
    const x = rng.int8Array(K);
    const wf = Float32Array.from(w, (v) => v / 64);
    const xf = Float32Array.from(x, (v) => v / 64);
    const macs = N * K;
    using W = PackedInt8Matrix.from(w, N, K);
    const y = new Int32Array(N), yRef = new Int32Array(N), yf = new Float32Array(N), yq = new Float32Array(N);
    // verify before timing: the kernel equals the scalar reference
    W.gemv(x, y);
    refGemvInt8Plain(w, N, K, x, yRef);
    for (let i = 0; i < N; i++) if (y[i] !== yRef[i]) throw new Error(`gemv ${size}: kernel differs from the reference at ${i}`);

    const tOurs = measure(`i8 gemv ${size}`, () => W.gemv(x, y), opts.maxTime);
    const tScalar = measure(`scalar i8 ${size}`, () => refGemvInt8Plain(w, N, K, x, yRef), slowTime(opts.maxTime, macs));
    const tF32 = measure(`js f32 ${size}`, () => refGemvF32(wf, N, K, xf, yf), slowTime(opts.maxTime, macs));
    const base = { suite: 'gemv', m: 1, n: N, k: K, macs, weightBytes: W.byteLength, bytes: W.byteLength };
    rows.push(makeRow({ ...base, kernel: 'i8 gemv', baseline: 'scalar JS int8 (Int8Array loop)' }, tOurs, tScalar));
    rows.push(makeRow({ ...base, kernel: 'i8 gemv', baseline: 'plain JS Float32Array gemv' }, tOurs, tF32));

    using lin = QuantizedLinear.fromFloat32(wf, N, K, { weightType: 'int8' });
    const tLin = measure(`QuantizedLinear ${size}`, () => lin.forward(xf, yq), opts.maxTime);
    rows.push(makeRow({ ...base, kernel: 'QuantizedLinear f32→f32', weightBytes: lin.byteLength, bytes: lin.byteLength, baseline: 'plain JS Float32Array gemv' }, tLin, tF32));

    for (const p of await matMulIntegerPeers(w, x, N, K, 1, y, opts.maxTime)) {
      if (!p.timing) { console.error(`  peer ${p.label} at ${size}: ${p.wrong}`); continue; }
      rows.push(makeRow({ ...base, kernel: 'i8 gemv', baseline: p.label }, tOurs, p.timing));
    }
    for (const p of await matMulFloatPeers(wf, xf, N, K, 1, opts.maxTime)) {
      if (!p.timing) { console.error(`  peer ${p.label} at ${size}: ${p.wrong}`); continue; }
      rows.push(makeRow({ ...base, kernel: 'QuantizedLinear f32→f32', weightBytes: lin.byteLength, bytes: lin.byteLength, baseline: p.label }, tLin, p.timing));
    }
  }
  if (wanted.includes('gemm')) {
    const N = 4096, K = 4096, M = 8;
    const rng = new Rng(8);
    const w = rng.int8Array(N * K), X = rng.int8Array(M * K);
    using W = PackedInt8Matrix.from(w, N, K);
    const Y = new Int32Array(M * N), y = new Int32Array(N), yRef = new Int32Array(N);
    const x0 = X.subarray(0, K);
    W.gemm(X, M, Y);
    refGemvInt8Plain(w, N, K, x0, yRef);
    for (let i = 0; i < N; i++) if (Y[i] !== yRef[i]) throw new Error(`gemm: kernel differs from the reference at ${i}`);
    const tGemm = measure('i8 gemm M=8', () => W.gemm(X, M, Y), opts.maxTime);
    const tGemv = measure('i8 gemv 4096²', () => W.gemv(x0, y), opts.maxTime);
    const tScalar = measure('scalar i8 4096²', () => refGemvInt8Plain(w, N, K, x0, yRef), slowTime(opts.maxTime, N * K));
    const times = (t: Timing, k: number): Timing => ({ ...t, medianUs: t.medianUs * k });
    const base = { suite: 'gemv', kernel: 'i8 gemm', m: M, n: N, k: K, macs: M * N * K, weightBytes: W.byteLength, bytes: W.byteLength };
    // speedup vs M separate GEMVs = 1 / (per-token time ÷ one GEMV); target ≥ 1/0.35 ≈ 2.86
    rows.push(makeRow({ ...base, baseline: `${M} × intquant i8 gemv` }, tGemm, times(tGemv, M)));
    rows.push(makeRow({ ...base, baseline: `${M} × scalar JS int8 gemv` }, tGemm, times(tScalar, M)));
    for (const p of await matMulIntegerPeers(w, X, N, K, M, (() => { const r = new Int32Array(M * N); W.gemm(X, M, r); return r; })(), opts.maxTime)) {
      if (!p.timing) { console.error(`  peer ${p.label} at gemm: ${p.wrong}`); continue; }
      rows.push(makeRow({ ...base, baseline: p.label }, tGemm, p.timing));
    }
  }
  return rows;
}

export const gemvSuite: Suite = {
  name: 'gemv',
  description: 'exact int8 GEMV/GEMM and QuantizedLinear vs scalar JS int8, plain JS float32 and (if installed) ONNX Runtime',
  run: runGemv,
};
