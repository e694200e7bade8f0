/**
 * gemv suite (issue 3): exact int8 GEMV at N×K = 256², 1024², 4096², 11008×4096, 4096×11008 and
 * GEMM M = 8 at 4096², each against the scalar JS int8 reference (plain loops over Int8Array) and
 * a plain JS Float32Array GEMV, all measured in the same run; QuantizedLinear (float in, float
 * out) against the float32 loop; ONNX Runtime MatMulInteger / MatMul rows when installed
 * (`npm run bench:peers`), each verified equal to the exact product before it is timed.
 * Everything compared at one shape is timed in interleaved rounds (harness.measureInterleaved)
 * and every speedup is the median of per-round ratios.
 *
 * `--sizes 1024x1024,gemm` picks sizes ("gemm" = the M = 8 prefill row at 4096²; "gemm512" = the
 * same at 512², weights resident in L2: the GEMM's in-cache ceiling, for comparison).
 */
import { PackedInt8Matrix, QuantizedLinear } from '../../src/index.js';
import { Rng } from '../../src/data/random.js';
import { refGemvF32, refGemvInt8Plain } from '../../src/reference/gemv.js';
import { makeRow, measureInterleaved, scaled, type BenchRow, type Contender, type Suite, type SuiteOptions } from '../harness.js';
import { matMulFloatPeers, matMulIntegerPeers } from '../peers/matmul.js';

const DEFAULT_SIZES = ['256x256', '1024x1024', '4096x4096', '11008x4096', '4096x11008', 'gemm', 'gemm512'];

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

    using lin = QuantizedLinear.fromFloat32(wf, N, K, { weightType: 'int8' });
    const intPeers = await matMulIntegerPeers(w, x, N, K, 1, y);
    const floatPeers = await matMulFloatPeers(wf, xf, N, K, 1);
    for (const p of [...intPeers, ...floatPeers]) if (!p.run) console.error(`  peer ${p.label} at ${size}: ${p.wrong}`);
    const intOk = intPeers.filter((p) => p.run), floatOk = floatPeers.filter((p) => p.run);
    const [tOurs, tLin, tScalar, tF32, ...tPeers] = await measureInterleaved([
      { name: `i8 gemv ${size}`, fn: () => W.gemv(x, y) },
      { name: `QuantizedLinear ${size}`, fn: () => lin.forward(xf, yq) },
      { name: `scalar i8 ${size}`, fn: () => refGemvInt8Plain(w, N, K, x, yRef), maxTime: slowTime(opts.maxTime, macs) },
      { name: `js f32 ${size}`, fn: () => refGemvF32(wf, N, K, xf, yf), maxTime: slowTime(opts.maxTime, macs) },
      ...[...intOk, ...floatOk].map((p): Contender => ({ name: p.label, fn: p.run!, async: true })),
    ], opts);
    const base = { suite: 'gemv', m: 1, n: N, k: K, macs, weightBytes: W.byteLength, bytes: W.byteLength };
    const linBase = { ...base, kernel: 'QuantizedLinear f32→f32', weightBytes: lin.byteLength, bytes: lin.byteLength };
    rows.push(makeRow({ ...base, kernel: 'i8 gemv', baseline: 'scalar JS int8 (Int8Array loop)' }, tOurs!, tScalar!));
    rows.push(makeRow({ ...base, kernel: 'i8 gemv', baseline: 'plain JS Float32Array gemv' }, tOurs!, tF32!));
    rows.push(makeRow({ ...linBase, baseline: 'plain JS Float32Array gemv' }, tLin!, tF32!));
    intOk.forEach((p, i) => rows.push(makeRow({ ...base, kernel: 'i8 gemv', baseline: p.label }, tOurs!, tPeers[i]!)));
    floatOk.forEach((p, i) => rows.push(makeRow({ ...linBase, baseline: p.label }, tLin!, tPeers[intOk.length + i]!)));
  }
  for (const label of wanted.filter((s) => s === 'gemm' || s === 'gemm512')) {
    const N = label === 'gemm' ? 4096 : 512, K = N, M = 8;
    const rng = new Rng(8);
    const w = rng.int8Array(N * K), X = rng.int8Array(M * K);
    using W = PackedInt8Matrix.from(w, N, K);
    const Y = new Int32Array(M * N), y = new Int32Array(N), yRef = new Int32Array(N);
    const x0 = X.subarray(0, K);
    W.gemm(X, M, Y);
    refGemvInt8Plain(w, N, K, x0, yRef);
    for (let i = 0; i < N; i++) if (Y[i] !== yRef[i]) throw new Error(`${label}: kernel differs from the reference at ${i}`);
    const expected = new Int32Array(M * N);
    W.gemm(X, M, expected);
    const peers = await matMulIntegerPeers(w, X, N, K, M, expected);
    for (const p of peers) if (!p.run) console.error(`  peer ${p.label} at ${label}: ${p.wrong}`);
    const ok = peers.filter((p) => p.run);
    const [tGemm, tGemv, tScalar, ...tPeers] = await measureInterleaved([
      { name: `i8 gemm M=8 ${N}²`, fn: () => W.gemm(X, M, Y) },
      { name: `i8 gemv ${N}²`, fn: () => W.gemv(x0, y) },
      { name: `scalar i8 ${N}²`, fn: () => refGemvInt8Plain(w, N, K, x0, yRef), maxTime: slowTime(opts.maxTime, N * K) },
      ...ok.map((p): Contender => ({ name: p.label, fn: p.run!, async: true })),
    ], opts);
    const base = { suite: 'gemv', kernel: 'i8 gemm', m: M, n: N, k: K, macs: M * N * K, weightBytes: W.byteLength, bytes: W.byteLength };
    // speedup vs M separate GEMVs = 1 / (per-token time ÷ one GEMV); target ≥ 1/0.35 ≈ 2.86
    rows.push(makeRow({ ...base, baseline: `${M} × intquant i8 gemv` }, tGemm!, scaled(tGemv!, M)));
    rows.push(makeRow({ ...base, baseline: `${M} × scalar JS int8 gemv` }, tGemm!, scaled(tScalar!, M)));
    ok.forEach((p, i) => rows.push(makeRow({ ...base, baseline: p.label }, tGemm!, tPeers[i]!)));
  }
  return rows;
}

export const gemvSuite: Suite = {
  name: 'gemv',
  description: 'exact int8 GEMV/GEMM and QuantizedLinear vs scalar JS int8, plain JS float32 and (if installed) ONNX Runtime',
  run: runGemv,
};
