/**
 * Start-up self-test of the relaxed-SIMD build against the baseline build (the reference).
 *
 * Relaxed SIMD lets engines differ in corner cases, and some engine versions have miscompiled
 * relaxed dot products, so the relaxed build is used only when its int4 kernels reproduce the
 * baseline bit for bit here: random packed weights (every byte pattern is a valid nibble pair),
 * random activations including extreme codes, group sizes 32–256, symmetric and asymmetric,
 * GEMV and GEMM, repeated so the optimising tier compiles them too. Returns undefined on
 * success, else what differed.
 */
import type { KernelExports } from './abi.js';
import type { WasmMemory } from './memory.js';

const REPEAT = 40; // enough calls for V8 to tier the kernels up to TurboFan

export function relaxedSelfTest(relaxed: KernelExports, baseline: KernelExports, mem: WasmMemory): string | undefined {
  let seed = 0x9e3779b9;
  const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const N = 8, K = 512, M = 3;
  const blocks: number[] = [];
  try {
    for (const G of [32, 128, 256]) {
      for (const asym of [false, true]) {
        const groups = K / G, groupBytes = 2 * G + (asym ? 32 : 16), packedBytes = (N / 4) * groups * groupBytes;
        const take = (n: number) => { const o = mem.alloc(n); blocks.push(o); return o; };
        // one packed copy per build: the relaxed layout stores nibble bits 0–3 and 12–15 of every
        // int16 lane offset-binary (the baseline's top nibble two's complement: XOR 0x8000)
        const packedB = take(packedBytes), packedR = take(packedBytes), x = take(4 * K * M);
        const act = [take(2 * K * M), take(2 * K * M)], g = [0, 1].map(() => [take(16 * groups * M), take(4 * groups * M), take(16 * groups * M)]);
        const out = [take(4 * N * M), take(4 * N * M), take(4 * N * M)], tmp = take((G / 32) * 256 + 16 * M);
        const bytes = mem.bytes(packedB, packedBytes), f = mem.f32(packedB, packedBytes >> 2);
        for (let i = 0; i < packedBytes; i++) bytes[i] = (rand() * 256) | 0;
        for (let p = 0; p < N / 4; p++) for (let gi = 0; gi < groups; gi++) {
          const s = (p * groups + gi) * groupBytes + 2 * G;
          for (let r = 0; r < (asym ? 8 : 4); r++) f[(s >> 2) + r] = (0.5 + rand()) / 4096;
        }
        const bytesR = mem.bytes(packedR, packedBytes);
        bytesR.set(bytes);
        for (let p = 0; p < N / 4; p++) for (let gi = 0; gi < groups; gi++) {
          const s = (p * groups + gi) * groupBytes;
          for (let i = 0; i < 2 * G; i += 2) bytesR[s + i + 1] ^= 0x80;
        }
        const xs = mem.f32(x, K * M);
        for (let i = 0; i < K * M; i++) xs[i] = i % 97 === 0 ? (i & 1 ? 50 : -50) : 2 * rand() - 1; // extremes → codes ±127
        const builds = [baseline, relaxed];
        for (let b = 0; b < 2; b++) {
          const k = builds[b]!, [s, c, z] = g[b]!, packed = b === 0 ? packedB : packedR;
          for (let t = 0; t < M; t++) {
            k.q4_act_quantize(x + 4 * K * t, K, G, act[b]! + 2 * K * t, s + 16 * groups * t, c + 4 * groups * t, z + 16 * groups * t);
          }
          const gemv = asym ? k.q4_gemv_4x32__asym : k.q4_gemv_4x32__sym;
          for (let rep = 0; rep < (b === 1 ? REPEAT : 1); rep++) gemv(packed, act[b]!, s, c, z, out[b]!, N, K, G);
          if (b === 1) {
            (asym ? k.q4_gemm_4x32__asym : k.q4_gemm_4x32__sym)(packed, act[b]!, s, c, z, out[2]!, M, N, K, G, tmp);
          }
        }
        const want = new Uint32Array(mem.memory.buffer, out[0]!, N).slice();
        const got = new Uint32Array(mem.memory.buffer, out[1]!, N);
        for (let i = 0; i < N; i++) if (got[i] !== want[i]) return `GEMV G=${G}${asym ? ' asymmetric' : ''} output ${i} differs`;
        const gemm = new Uint32Array(mem.memory.buffer, out[2]!, N);
        for (let i = 0; i < N; i++) if (gemm[i] !== want[i]) return `GEMM G=${G}${asym ? ' asymmetric' : ''} output ${i} differs from the GEMV`;
        for (const o of blocks.splice(0)) mem.release(o);
      }
    }
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    for (const o of blocks) mem.release(o);
  }
}
