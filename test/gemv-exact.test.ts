/**
 * Exactness of the int8 GEMV/GEMM kernels against the scalar reference (src/reference/gemv.ts):
 * sizes with every tail, all zero-point combinations, int8/uint8 weights and activations,
 * wrap-around past 2^31, M tokens (every tail of the 4-token GEMM tiles), odd panel counts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, PackedInt8Matrix } from '../src/index.js';
import { refGemmInt8, refGemvInt8, type Int8Like } from '../src/reference/gemv.js';
import { Rng } from '../src/data/random.js';
import { rt, withBuild } from '../src/runtime/wasm.js';

beforeAll(async () => { await init(); });

it('runs on the memory the project asked for (the unshared project: one thread, as a page without isolation)', () => {
  const unshared = process.env.INTQUANT_SHARED_MEMORY === '0';
  expect(Object.prototype.toString.call(rt().mem.memory.buffer)).toBe(unshared ? '[object ArrayBuffer]' : '[object SharedArrayBuffer]');
  if (unshared) expect(rt().pool.threads).toBe(1);
});

const SIZES = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1000, 4099];

type T = 'int8' | 'uint8';
interface Case { wt: T; xt: T; zw: number; zx: number; bias: boolean }

/** The 16 combinations: weight type × activation type × (z_w ≠ 0) × (z_x ≠ 0); bias on half. */
const COMBOS: Case[] = [];
for (const wt of ['int8', 'uint8'] as const) for (const xt of ['int8', 'uint8'] as const) {
  for (const zwOn of [false, true]) for (const zxOn of [false, true]) {
    COMBOS.push({
      wt, xt,
      zw: zwOn ? (wt === 'int8' ? -37 : 131) : 0,
      zx: zxOn ? (xt === 'int8' ? 101 : 7) : 0,
      bias: zwOn !== zxOn,
    });
  }
}

function arr(rng: Rng, t: T, n: number): Int8Like {
  return t === 'int8' ? rng.int8Array(n) : rng.uint8Array(n);
}

function check(rng: Rng, N: number, K: number, c: Case, M = 1): void {
  const w = arr(rng, c.wt, N * K);
  const X = arr(rng, c.xt, M * K);
  const bias = c.bias ? Int32Array.from({ length: N }, () => rng.int(-(2 ** 31), 2 ** 31 - 1)) : undefined;
  const opts = { wZeroPoint: c.zw, xZeroPoint: c.zx, bias };
  const W = PackedInt8Matrix.from(w, N, K, { zeroPoint: c.zw, xZeroPoint: c.zx, bias });
  try {
    const want = refGemmInt8(w, N, K, X, M, opts);
    const got = M === 1 ? W.gemv(X) : W.gemm(X, M);
    const label = `N=${N} K=${K} M=${M} ${JSON.stringify({ ...c, bias: !!bias })}`;
    if (!sameInt32(got, want)) expect({ label, got: Array.from(got.slice(0, 8)) }).toEqual({ label, got: Array.from(want.slice(0, 8)) });
    expect(sameInt32(got, want), label).toBe(true);
  } finally {
    W.dispose();
  }
}

function sameInt32(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

describe('int8 GEMV equals the scalar reference', () => {
  it('every K in the size list × N ∈ {1, 4, 5, 17, 65, 1000}', () => {
    const rng = new Rng(1);
    let i = 0;
    for (const K of SIZES) for (const N of [1, 4, 5, 17, 65, 1000]) check(rng, N, K, COMBOS[i++ % COMBOS.length]!);
  });

  it('every N in the size list × K ∈ {1, 16, 33, 127, 4099}', () => {
    const rng = new Rng(2);
    let i = 5;
    for (const N of SIZES) for (const K of [1, 16, 33, 127, 4099]) check(rng, N, K, COMBOS[i++ % COMBOS.length]!);
  });

  it('all 16 zero-point / type combinations on tail-heavy sizes', () => {
    const rng = new Rng(3);
    for (const [N, K] of [[7, 63], [33, 129], [129, 1000], [8, 4099]] as const) for (const c of COMBOS) check(rng, N, K, c);
  });
});

describe('extreme zero points', () => {
  it('z_w, z_x at both ends of each type range, GEMV and GEMM', () => {
    const rng = new Rng(8);
    for (const wt of ['int8', 'uint8'] as const) for (const xt of ['int8', 'uint8'] as const) {
      const zws = wt === 'int8' ? [-128, 127] : [0, 255];
      const zxs = xt === 'int8' ? [-128, 127] : [0, 255];
      for (const zw of zws) for (const zx of zxs) {
        check(rng, 13, 257, { wt, xt, zw, zx, bias: true });
        check(rng, 6, 31, { wt, xt, zw, zx, bias: false }, 3);
      }
    }
  });
});

describe('int8 GEMM (M tokens) equals the scalar reference', () => {
  it('M ∈ {1, 2, 3, 5, 8} × all combinations', () => {
    const rng = new Rng(4);
    for (const M of [1, 2, 3, 5, 8]) for (const c of COMBOS) check(rng, 37, 65, c, M);
  });

  it('M ∈ {2, 3, 4, 5, 6, 7, 8, 9, 13, 16} over tail sizes (every 4-token tile tail; quads, pairs and single panels, each with a partial last panel)', () => {
    const rng = new Rng(5);
    let i = 0;
    for (const M of [2, 3, 4, 5, 6, 7, 8, 9, 13, 16]) for (const [N, K] of [[1, 1], [3, 17], [5, 31], [8, 33], [12, 64], [15, 40], [22, 17], [30, 33], [65, 127], [17, 1000], [4, 4099]] as const) {
      check(rng, N, K, COMBOS[i++ % COMBOS.length]!, M);
    }
  });

  it('each GEMM row equals the GEMV of that token', () => {
    const rng = new Rng(6);
    const N = 50, K = 77, M = 5;
    const w = rng.int8Array(N * K), X = rng.uint8Array(M * K);
    using W = PackedInt8Matrix.from(w, N, K, { zeroPoint: 3, xZeroPoint: 200 });
    const all = W.gemm(X, M);
    for (let m = 0; m < M; m++) expect(Array.from(W.gemv(X.subarray(m * K, (m + 1) * K)))).toEqual(Array.from(all.subarray(m * N, (m + 1) * N)));
  });
});

describe('wrap-around modulo 2^32', () => {
  it('−128·−128 summed past 2^31 wraps exactly like the reference (GEMV and GEMM)', () => {
    const K = 131073; // 131073·16384 = 2^31 + 16384 > int32 max
    const N = 8;
    const w = new Int8Array(N * K).fill(-128);
    const x = new Int8Array(K).fill(-128);
    using W = PackedInt8Matrix.from(w, N, K);
    const want = refGemvInt8(w, N, K, x);
    expect(want[0]).toBe((K * 16384) | 0); // the reference itself wraps
    expect(want[0]).toBeLessThan(0);
    expect(Array.from(W.gemv(x))).toEqual(Array.from(want));
    expect(Array.from(W.gemm(new Int8Array(2 * K).fill(-128), 2))).toEqual([...want, ...want]);
    expect(Array.from(W.gemm(new Int8Array(5 * K).fill(-128), 5))).toEqual([...want, ...want, ...want, ...want, ...want]);
  });

  it('uint8 weights and activations with zero points wrap exactly (|w−z|·|x−z| = 255²)', () => {
    const K = 40000; // 40000·65025 > 2^31
    const N = 5;
    const w = new Uint8Array(N * K).fill(255);
    const x = new Uint8Array(K).fill(255);
    using W = PackedInt8Matrix.from(w, N, K, { zeroPoint: 0, xZeroPoint: 0 });
    using V = PackedInt8Matrix.from(new Uint8Array(N * K), N, K, { zeroPoint: 255, xZeroPoint: 255 });
    const want = refGemvInt8(w, N, K, x);
    expect(want[0]).toBe(Number(BigInt.asIntN(32, BigInt(K) * 65025n)));
    expect(Array.from(W.gemv(x))).toEqual(Array.from(want));
    // (0 − 255)·(0 − 255) folded entirely into bias and correction terms
    expect(Array.from(V.gemv(new Uint8Array(K)))).toEqual(Array.from(want));
  });
});

describe('a test that must be able to fail', () => {
  it('a single flipped weight changes the result', () => {
    const rng = new Rng(7);
    const N = 9, K = 40;
    const w = rng.int8Array(N * K), x = rng.int8Array(K);
    using W = PackedInt8Matrix.from(w, N, K);
    const w2 = w.slice(); w2[8 * K + 39] = w2[8 * K + 39]! ^ 1;
    const a = W.gemv(x), b = refGemvInt8(w2, N, K, x);
    expect(a[8]).not.toBe(b[8]);
    expect(a[8]! - b[8]!).toBe((w[8 * K + 39]! - w2[8 * K + 39]!) * x[39]!);
  });
});

// The dot-add build has two int8 forms; the engine decides which one runs (the unsigned one only
// where the self-test shows unsigned operands). Whichever that is, the split form is checked too.
if (process.env.INTQUANT_BACKEND === 'relaxed-dotadd') describe('dot-add build: both int8 forms equal the scalar reference', () => {
  it.each([false, true])('unsigned form %s (when this engine has it): GEMV and GEMM sweeps, every combination', (unsigned) => {
    const build = rt().build;
    if (unsigned && !build.dotAddUnsigned) return;
    withBuild({ ...build, dotAddUnsigned: unsigned }, () => {
      const rng = new Rng(unsigned ? 41 : 40);
      let i = 0;
      for (const K of [1, 15, 16, 17, 33, 127, 4099]) for (const N of [1, 5, 17, 65]) check(rng, N, K, COMBOS[i++ % COMBOS.length]!);
      for (const M of [2, 3, 4, 5, 6, 9]) for (const [N, K] of [[5, 33], [12, 127], [17, 64]] as const) check(rng, N, K, COMBOS[i++ % COMBOS.length]!, M);
    });
  });
});
