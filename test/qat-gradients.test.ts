// QAT helpers: STE backward and LSQ gradients, checked against finite differences of the forward
// (the public fakeQuantize and the scalar Q/DQ twin) away from rounding and clamping boundaries.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, fakeQuantize, fakeQuantizeBackward, lsqGradients, InvalidArgumentError, NaNInputError, type QParams,
} from '../src/index.js';
import { Rng } from '../src/data/random.js';
import { qdqValue } from '../src/reference/calibrate.js';

beforeAll(async () => { await init(); });

const rng = new Rng(77);

/**
 * Data on a known grid: x = s·(k + δ), |δ| ≤ 0.3, with integer levels k + z spread over
 * [qmin − 4, qmax + 4] but never exactly qmin or qmax. Every element is then ≥ 0.2 steps from a
 * rounding boundary and ≥ 0.7 steps from a clamping edge, and its region (inside / below / above)
 * is the same by the continuous rule of eq. 29 and by the forward's rounded clamp: a relative
 * step of 1e-3 in s (|k| ≤ 140), 1e-4·s in x or ±0.05 in z crosses no boundary.
 */
function gridData(n: number, s: number, z: number, qmin: number, qmax: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let level: number;
    do level = rng.int(qmin - 4, qmax + 4); while (level === qmin || level === qmax);
    x[i] = Math.fround(s * (level - z + 0.6 * rng.next() - 0.3));
  }
  return x;
}

const loss = (y: Float32Array, g: Float32Array) => { let t = 0; for (let i = 0; i < y.length; i++) t += y[i]! * g[i]!; return t; };

describe('fakeQuantizeBackward (STE, eq. 29)', () => {
  it('passes gradient inside [s(qmin − z), s(qmax − z)] and blocks it where the forward clamps', () => {
    const p: QParams = { qtype: 'int4', scale: 0.5, zeroPoint: 2 };
    // bounds: s(qmin − z) = 0.5·(−10) = −5, s(qmax − z) = 0.5·5 = 2.5
    const x = Float32Array.from([-6, -5, -4.99, 0, 2.5, 2.51, 100]);
    const g = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
    expect(Array.from(fakeQuantizeBackward(x, g, p))).toEqual([0, 2, 3, 4, 5, 0, 0]);
  });

  it('equals the finite-difference derivative of the forward with rounding replaced by identity', () => {
    for (const [qtype, s, z, qmin, qmax] of [['int8', 0.02, 0, -128, 127], ['uint4', 0.3, 5, 0, 15]] as const) {
      const x = gridData(2000, s, z, qmin, qmax);
      const go = Float32Array.from({ length: x.length }, () => rng.gaussian());
      const gx = fakeQuantizeBackward(x, go, { qtype, scale: s, zeroPoint: z });
      const ste = (v: number) => s * (Math.min(qmax, Math.max(qmin, v / s + z)) - z); // round → identity
      let inside = 0;
      for (let i = 0; i < x.length; i++) {
        const h = 1e-4 * s;
        const fd = (ste(x[i]! + h) - ste(x[i]! - h)) / (2 * h);
        expect(gx[i]! / (go[i]! || 1)).toBeCloseTo(go[i] === 0 ? 0 : fd, 6);
        if (fd !== 0) inside++;
      }
      expect(inside).toBeGreaterThan(0.5 * x.length);
      expect(inside).toBeLessThan(x.length);
    }
  });
});

describe('lsqGradients (LSQ, eq. 30–32)', () => {
  const cases = [['int4', 0.25, 0, -8, 7], ['uint8', 0.01, 120, 0, 255], ['int8', 0.05, -3, -128, 127]] as const;

  for (const [qtype, s, z, qmin, qmax] of cases) {
    it(`${qtype}: ∂L/∂s = finite difference of the true forward − Σ_inside g·x/s (the STE term), ∂L/∂z = FD exactly`, () => {
      const x = gridData(4000, s, z, qmin, qmax);
      const go = Float32Array.from({ length: x.length }, () => rng.gaussian());
      const p: QParams = { qtype, scale: s, zeroPoint: z };
      const r = lsqGradients(x, go, p);
      // FD in s through the public fakeQuantize (issue 2's kernels)
      // scales are float32: difference over the float32 neighbours actually used
      const sp = Math.fround(s * (1 + 1e-3)), sm = Math.fround(s * (1 - 1e-3));
      const Lp = loss(fakeQuantize(x, [x.length], { ...p, scale: sp }), go);
      const Lm = loss(fakeQuantize(x, [x.length], { ...p, scale: sm }), go);
      const fdS = (Lp - Lm) / (sp - sm);
      let steTerm = 0;
      for (let i = 0; i < x.length; i++) {
        if (x[i]! >= s * (qmin - z) && x[i]! <= s * (qmax - z)) steTerm += go[i]! * Math.fround(x[i]! / Math.fround(s));
      }
      const want = fdS - steTerm;
      expect(Math.abs(r.gradScale[0]! - want)).toBeLessThan(2e-3 * (Math.abs(want) + 1));
      // FD in z (continuous z) through the scalar Q/DQ twin
      const hz = 0.05;
      let Lzp = 0, Lzm = 0;
      for (let i = 0; i < x.length; i++) { Lzp += go[i]! * qdqValue(x[i]!, s, z + hz, qmin, qmax); Lzm += go[i]! * qdqValue(x[i]!, s, z - hz, qmin, qmax); }
      const fdZ = (Lzp - Lzm) / (2 * hz);
      expect(Math.abs(r.gradZeroPoint[0]! - fdZ)).toBeLessThan(1e-3 * (Math.abs(fdZ) + 1));
      expect(r.gradZeroPoint[0]).not.toBe(0); // some elements are clamped
      expect(Array.from(r.gradX)).toEqual(Array.from(fakeQuantizeBackward(x, go, p)));
    });
  }

  it('per channel (axis 0 and a negative axis): each channel equals the per-tensor gradient of its slice; "lsq" scales by 1/√(N·qmax)', () => {
    const C = 5, K = 300;
    const scales = Float32Array.from({ length: C }, (_, c) => 0.02 * (c + 1));
    const x = new Float32Array(C * K), go = new Float32Array(C * K);
    for (let c = 0; c < C; c++) x.set(gridData(K, scales[c]!, 0, -8, 7), c * K);
    for (let i = 0; i < go.length; i++) go[i] = rng.gaussian();
    const p: QParams = { qtype: 'int4', scale: scales, zeroPoint: new Int32Array(C), axis: 0 };
    const r = lsqGradients(x, go, p, { shape: [C, K] });
    const rl = lsqGradients(x, go, p, { shape: [C, K], gradientScale: 'lsq' });
    for (let c = 0; c < C; c++) {
      const one = lsqGradients(x.subarray(c * K, (c + 1) * K), go.subarray(c * K, (c + 1) * K), { qtype: 'int4', scale: scales[c]!, zeroPoint: 0 });
      expect(r.gradScale[c]).toBeCloseTo(one.gradScale[0]!, 4);
      expect(r.gradZeroPoint[c]).toBeCloseTo(one.gradZeroPoint[0]!, 4);
      expect(rl.gradScale[c]).toBeCloseTo(one.gradScale[0]! / Math.sqrt(K * 7), 5);
    }
    // the same data transposed to [K, C] with axis −1 gives the same per-channel gradients
    const xt = new Float32Array(C * K), gt = new Float32Array(C * K);
    for (let c = 0; c < C; c++) for (let k = 0; k < K; k++) { xt[k * C + c] = x[c * K + k]!; gt[k * C + c] = go[c * K + k]!; }
    const rt_ = lsqGradients(xt, gt, { ...p, axis: -1 }, { shape: [K, C] });
    for (let c = 0; c < C; c++) expect(rt_.gradScale[c]).toBeCloseTo(r.gradScale[c]!, 4);
  });

  it('ragged blocks (⌈D/B⌉ per axis, a short last one): each block equals the per-tensor gradient of its elements; "lsq" uses that block\'s own N', () => {
    for (const [shape, axis, B] of [[[3, 7], 1, 3], [[2, 5, 3], 1, 2], [[5, 4], 0, 2], [[4, 9], -1, 4]] as const) {
      const rank = shape.length, ax = axis < 0 ? axis + rank : axis;
      const D = shape[ax]!, outer = shape.slice(0, ax).reduce((a, b) => a * b, 1), inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
      const nb = Math.ceil(D / B), groups = outer * nb * inner, n = outer * D * inner;
      const scales = Float32Array.from({ length: groups }, (_, g) => 0.05 * (1 + (g % 4)));
      const x = Float32Array.from({ length: n }, () => rng.gaussian() * 0.5), go = Float32Array.from({ length: n }, () => rng.gaussian());
      const p: QParams = { qtype: 'int4', scale: scales, zeroPoint: new Int32Array(groups), axis, blockSize: B };
      const r = lsqGradients(x, go, p, { shape });
      const rl = lsqGradients(x, go, p, { shape, gradientScale: 'lsq' });
      const sx = fakeQuantizeBackward(x, go, p, { shape });
      for (let o = 0; o < outer; o++) for (let j = 0; j < nb; j++) for (let i = 0; i < inner; i++) {
        const g = (o * nb + j) * inner + i;
        const idx: number[] = [];
        for (let d = j * B; d < Math.min(D, (j + 1) * B); d++) idx.push((o * D + d) * inner + i);
        const one = lsqGradients(Float32Array.from(idx, (e) => x[e]!), Float32Array.from(idx, (e) => go[e]!), { qtype: 'int4', scale: scales[g]!, zeroPoint: 0 });
        expect(r.gradScale[g]).toBeCloseTo(one.gradScale[0]!, 5);
        expect(r.gradZeroPoint[g]).toBeCloseTo(one.gradZeroPoint[0]!, 5);
        expect(rl.gradScale[g]).toBeCloseTo(one.gradScale[0]! / Math.sqrt(idx.length * 7), 6);
        idx.forEach((e, k) => expect(sx[e]).toBe(one.gradX[k]));
      }
    }
  });

  it('rejects bad input with typed errors', () => {
    const x = Float32Array.of(1, 2, 3, 4), g = Float32Array.of(1, 1, 1, 1);
    const p: QParams = { qtype: 'int8', scale: 0.1 };
    expect(() => lsqGradients(x, Float32Array.of(1), p)).toThrow(InvalidArgumentError);
    expect(() => fakeQuantizeBackward(Float32Array.of(1, NaN), Float32Array.of(1, 1), p)).toThrow(NaNInputError);
    expect(() => fakeQuantizeBackward(x, Float32Array.of(1, 1, NaN, 1), p)).toThrow(/gradOut/);
    expect(() => lsqGradients(x, g, { qtype: 'int8', scale: Float32Array.of(1, 2), axis: 0 })).toThrow(/options\.shape/);
    expect(() => lsqGradients(x, g, p, { gradientScale: NaN })).toThrow(/gradientScale/);
    expect(() => fakeQuantizeBackward(new Float32Array(0), new Float32Array(0), p)).toThrow(/empty/);
    expect(() => fakeQuantizeBackward(x, g, { qtype: 'int8', scale: -1 })).toThrow(InvalidArgumentError);
  });
});
