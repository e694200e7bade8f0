import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, memoryStats, setMemoryBudget, Tensor, DisposedError, MemoryBudgetError, InvalidArgumentError,
} from '../src/index.js';
import { rt } from '../src/runtime/wasm.js';
import { ALIGN, TAIL_PAD } from '../src/runtime/memory.js';

beforeAll(async () => { await init(); });

describe('memory manager', () => {
  it('init is idempotent and returns the same runtime', async () => {
    const a = await init();
    const b = await init();
    expect(a).toBe(b);
  });

  it('aligns every block and leaves tail padding for SIMD over-reads', () => {
    const mem = rt().mem;
    const offs = [1, 15, 16, 17, 63, 64, 65, 1000].map((n) => [n, mem.alloc(n)] as const);
    for (const [, o] of offs) expect(o % ALIGN).toBe(0);
    const sorted = [...offs].sort((a, b) => a[1] - b[1]);
    for (let i = 1; i < sorted.length; i++) {
      const [n, o] = sorted[i - 1]!;
      expect(sorted[i]![1] - o).toBeGreaterThanOrEqual(n + TAIL_PAD);
    }
    for (const [, o] of offs) mem.release(o);
  });

  it('100k allocate/free cycles end with no growth in bytes in use or memory', () => {
    const before = memoryStats();
    const mem = rt().mem;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const live: number[] = [];
    for (let i = 0; i < 100_000; i++) {
      if (live.length > 0 && (rand() < 0.5 || live.length > 64)) {
        const j = Math.floor(rand() * live.length);
        mem.release(live[j]!);
        live[j] = live[live.length - 1]!; live.pop();
      } else {
        live.push(mem.alloc(1 + Math.floor(rand() * 4096)));
      }
    }
    for (const o of live) mem.release(o);
    const after = memoryStats();
    expect(after.bytesInUse).toBe(before.bytesInUse);
    expect(after.liveAllocations).toBe(before.liveAllocations);
    // fragmentation bounded: 64 live blocks of ≤ 4 KiB never need more than a few hundred KiB
    expect(after.wasmMemoryBytes - before.wasmMemoryBytes).toBeLessThanOrEqual(1 << 20);
  });

  it('copies out by default; a live view survives memory growth', () => {
    const t = Tensor.from(new Float32Array([1, 2, 3, 4]));
    const copy = t.toArray() as Float32Array;
    const view = t.view();
    const raw = view.array;
    const growsBefore = memoryStats().growCount;
    const big = Tensor.empty('uint8', [memoryStats().wasmMemoryBytes + 65536]); // forces growth
    expect(memoryStats().growCount).toBeGreaterThan(growsBefore);
    // Shared memory never detaches: the raw typed array still covers the same 4 floats and sees
    // writes, but its buffer is the pre-growth SharedArrayBuffer (it cannot reach the new bytes)…
    expect(raw.length).toBe(4);
    expect(raw.buffer).not.toBe(rt().mem.memory.buffer);
    expect((raw.buffer as SharedArrayBuffer).byteLength).toBeLessThan(rt().mem.memory.buffer.byteLength);
    expect(Array.from(view.array)).toEqual([1, 2, 3, 4]); // …the live view re-derives over the grown buffer
    expect(view.array.buffer).toBe(rt().mem.memory.buffer);
    view.set(0, 9);
    expect(raw[0]).toBe(9); // same bytes through both
    expect(Array.from(t.toArray())).toEqual([9, 2, 3, 4]);
    // a view over bytes past the old end only works on the grown buffer
    const end = big.byteOffset + big.byteLength - 1;
    expect(() => new Uint8Array(raw.buffer, end, 1)).toThrow(RangeError);
    expect(new Uint8Array(rt().mem.memory.buffer, end, 1)[0]).toBe(0);
    expect(Array.from(copy)).toEqual([1, 2, 3, 4]);
    big.dispose();
    t.dispose();
  });

  it('use after dispose and double dispose throw DisposedError; `using` frees', () => {
    const t = Tensor.from(new Int8Array([1, 2, 3]));
    const v = t.view();
    t.dispose();
    expect(() => t.dispose()).toThrow(DisposedError);
    expect(() => t.toArray()).toThrow(DisposedError);
    expect(() => t.byteOffset).toThrow(DisposedError);
    expect(() => v.array).toThrow(DisposedError);
    const live = memoryStats().liveAllocations;
    {
      using u = Tensor.from(new Int32Array(10));
      expect(memoryStats().liveAllocations).toBe(live + 1);
      expect(u.size).toBe(10);
    }
    expect(memoryStats().liveAllocations).toBe(live);
  });

  it('a budget overrun throws MemoryBudgetError and leaves live tensors intact', () => {
    const keep = Tensor.from(new Float32Array([3.5, -1, 7]));
    const inUse = memoryStats().bytesInUse;
    setMemoryBudget(inUse + 4096);
    try {
      expect(() => Tensor.empty('float32', [2048])).toThrow(MemoryBudgetError);
      expect(memoryStats().bytesInUse).toBe(inUse);
      const small = Tensor.empty('float32', [100]); // still fits
      small.dispose();
      expect(Array.from(keep.toArray())).toEqual([3.5, -1, 7]);
    } finally {
      setMemoryBudget(Infinity);
      keep.dispose();
    }
  });

  it('rejects bad shapes, dtypes and data with InvalidArgumentError', () => {
    expect(() => Tensor.from(new Float32Array(3), [2, 2])).toThrow(InvalidArgumentError);
    expect(() => Tensor.empty('float64' as never, [2])).toThrow(/dtype/);
    expect(() => Tensor.empty('int8', [-1])).toThrow(/shape/);
    const t = Tensor.empty('int8', [2]);
    expect(() => t.write(new Uint8Array(2))).toThrow(/Int8Array/);
    t.dispose();
  });

  it('reports stats: bytes, peak, live tensors, wasm memory size', () => {
    const s0 = memoryStats();
    const t = Tensor.empty('int8', [1000]);
    const s1 = memoryStats();
    expect(s1.bytesInUse - s0.bytesInUse).toBe(1000);
    expect(s1.liveAllocations - s0.liveAllocations).toBe(1);
    expect(s1.peakBytesInUse).toBeGreaterThanOrEqual(s1.bytesInUse);
    expect(s1.wasmMemoryBytes % 65536).toBe(0);
    t.dispose();
  });
});
