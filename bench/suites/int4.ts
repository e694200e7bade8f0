/**
 * int4 GEMV suite: W4A8 and weight-only (W4A32) GEMV on packed int4 weights (group 32), against
 * the scalar JS int4 loops, our own int8 GEMV at the same shape (the "int4 beats int8" claim),
 * and ONNX Runtime's MatMulNBits when installed — everything at one shape timed in interleaved
 * rounds (harness.measureInterleaved), every speedup the median of per-round ratios.
 */
import { PackedInt4Matrix, PackedInt8Matrix } from '../../src/index.js';
import { Rng } from '../../src/data/random.js';
import { refActQuantize } from '../../src/reference/gemv-int4.js';
import { scalarW4A32Gemv, scalarW4A8Gemv } from '../../src/reference/gemv-int4-scalar.js';
import { makeRow, measureInterleaved, scaled, type BenchRow, type Contender, type Suite, type SuiteOptions } from '../harness.js';
import { matMulNBitsPeers } from '../peers/matmul.js';

const DEFAULT_SIZES = ['1024x1024', '4096x4096', '11008x4096', '4096x11008'];
const G = 32;

function parseSize(s: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`size '${s}' is not NxK`);
  return [Number(m[1]), Number(m[2])];
}

async function runInt4(opts: SuiteOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sizes = (opts.sizes.length ? opts.sizes : DEFAULT_SIZES).filter((s) => /^\d+x\d+$/.test(s));
  for (const size of sizes) {
    const [N, K] = parseSize(size);
    const rng = new Rng(N ^ (K << 8));
    const groups = Math.ceil(K / G);
    const q = rng.int8Array(N * K, -8, 7);
    const scales = new Float32Array(N * groups);
    for (let i = 0; i < scales.length; i++) scales[i] = 0.002 + 0.01 * rng.next();
    const x = rng.gaussianArray(K);
    using w4 = PackedInt4Matrix.from(q, N, K, { groupSize: G, scales, signed: true });
    using w8 = PackedInt8Matrix.from(rng.int8Array(N * K), N, K);
    const y = new Float32Array(N), y8 = new Int32Array(N), yRef = new Float32Array(N);
    const { q: xq, scales: sx } = refActQuantize(x, G);
    const xq8 = xq; // the int8 GEMV gets already-quantized activations: it is spared the quantization step

    const expected = w4.gemv(x, undefined, { activations: 'float32' });
    const peers = await matMulNBitsPeers(w4.toMatMulNBits(), x, N, K, 1, G, expected, 2e-2);
    for (const p of peers) if (!p.run) console.error(`  peer ${p.label} at ${size}: ${p.wrong}`);
    const ok = peers.filter((p) => p.run);
    const [tW4A8, tW4A32, tI8, tScalar8, tScalar32, ...tPeers] = await measureInterleaved([
      { name: `w4a8 ${size}`, fn: () => w4.gemv(x, y, { activations: 'int8' }) },
      { name: `w4a32 ${size}`, fn: () => w4.gemv(x, y, { activations: 'float32' }) },
      { name: `i8 ${size}`, fn: () => w8.gemv(xq8, y8) },
      { name: `scalar w4a8 ${size}`, fn: () => scalarW4A8Gemv(q, scales, xq, sx, N, K, G, yRef) },
      { name: `scalar w4a32 ${size}`, fn: () => scalarW4A32Gemv(q, scales, x, N, K, G, yRef) },
      ...ok.map((p): Contender => ({ name: p.label, fn: p.run!, async: true })),
    ], opts);

    const base = { suite: 'int4', m: 1, n: N, k: K, macs: N * K, weightBytes: w4.byteLength, bytes: w4.byteLength };
    rows.push(makeRow({ ...base, kernel: 'w4a8-g32 gemv', baseline: 'scalar JS int4 (Int8Array per value)' }, tW4A8!, tScalar8!));
    rows.push(makeRow({ ...base, kernel: 'w4a8-g32 gemv', baseline: 'intquant i8 gemv (same N×K)' }, tW4A8!, tI8!));
    rows.push(makeRow({ ...base, kernel: 'w4a32-g32 gemv', baseline: 'scalar JS int4 × float32' }, tW4A32!, tScalar32!));
    ok.forEach((p, i) => rows.push(makeRow({ ...base, kernel: 'w4a8-g32 gemv', baseline: p.label }, tW4A8!, tPeers[i]!)));
  }
  // prefill: GEMM M = 8 at 4096² (per-token time vs one GEMV)
  if (!opts.sizes.length || opts.sizes.includes('gemm')) {
    const N = 4096, K = 4096, M = 8;
    const rng = new Rng(7);
    const q = rng.int8Array(N * K, -8, 7);
    const scales = new Float32Array(N * (K / G)).fill(0.01);
    using w4 = PackedInt4Matrix.from(q, N, K, { groupSize: G, scales, signed: true });
    const X = rng.gaussianArray(M * K), Y = new Float32Array(M * N), y = new Float32Array(N);
    const [tGemm, tGemv] = await measureInterleaved([
      { name: 'w4a8 gemm', fn: () => w4.gemm(X, M, Y) },
      { name: 'w4a8 gemv', fn: () => w4.gemv(X.subarray(0, K), y) },
    ], opts);
    rows.push(makeRow({ suite: 'int4', kernel: 'w4a8-g32 gemm', m: M, n: N, k: K, macs: M * N * K, weightBytes: w4.byteLength, baseline: `${M} × w4a8-g32 gemv`, bytes: w4.byteLength },
      tGemm!, scaled(tGemv!, M)));
  }
  return rows;
}

export const int4Suite: Suite = {
  name: 'int4',
  description: 'packed int4 GEMV (W4A8, W4A32, group 32) vs scalar JS, our int8 GEMV and ONNX Runtime MatMulNBits',
  run: runInt4,
};
