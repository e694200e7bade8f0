/**
 * Data-free int4 weights: the Q4_0-style signed grid (eq. 60), the least-squares refit 'mse'
 * (eq. 62–66) and HQQ (eq. 67–68) — what each guarantees, the weight-SQNR targets on the
 * embedded heavy-tailed matrix and on Gaussian / Laplace data, and that every option is checked.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, fakeQuantize, sqnr, PackedInt4Matrix, QuantizedLinear, InvalidArgumentError, NaNInputError,
} from '../src/index.js';
import {
  DEFAULT_INT4_METHOD, codeInt4Value, dequantizeInt4Runs, fitInt4Group, groupSqErr, q40Scale, quantizeInt4Runs,
} from '../src/calibrate/int4-groups.js';
import { refInt4GemvW4A32, refInt4GroupSums, type RefInt4Weights } from '../src/reference/gemv-int4.js';
import { heavyTailedMatrix } from '../src/data/heavy-tailed.js';
import { Rng } from '../src/data/random.js';

beforeAll(async () => { await init(); });

const f = Math.fround;

/** The previous default (absmax/7.5, eq. 7 symmetric) through the element-wise API: the baseline. */
function oldMinmaxSqnr(w: Float32Array, N: number, K: number, G: number): number {
  const groups = K / G;
  const scale = new Float32Array(N * groups);
  for (let j = 0; j < N * groups; j++) {
    let a = 0;
    for (let i = j * G; i < (j + 1) * G; i++) a = Math.max(a, Math.abs(w[i]!));
    scale[j] = a === 0 ? 1 : f(a / 7.5);
  }
  return sqnr(w, fakeQuantize(w, [N, K], { qtype: 'int4', scale, axis: 1, blockSize: G }));
}

const runSqnr = (w: Float32Array, rows: number, cols: number, run: number, signed: boolean, method: 'minmax' | 'mse' | 'hqq') =>
  sqnr(w, dequantizeInt4Runs(quantizeInt4Runs(w, rows, cols, run, signed, method), rows, cols, run));

/** The matrices the targets are measured on (seeded, 256×512). */
function datasets(): Array<[string, Float32Array]> {
  const rng = new Rng(7);
  return [
    ['heavy-tailed', heavyTailedMatrix().data],
    ['gaussian', rng.gaussianArray(256 * 512, 0.02)],
    ['laplace', Float32Array.from({ length: 256 * 512 }, () => 0.02 * rng.laplace())],
  ];
}

describe('the Q4_0-style signed grid (eq. 60)', () => {
  it('maps the value of largest magnitude exactly to −8 with its sign; the rest round to the nearest step', () => {
    const rng = new Rng(1);
    for (const sign of [1, -1]) {
      const x = rng.gaussianArray(32, 0.1);
      x[11] = sign * 0.9; // the largest magnitude
      const s = q40Scale(x, 0, 32);
      expect(s).toBe(f((sign * 0.9) / -8));
      expect(Math.sign(s)).toBe(-sign);
      expect(codeInt4Value(x[11]!, s, 0, true)).toBe(-8);
      expect(f(-8 * s)).toBe(x[11]);
      for (let i = 0; i < 32; i++) {
        const q = codeInt4Value(x[i]!, s, 0, true);
        expect(q).toBeGreaterThanOrEqual(-8);
        expect(q).toBeLessThanOrEqual(7);
        // nothing clips here (|x| ≤ 0.9 and the far side reaches 7·|s| = 0.79 only for x > 0.79)
        if (Math.abs(x[i]!) <= 7 * Math.abs(s)) expect(Math.abs(x[i]! - q * s)).toBeLessThanOrEqual(Math.abs(s) / 2 * (1 + 1e-6));
      }
    }
  });

  it('ties take the first value of largest magnitude; an all-zero group gets scale 1; a subnormal group a finite scale', () => {
    expect(q40Scale(new Float32Array([0.5, -0.5, 0.1]), 0, 3)).toBe(f(0.5 / -8));
    expect(q40Scale(new Float32Array([-0.5, 0.5, 0.1]), 0, 3)).toBe(f(-0.5 / -8));
    expect(q40Scale(new Float32Array(5), 0, 5)).toBe(1);
    const sub = new Float32Array([2 ** -149, 0]);
    const s = q40Scale(sub, 0, 2);
    expect(s).not.toBe(0);
    expect(Number.isFinite(s)).toBe(true);
    for (const m of ['minmax', 'mse', 'hqq'] as const) {
      const g = quantizeInt4Runs(new Float32Array(40), 1, 40, 32, true, m);
      expect(Array.from(g.scales)).toEqual([1, 1]);
      expect(g.q.every((v) => v === 0)).toBe(true);
    }
  });

  it('beats the previous absmax/7.5 grid on every data set (the grid alone, no search)', () => {
    for (const [name, w] of datasets()) {
      const gain = runSqnr(w, 256, 512, 32, true, 'minmax') - oldMinmaxSqnr(w, 256, 512, 32);
      expect(gain, name).toBeGreaterThanOrEqual(0.5); // measured 0.93 / 0.85 / 0.90 dB
    }
  });
});

describe("'mse' and 'hqq' (eq. 62–68)", () => {
  it("'mse' is never worse than 'minmax' on any group, signed or unsigned, any group length", () => {
    const rng = new Rng(3);
    for (const n of [1, 2, 5, 32, 64, 100, 256]) {
      for (let trial = 0; trial < 40; trial++) {
        const x = Float32Array.from({ length: n }, () => (trial % 2 ? rng.laplace() : rng.gaussian()) * 0.03 + (trial % 3 === 0 ? 0.02 : 0));
        for (const signed of [true, false]) {
          const a = fitInt4Group(x, 0, n, signed, 'minmax'), b = fitInt4Group(x, 0, n, signed, 'mse');
          expect(groupSqErr(x, 0, n, b.s, b.z, signed)).toBeLessThanOrEqual(groupSqErr(x, 0, n, a.s, a.z, signed) * (1 + 1e-12));
        }
      }
    }
  });

  it('codes are eq. 2 with the chosen parameters, and the parameters are valid for the packed matrix', () => {
    const rng = new Rng(4);
    const N = 7, K = 100, G = 32; // ragged last group (4 values)
    const w = rng.gaussianArray(N * K, 0.05);
    for (const method of ['minmax', 'mse', 'hqq'] as const) {
      for (const signed of [true, false]) {
        const g = quantizeInt4Runs(w, N, K, G, signed, method);
        const groups = Math.ceil(K / G);
        expect(g.scales.length).toBe(N * groups);
        for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
          const j = n * groups + Math.floor(k / G);
          const s = g.scales[j]!, z = g.zeroPoints ? g.zeroPoints[j]! : 0;
          expect(Number.isFinite(s) && s !== 0).toBe(true);
          if (!signed) { expect(s).toBeGreaterThan(0); expect(z).toBeLessThanOrEqual(15); }
          // eq. 2 by hand: true float32 division, round half to even, saturation
          let t = f(w[n * K + k]! / s) + z;
          t = Math.min(signed ? 7 : 15, Math.max(signed ? -8 : 0, t));
          let r = Math.round(t);
          if (r - t === 0.5 && r % 2 !== 0) r -= 1;
          expect(g.q[n * K + k]).toBe(r + 0);
        }
        using m = PackedInt4Matrix.from(g.q, N, K, { groupSize: G, scales: g.scales, zeroPoints: g.zeroPoints, signed });
        expect(Array.from(m.toInt4Values().scales)).toEqual(Array.from(g.scales));
      }
    }
  });

  it('weight SQNR targets at group 32: mse and hqq ≥ the old min-max + 1.0 dB on heavy-tailed, Gaussian and Laplace data', () => {
    // measured (dB): old min-max / Q4_0 min-max / mse / hqq
    //   heavy-tailed 17.64 / 18.57 / 18.89 / 18.72;  gaussian 20.48 / 21.33 / 21.75 / 21.59;  laplace 18.55 / 19.45 / 19.81 / 19.65
    for (const [name, w] of datasets()) {
      const old = oldMinmaxSqnr(w, 256, 512, 32);
      const minmax = runSqnr(w, 256, 512, 32, true, 'minmax');
      const mseDb = runSqnr(w, 256, 512, 32, true, 'mse');
      const hqqDb = runSqnr(w, 256, 512, 32, true, 'hqq');
      expect(mseDb - old, `${name}: mse − old min-max`).toBeGreaterThanOrEqual(1.0);
      expect(hqqDb - old, `${name}: hqq − old min-max`).toBeGreaterThanOrEqual(1.0);
      expect(mseDb - minmax, `${name}: mse − Q4_0 min-max`).toBeGreaterThanOrEqual(0.25);
      expect(mseDb, `${name}: mse ≥ hqq in SQNR (hqq minimises an ℓp error, not the squared one)`).toBeGreaterThanOrEqual(hqqDb);
      // uint4 with zero points: the refit gains over its min-max too
      expect(runSqnr(w, 256, 512, 32, false, 'mse') - runSqnr(w, 256, 512, 32, false, 'minmax'), `${name} uint4`).toBeGreaterThanOrEqual(0.2);
    }
  });

  it('a symmetric scale-only grid has little left: mse is within 0.1 dB of a 400-point scale scan per group', () => {
    const w = heavyTailedMatrix(32, 512).data;
    let sig = 0, best = 0;
    for (const v of w) sig += v * v;
    for (let o = 0; o < w.length; o += 32) {
      const s0 = q40Scale(w, o, 32);
      let e = Infinity;
      for (let k = 0; k <= 400; k++) e = Math.min(e, groupSqErr(w, o, 32, f(s0 * (1.1 - (k * 0.6) / 400)), 0, true));
      best += e;
    }
    const scan = 10 * Math.log10(sig / best);
    expect(scan - runSqnr(w, 32, 512, 32, true, 'mse')).toBeLessThan(0.1);
  });

  it('per-channel int4 mse ≥ per-tensor + 3 dB on the heavy-tailed matrix (channel scales differ)', () => {
    const w = heavyTailedMatrix().data;
    const perChannel = runSqnr(w, 256, 512, 512, true, 'mse'); // measured 13.24 dB
    const perTensor = runSqnr(w, 1, 256 * 512, 256 * 512, true, 'mse'); // measured 8.96 dB
    expect(perChannel - perTensor).toBeGreaterThanOrEqual(3);
  });
});

describe('the new default', () => {
  it(`is '${DEFAULT_INT4_METHOD}' and beats the previous default (absmax/7.5) on every matrix of the int4 tests`, () => {
    expect(DEFAULT_INT4_METHOD).toBe('mse');
    const rng = new Rng(11);
    const mats: Array<[string, Float32Array, number, number]> = [
      ...datasets().map(([n, w]) => [n, w, 256, 512] as [string, Float32Array, number, number]),
      ['gaussian 384×1024 (int4 W4A8 test)', new Rng(99).gaussianArray(384 * 1024), 384, 1024],
      ['gaussian 64×256 σ 0.05 (layer tests)', rng.gaussianArray(64 * 256, 0.05), 64, 256],
      ['uniform', Float32Array.from({ length: 64 * 256 }, () => rng.next() - 0.5), 64, 256],
      ['one outlier per row', Float32Array.from({ length: 64 * 256 }, (_, i) => (i % 256 === 7 ? 1 : 0.01 * rng.gaussian())), 64, 256],
      ['relu-like (one-sided)', Float32Array.from({ length: 64 * 256 }, () => Math.max(0, rng.gaussian())), 64, 256],
      ['sparse', Float32Array.from({ length: 64 * 256 }, () => (rng.next() < 0.8 ? 0 : rng.laplace())), 64, 256],
    ];
    for (const [name, w, N, K] of mats) {
      using m = PackedInt4Matrix.quantize(w, N, K, { groupSize: 32 });
      const v = m.toInt4Values();
      const deq = Float32Array.from(v.q, (q, i) => f(q * v.scales[Math.floor(i / K) * (K / 32) + Math.floor((i % K) / 32)]!));
      const gain = sqnr(w, deq) - oldMinmaxSqnr(w, N, K, 32);
      expect(gain, name).toBeGreaterThan(0.3);
    }
  });

  it('QuantizedLinear int4 takes the same default and each method; the methods give different weights', () => {
    const rng = new Rng(12);
    const N = 16, K = 96;
    const w = rng.gaussianArray(N * K, 0.1);
    using def = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4' });
    using viaMatrix = PackedInt4Matrix.quantize(w, N, K, { groupSize: 32, method: 'mse' });
    expect(Array.from(def.weights.toInt4Values().q)).toEqual(Array.from(viaMatrix.toInt4Values().q));
    const scales = (['minmax', 'mse', 'hqq'] as const).map((method) => {
      using lin = QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', method });
      using ref = PackedInt4Matrix.quantize(w, N, K, { groupSize: 32, method });
      expect(Array.from(lin.weightScales)).toEqual(Array.from(ref.toInt4Values().scales));
      return Array.from(lin.weightScales);
    });
    expect(scales[0]).not.toEqual(scales[1]);
    expect(scales[1]).not.toEqual(scales[2]);
  });
});

describe('negative scales (the signed grid orientation) through the kernels', () => {
  it('group sums stay exact and W4A32 / W4A8 match the reference with mixed-sign scales', () => {
    const rng = new Rng(21);
    const N = 13, K = 200, G = 64;
    const w = rng.gaussianArray(N * K, 0.05);
    const g = quantizeInt4Runs(w, N, K, G, true, 'mse');
    expect(g.scales.some((s) => s < 0) && g.scales.some((s) => s > 0)).toBe(true);
    const ref: RefInt4Weights = { q: g.q, N, K, groupSize: G, scales: g.scales };
    using m = PackedInt4Matrix.from(g.q, N, K, { groupSize: G, scales: g.scales, signed: true });
    const xq = rng.int8Array(K, -127, 127);
    expect(m.groupSums(xq)).toEqual(refInt4GroupSums(ref, xq));
    const x = rng.gaussianArray(K);
    const exact = refInt4GemvW4A32(ref, x);
    expect(sqnr(exact, m.gemv(x, undefined, { activations: 'float32' }))).toBeGreaterThan(100);
    expect(sqnr(exact, m.gemv(x))).toBeGreaterThan(35);
    const { B, scales } = m.toMatMulNBits();
    using back = PackedInt4Matrix.fromMatMulNBits(B, scales, N, K, G);
    expect(back.gemv(x, undefined, { activations: 'float32' })).toEqual(m.gemv(x, undefined, { activations: 'float32' }));
  });

  it('negative scales are accepted (signed and unsigned, as MatMulNBits may carry them); zero and non-finite ones are not', () => {
    const q8 = new Int8Array(32), u8 = new Uint8Array(32).fill(3);
    expect(() => PackedInt4Matrix.from(q8, 1, 32, { groupSize: 32, scales: new Float32Array([-0.5]), signed: true }).dispose()).not.toThrow();
    using u = PackedInt4Matrix.from(u8, 1, 32, { groupSize: 32, scales: new Float32Array([-0.5]), zeroPoints: new Uint8Array([5]), signed: false });
    expect(u.toInt4Values().zeroPoints).toEqual(new Uint8Array([5]));
    expect(u.gemv(new Float32Array(32).fill(1), undefined, { activations: 'float32' })[0]).toBe(32 * (3 - 5) * -0.5);
    for (const s of [0, NaN, Infinity]) {
      expect(() => PackedInt4Matrix.from(q8, 1, 32, { groupSize: 32, scales: new Float32Array([s]), signed: true })).toThrow(/^scales: must be finite and ≠ 0/);
    }
  });
});

describe('options are checked: nothing is silently ignored', () => {
  const w = new Float32Array(4 * 64).fill(0.1);
  const err = (fn: () => unknown, re: RegExp) => {
    expect(fn).toThrow(InvalidArgumentError);
    expect(fn).toThrow(re);
  };
  it('an unknown method names the option and the allowed values', () => {
    err(() => PackedInt4Matrix.quantize(w, 4, 64, { groupSize: 32, method: 'gptq' as never }), /^method: must be 'minmax', 'mse', 'hqq', got 'gptq'/);
    err(() => PackedInt4Matrix.quantize(w, 4, 64, { groupSize: 32, method: 7 as never }), /^method: must be 'minmax', 'mse', 'hqq', got 7/);
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int4', method: 'awq' as never }), /^method: for weightType 'int4' must be 'minmax', 'mse', 'hqq', 'gptq', got 'awq'/);
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int8', method: 'mse' }), /^method: for weightType 'int8' must be 'minmax', 'gptq', got 'mse'; 'mse' is an int4 method/);
  });
  it('unknown option keys are errors naming them', () => {
    err(() => PackedInt4Matrix.quantize(w, 4, 64, { groupSize: 32, methd: 'mse' } as never), /^options\.methd: is not an option of PackedInt4Matrix\.quantize; its options are groupSize, symmetric, method/);
    err(() => PackedInt4Matrix.from(new Int8Array(64), 1, 64, { groupSize: 32, scales: new Float32Array(2).fill(1), signed: true, zeroPoint: 3 } as never), /^options\.zeroPoint: is not an option of PackedInt4Matrix\.from/);
    using m = PackedInt4Matrix.from(new Int8Array(64), 1, 64, { groupSize: 32, scales: new Float32Array(2).fill(1), signed: true });
    err(() => m.gemv(new Float32Array(64), undefined, { activation: 'float32' } as never), /^options\.activation: is not an option of PackedInt4Matrix\.gemv/);
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int4', groupsize: 64 } as never), /^options\.groupsize: is not an option of QuantizedLinear\.fromFloat32; its options are weightType, bias, groupSize/);
  });
  it('GPTQ-only options without method gptq, and method with weightParams, are errors', () => {
    const X = new Float32Array(64);
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int4', calibration: X }), /^calibration: applies to method 'gptq' only \(got method unset\)/);
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int4', method: 'mse', actOrder: true }), /^actOrder: applies to method 'gptq' only \(got method 'mse'\)/);
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int8', dampening: 0.1 }), /^dampening: applies to method 'gptq' only/);
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int4', method: 'gptq' }), /^calibration: method 'gptq' needs calibration/);
    const p = { qtype: 'int4' as const, scale: new Float32Array(8).fill(0.1), axis: 1, blockSize: 32 };
    err(() => QuantizedLinear.fromFloat32(w, 4, 64, { weightType: 'int4', method: 'hqq', weightParams: p }), /^method: applies to the built-in quantization only/);
  });
  it('non-finite weights are rejected by index under every method', () => {
    const bad = new Float32Array(64).fill(0.1);
    bad[40] = NaN;
    for (const method of ['minmax', 'mse', 'hqq'] as const) {
      expect(() => PackedInt4Matrix.quantize(bad, 1, 64, { groupSize: 32, method })).toThrow(NaNInputError);
    }
    bad[40] = -Infinity;
    expect(() => PackedInt4Matrix.quantize(bad, 1, 64, { groupSize: 32 })).toThrow(/^w: contains -Infinity at index 40/);
  });
});
