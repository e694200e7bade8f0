/**
 * The pool's failure rules (docs/threads.md): a lost worker or a kernel failure makes the call
 * throw ThreadError within bounded time and the pool recovers; re-entry and dispose during a call
 * are refused with BusyError; options are validated; memory stays exact (1e4 calls leak nothing,
 * growth is seen by every thread); an idle pool never keeps the process alive.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  BusyError, init, InvalidArgumentError, memoryStats, PackedInt8Matrix, setThreads, Tensor, ThreadError, threads,
} from '../src/index.js';
import { rt } from '../src/runtime/wasm.js';
import { DEFAULT_MIN_SHARE_BYTES, setMinShareBytes } from '../src/runtime/parallel.js';
import { releaseScratch } from '../src/ops/scratch.js';
import { refGemvInt8 } from '../src/reference/gemv.js';
import { Rng } from '../src/data/random.js';

const rng = new Rng(21);
const N = 64, K = 256;
let w: Int8Array, x: Int8Array, want: Int32Array, m: PackedInt8Matrix;

beforeAll(async () => {
  await init();
  await setThreads(3);
  setMinShareBytes(0);
  w = rng.int8Array(N * K);
  x = rng.int8Array(K);
  want = refGemvInt8(w, N, K, x);
  m = PackedInt8Matrix.from(w, N, K);
});
afterEach(() => {
  const pool = rt().pool;
  pool.afterDispatch = undefined;
  pool.setTimeouts({});
});
afterAll(async () => {
  m.dispose();
  setMinShareBytes(undefined);
  await setThreads(2);
});

/** Time a call that must throw; returns the error and the milliseconds it took. */
function timedThrow(fn: () => unknown): { error: unknown; ms: number } {
  const t0 = performance.now();
  try { fn(); } catch (error) { return { error, ms: performance.now() - t0 }; }
  throw new Error('expected the call to throw');
}

describe('options', () => {
  it('threads, INTQUANT_THREADS and setThreads reject bad counts by name', async () => {
    for (const bad of [0, -1, 1.5, 257, NaN, '3' as unknown as number]) {
      await expect(init({ threads: bad })).rejects.toThrow(InvalidArgumentError);
      await expect(init({ threads: bad })).rejects.toMatchObject({ argument: 'threads' });
      expect(() => setThreads(bad)).toThrow(InvalidArgumentError);
    }
    const saved = process.env.INTQUANT_THREADS;
    try {
      for (const bad of ['0', 'two', '1.5', '-2']) {
        process.env.INTQUANT_THREADS = bad;
        await expect(init()).rejects.toMatchObject({ argument: 'INTQUANT_THREADS' });
      }
      process.env.INTQUANT_THREADS = '3';
      await init();
      expect(threads()).toBe(3);
    } finally {
      if (saved === undefined) delete process.env.INTQUANT_THREADS; else process.env.INTQUANT_THREADS = saved;
    }
  });

  it('setThreads within the pool starts nothing; beyond it starts workers; init({ threads }) later changes the count', async () => {
    const pool = rt().pool;
    const size = pool.size;
    await setThreads(1);
    expect(threads()).toBe(1);
    expect(m.gemv(x)).toEqual(want);
    await setThreads(2);
    expect(pool.size).toBe(size);
    await init({ threads: 5 });
    expect(threads()).toBe(5);
    expect(pool.size).toBe(4);
    expect(pool.available()).toBe(5);
    expect(m.gemv(x)).toEqual(want);
    await setThreads(3);
    expect(pool.size).toBe(4);
  });

  it('small problems stay on the calling thread at the default threshold; large ones use every thread', () => {
    setMinShareBytes(undefined);
    try {
      expect(DEFAULT_MIN_SHARE_BYTES).toBeGreaterThan(0);
      expect(m.shares(1)).toBe(1);
      const m1024 = PackedInt8Matrix.from(new Int8Array(1024 * 1024), 1024, 1024);
      expect(m1024.shares(1)).toBe(1); // 1024² stays on the calling thread
      m1024.dispose();
      const big = PackedInt8Matrix.from(new Int8Array(2048 * 2048), 2048, 2048);
      expect(big.shares(1)).toBe(3);
      big.dispose();
    } finally {
      setMinShareBytes(0);
    }
  });
});

describe('failures are bounded and the pool recovers', () => {
  it('a worker terminated mid-call: ThreadError IQ_THREAD_LOST at once; the next call is exact; tensors survive', async () => {
    const pool = rt().pool;
    const t = Tensor.from(new Float32Array([1, 2, 3]));
    pool.afterDispatch = (p) => p.terminateWorker(1);
    const { error, ms } = timedThrow(() => m.gemv(x));
    pool.afterDispatch = undefined;
    expect(error).toBeInstanceOf(ThreadError);
    expect(error).toMatchObject({ code: 'IQ_THREAD_LOST', thread: 1 });
    expect(ms).toBeLessThan(1000);
    expect(m.gemv(x)).toEqual(want); // runs on the threads that are up
    await pool.ready();
    expect(pool.available()).toBe(3);
    expect(m.gemv(x)).toEqual(want);
    expect(Array.from(t.toArray())).toEqual([1, 2, 3]);
    t.dispose();
  });

  it('a worker that stops answering: ThreadError within the deadline, then recovery', async () => {
    const pool = rt().pool;
    pool.setTimeouts({ ackMs: 300, graceMs: 300 });
    const { error, ms } = timedThrow(() => pool.run([[], [{ fn: '__sleep', args: [60_000] }]]));
    expect(error).toMatchObject({ code: 'IQ_THREAD_LOST', thread: 1 });
    expect((error as Error).message).toMatch(/did not finish its share/);
    expect(ms).toBeLessThan(3000);
    await pool.ready();
    expect(m.gemv(x)).toEqual(want);
  });

  it('a worker that exits during its share: ThreadError IQ_THREAD_LOST, then recovery', async () => {
    const pool = rt().pool;
    const { error, ms } = timedThrow(() => pool.run([[], [{ fn: '__exit', args: [] }]]));
    expect(error).toMatchObject({ code: 'IQ_THREAD_LOST', thread: 1 });
    expect(ms).toBeLessThan(2500);
    await pool.ready();
    expect(pool.available()).toBe(3);
    expect(m.gemv(x)).toEqual(want);
  });

  it('a kernel that traps on a worker: ThreadError IQ_THREAD_FAILED naming the trap; the same workers go on', () => {
    const pool = rt().pool;
    const size = pool.size;
    const beyond = rt().mem.memory.buffer.byteLength + 4096;
    const data = Tensor.from(new Float32Array([3, -1, 2, 5])), out = Tensor.empty('float32', [2]);
    const ok = { fn: 'minmax_f32', args: [data.byteOffset, 4, out.byteOffset] };
    const { error } = timedThrow(() => pool.run([[ok], [ok], [{ fn: 'minmax_f32', args: [beyond, 64, beyond] }]]));
    expect(Array.from(out.toArray())).toEqual([-1, 5]);
    data.dispose();
    out.dispose();
    expect(error).toBeInstanceOf(ThreadError);
    expect(error).toMatchObject({ code: 'IQ_THREAD_FAILED', thread: 2 });
    expect((error as Error).message).toMatch(/out of bounds/);
    expect(pool.available()).toBe(3);
    expect(pool.size).toBe(size);
    expect(m.gemv(x)).toEqual(want);
  });

  it('blocks freed while a lost worker may still write are not reused until it has exited; stats stay exact', async () => {
    const pool = rt().pool;
    releaseScratch();
    const before = memoryStats();
    pool.afterDispatch = (p) => p.terminateWorker(2);
    expect(() => m.gemv(x)).toThrow(ThreadError);
    pool.afterDispatch = undefined;
    expect(rt().mem.holding).toBe(true);
    const held = memoryStats();
    expect(held.liveAllocations).toBe(before.liveAllocations); // the scratch was freed (into the hold)
    expect(held.bytesInUse).toBe(before.bytesInUse);
    await pool.ready();
    await new Promise((r) => setTimeout(r, 50));
    expect(rt().mem.holding).toBe(false);
    expect(m.gemv(x)).toEqual(want);
    releaseScratch();
    expect(memoryStats().bytesInUse).toBe(before.bytesInUse);
    expect(memoryStats().liveAllocations).toBe(before.liveAllocations);
  });
});

describe('one call at a time', () => {
  it('calls from two async contexts are serialised (each call is synchronous) and exact', async () => {
    const m2w = rng.int8Array(N * K), x2 = rng.int8Array(K);
    const m2 = PackedInt8Matrix.from(m2w, N, K);
    const want2 = refGemvInt8(m2w, N, K, x2);
    const worker = async (mat: PackedInt8Matrix, xi: Int8Array, ref: Int32Array) => {
      for (let i = 0; i < 200; i++) {
        expect(mat.gemv(xi)).toEqual(ref);
        if (i % 3 === 0) await Promise.resolve(); else await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all([worker(m, x, want), worker(m2, x2, want2)]);
    m2.dispose();
  });

  it('a call re-entered while one runs (from a callback) is refused with BusyError; the running call is unharmed', () => {
    const pool = rt().pool;
    let inner: unknown;
    pool.afterDispatch = () => { try { m.gemv(x); } catch (e) { inner = e; } };
    expect(m.gemv(x)).toEqual(want);
    expect(inner).toBeInstanceOf(BusyError);
  });

  it('disposing a matrix or tensor while a call runs is refused; both stay usable and dispose afterwards', () => {
    const pool = rt().pool;
    const m3 = PackedInt8Matrix.from(w, N, K);
    const t = Tensor.from(new Int8Array([1, 2]));
    const errors: unknown[] = [];
    pool.afterDispatch = () => {
      for (const d of [() => m3.dispose(), () => t.dispose()]) { try { d(); } catch (e) { errors.push(e); } }
    };
    expect(m3.gemv(x)).toEqual(want);
    pool.afterDispatch = undefined;
    expect(errors).toHaveLength(2);
    for (const e of errors) expect(e).toBeInstanceOf(BusyError);
    expect(m3.disposed).toBe(false);
    expect(m3.gemv(x)).toEqual(want);
    expect(Array.from(t.toArray())).toEqual([1, 2]);
    m3.dispose();
    t.dispose();
  });
});

describe('memory', () => {
  it('1e4 threaded calls leak nothing: bytes, allocations, wasm size and workers unchanged', () => {
    for (let i = 0; i < 100; i++) m.gemv(x);
    releaseScratch();
    const before = memoryStats();
    const size = rt().pool.size;
    const out = new Int32Array(N);
    for (let i = 0; i < 10_000; i++) m.gemv(x, out);
    expect(out).toEqual(want);
    releaseScratch();
    const after = memoryStats();
    expect(after.bytesInUse).toBe(before.bytesInUse);
    expect(after.liveAllocations).toBe(before.liveAllocations);
    expect(after.wasmMemoryBytes).toBe(before.wasmMemoryBytes);
    expect(rt().pool.size).toBe(size);
  });

  it('after growth the workers see the grown memory: a matrix packed past the old end is exact on every thread count', async () => {
    const old = rt().mem.memory.buffer;
    const raw = new Int8Array(old, m.byteOffset, 16);
    const first = Array.from(raw);
    const grows = memoryStats().growCount;
    const pad = Tensor.empty('uint8', [old.byteLength]); // forces growth
    expect(memoryStats().growCount).toBeGreaterThan(grows);
    const wb = rng.int8Array(200 * 4096), xb = rng.int8Array(4096);
    const big = PackedInt8Matrix.from(wb, 200, 4096);
    expect(big.byteOffset + big.byteLength).toBeGreaterThan(old.byteLength); // lies past the old end
    const ref = refGemvInt8(wb, 200, 4096, xb);
    for (const n of [1, 2, 3, 4]) {
      await setThreads(n);
      expect(big.gemv(xb)).toEqual(ref);
    }
    expect(Array.from(raw)).toEqual(first); // the pre-growth view still reads its bytes
    await setThreads(3);
    big.dispose();
    pad.dispose();
  });
});

describe('process lifetime', () => {
  it('a process with a pool exits by itself when its work is done (workers are unref()ed)', () => {
    const script = [
      "import { init, PackedInt8Matrix, threads } from './src/index.ts';",
      'await init({ threads: 3 });',
      'const m = PackedInt8Matrix.from(new Int8Array(4096 * 1024).fill(1), 4096, 1024);',
      "console.log('threads', threads(), m.gemv(new Int8Array(1024).fill(2))[0]);",
    ].join('\n');
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('threads 3 2048');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });
});
