/**
 * The unshared form of each build (src/runtime/unshared.ts): one byte differs — the `shared` bit
 * of the memory import — so it links to an unshared WebAssembly.Memory (a page that is not
 * cross-origin isolated) and no longer to a shared one; the exports are the same. And the whole
 * runtime on an unshared memory (INTQUANT_SHARED_MEMORY=0, in a fresh process): one thread, more
 * refused with the reason, growth detaches old buffers, results equal the shared runtime's.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { unsharedMemoryBuild } from '../src/runtime/unshared.js';
import { kernelImports } from '../src/runtime/imports.js';
import { IntquantError } from '../src/errors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const FILES = ['intquant.wasm', 'intquant-relaxed.wasm', 'intquant-dotadd.wasm'];
const read = (f: string) => new Uint8Array(readFileSync(`${root}/build/${f}`));
const memory = (shared: boolean) => new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });

describe('unsharedMemoryBuild', () => {
  for (const file of FILES) {
    it(`${file}: one byte differs, the shared bit of the memory import`, () => {
      const bytes = read(file);
      const copy = bytes.slice();
      const out = unsharedMemoryBuild(bytes);
      expect(bytes).toEqual(copy); // the input is untouched
      expect(out.length).toBe(bytes.length);
      const diff: number[] = [];
      for (let i = 0; i < out.length; i++) if (out[i] !== bytes[i]) diff.push(i);
      expect(diff).toHaveLength(1);
      expect([bytes[diff[0]!], out[diff[0]!]]).toEqual([0x03, 0x01]); // limits: max + shared → max
      expect(WebAssembly.validate(out)).toBe(WebAssembly.validate(bytes));
    });
  }

  it('the baseline links to an unshared memory only in its unshared form, with the same exports, and computes the same', async () => {
    const bytes = read('intquant.wasm');
    const shared = await WebAssembly.compile(bytes), unshared = await WebAssembly.compile(unsharedMemoryBuild(bytes));
    expect(() => new WebAssembly.Instance(shared, kernelImports(memory(false)))).toThrow(WebAssembly.LinkError);
    expect(() => new WebAssembly.Instance(unshared, kernelImports(memory(true)))).toThrow(WebAssembly.LinkError);
    expect(WebAssembly.Module.exports(unshared)).toEqual(WebAssembly.Module.exports(shared));
    const run = (module: WebAssembly.Module, mem: WebAssembly.Memory) => {
      const k = new WebAssembly.Instance(module, kernelImports(mem)).exports as unknown as { minmax_f32(x: number, n: number, out: number): number };
      const x = new Float32Array(mem.buffer, 64, 1000);
      for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37) * (i % 17);
      k.minmax_f32(64, 1000, 8192);
      return Array.from(new Float32Array(mem.buffer, 8192, 2));
    };
    expect(run(unshared, memory(false))).toEqual(run(shared, memory(true)));
  });

  it('refuses what it cannot rewrite, saying why', () => {
    const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const fail = (bytes: number[]) => () => unsharedMemoryBuild(new Uint8Array(bytes));
    expect(fail([1, 2, 3, 4, 5, 6, 7, 8])).toThrow(/not a wasm module/);
    expect(fail(header)).toThrow(/imports no memory/);
    // (import "env" "memory" (memory 1 2)): already unshared
    const imp = [0x01, 0x03, ...'env'.split('').map((c) => c.charCodeAt(0)), 0x06, ...'memory'.split('').map((c) => c.charCodeAt(0)), 0x02, 0x01, 0x01, 0x02];
    expect(fail([...header, 0x02, imp.length, ...imp])).toThrow(/memory import is not shared/);
    expect(fail([...header, 0x02, 0x05, 0x01, 0x03])).toThrow(IntquantError);
  });
});

describe('the runtime on an unshared memory (INTQUANT_SHARED_MEMORY=0)', () => {
  const child = (env: Record<string, string>) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { init, threads, setThreads, PackedInt8Matrix, PackedInt4Matrix, Tensor } from './src/index.ts';
    import { rt } from './src/runtime/wasm.ts';
    const r = await init();
    const kind = Object.prototype.toString.call(rt().mem.memory.buffer);
    let refused = null;
    try { await setThreads(2); } catch (e) { refused = [e.code, e.message]; }
    const t = Tensor.from(new Float32Array([1, 2, 3, 4])), raw = t.view().array;
    let s = 7; const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const N = 512, K = 4096, w = Int8Array.from({ length: N * K }, () => (rnd() * 256 | 0) - 128), x = Int8Array.from({ length: K }, () => (rnd() * 256 | 0) - 128);
    const acc = PackedInt8Matrix.from(w, N, K).gemv(x); // allocates past the first pages: the memory grows
    const wf = Float32Array.from({ length: N * K }, () => rnd() - 0.5), xf = Float32Array.from({ length: K }, () => rnd() - 0.5);
    const y4 = PackedInt4Matrix.quantize(wf, N, K, { groupSize: 32, method: 'minmax' }).gemv(xf);
    console.log(JSON.stringify({ kind, threads: threads(), why: r.sharedMemoryUnavailable ?? null, refused, grew: rt().mem.stats().growCount,
      rawLength: raw.length, viewAgain: Array.from(t.view().array), acc: Array.from(acc), y4: Array.from(new Uint32Array(y4.buffer, y4.byteOffset, y4.length)) }));
  `], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, INTQUANT_BACKEND: 'simd128', INTQUANT_THREADS: '', ...env } }).trim().split('\n').pop()!);

  it('one thread, more refused with the reason; a grown memory detaches old views; the same results as on shared memory', () => {
    const unshared = child({ INTQUANT_SHARED_MEMORY: '0' });
    const shared = child({ INTQUANT_SHARED_MEMORY: '1', INTQUANT_THREADS: '2' });
    expect(unshared.kind).toBe('[object ArrayBuffer]');
    expect(unshared.threads).toBe(1);
    expect(unshared.why).toMatch(/INTQUANT_SHARED_MEMORY=0/);
    expect(unshared.refused[0]).toBe('IQ_THREADS_UNAVAILABLE');
    expect(unshared.refused[1]).toMatch(/2 threads need a WebAssembly.Memory shared with workers.*INTQUANT_SHARED_MEMORY=0.*use 1 thread/);
    expect(unshared.grew).toBeGreaterThan(0);
    expect(unshared.rawLength).toBe(0); // the view taken before growth sits on a detached buffer
    expect(unshared.viewAgain).toEqual([1, 2, 3, 4]); // tensor.view() re-derives it
    expect(shared.kind).toBe('[object SharedArrayBuffer]');
    expect(shared.threads).toBe(2);
    expect(shared.rawLength).toBe(4);
    expect(unshared.acc).toEqual(shared.acc);
    expect(unshared.y4).toEqual(shared.y4);
  });

  it('INTQUANT_SHARED_MEMORY other than 0 or 1 is an error naming it', () => {
    expect(() => child({ INTQUANT_SHARED_MEMORY: 'no' })).toThrow(/INTQUANT_SHARED_MEMORY: must be 1 or 0, got 'no'/);
  });
});
