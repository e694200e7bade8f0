import { describe, expect, it } from 'vitest';
import { sqnr, mse, maxAbsError, cosineSimilarity, InvalidArgumentError } from '../src/index.js';
import { heavyTailedMatrix } from '../src/data/heavy-tailed.js';
import { Rng } from '../src/data/random.js';

describe('error metrics', () => {
  it('compute known values', () => {
    const x = [1, 2, 3, 4];
    const y = [1, 2, 3, 5];
    expect(mse(x, y)).toBe(0.25);
    expect(maxAbsError(x, y)).toBe(1);
    expect(sqnr(x, y)).toBeCloseTo(10 * Math.log10(30), 12);
    expect(sqnr(x, x)).toBe(Infinity);
    expect(cosineSimilarity(x, x)).toBeCloseTo(1, 15);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([0, 0], [0, 0])).toBe(1);
  });

  it('SQNR of uniform rounding noise follows 6.02·b dB', () => {
    // x uniform in [-1,1), rounded to a b-bit grid: noise power Δ²/12, signal 1/3 → SQNR = 6.02b dB
    const rng = new Rng(7);
    const x = Array.from({ length: 200_000 }, () => 2 * rng.next() - 1);
    for (const b of [4, 8]) {
      const step = 2 / 2 ** b;
      const xq = x.map((v) => Math.round(v / step) * step);
      expect(sqnr(x, xq)).toBeGreaterThan(6.02 * b - 0.3);
      expect(sqnr(x, xq)).toBeLessThan(6.02 * b + 0.3);
    }
  });

  it('reject mismatched and empty inputs', () => {
    expect(() => mse([1], [1, 2])).toThrow(InvalidArgumentError);
    expect(() => sqnr([], [])).toThrow(/empty/);
  });
});

describe('embedded heavy-tailed matrix', () => {
  it('is deterministic and heavy-tailed', () => {
    const a = heavyTailedMatrix(64, 128);
    const b = heavyTailedMatrix(64, 128);
    expect(a.data).toEqual(b.data);
    let m2 = 0, m4 = 0;
    for (const v of a.data) { m2 += v * v; m4 += v ** 4; }
    m2 /= a.data.length; m4 /= a.data.length;
    expect(m4 / (m2 * m2)).toBeGreaterThan(4.5); // kurtosis well above the Gaussian's 3
    expect(a.data.every(Number.isFinite)).toBe(true);
  });
});
