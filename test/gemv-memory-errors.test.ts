/** Packed matrices' memory cost (asserted against memoryStats) and typed errors for bad input. */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, memoryStats, matmulInteger, PackedInt8Matrix, QuantizedLinear, DisposedError, InvalidArgumentError,
} from '../src/index.js';
import { releaseScratch } from '../src/ops/scratch.js';
import { int8LayoutOf } from '../src/ops/layouts.js';
import { backend } from '../src/runtime/wasm.js';
import { Rng } from '../src/data/random.js';

beforeAll(async () => { await init(); });

describe('memory', () => {
  it('a packed matrix costs its packed bytes (N·K + 4N) with < 2 % overhead, and frees them all', () => {
    const rng = new Rng(1);
    for (const [N, K] of [[1024, 1024], [4096, 1000], [512, 4099]] as const) {
      releaseScratch();
      const w = rng.int8Array(N * K);
      const before = memoryStats();
      const W = PackedInt8Matrix.from(w, N, K, { bias: new Int32Array(N) });
      const after = memoryStats();
      const ideal = N * K + 4 * N; // weights + int32 bias
      expect(after.bytesInUse - before.bytesInUse).toBe(W.byteLength);
      expect(after.liveAllocations - before.liveAllocations).toBe(1);
      expect(W.byteLength).toBeGreaterThanOrEqual(ideal);
      expect(W.byteLength / ideal).toBeLessThan(1.02);
      expect((after.bytesReserved - before.bytesReserved) / ideal).toBeLessThan(1.02);
      W.dispose();
      const end = memoryStats();
      expect(end.bytesInUse).toBe(before.bytesInUse);
      expect(end.liveAllocations).toBe(before.liveAllocations);
    }
  });

  it('QuantizedLinear keeps only int8 weights + 12 bytes per channel (no float copy of W)', () => {
    const rng = new Rng(2);
    const N = 1024, K = 2048;
    releaseScratch();
    const before = memoryStats();
    const lin = QuantizedLinear.fromFloat32(rng.gaussianArray(N * K), N, K, { weightType: 'int8', bias: rng.gaussianArray(N) });
    const grew = memoryStats().bytesInUse - before.bytesInUse;
    expect(grew).toBe(lin.byteLength);
    // int8 W + int32 bias + f32 scales + f32 bias (+ the dot-add layout's second int32 bias)
    expect(lin.byteLength).toBe(N * K + (int8LayoutOf(backend()) === '4x4' ? 16 : 12) * N);
    expect(lin.byteLength).toBeLessThan(N * K * 4 * 0.26); // ≈ a quarter of the float32 weights
    lin.dispose();
    expect(memoryStats().bytesInUse).toBe(before.bytesInUse);
  });

  it('gemv/gemm reuse one scratch block: repeated calls do not grow memory', () => {
    const rng = new Rng(3);
    using W = PackedInt8Matrix.from(rng.int8Array(300 * 200), 300, 200);
    const x = rng.int8Array(200), X = rng.int8Array(4 * 200);
    W.gemv(x); W.gemm(X, 4);
    const s = memoryStats();
    for (let i = 0; i < 200; i++) { W.gemv(x); W.gemm(X, 4); }
    const t = memoryStats();
    expect(t.bytesInUse).toBe(s.bytesInUse);
    expect(t.liveAllocations).toBe(s.liveAllocations);
    expect(t.wasmMemoryBytes).toBe(s.wasmMemoryBytes);
  });
});

describe('typed errors for bad input', () => {
  const rng = new Rng(4);
  const w = rng.int8Array(6 * 10);

  it('weights: wrong type, length ≠ N·K, bad dimensions', () => {
    expect(() => PackedInt8Matrix.from(new Float32Array(60) as unknown as Int8Array, 6, 10)).toThrow(InvalidArgumentError);
    expect(() => PackedInt8Matrix.from(Array.from(w) as unknown as Int8Array, 6, 10)).toThrow(/w: must be an Int8Array or Uint8Array, got Array/);
    expect(() => PackedInt8Matrix.from(w, 6, 11)).toThrow(/w: has 60 elements but N·K = 6·11 = 66/);
    expect(() => PackedInt8Matrix.from(w, 0, 10)).toThrow(/N: must be an integer/);
    expect(() => PackedInt8Matrix.from(w, 6.5, 10)).toThrow(InvalidArgumentError);
  });

  it('zero points out of range, bias of the wrong type or length', () => {
    expect(() => PackedInt8Matrix.from(w, 6, 10, { zeroPoint: 128 })).toThrow(/zeroPoint: must be an integer in \[-128, 127\]/);
    expect(() => PackedInt8Matrix.from(new Uint8Array(60), 6, 10, { zeroPoint: -1 })).toThrow(/zeroPoint: must be an integer in \[0, 255\]/);
    expect(() => PackedInt8Matrix.from(w, 6, 10, { xZeroPoint: 256 })).toThrow(/xZeroPoint/);
    expect(() => PackedInt8Matrix.from(w, 6, 10, { zeroPoint: 1.5 })).toThrow(InvalidArgumentError);
    expect(() => PackedInt8Matrix.from(w, 6, 10, { bias: new Int32Array(5) })).toThrow(/bias: has 5 elements/);
    expect(() => PackedInt8Matrix.from(w, 6, 10, { bias: new Float32Array(6) as unknown as Int32Array })).toThrow(/bias: must be an Int32Array/);
    // a failed pack leaks nothing
    const before = memoryStats().bytesInUse;
    expect(() => PackedInt8Matrix.from(w, 6, 10, { zeroPoint: 999 })).toThrow();
    expect(memoryStats().bytesInUse).toBe(before);
  });

  it('activations: wrong length, M·K mismatch, type vs xZeroPoint, out buffer', () => {
    using W = PackedInt8Matrix.from(w, 6, 10, { xZeroPoint: 200 });
    expect(() => W.gemv(new Uint8Array(9))).toThrow(/x: has 9 elements but K = 10 needs 10/);
    expect(() => W.gemm(new Uint8Array(25), 3)).toThrow(/X: has 25 elements but M·K = 3·10 needs 30/);
    expect(() => W.gemm(new Uint8Array(30), 0)).toThrow(/M: must be an integer/);
    expect(() => W.gemv(new Int8Array(10))).toThrow(/x: is int8 but the matrix was packed with xZeroPoint 200/);
    expect(() => W.gemv(new Uint8Array(10), new Int32Array(5))).toThrow(/out: has 5 elements, needs 6/);
    expect(() => W.gemv(new Uint8Array(10), new Float32Array(6) as unknown as Int32Array)).toThrow(/out: must be an Int32Array of length 6/);
    const out = new Int32Array(6);
    expect(W.gemv(new Uint8Array(10), out)).toBe(out);
  });

  it('a disposed matrix throws DisposedError; dispose twice throws; using disposes', () => {
    const W = PackedInt8Matrix.from(w, 6, 10);
    W.dispose();
    expect(W.disposed).toBe(true);
    expect(() => W.gemv(new Int8Array(10))).toThrow(DisposedError);
    expect(() => W.gemm(new Int8Array(20), 2)).toThrow(DisposedError);
    expect(() => W.dispose()).toThrow(DisposedError);
    let V: PackedInt8Matrix;
    { using U = PackedInt8Matrix.from(w, 6, 10); V = U; }
    expect(V.disposed).toBe(true);
    const lin = QuantizedLinear.fromFloat32(new Float32Array(60), 6, 10, { weightType: 'int8' });
    lin.dispose();
    expect(() => lin.forward(new Float32Array(10))).toThrow(DisposedError);
  });

  it('matmulInteger: lengths, zero points, types', () => {
    const A = rng.uint8Array(12), B = rng.int8Array(15);
    expect(matmulInteger(A, B, 4, 3, 5).length).toBe(20);
    expect(() => matmulInteger(A, B, 4, 3, 6)).toThrow(/B: has 15 elements but K·N = 3·6 = 18/);
    expect(() => matmulInteger(A, B, 3, 3, 5)).toThrow(/A: has 12 elements but M·K/);
    expect(() => matmulInteger(A, B, 4, 3, 5, { aZeroPoint: -3 })).toThrow(/aZeroPoint: must be an integer in \[0, 255\]/);
    expect(() => matmulInteger(A, B, 4, 3, 5, { bZeroPoint: 300 })).toThrow(/bZeroPoint/);
    expect(() => matmulInteger(new Int16Array(12) as unknown as Int8Array, B, 4, 3, 5)).toThrow(/A: must be an Int8Array or Uint8Array, got Int16Array/);
  });

  it('QuantizedLinear: wrong types and lengths', () => {
    expect(() => QuantizedLinear.fromFloat32(new Float64Array(60) as unknown as Float32Array, 6, 10, { weightType: 'int8' })).toThrow(/w: must be a Float32Array/);
    expect(() => QuantizedLinear.fromFloat32(new Float32Array(59), 6, 10, { weightType: 'int8' })).toThrow(/w: has 59 elements/);
    expect(() => QuantizedLinear.fromFloat32(new Float32Array(60), 6, 10, { weightType: 'int8', bias: new Float32Array(5) })).toThrow(/bias/);
    using lin = QuantizedLinear.fromFloat32(new Float32Array(60), 6, 10, { weightType: 'int8' });
    expect(() => lin.forward(new Float32Array(9))).toThrow(/x: has 9 elements/);
    expect(() => lin.forward(new Float32Array(10), new Float32Array(7))).toThrow(/out: has 7 elements, needs 6/);
  });
});
