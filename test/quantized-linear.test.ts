/**
 * QuantizedLinear beyond the default int8 layer: int4 weights (W4A8), precomputed weight
 * parameters (int8/uint8 per channel, int4/uint4 per group with a ragged last group), static
 * activation parameters, memory accounting and every argument error.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, memoryStats, outputFloat32, quantize, qparamsFromRange, sqnr, MinMaxObserver, MseObserver,
  PackedInt4Matrix, PackedInt8Matrix, QuantizedLinear, DisposedError, InvalidArgumentError, NaNInputError,
  type QParams,
} from '../src/index.js';
import { releaseScratch } from '../src/ops/scratch.js';
import { refDynamicQuantS8, refGemvF32, refOutputF32 } from '../src/reference/gemv.js';
import { Rng } from '../src/data/random.js';

beforeAll(async () => { await init(); });

const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

/** Eq. 2 in plain JS: clamp(rhe(f32(x/s)) + z, qmin, qmax). */
function q2(x: number, s: number, z: number, qmin: number, qmax: number): number {
  const v = Math.fround(x / s);
  let r = Math.round(v);
  if (r - v === 0.5 && r % 2 !== 0) r -= 1;
  return Math.min(qmax, Math.max(qmin, r + z));
}

/** Per-row min/max of an R×C matrix, or of its groups of G columns (the last one may be short). */
function ranges(w: Float32Array, R: number, C: number, G = C): [Float32Array, Float32Array] {
  const g = Math.ceil(C / G);
  const lo = new Float32Array(R * g), hi = new Float32Array(R * g);
  for (let r = 0; r < R; r++) for (let j = 0; j < g; j++) {
    let a = Infinity, b = -Infinity;
    for (let c = j * G; c < Math.min(C, (j + 1) * G); c++) { const v = w[r * C + c]!; a = Math.min(a, v); b = Math.max(b, v); }
    lo[r * g + j] = a; hi[r * g + j] = b;
  }
  return [lo, hi];
}

/** Group parameters for a ragged K: qparamsFromRange on one range per group, as blocked QParams. */
function groupParams(w: Float32Array, N: number, K: number, G: number, qtype: 'int4' | 'uint4', symmetric: boolean): QParams {
  const [lo, hi] = ranges(w, N, K, G);
  const p = qparamsFromRange(lo, hi, { qtype, symmetric, axis: 0 });
  return { qtype, scale: p.scale, zeroPoint: p.zeroPoint, axis: 1, blockSize: G };
}

/** The int8 codes (minus the packed zero point z_P) read back through the GEMM with one-hot activations. */
function codesMinusZp(W: PackedInt8Matrix): Int32Array {
  const { N, K } = W;
  const I = new Int8Array(K * K);
  for (let k = 0; k < K; k++) I[k * K + k] = 1;
  const acc = W.gemm(I, K); // acc[k, n] = (W[n,k] − z_P)·1
  const out = new Int32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) out[n * K + k] = acc[k * N + n]!;
  return out;
}

describe('QuantizedLinear int4 (W4A8 on PackedInt4Matrix)', () => {
  it.each([
    [37, 100, 32, true], [64, 256, 64, false], [5, 33, 128, true], [9, 300, 256, false], [1, 1, 32, true],
  ])('N=%i K=%i group %i symmetric=%s: forward / forwardBatch equal PackedInt4Matrix gemv / gemm + bias bit for bit', (N, K, G, symmetric) => {
    const rng = new Rng(N * 31 + K + G);
    const w = rng.gaussianArray(N * K, 0.05), bias = rng.gaussianArray(N, 0.1);
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', groupSize: G, symmetric, bias });
    using ref = PackedInt4Matrix.quantize(w, N, K, { groupSize: G, symmetric });
    expect(lin.weightType).toBe('int4');
    expect(lin.activations).toBe('dynamic');
    expect(lin.weights).toBeInstanceOf(PackedInt4Matrix);
    expect(lin.weights.groupSize).toBe(G);
    expect(lin.weights.signed).toBe(symmetric);
    // the same weights as PackedInt4Matrix.quantize
    const a = lin.weights.toInt4Values(), b = ref.toInt4Values();
    expect(Array.from(a.q)).toEqual(Array.from(b.q));
    expect(bits(a.scales)).toEqual(bits(b.scales));
    expect(bits(lin.weightScales)).toEqual(bits(b.scales));
    const addBias = (y: Float32Array, M: number): Float32Array => {
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) y[m * N + n] += bias[n]!;
      return y;
    };
    const x = rng.gaussianArray(K, 2);
    expect(bits(lin.forward(x))).toEqual(bits(addBias(ref.gemv(x, undefined, { activations: 'int8' }), 1)));
    for (const M of [2, 5]) {
      const X = rng.gaussianArray(M * K, 1.5);
      const Y = lin.forwardBatch(X, M);
      expect(bits(Y)).toEqual(bits(addBias(ref.gemm(X, M, undefined, { activations: 'int8' }), M)));
      const out = new Float32Array(M * N);
      expect(lin.forwardBatch(X, M, out)).toBe(out);
      expect(bits(out)).toEqual(bits(Y));
    }
  });

  it('without a bias the output is the kernel result unchanged (no + 0 pass)', () => {
    const rng = new Rng(5);
    const N = 12, K = 70;
    const w = rng.gaussianArray(N * K);
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4' });
    using ref = PackedInt4Matrix.quantize(w, N, K, { groupSize: 32, symmetric: true });
    expect(lin.hasBias).toBe(false);
    expect(lin.weights.groupSize).toBe(32); // the default group
    const x = rng.gaussianArray(K);
    expect(bits(lin.forward(x))).toEqual(bits(ref.gemv(x)));
  });

  it.each([[256, 1024], [512, 4096], [64, 100]])('N=%i K=%i, group 32: accuracy vs float32 is bounded by the int4 weights, not the int8 activations', (N, K) => {
    // Measured (seed N + K): vs the float layer 20.3–20.4 dB (int4) / 21.9–22.0 dB (uint4) — the
    // weight SQNR of 4-bit Gaussian weights (≈ 20–22 dB) is the ceiling, so the brief's 30 dB vs
    // float is out of reach for any 4-bit grid; vs the product of the dequantized weights
    // (the int8 activations' own error, the issue's ≥ 35 dB) 45.3–46.4 dB.
    for (const symmetric of [true, false]) {
      const rng = new Rng(N + K);
      const w = rng.gaussianArray(N * K, 0.05), x = rng.gaussianArray(K, 1);
      using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', groupSize: 32, symmetric });
      const y = lin.forward(x);
      const { q, scales, zeroPoints } = lin.weights.toInt4Values();
      const g = Math.ceil(K / 32);
      const wd = new Float32Array(N * K);
      for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
        const j = n * g + Math.floor(k / 32);
        wd[n * K + k] = scales[j]! * (q[n * K + k]! - (zeroPoints ? zeroPoints[j]! : 0));
      }
      const vsFloat = sqnr(refGemvF32(w, N, K, x), y);
      const vsDeq = sqnr(refGemvF32(wd, N, K, x), y);
      const weightSqnr = sqnr(w, wd);
      expect(vsDeq).toBeGreaterThanOrEqual(43);
      expect(vsFloat).toBeGreaterThanOrEqual(symmetric ? 19.5 : 21);
      expect(Math.abs(vsFloat - weightSqnr)).toBeLessThan(2.5);
    }
  });

  it('byteLength is the packed matrix + a float32 bias, exactly what wasm memory grows by; dispose returns it all', () => {
    const rng = new Rng(6);
    const N = 300, K = 1000;
    releaseScratch();
    const before = memoryStats();
    const lin = QuantizedLinear.fromFloat32(rng.gaussianArray(N * K), N, K, { weightType: 'int4', groupSize: 64, bias: rng.gaussianArray(N) });
    expect(memoryStats().bytesInUse - before.bytesInUse).toBe(lin.byteLength);
    expect(lin.byteLength).toBe(lin.weights.byteLength + 4 * N);
    // 300 rows (75 panels) × 16 groups × (4 rows · 32 B nibbles + 16 B scales)
    expect(lin.weights.byteLength).toBe(75 * 16 * (4 * 32 + 16));
    lin.dispose();
    expect(lin.disposed).toBe(true);
    expect(lin.weights.disposed).toBe(true);
    expect(memoryStats().bytesInUse).toBe(before.bytesInUse);
    expect(() => lin.forward(new Float32Array(K))).toThrow(DisposedError);
    expect(() => lin.weightScales).toThrow(DisposedError);
  });

  it('NaN and ±Infinity activations are rejected by index', () => {
    const rng = new Rng(7);
    using lin = QuantizedLinear.fromFloat32(rng.gaussianArray(4 * 40), 4, 40, { weightType: 'int4' });
    const x = rng.gaussianArray(40); x[17] = NaN;
    expect(() => lin.forward(x)).toThrow(NaNInputError);
    x[17] = -Infinity;
    expect(() => lin.forward(x)).toThrow(/contains -Infinity at index 17/);
  });
});

describe('QuantizedLinear with precomputed weight parameters', () => {
  it('int8 per channel from an observer: the packed codes are quantize()’s, forward = eq. 10 + 15 on them', () => {
    const rng = new Rng(21);
    const N = 19, K = 45;
    const w = rng.gaussianArray(N * K, 0.2), bias = rng.gaussianArray(N);
    const obs = new MseObserver({ qtype: 'int8', symmetric: true, narrowRange: true, axis: 0 });
    obs.observe(w, [N, K]);
    const p = obs.qparams();
    obs.dispose();
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', weightParams: p, bias });
    const q = quantize(w, [N, K], p) as Int8Array;
    expect(Array.from(codesMinusZp(lin.weights))).toEqual(Array.from(q));
    expect(bits(lin.weightScales)).toEqual(bits(p.scale as Float32Array));
    // MSE clipping really differs from max-abs here, so the check can tell the two apart
    using dflt = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', bias });
    expect(bits(dflt.weightScales)).not.toEqual(bits(lin.weightScales));
    const x = rng.gaussianArray(K);
    const { scale, q: xq } = refDynamicQuantS8(x);
    const acc = new Int32Array(N);
    for (let n = 0; n < N; n++) { let a = 0; for (let k = 0; k < K; k++) a = (a + q[n * K + k]! * xq[k]!) | 0; acc[n] = a; }
    expect(bits(lin.forward(x))).toEqual(bits(refOutputF32(acc, 1, N, Float32Array.of(scale), p.scale as Float32Array, bias)));
  });

  it.each([
    ['uint8 per-channel zero points (differing rows)', 'uint8', false],
    ['int8 per-channel zero points (differing rows)', 'int8', false],
    ['uint8 one zero point for all rows (folded at pack time)', 'uint8', true],
  ] as const)('%s: codes = quantize(), forward = eq. 10 with z_w[n] then eq. 15, dynamic and static inputs', (_name, qtype, uniform) => {
    const rng = new Rng(qtype === 'uint8' ? 22 : 23);
    const N = 13, K = 77, M = 4;
    const w = rng.gaussianArray(N * K, 0.1);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) w[n * K + k] += 0.03 * (n - 6); // skewed rows
    const bias = rng.gaussianArray(N);
    const [lo, hi] = ranges(w, N, K);
    let p = qparamsFromRange(lo, hi, { qtype, axis: 0 });
    if (uniform) p = { ...p, zeroPoint: 100 };
    const zw = Array.from({ length: N }, (_, n) => (typeof p.zeroPoint === 'number' ? p.zeroPoint : p.zeroPoint![n]!));
    if (!uniform) expect(new Set(zw).size).toBeGreaterThan(3);
    const q = quantize(w, [N, K], p);
    const ws = p.scale as Float32Array;
    const X = rng.gaussianArray(M * K, 1.5);
    const ref = (xq: ArrayLike<number>, zx: number, xs: Float32Array): Float32Array => {
      const acc = new Int32Array(M * N);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
        let a = 0;
        for (let k = 0; k < K; k++) a = (a + Math.imul(q[n * K + k]! - zw[n]!, xq[m * K + k]! - zx)) | 0;
        acc[m * N + n] = a;
      }
      return refOutputF32(acc, M, N, xs, ws, bias);
    };
    {
      using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', weightParams: p, bias });
      const zP = uniform ? 100 : qtype === 'uint8' ? 128 : 0;
      expect(lin.weights.zeroPoint).toBe(zP);
      expect(lin.weights.weightType).toBe(qtype);
      expect(lin.byteLength).toBe(lin.weights.byteLength + (uniform ? 8 : 12) * N);
      expect(Array.from(codesMinusZp(lin.weights))).toEqual(Array.from(q, (v) => v - zP));
      const xs = new Float32Array(M), xq = new Int8Array(M * K);
      for (let m = 0; m < M; m++) { const d = refDynamicQuantS8(X.subarray(m * K, (m + 1) * K)); xs[m] = d.scale; xq.set(d.q, m * K); }
      expect(bits(lin.forwardBatch(X, M))).toEqual(bits(ref(xq, 0, xs)));
    }
    {
      const act: QParams = { qtype: 'uint8', scale: Math.fround(4 / 255), zeroPoint: 131 };
      using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', weightParams: p, inputParams: act, bias });
      const xq = quantize(X, [M, K], act);
      expect(bits(lin.forwardBatch(X, M))).toEqual(bits(ref(xq, 131, new Float32Array(M).fill(act.scale as number))));
    }
  });

  it('a per-tensor int8 weight scale is used for every row', () => {
    const rng = new Rng(24);
    const N = 6, K = 20;
    const w = rng.gaussianArray(N * K);
    const p: QParams = { qtype: 'int8', scale: 0.02 };
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', weightParams: p });
    expect(Array.from(lin.weightScales)).toEqual(new Array(N).fill(Math.fround(0.02)));
    expect(Array.from(codesMinusZp(lin.weights))).toEqual(Array.from(quantize(w, [N, K], p)));
  });

  it.each([
    ['int4 symmetric, K a multiple of the group', 'int4', true, 128, 32],
    ['int4 symmetric, ragged last group', 'int4', true, 100, 32],
    ['uint4 with zero points, ragged', 'uint4', false, 200, 64],
    ['int4 with zero points (stored as uint4), ragged', 'int4', false, 45, 32],
  ] as const)('%s: the packed codes are eq. 2 with each group’s parameters; forward equals PackedInt4Matrix.from on them', (_name, qtype, symmetric, K, G) => {
    const rng = new Rng(K + G);
    const N = 11;
    const w = rng.gaussianArray(N * K, 0.1);
    for (let i = 0; i < w.length; i += 3) w[i] = w[i]! + 0.05; // skew so zero points are not all central
    const p = groupParams(w, N, K, G, qtype, symmetric);
    const g = Math.ceil(K / G);
    const s = p.scale as Float32Array;
    const z = (j: number): number => (typeof p.zeroPoint === 'number' ? p.zeroPoint : p.zeroPoint === undefined ? 0 : p.zeroPoint[j]!);
    const { qmin, qmax } = qtype === 'int4' ? { qmin: -8, qmax: 7 } : { qmin: 0, qmax: 15 };
    const want = new Int32Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
      const j = n * g + Math.floor(k / G);
      want[n * K + k] = q2(w[n * K + k]!, s[j]!, z(j), qmin, qmax);
    }
    if (K % G === 0) expect(Array.from(quantize(w, [N, K], p))).toEqual(Array.from(want)); // quantize() agrees where it applies
    const bias = rng.gaussianArray(N);
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', weightParams: p, bias });
    expect(lin.weights.groupSize).toBe(G);
    const v = lin.weights.toInt4Values();
    const stored = !symmetric && qtype === 'int4';
    expect(lin.weights.signed).toBe(symmetric);
    expect(Array.from(v.q)).toEqual(Array.from(want, (c) => c + (stored ? 8 : 0)));
    expect(bits(v.scales)).toEqual(bits(s));
    if (!symmetric) {
      expect(Array.from(v.zeroPoints!)).toEqual(Array.from({ length: N * g }, (_, j) => z(j) + (stored ? 8 : 0)));
      expect(new Set(Array.from(v.zeroPoints!)).size).toBeGreaterThan(1);
    }
    using ref = PackedInt4Matrix.from(v.q, N, K, { groupSize: G, scales: s, zeroPoints: v.zeroPoints, signed: symmetric });
    const X = rng.gaussianArray(3 * K);
    const Y = ref.gemm(X, 3);
    for (let m = 0; m < 3; m++) for (let n = 0; n < N; n++) Y[m * N + n] += bias[n]!;
    expect(bits(lin.forwardBatch(X, 3))).toEqual(bits(Y));
  });

  it('observer int4 parameters (blockSize 32) give the same layer as the demo’s manual PackedInt4Matrix.from', () => {
    const rng = new Rng(25);
    const N = 16, K = 96;
    const w = rng.gaussianArray(N * K, 0.1);
    const obs = new MinMaxObserver({ qtype: 'int4', symmetric: true, axis: 1, blockSize: 32 });
    obs.observe(w, [N, K]);
    const p = obs.qparams();
    obs.dispose();
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', weightParams: p, groupSize: 32 });
    using ref = PackedInt4Matrix.from(quantize(w, [N, K], p) as Int8Array, N, K, { groupSize: 32, scales: p.scale as Float32Array, signed: true });
    const x = rng.gaussianArray(K);
    expect(bits(lin.forward(x))).toEqual(bits(ref.gemv(x)));
  });
});

describe('QuantizedLinear with static input parameters', () => {
  it.each([
    ['uint8', 'minmax'], ['uint8', 'mse'], ['int8', 'minmax'],
  ] as const)('%s activations (%s calibration): bit-identical to quantize → PackedInt8Matrix.gemm (xZeroPoint) → outputFloat32', (actType, method) => {
    const rng = new Rng(actType === 'int8' ? 31 : method === 'mse' ? 32 : 33);
    const N = 33, K = 150, M = 6;
    const w = rng.gaussianArray(N * K, 0.1), bias = rng.gaussianArray(N);
    const Obs = (o: ConstructorParameters<typeof MinMaxObserver>[0]) => (method === 'mse' ? new MseObserver(o) : new MinMaxObserver(o));
    const wo = Obs({ qtype: 'int8', symmetric: true, narrowRange: true, axis: 0 });
    wo.observe(w, [N, K]);
    const pW = wo.qparams();
    wo.dispose();
    // calibrate on ReLU-like data, then run on data that also falls outside the range (saturation)
    const calib = rng.gaussianArray(20 * K).map(Math.abs);
    const ao = Obs({ qtype: actType });
    ao.observe(calib, [20, K]);
    const act = ao.qparams();
    ao.dispose();
    const X = rng.gaussianArray(M * K, 1.3);
    X[5] = 1e6; X[6] = -1e6; X[7] = Infinity;
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', weightParams: pW, inputParams: act, bias });
    expect(lin.activations).toBe('static');
    expect(lin.inputParams).toEqual({ qtype: actType, scale: Math.fround(act.scale as number), zeroPoint: act.zeroPoint ?? 0 });
    // the demo's former manual pipeline
    const qW = quantize(w, [N, K], pW) as Int8Array;
    const sx = act.scale as number, zx = (act.zeroPoint ?? 0) as number;
    using packed = PackedInt8Matrix.from(qW, N, K, { xZeroPoint: zx });
    const manual = (Xr: Float32Array, m: number): Float32Array =>
      outputFloat32(packed.gemm(quantize(Xr, [m, K], act) as Int8Array | Uint8Array, m), m, N, sx, pW.scale as Float32Array, bias);
    expect(bits(lin.forwardBatch(X, M))).toEqual(bits(manual(X, M)));
    const x = X.subarray(K, 2 * K);
    expect(bits(lin.forward(x))).toEqual(bits(manual(x, 1)));
    // and it is not the dynamic layer
    using dyn = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', weightParams: pW, bias });
    expect(bits(dyn.forward(x))).not.toEqual(bits(lin.forward(x)));
  });

  it('static inputs work with the default max-abs weights too; NaN is rejected, ±Inf saturates', () => {
    const rng = new Rng(34);
    const N = 8, K = 24;
    const w = rng.gaussianArray(N * K);
    const act: QParams = { qtype: 'int8', scale: 0.05, zeroPoint: -3 };
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', inputParams: act });
    using dflt = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8' });
    expect(lin.weights.xZeroPoint).toBe(-3);
    const ws = dflt.weightScales;
    const x = rng.gaussianArray(K); x[2] = Infinity; x[3] = -Infinity;
    const qW = codesMinusZp(dflt.weights); // (lin.weights has z_x = −3 folded in)
    const xq = quantize(x, [K], act);
    const acc = new Int32Array(N);
    for (let n = 0; n < N; n++) { let a = 0; for (let k = 0; k < K; k++) a += qW[n * K + k]! * (xq[k]! + 3); acc[n] = a; }
    expect(xq[2]).toBe(127);
    expect(xq[3]).toBe(-128);
    expect(bits(lin.forward(x))).toEqual(bits(refOutputF32(acc, 1, N, Float32Array.of(Math.fround(0.05)), ws)));
    x[9] = NaN;
    expect(() => lin.forward(x)).toThrow(NaNInputError);
    expect(() => lin.forward(x)).toThrow(/x: contains NaN \(first at index 9\)/);
  });
});

describe('QuantizedLinear argument errors name the argument and the fix', () => {
  const rng = new Rng(41);
  const N = 4, K = 40;
  const w = rng.gaussianArray(N * K);
  const w8: QParams = { qtype: 'int8', scale: new Float32Array(N).fill(0.01), axis: 0 };
  const w4: QParams = { qtype: 'int4', scale: new Float32Array(N * 2).fill(0.1), axis: 1, blockSize: 32 };
  const act: QParams = { qtype: 'uint8', scale: 0.01, zeroPoint: 10 };
  const make = (o: object) => () => QuantizedLinear.fromFloat32(w, N, K, o as { weightType: 'int8' });
  const cases: Array<[string, object, RegExp]> = [
    ['unknown weightType', { weightType: 'int2' }, /^weightType: must be 'int8' or 'int4', got int2/],
    ['groupSize on int8', { weightType: 'int8', groupSize: 32 }, /^groupSize: applies to weightType 'int4' only/],
    ['symmetric on int8', { weightType: 'int8', symmetric: false }, /^symmetric: applies to weightType 'int4' only.*pass weightParams/],
    ['bad int4 groupSize', { weightType: 'int4', groupSize: 48 }, /^groupSize: must be a power of two from 32 to 256/],
    ['int4 symmetric not boolean', { weightType: 'int4', symmetric: 'yes' }, /^symmetric: must be true \(int4\) or false/],
    // int8 weightParams
    ['weightParams not an object', { weightType: 'int8', weightParams: 3 }, /^weightParams: must be a QParams object/],
    ['int4 params on int8', { weightType: 'int8', weightParams: w4 }, /^weightParams\.qtype: weightType 'int8' takes int8 or uint8.*use weightType 'int4'/],
    ['int8 axis 1', { weightType: 'int8', weightParams: { ...w8, scale: new Float32Array(K).fill(0.01), axis: 1 } }, /^weightParams\.axis: .*axis must be 0.*got 1/],
    ['int8 axis defaulted to 1 (N = K)', { weightType: 'int8', weightParams: { qtype: 'int8', scale: new Float32Array(K).fill(0.01) } }, /^weightParams\.axis: .*axis must be 0.*got 1 \(QParams default, as ONNX\)/],
    ['int8 wrong scale count', { weightType: 'int8', weightParams: { ...w8, scale: new Float32Array(N + 1).fill(0.01) } }, /^weightParams\.scale: per-axis scales need shape\[0\] = 4 values, got 5/],
    ['int8 blocked', { weightType: 'int8', weightParams: { ...w8, scale: new Float32Array(N * 2).fill(0.01), axis: 1, blockSize: 20 } }, /^weightParams\.blockSize: int8 weights are quantized per output channel/],
    ['int8 scale ≤ 0', { weightType: 'int8', weightParams: { ...w8, scale: Float32Array.of(0.01, 0, 0.01, 0.01) } }, /^weightParams\.scale\[1\]: must be a finite float32 > 0/],
    ['int8 negative scale', { weightType: 'int8', weightParams: { ...w8, scale: Float32Array.of(0.01, 0.01, -1, 0.01) } }, /^weightParams\.scale\[2\]: must be a finite float32 > 0 \(got -1; a scale must be > 0\)/],
    ['int8 zero point out of range', { weightType: 'int8', weightParams: { ...w8, zeroPoint: [0, 0, 200, 0] } }, /^weightParams\.zeroPoint\[2\]: must be an integer in \[-128, 127\] for int8, got 200/],
    ['uint8 zero point out of range', { weightType: 'int8', weightParams: { ...w8, qtype: 'uint8', zeroPoint: -1 } }, /^weightParams\.zeroPoint: must be an integer in \[0, 255\] for uint8, got -1/],
    ['zero point count', { weightType: 'int8', weightParams: { ...w8, zeroPoint: [0, 0] } }, /^weightParams\.zeroPoint: needs one zero point per scale \(4\), got 2/],
    // int4 weightParams
    ['int8 params on int4', { weightType: 'int4', weightParams: w8 }, /^weightParams\.qtype: weightType 'int4' takes int4 or uint4.*use weightType 'int8'/],
    ['int4 without blockSize', { weightType: 'int4', weightParams: { ...w4, blockSize: undefined } }, /^weightParams\.blockSize: .*one of 32, 64, 128, 256, got undefined/],
    ['int4 blockSize 20', { weightType: 'int4', weightParams: { ...w4, blockSize: 20 } }, /^weightParams\.blockSize: .*got 20/],
    ['int4 axis 0', { weightType: 'int4', weightParams: { ...w4, axis: 0 } }, /^weightParams\.axis: int4 groups run along K: axis must be 1/],
    ['groupSize ≠ blockSize', { weightType: 'int4', groupSize: 64, weightParams: w4 }, /^groupSize: is 64 but weightParams\.blockSize is 32/],
    ['symmetric with weightParams', { weightType: 'int4', symmetric: true, weightParams: w4 }, /^symmetric: applies to the built-in range setting only/],
    ['int4 scale count', { weightType: 'int4', weightParams: { ...w4, scale: new Float32Array(N * 3).fill(0.1) } }, /^weightParams\.scale: has 12 elements but N·ceil\(K\/blockSize\) = 4·2 needs 8/],
    ['int4 scale a number', { weightType: 'int4', weightParams: { ...w4, scale: 0.1 } }, /^weightParams\.scale: must be a Float32Array of N·ceil\(K\/blockSize\) = 4·2 = 8/],
    ['int4 scale NaN', { weightType: 'int4', weightParams: { ...w4, scale: new Float32Array(8).fill(NaN) } }, /^weightParams\.scale\[0\]: must be a finite float32 > 0 \(got NaN\)/],
    ['uint4 zero point 16', { weightType: 'int4', weightParams: { ...w4, qtype: 'uint4', zeroPoint: 16 } }, /^weightParams\.zeroPoint: must be an integer in \[0, 15\] for uint4, got 16/],
    ['int4 zero point 8', { weightType: 'int4', weightParams: { ...w4, zeroPoint: 8 } }, /^weightParams\.zeroPoint: must be an integer in \[-8, 7\] for int4, got 8/],
    // inputParams
    ['inputParams on int4', { weightType: 'int4', inputParams: act }, /^inputParams: int4 layers run W4A8: the kernel quantizes activations dynamically per group/],
    ['inputParams int4 qtype', { weightType: 'int8', inputParams: { ...act, qtype: 'int4' } }, /^inputParams\.qtype: static activations are int8 or uint8/],
    ['inputParams per channel', { weightType: 'int8', inputParams: { ...act, scale: new Float32Array(K).fill(0.1), axis: 0, zeroPoint: 0 } }, /^inputParams\.scale: static activation parameters are per tensor/],
    ['inputParams scale 0', { weightType: 'int8', inputParams: { ...act, scale: 0 } }, /^inputParams\.scale: must be a finite float32 > 0/],
    ['inputParams zero point 256', { weightType: 'int8', inputParams: { ...act, zeroPoint: 256 } }, /^inputParams\.zeroPoint: must be an integer in \[0, 255\] for uint8, got 256/],
    ['inputParams int8 zero point 128', { weightType: 'int8', inputParams: { ...act, qtype: 'int8', zeroPoint: 128 } }, /^inputParams\.zeroPoint: must be an integer in \[-128, 127\] for int8, got 128/],
    ['inputParams not an object', { weightType: 'int8', inputParams: 'uint8' }, /^inputParams: must be a QParams object/],
    // bias
    ['bias length', { weightType: 'int4', bias: new Float32Array(N + 1) }, /^bias: has 5 elements but N needs 4/],
    ['bias type', { weightType: 'int4', bias: [1, 2, 3, 4] }, /^bias: must be a Float32Array of length N = 4/],
    ['bias NaN', { weightType: 'int4', bias: Float32Array.of(0, NaN, 0, 0) }, /^bias: must be finite, got NaN at index 1/],
  ];
  it.each(cases)('%s', (_name, options, message) => {
    const before = memoryStats();
    const f = make(options);
    expect(f).toThrow(InvalidArgumentError);
    expect(f).toThrow(message);
    expect(memoryStats().bytesInUse).toBe(before.bytesInUse); // nothing leaked on the error path
  });

  it('non-finite weights are rejected by index for every build path', () => {
    const bad = w.slice(); bad[33] = NaN;
    for (const o of [{ weightType: 'int8' }, { weightType: 'int8', weightParams: w8 }, { weightType: 'int4' }, { weightType: 'int4', weightParams: w4 }]) {
      expect(() => QuantizedLinear.fromFloat32(bad, N, K, o as { weightType: 'int8' })).toThrow(NaNInputError);
      expect(() => QuantizedLinear.fromFloat32(bad, N, K, o as { weightType: 'int8' })).toThrow(/^w: contains NaN \(first at index 33\)/);
    }
    bad[33] = Infinity;
    for (const o of [{ weightType: 'int8', weightParams: w8 }, { weightType: 'int4', weightParams: w4 }]) {
      expect(() => QuantizedLinear.fromFloat32(bad, N, K, o as { weightType: 'int8' })).toThrow(/^w: contains Infinity at index 33; weights must be finite/);
    }
  });

  it('forward checks x, M and out for int4 layers as for int8', () => {
    using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4' });
    expect(() => lin.forward(new Float32Array(K - 1))).toThrow(/^x: has 39 elements but K = 40 needs 40/);
    expect(() => lin.forward(new Float64Array(K) as unknown as Float32Array)).toThrow(/^x: must be a Float32Array/);
    expect(() => lin.forward(new Float32Array(K), new Float32Array(3))).toThrow(/^out: has 3 elements, needs 4/);
    expect(() => lin.forwardBatch(new Float32Array(2 * K), 0)).toThrow(/^M: must be an integer in \[1/);
    expect(() => lin.forwardBatch(new Float32Array(2 * K), 3)).toThrow(/^x: has 80 elements but M·K = 3·40 needs 120/);
  });
});
