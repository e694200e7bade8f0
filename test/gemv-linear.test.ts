/**
 * QuantizedLinear accuracy (named metrics vs float32), exactness of its stages against the scalar
 * twins (dynamic activation quantizer, float output stage), and the requantize stage.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, outputFloat32, PackedInt8Matrix, QuantizedLinear, requantize, NaNInputError, InvalidArgumentError } from '../src/index.js';
import { rt } from '../src/runtime/wasm.js';
import { refDynamicQuantS8, refGemvF32, refGemvInt8, refOutputF32 } from '../src/reference/gemv.js';
import { cosineSimilarity, sqnr } from '../src/calibrate/metrics.js';
import { Rng } from '../src/data/random.js';

beforeAll(async () => { await init(); });

describe('QuantizedLinear (int8 weights per channel, dynamic int8 activations)', () => {
  it.each([[64, 48], [257, 1000], [1024, 1024]])('N=%i K=%i: SQNR ≥ 35 dB and cosine ≥ 0.9995 vs float32 (measured 38–45 dB), with bias', (N, K) => {
    const rng = new Rng(N * 7 + K);
    const w = rng.gaussianArray(N * K, 0.05);
    const bias = rng.gaussianArray(N, 0.1);
    const x = rng.gaussianArray(K, 1);
    using lin = QuantizedLinear.fromFloat32(w, N, K, { bias, weightType: 'int8' });
    const y = lin.forward(x);
    const ref = refGemvF32(w, N, K, x);
    for (let n = 0; n < N; n++) ref[n] = ref[n]! + bias[n]!;
    const s = sqnr(ref, y), c = cosineSimilarity(ref, y);
    expect(s).toBeGreaterThanOrEqual(35);
    expect(c).toBeGreaterThanOrEqual(0.9995);
  });

  it('is bit-exact with the scalar pipeline (quantize x → int GEMV → float stage)', () => {
    const rng = new Rng(11);
    const N = 37, K = 129;
    const w = rng.gaussianArray(N * K), x = rng.gaussianArray(K, 3);
    const bias = rng.gaussianArray(N);
    using lin = QuantizedLinear.fromFloat32(w, N, K, { bias, weightType: 'int8' });
    const ws = lin.weightScales;
    // weights as the layer quantized them (per row absmax/127, round half even)
    const wq = new Int8Array(N * K);
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
      const v = Math.fround(w[n * K + k]! / ws[n]!);
      let r = Math.round(v); if (r - v === 0.5 && r % 2 !== 0) r -= 1;
      wq[n * K + k] = Math.max(-127, Math.min(127, r));
    }
    const { scale, q } = refDynamicQuantS8(x);
    const acc = refGemvInt8(wq, N, K, q);
    const want = refOutputF32(acc, 1, N, Float32Array.of(scale), ws, bias);
    expect(Array.from(lin.forward(x))).toEqual(Array.from(want));
    // batched rows each use their own activation scale and match forward() row by row
    const X = new Float32Array(3 * K); X.set(x, 0); X.set(rng.gaussianArray(K, 0.01), K); X.set(rng.gaussianArray(K, 100), 2 * K);
    const Y = lin.forwardBatch(X, 3);
    for (let m = 0; m < 3; m++) expect(Array.from(Y.subarray(m * N, (m + 1) * N))).toEqual(Array.from(lin.forward(X.subarray(m * K, (m + 1) * K))));
  });

  it('an all-zero input gives exactly the bias; NaN and Infinity inputs are rejected by name', () => {
    const rng = new Rng(12);
    const N = 5, K = 20;
    const bias = rng.gaussianArray(N);
    using lin = QuantizedLinear.fromFloat32(rng.gaussianArray(N * K), N, K, { bias, weightType: 'int8' });
    expect(Array.from(lin.forward(new Float32Array(K)))).toEqual(Array.from(bias));
    const bad = new Float32Array(K); bad[13] = NaN;
    expect(() => lin.forward(bad)).toThrow(NaNInputError);
    bad[13] = Infinity;
    expect(() => lin.forward(bad)).toThrow(/x: contains Infinity at index 13/);
    const wbad = rng.gaussianArray(N * K); wbad[7] = NaN;
    expect(() => QuantizedLinear.fromFloat32(wbad, N, K, { weightType: 'int8' })).toThrow(NaNInputError);
    expect(() => QuantizedLinear.fromFloat32(rng.gaussianArray(N * K), N, K, { weightType: 'int2' as 'int8' })).toThrow(InvalidArgumentError);
  });
});

describe('dynamic activation quantizer kernel (eq. 16) equals its twin', () => {
  it('random, tails, ties and an all-zero row', () => {
    const rng = new Rng(13);
    const mem = rt().mem;
    for (const K of [1, 3, 15, 16, 17, 100, 1027]) {
      const x = rng.gaussianArray(K, 2);
      if (K > 4) { x[1] = 127; x[2] = -0.5 * (127 / 127); x[3] = 63.5; } // absmax 127 → scale 1: ties at .5
      const xo = mem.alloc(4 * K), qo = mem.alloc(K);
      mem.f32(xo, K).set(x);
      const s = rt().kernels.f32_qs8_dynamic(xo, qo, K);
      const ref = refDynamicQuantS8(x);
      expect(s).toBe(ref.scale);
      expect(Array.from(mem.i8(qo, K))).toEqual(Array.from(ref.q));
      mem.f32(xo, K).fill(0);
      mem.i8(qo, K).fill(5);
      expect(rt().kernels.f32_qs8_dynamic(xo, qo, K)).toBe(0);
      expect(mem.i8(qo, K).every((v) => v === 0)).toBe(true);
      mem.release(xo); mem.release(qo);
    }
  });
});

describe('float32 output stage (eq. 15)', () => {
  it('equals the Math.fround twin bit for bit, with and without bias, any N tail', () => {
    const rng = new Rng(14);
    for (const [M, N] of [[1, 1], [2, 3], [3, 17], [5, 64]] as const) {
      const acc = Int32Array.from({ length: M * N }, () => rng.int(-(2 ** 31), 2 ** 31 - 1));
      const xs = Float32Array.from({ length: M }, () => rng.next() * 0.01 + 1e-6);
      const ws = Float32Array.from({ length: N }, () => rng.next() * 0.01 + 1e-6);
      const bias = rng.gaussianArray(N);
      expect(Array.from(outputFloat32(acc, M, N, xs, ws, bias))).toEqual(Array.from(refOutputF32(acc, M, N, xs, ws, bias)));
      expect(Array.from(outputFloat32(acc, M, N, xs, ws))).toEqual(Array.from(refOutputF32(acc, M, N, xs, ws)));
    }
    expect(() => outputFloat32(new Int32Array(4), 2, 2, 1, Float32Array.of(1, 0))).toThrow(/wScale/);
  });
});

describe('requantize output stage (eq. 17)', () => {
  it('rounds half to even and saturates', () => {
    // multiplier 0.5: 1 → 0.5 → 0, 3 → 1.5 → 2, −1 → −0.5 → −0, 5 → 2.5 → 2
    const acc = Int32Array.of(1, 3, -1, 5, 1000, -1000);
    expect(Array.from(requantize(acc, { aScale: 0.5, bScale: 1, yScale: 1, yZeroPoint: 0, outType: 'int8' }))).toEqual([0, 2, 0, 2, 127, -128]);
    expect(Array.from(requantize(acc, { aScale: 0.5, bScale: 1, yScale: 1, yZeroPoint: 10, outType: 'uint8' }))).toEqual([10, 12, 10, 12, 255, 0]);
    expect(() => requantize(acc, { aScale: 1, bScale: 1, yScale: 0, outType: 'int8' })).toThrow(/yScale/);
    expect(() => requantize(acc, { aScale: 1, bScale: 1, yScale: 1, yZeroPoint: 200, outType: 'int8' })).toThrow(/yZeroPoint/);
  });

  it('int32 accumulators from a packed matrix feed it unchanged', () => {
    const rng = new Rng(15);
    using W = PackedInt8Matrix.from(rng.int8Array(12 * 9), 12, 9);
    const acc = W.gemv(rng.int8Array(9));
    const y = requantize(acc, { aScale: 1, bScale: 1, yScale: 1, outType: 'int8' });
    for (let i = 0; i < 12; i++) expect(y[i]).toBe(Math.max(-128, Math.min(127, acc[i]!)));
  });
});
