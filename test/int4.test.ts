import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, memoryStats, packInt4, unpackInt4, sqnr, DisposedError, InvalidArgumentError, NaNInputError,
} from '../src/index.js';
import { PackedInt4Matrix } from '../src/index.js';
import { quantizeInt4Groups } from '../src/ops/packed-int4-matrix.js';
import {
  refActQuantize, refInt4AbsProduct, refInt4GemvW4A32, refInt4GemvW4A8, refInt4GroupSums, type RefInt4Weights,
} from '../src/reference/gemv-int4.js';
import { releaseScratch } from '../src/ops/scratch.js';
import { rt, backend } from '../src/runtime/wasm.js';
import { int4ActBytes, int4LayoutOf } from '../src/ops/layouts.js';

/** One token's W4A8 activation bytes per k in the active build's layout. */
const actBytes = () => int4ActBytes(int4LayoutOf(backend()));
import type { KernelExports } from '../src/runtime/abi.js';
import { Rng } from '../src/data/random.js';
import { heavyTailedMatrix } from '../src/data/heavy-tailed.js';

beforeAll(async () => { await init(); });

function randomWeights(rng: Rng, N: number, K: number, G: number, signed: boolean, withZp = true): RefInt4Weights {
  const groups = Math.ceil(K / G);
  const q = signed ? new Int8Array(N * K) : new Uint8Array(N * K);
  for (let i = 0; i < q.length; i++) q[i] = signed ? rng.int(-8, 7) : rng.int(0, 15);
  const scales = new Float32Array(N * groups);
  for (let i = 0; i < scales.length; i++) scales[i] = 0.001 + rng.next() * 0.05;
  const w: RefInt4Weights = { q, N, K, groupSize: G, scales };
  if (!signed && withZp) w.zeroPoints = rng.uint8Array(N * groups, 0, 15);
  return w;
}

/** The W4A8 GEMV / GEMM kernels of the active build's packed layout (the dot-add build has its own). */
const gemvOf = (k: KernelExports, asym: boolean) => int4LayoutOf(backend()) === 'dotadd'
  ? (asym ? k.q4_gemv_4x8_dotadd__asym! : k.q4_gemv_4x8_dotadd__sym!)
  : (asym ? k.q4_gemv_4x32__asym : k.q4_gemv_4x32__sym);
const gemmOf = (k: KernelExports, asym: boolean) => int4LayoutOf(backend()) === 'dotadd'
  ? (asym ? k.q4_gemm_4x8_dotadd__asym! : k.q4_gemm_4x8_dotadd__sym!)
  : (asym ? k.q4_gemm_2x4x32__asym : k.q4_gemm_2x4x32__sym);

const pack = (w: RefInt4Weights) =>
  PackedInt4Matrix.from(w.q, w.N, w.K, { groupSize: w.groupSize, scales: w.scales, zeroPoints: w.zeroPoints, signed: w.q instanceof Int8Array });

const KS = [1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 129, 1000, 4099];
const NS = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 129];

describe('PackedInt4Matrix: exact int32 group sums vs the scalar reference', () => {
  const cases: [number, number, number, boolean][] = [];
  for (const K of KS) for (const G of [32, 64, 128]) cases.push([5, K, G, true], [3, K, G, false]);
  for (const N of NS) cases.push([N, 67, 32, true], [N, 200, 64, false]);
  cases.push([9, 4099, 256, true], [6, 300, 256, false]);
  it.each(cases)('N=%i K=%i G=%i signed=%s', (N, K, G, signed) => {
    const rng = new Rng(N * 7919 + K * 31 + G + (signed ? 1 : 0));
    const w = randomWeights(rng, N, K, G, signed);
    const xq = rng.int8Array(K, -127, 127);
    using m = pack(w);
    expect(m.groupSums(xq)).toEqual(refInt4GroupSums(w, xq));
  });

  it('extreme values: all −8 × −127 over the largest group stays exact', () => {
    const N = 4, K = 256, G = 256;
    const w: RefInt4Weights = { q: new Int8Array(N * K).fill(-8), N, K, groupSize: G, scales: new Float32Array(N).fill(1) };
    const xq = new Int8Array(K).fill(-127);
    using m = pack(w);
    const sums = m.groupSums(xq);
    expect(Array.from(sums)).toEqual(new Array(N).fill(8 * 127 * K));
    expect(sums).toEqual(refInt4GroupSums(w, xq));
    const u: RefInt4Weights = { q: new Uint8Array(N * K).fill(15), N, K, groupSize: G, scales: new Float32Array(N).fill(1), zeroPoints: new Uint8Array(N).fill(0) };
    using mu = pack(u);
    expect(mu.groupSums(new Int8Array(K).fill(127))).toEqual(refInt4GroupSums(u, new Int8Array(K).fill(127)));
  });
});

describe('q4-act-quantize kernel vs the scalar reference (eq. 43)', () => {
  it.each([[32, 32], [33, 32], [1000, 64], [4099, 128], [256, 256]])('K=%i G=%i: scales, codes, sums and offset correction exactly', (K, G) => {
    const rng = new Rng(K + G);
    const x = rng.gaussianArray(K);
    for (let i = 0; i < K; i += 7) x[i] = 0;
    if (K > 40) { x[3] = 1.5; x[4] = -2.5; x[5] = 0.5; x[6] = 127; x[7] = -127; } // ties after scaling
    const Kp = Math.ceil(K / G) * G, groups = Kp / G;
    const mem = rt().mem;
    const xo = mem.alloc(4 * Kp), a = mem.alloc(actBytes() * Kp), s = mem.alloc(16 * groups), c = mem.alloc(4 * groups), z = mem.alloc(16 * groups);
    try {
      mem.f32(xo, Kp).fill(0);
      mem.f32(xo, K).set(x);
      expect(rt().kernels.q4_act_quantize(xo, Kp, G, a, s, c, z)).toBe(-1);
      const ref = refActQuantize(x, G);
      const xa = mem.i16(a, Kp), sx = mem.f32(s, 4 * groups), corr = mem.i32(c, groups), sum = mem.f32(z, 4 * groups);
      const layout = int4LayoutOf(backend());
      const code = (k: number) => (k < K ? ref.q[k]! : 0);
      if (layout === 'dotadd') {
        // the quads q[4j..4j+3], each broadcast to 16 bytes
        const xb = mem.i8(a, 4 * Kp);
        for (let k = 0; k < Kp; k++) for (let r = 0; r < 4; r++) expect(xb[16 * (k >> 2) + 4 * r + (k & 3)], `k=${k} copy ${r}`).toBe(code(k));
      } else if (layout === 'relaxed') {
        // int8, per 32-k block: bytes 2L, 2L+1 = q[L], q[16+L]; 16 bytes on: q[8+L], q[24+L]
        const xb = mem.i8(a, Kp);
        for (let b = 0; b < Kp; b += 32) for (let L = 0; L < 8; L++) {
          expect([xb[b + 2 * L], xb[b + 2 * L + 1], xb[b + 16 + 2 * L], xb[b + 17 + 2 * L]], `block ${b} lane ${L}`)
            .toEqual([code(b + L), code(b + 16 + L), code(b + 8 + L), code(b + 24 + L)]);
        }
      } else {
        // telescoped for the shift unpack: y0 = q[L], y_j = q[8j+L] − 16·q[8(j−1)+L]
        for (let k = 0; k < Kp; k++) {
          const j = k & 31;
          expect(xa[k], `k=${k}`).toBe(j < 8 ? code(k) : code(k) - 16 * code(k - 8));
        }
      }
      for (let g = 0; g < groups; g++) {
        // offset-binary nibbles: every k-offset (relaxed, dot-add), k-offsets 0–23 (simd128)
        let low = 0, tot = 0;
        for (let k = g * G; k < Math.min(K, (g + 1) * G); k++) { tot += ref.q[k]!; if ((k & 31) < 24) low += ref.q[k]!; }
        for (let l = 0; l < 4; l++) { expect(sx[4 * g + l]).toBe(Math.fround(ref.scales[g]! * 4096)); expect(sum[4 * g + l]).toBe(tot / 4096); }
        expect(corr[g]).toBe(-8 * (layout === 'simd128' ? low : tot) + 0);
      }
      mem.f32(xo, 1)[0] = NaN;
      expect(rt().kernels.q4_act_quantize(xo, Kp, G, a, s, c, z)).toBe(0);
      mem.f32(xo, Kp)[Kp - 1 - (Kp - K)] = -Infinity;
      mem.f32(xo, 1)[0] = 1;
      expect(rt().kernels.q4_act_quantize(xo, Kp, G, a, s, c, z)).toBe(K - 1);
    } finally {
      for (const o of [xo, a, s, c, z]) mem.release(o);
    }
  });
});

describe('PackedInt4Matrix: GEMV accuracy', () => {
  it.each([[1, 1, 32], [7, 33, 32], [29, 160, 32], [131, 96, 64], [17, 1000, 64], [33, 4099, 128], [64, 256, 256]])('W4A8 equals the reference on the same int8 activations, N=%i K=%i G=%i', (N, K, G) => {
    for (const signed of [true, false]) {
      const rng = new Rng(N + K + G);
      const w = randomWeights(rng, N, K, G, signed);
      const x = rng.gaussianArray(K);
      using m = pack(w);
      const y = m.gemv(x);
      const ref = refInt4GemvW4A8(w, x);
      // the integer sums are exact; only the float32 group scaling and summation round
      const { q: xq, scales: sx } = refActQuantize(x, G);
      const scaleRef = refInt4AbsProduct(w, Float32Array.from(xq, (v, k) => v * sx[Math.floor(k / G)]!));
      for (let n = 0; n < N; n++) expect(Math.abs(y[n]! - ref[n]!)).toBeLessThanOrEqual(2e-6 * scaleRef[n]! + 1e-30);
    }
  });

  it('W4A8 SQNR vs the exact float product ≥ 35 dB on random and real-like data', () => {
    const rng = new Rng(99);
    const hm = heavyTailedMatrix(256, 512);
    const datasets: [string, Float32Array, number, number][] = [
      ['gaussian', rng.gaussianArray(384 * 1024), 384, 1024],
      ['heavy-tailed', hm.data, hm.rows, hm.cols],
    ];
    for (const [name, wf, N, K] of datasets) {
      for (const symmetric of [true, false]) {
        const qz = quantizeInt4Groups(wf, N, K, { groupSize: 32, symmetric });
        const w: RefInt4Weights = { q: qz.q, N, K, groupSize: 32, scales: qz.scales, zeroPoints: qz.zeroPoints };
        using m = pack(w);
        for (const xKind of ['gaussian', 'relu-laplace']) {
          const x = new Float32Array(K);
          for (let k = 0; k < K; k++) x[k] = xKind === 'gaussian' ? rng.gaussian() : Math.max(0, rng.laplace());
          const exact = refInt4GemvW4A32(w, x);
          const y = m.gemv(x, undefined, { activations: 'int8' });
          const db = sqnr(exact, y);
          expect(db, `${name} ${symmetric ? 'int4' : 'uint4'} × ${xKind}`).toBeGreaterThanOrEqual(35);
        }
      }
    }
  });

  it.each([[1, 1, 32], [5, 31, 32], [17, 1000, 64], [33, 4099, 128], [3, 700, 256]])('weight-only W4A32 within 1e-5 relative of the float reference, N=%i K=%i G=%i', (N, K, G) => {
    for (const signed of [true, false]) {
      const rng = new Rng(3 * N + K);
      const w = randomWeights(rng, N, K, G, signed);
      const x = rng.gaussianArray(K);
      using m = pack(w);
      const y = m.gemv(x, undefined, { activations: 'float32' });
      const ref = refInt4GemvW4A32(w, x);
      const mag = refInt4AbsProduct(w, x);
      for (let n = 0; n < N; n++) expect(Math.abs(y[n]! - ref[n]!)).toBeLessThanOrEqual(1e-5 * mag[n]!);
    }
  });

  it.each([[13, 97, 32, false], [8, 300, 128, true], [5, 64, 64, false], [1, 33, 256, true], [17, 1000, 32, true],
    [1, 40, 32, true], [3, 64, 32, false], [5, 96, 32, true], [11, 130, 64, false], [11, 200, 128, true], [3, 256, 64, true], [1, 128, 128, false]])('GEMM equals one GEMV per token bit for bit (N=%i K=%i G=%i signed=%s), M ∈ {1, 2, 3, 5, 8}', (N, K, G, signed) => {
    const rng = new Rng(5 + N + K);
    const w = randomWeights(rng, N, K, G, signed);
    using m = pack(w);
    for (const M of [1, 2, 3, 5, 8]) {
      const X = rng.gaussianArray(M * K);
      for (const activations of ['int8', 'float32'] as const) {
        const Y = m.gemm(X, M, undefined, { activations });
        for (let t = 0; t < M; t++) expect(Y.subarray(t * N, (t + 1) * N)).toEqual(m.gemv(X.subarray(t * K, (t + 1) * K), undefined, { activations }));
      }
    }
  });
});

// the three-stream kernel does ⌊P/3⌋ panels per stream, then the P mod 3 left over with one
// stream: the N below give every remainder, with a partial last panel in each path
describe('multi-stream GEMV = one-stream GEMV (dot-add build: = panel by panel), bit for bit', () => {
  it.each([[1, 64, 32], [5, 96, 32], [8, 200, 64], [9, 300, 128], [12, 40, 32], [16, 96, 32], [18, 64, 64], [20, 128, 128],
    [25, 256, 128], [29, 160, 32], [14, 320, 64], [131, 256, 256], [131, 96, 32], [133, 192, 64]])('N=%i K=%i G=%i', (N, K, G) => {
    for (const signed of [true, false]) {
      const rng = new Rng(N * 13 + K);
      const w = randomWeights(rng, N, K, G, signed);
      using m = pack(w);
      const { kernels: k, mem } = rt();
      const Kp = m.Kp, groups = Kp / G, Np = Math.ceil(N / 4) * 4;
      const bufs = [mem.alloc(4 * Kp), mem.alloc(actBytes() * Kp), mem.alloc(16 * groups), mem.alloc(4 * groups), mem.alloc(16 * groups), mem.alloc(4 * Np), mem.alloc(4 * Np)];
      const [x, a, s, c, z, o1, o2] = bufs as [number, number, number, number, number, number, number];
      try {
        mem.f32(x, Kp).fill(0);
        mem.f32(x, K).set(rng.gaussianArray(K));
        k.q4_act_quantize(x, Kp, G, a, s, c, z);
        if (int4LayoutOf(backend()) === 'dotadd') {
          // one call (three, two and one panel streams) against one call per 4-row panel
          const panelBytes = m.byteLength / (Np / 4);
          for (let p = 0; p < Np / 4; p++) gemvOf(k, m.asymmetric)(m.byteOffset + p * panelBytes, a, s, c, z, o1 + 16 * p, Math.min(4, N - 4 * p), Kp, G);
          gemvOf(k, m.asymmetric)(m.byteOffset, a, s, c, z, o2, N, Kp, G);
        } else {
          (m.asymmetric ? k.q4_gemv_4x32__asym : k.q4_gemv_4x32__sym)(m.byteOffset, a, s, c, z, o1, N, Kp, G);
          (m.asymmetric ? k.q4_gemv_4x32_ms__asym : k.q4_gemv_4x32_ms__sym)(m.byteOffset, a, s, c, z, o2, N, Kp, G);
        }
        expect(new Uint32Array(mem.memory.buffer, o2, N)).toEqual(new Uint32Array(mem.memory.buffer, o1, N));
      } finally {
        for (const b of bufs) mem.release(b);
      }
    }
  });
});

describe('GEMM kernel (pair GEMM; dot-add build: its 4-token GEMM) = GEMV per token, bit for bit (every build, kernel level)', () => {
  it.each([[1, 64, 1], [5, 96, 2], [3, 40, 3], [11, 160, 5], [6, 64, 7], [9, 96, 6]])('N=%i K=%i M=%i G=32', (N, K, M) => {
    const G = 32;
    for (const signed of [true, false]) {
      const rng = new Rng(N * 7 + K + M);
      const w = randomWeights(rng, N, K, G, signed);
      using m = pack(w);
      const { kernels: k, mem } = rt();
      const Kp = m.Kp, groups = Kp / G;
      const A = actBytes() * Kp; // one token's activation codes
      const bufs = [mem.alloc(4 * Kp), mem.alloc(A * M), mem.alloc(16 * groups * M), mem.alloc(4 * groups * M), mem.alloc(16 * groups * M), mem.alloc(4 * N * M), mem.alloc(4 * (N + 3))];
      const [x, a, s, c, z, o1, o2] = bufs as [number, number, number, number, number, number, number];
      try {
        mem.f32(x, Kp).fill(0);
        for (let t = 0; t < M; t++) {
          mem.f32(x, K).set(rng.gaussianArray(K));
          k.q4_act_quantize(x, Kp, G, a + A * t, s + 16 * groups * t, c + 4 * groups * t, z + 16 * groups * t);
        }
        gemmOf(k, m.asymmetric)(m.byteOffset, a, s, c, z, o1, M, N, Kp, G);
        for (let t = 0; t < M; t++) {
          gemvOf(k, m.asymmetric)(m.byteOffset, a + A * t, s + 16 * groups * t, c + 4 * groups * t, z + 16 * groups * t, o2, N, Kp, G);
          expect(new Uint32Array(mem.memory.buffer, o1 + 4 * N * t, N)).toEqual(new Uint32Array(mem.memory.buffer, o2, N));
        }
      } finally {
        for (const b of bufs) mem.release(b);
      }
    }
  });
});

describe('PackedInt4Matrix: formats and round trips', () => {
  it('packInt4 (ONNX order) ↔ kernel layout ↔ MatMulNBits', () => {
    const rng = new Rng(11);
    for (const [N, K, G] of [[5, 70, 32], [4, 64, 64], [3, 129, 128]] as const) {
      const w = randomWeights(rng, N, K, G, false);
      const onnx = packInt4(w.q as Uint8Array);
      const q = unpackInt4(onnx, N * K, false) as Uint8Array;
      using m = PackedInt4Matrix.from(q, N, K, { groupSize: G, scales: w.scales, zeroPoints: w.zeroPoints, signed: false });
      const back = m.toInt4Values();
      expect(back.q).toEqual(w.q);
      expect(back.scales).toEqual(w.scales);
      expect(back.zeroPoints).toEqual(w.zeroPoints);
      expect(packInt4(back.q)).toEqual(onnx);
      const nbits = m.toMatMulNBits();
      expect(nbits.B.length).toBe(N * Math.ceil(K / G) * (G / 2));
      using m2 = PackedInt4Matrix.fromMatMulNBits(nbits.B, nbits.scales, N, K, G, nbits.zeroPoints);
      expect(m2.toInt4Values()).toEqual(back);
      const x = rng.gaussianArray(K);
      expect(m2.gemv(x)).toEqual(m.gemv(x));
    }
  });

  it('reads MatMulNBits element order: element 2i in the low nibble, zero points two per byte', () => {
    // N = 1, K = 64, block 32: two blocks; byte 0 = 0x21 → k0 = 1, k1 = 2; zero points 0x93 → z0 = 3, z1 = 9
    const B = new Uint8Array(32); B[0] = 0x21; B[16] = 0xf0;
    const m = PackedInt4Matrix.fromMatMulNBits(B, new Float32Array([1, 2]), 1, 64, 32, new Uint8Array([0x93]));
    const { q, zeroPoints } = m.toInt4Values();
    expect([q[0], q[1], q[32], q[33]]).toEqual([1, 2, 0, 15]);
    expect(Array.from(zeroPoints!)).toEqual([3, 9]);
    const x = new Float32Array(64); x[0] = 1; x[1] = 1; x[33] = 1;
    // (1−3)·1 + (2−3)·1 + 2·(15−9)·1 = 9
    expect(m.gemv(x, undefined, { activations: 'float32' })[0]).toBeCloseTo(9, 5);
    m.dispose();
  });

  it('signed weights export to MatMulNBits as unsigned with zero point 8', () => {
    const rng = new Rng(12);
    const w = randomWeights(rng, 6, 96, 32, true);
    using m = pack(w);
    const nb = m.toMatMulNBits();
    expect(nb.zeroPoints).toBeUndefined();
    using m2 = PackedInt4Matrix.fromMatMulNBits(nb.B, nb.scales, 6, 96, 32);
    const x = rng.gaussianArray(96);
    expect(m2.gemv(x, undefined, { activations: 'float32' })).toEqual(m.gemv(x, undefined, { activations: 'float32' }));
  });
});

describe('PackedInt4Matrix: memory', () => {
  it('costs its packed bytes (N·K/2 + scales) with < 2% overhead in wasm memory, and frees them', () => {
    releaseScratch();
    const N = 256, K = 4096, G = 32;
    const rng = new Rng(1);
    const w = randomWeights(rng, N, K, G, true);
    const before = memoryStats();
    const m = pack(w);
    const after = memoryStats();
    const ideal = (N * K) / 2 + N * (K / G) * 4;
    expect(m.byteLength).toBe(ideal);
    expect(after.bytesInUse - before.bytesInUse).toBe(m.byteLength);
    expect(after.liveAllocations - before.liveAllocations).toBe(1);
    expect((after.bytesReserved - before.bytesReserved) / ideal).toBeLessThan(1.02);
    m.dispose();
    expect(memoryStats().bytesInUse).toBe(before.bytesInUse);
  });
});

describe('PackedInt4Matrix: bad input', () => {
  const q = new Int8Array(64), scales = new Float32Array(2).fill(1);
  it('rejects with typed errors naming the argument', () => {
    const bad = (f: () => unknown, arg: RegExp) => expect(f).toThrow(arg);
    bad(() => PackedInt4Matrix.from(q, 1, 64, { groupSize: 48, scales, signed: true }), /groupSize/);
    bad(() => PackedInt4Matrix.from(q, 1, 64, { groupSize: 16, scales, signed: true }), /groupSize/);
    bad(() => PackedInt4Matrix.from(q, 1, 64, { groupSize: 32, scales: new Float32Array(3), signed: true }), /scales/);
    bad(() => PackedInt4Matrix.from(q, 1, 64, { groupSize: 32, scales: new Float32Array([1, 0]), signed: true }), /scales/);
    bad(() => PackedInt4Matrix.from(q, 1, 64, { groupSize: 32, scales: new Float32Array([1, NaN]), signed: true }), /scales/);
    bad(() => PackedInt4Matrix.from(new Int8Array(64).fill(9), 1, 64, { groupSize: 32, scales, signed: true }), /q: value 9/);
    bad(() => PackedInt4Matrix.from(new Uint8Array(64).fill(16), 1, 64, { groupSize: 32, scales, signed: false }), /q: value 16/);
    bad(() => PackedInt4Matrix.from(new Uint8Array(64), 1, 64, { groupSize: 32, scales, signed: true }), /q: must be an Int8Array/);
    bad(() => PackedInt4Matrix.from(q, 1, 63, { groupSize: 32, scales, signed: true }), /q: has 64/);
    bad(() => PackedInt4Matrix.from(new Uint8Array(64), 1, 64, { groupSize: 32, scales, signed: false, zeroPoints: new Uint8Array([1, 16]) }), /zeroPoints/);
    bad(() => PackedInt4Matrix.from(q, 1, 64, { groupSize: 32, scales, signed: true, zeroPoints: new Uint8Array(2) }), /zeroPoints/);
    bad(() => PackedInt4Matrix.fromMatMulNBits(new Uint8Array(10), scales, 1, 64, 32), /B:/);
    bad(() => PackedInt4Matrix.quantize(new Float32Array([NaN, 1]), 1, 2, { groupSize: 32 }), /NaN/);
    for (const e of [InvalidArgumentError]) expect(() => PackedInt4Matrix.from(q, 1, 64, { groupSize: 48, scales, signed: true })).toThrow(e);
  });

  it('gemv rejects wrong activations, NaN, infinities in int8 mode, bad options, and use after dispose', () => {
    const m = PackedInt4Matrix.from(q, 1, 64, { groupSize: 32, scales, signed: true });
    expect(() => m.gemv(new Float32Array(63))).toThrow(/x: has 63/);
    expect(() => m.gemv(new Int8Array(64) as never)).toThrow(/x: must be a Float32Array/);
    const x = new Float32Array(64); x[5] = NaN;
    expect(() => m.gemv(x)).toThrow(NaNInputError);
    expect(() => m.gemv(x, undefined, { activations: 'float32' })).toThrow(NaNInputError);
    x[5] = Infinity;
    expect(() => m.gemv(x)).toThrow(/Infinity at index 5/);
    expect(m.gemv(x, undefined, { activations: 'float32' })[0]).toBeNaN(); // 0·∞ in float: propagated, not hidden
    expect(() => m.gemv(new Float32Array(64), undefined, { activations: 'int16' as never })).toThrow(/activations/);
    expect(() => m.gemv(new Float32Array(64), new Float32Array(2))).toThrow(/out/);
    expect(() => m.gemm(new Float32Array(64), 2)).toThrow(/X: has 64/);
    m.dispose();
    expect(() => m.gemv(new Float32Array(64))).toThrow(DisposedError);
    expect(() => m.dispose()).toThrow(DisposedError);
  });
});
