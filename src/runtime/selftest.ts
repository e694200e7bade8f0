/**
 * Start-up self-test of a relaxed-SIMD build against the baseline build (the reference).
 *
 * Relaxed SIMD lets engines differ in corner cases, and some engine versions miscompile relaxed
 * dot products (V8 11.3's baseline tier, Node 20: `i32x4.relaxed_dot_i8x16_i7x16_add_s` ignores
 * its accumulator and doubles the sums), so a relaxed build is used only when its kernels
 * reproduce the baseline bit for bit here: random packed weights (every byte pattern is a valid
 * nibble pair or int8 weight) moved into the build's own layout, random activations including
 * extreme codes (±127, −128, 255), group sizes 32–256, symmetric and asymmetric, GEMV and GEMM,
 * the first call (baseline tier) and again after enough calls for V8 to tier the kernels up to
 * its optimising compiler. Returns undefined on success, else what differed.
 */
import type { KernelExports } from './abi.js';
import type { WasmMemory } from './memory.js';
import type { Backend } from './wasm.js';
import { int4ActBytes, int4LayoutOf, int8LayoutOf, int8Offset, int8PackedBytes, relayoutInt4, relayoutInt8 } from '../ops/layouts.js';

const REPEAT = 40; // enough calls for V8 to tier the kernels up to TurboFan

type Rand = () => number;

/** Words of memory as unsigned 32-bit values (float bit patterns compare exactly). */
const words = (mem: WasmMemory, offset: number, n: number) => new Uint32Array(mem.memory.buffer, offset, n).slice();

function firstDifference(a: Uint32Array, b: Uint32Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

export function buildSelfTest(candidate: KernelExports, baseline: KernelExports, mem: WasmMemory, backend: Backend): string | undefined {
  let seed = 0x9e3779b9;
  const rand: Rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const blocks: number[] = [];
  const take = (n: number) => { const o = mem.alloc(n); blocks.push(o); return o; };
  try {
    return int4SelfTest(candidate, baseline, mem, backend, rand, take) ?? (backend === 'relaxed-dotadd' ? int8SelfTest(candidate, baseline, mem, rand, take) : undefined);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    for (const o of blocks) mem.release(o);
  }
}

function int4SelfTest(candidate: KernelExports, baseline: KernelExports, mem: WasmMemory, backend: Backend, rand: Rand, take: (n: number) => number): string | undefined {
  const N = 8, K = 512, M = 3;
  const layout = int4LayoutOf(backend);
  for (const G of [32, 128, 256]) {
    for (const asym of [false, true]) {
      const groups = K / G, groupBytes = 2 * G + (asym ? 32 : 16), packedBytes = (N / 4) * groups * groupBytes;
      const packedB = take(packedBytes), packedC = take(packedBytes), x = take(4 * K * M);
      const stride = [2 * K, int4ActBytes(layout) * K]; // one token's activation codes, per build
      const act = [take(stride[0]! * M), take(stride[1]! * M)], g = [0, 1].map(() => [take(16 * groups * M), take(4 * groups * M), take(16 * groups * M)]);
      const out = [take(4 * N * M), take(4 * N * M), take(4 * N * M)], tmp = take((G / 32) * 256 + 16 * M);
      const bytes = mem.bytes(packedB, packedBytes), f = mem.f32(packedB, packedBytes >> 2);
      for (let i = 0; i < packedBytes; i++) bytes[i] = (rand() * 256) | 0;
      for (let p = 0; p < N / 4; p++) for (let gi = 0; gi < groups; gi++) {
        const s = (p * groups + gi) * groupBytes + 2 * G;
        for (let r = 0; r < (asym ? 8 : 4); r++) f[(s >> 2) + r] = (0.5 + rand()) / 4096;
      }
      mem.bytes(packedC, packedBytes).set(relayoutInt4(mem.bytes(packedB, packedBytes), 'simd128', layout, G, asym));
      const xs = mem.f32(x, K * M);
      for (let i = 0; i < K * M; i++) xs[i] = i % 97 === 0 ? (i & 1 ? 50 : -50) : 2 * rand() - 1; // extremes → codes ±127
      const builds = [baseline, candidate];
      for (let b = 0; b < 2; b++) {
        const k = builds[b]!, [s, c, z] = g[b]!;
        for (let t = 0; t < M; t++) {
          k.q4_act_quantize(x + 4 * K * t, K, G, act[b]! + stride[b]! * t, s + 16 * groups * t, c + 4 * groups * t, z + 16 * groups * t);
        }
        if (b === 0) { (asym ? k.q4_gemv_4x32__asym : k.q4_gemv_4x32__sym)(packedB, act[0]!, s, c, z, out[0]!, N, K, G); continue; }
        for (let rep = 0; rep < REPEAT; rep++) {
          if (layout === 'dotadd') (asym ? k.q4_gemv_4x8_dotadd__asym! : k.q4_gemv_4x8_dotadd__sym!)(packedC, act[1]!, s, c, z, out[1]!, N, K, G);
          else (asym ? k.q4_gemv_4x32__asym : k.q4_gemv_4x32__sym)(packedC, act[1]!, s, c, z, out[1]!, N, K, G);
          const at = firstDifference(words(mem, out[1]!, N), words(mem, out[0]!, N));
          if (at >= 0) return `int4 GEMV G=${G}${asym ? ' asymmetric' : ''} output ${at} differs (call ${rep + 1})`;
        }
        if (layout === 'dotadd') (asym ? k.q4_gemm_4x8_dotadd__asym! : k.q4_gemm_4x8_dotadd__sym!)(packedC, act[1]!, s, c, z, out[2]!, M, N, K, G);
        else (asym ? k.q4_gemm_4x32__asym : k.q4_gemm_4x32__sym)(packedC, act[1]!, s, c, z, out[2]!, M, N, K, G, tmp);
      }
      const at = firstDifference(words(mem, out[2]!, N), words(mem, out[0]!, N));
      if (at >= 0) return `int4 GEMM G=${G}${asym ? ' asymmetric' : ''} output ${at} differs from the GEMV`;
    }
  }
  return undefined;
}

/**
 * Whether the engine computes the dot-add's second operand as unsigned 8-bit (vpdpbusd, V8 ≥ 12
 * on AVX-VNNI CPUs) — relaxed SIMD leaves operands ≥ 128 implementation-defined (Node 22 on the
 * same CPU saturates instead): the int8 kernels' unsigned form against the baseline, full-range
 * operands, the first call and after tier-up. True only when every output matches.
 */
export function dotAddUnsignedProbe(candidate: KernelExports, baseline: KernelExports, mem: WasmMemory): boolean {
  let seed = 0x2545f491;
  const rand: Rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const blocks: number[] = [];
  const take = (n: number) => { const o = mem.alloc(n); blocks.push(o); return o; };
  try {
    return int8SelfTest(candidate, baseline, mem, rand, take, true) === undefined;
  } catch {
    return false;
  } finally {
    for (const o of blocks) mem.release(o);
  }
}

/** The dot-add build's int8 GEMV and GEMM (split form, or the unsigned one) against the baseline's, int8 and uint8 activations. */
function int8SelfTest(candidate: KernelExports, baseline: KernelExports, mem: WasmMemory, rand: Rand, take: (n: number) => number, unsigned = false): string | undefined {
  const N = 12, K = 100, Kp = 112, M = 3;
  const packedBytes = N * Kp + 4 * N, layout = int8LayoutOf('relaxed-dotadd');
  const packedB = take(packedBytes), packedC = take(int8PackedBytes(layout, N, Kp)), X = take(M * K), xw = take(2 * M * Kp);
  const outB = take(4 * M * N), outC = take(4 * M * N);
  const bytes = mem.bytes(packedB, packedBytes);
  for (let i = 0; i < packedBytes; i++) bytes[i] = (rand() * 256) | 0; // weights and bias' alike
  for (let n = 0; n < N; n++) for (let k = K; k < Kp; k++) bytes[int8Offset('4x2', n, k, Kp)] = 0; // pad k holds 0, as packed
  mem.bytes(packedC, int8PackedBytes(layout, N, Kp)).set(relayoutInt8(mem.bytes(packedB, packedBytes), '4x2', layout, N, Kp));
  const x = mem.bytes(X, M * K);
  for (let i = 0; i < M * K; i++) x[i] = i % 13 === 0 ? [0x80, 0x7F, 0xFF, 0x00][i % 4]! : (rand() * 256) | 0;
  for (const signed of [true, false]) {
    const wz = signed ? -3 : 5;
    (signed ? baseline.i8_gemv_4x2__xs8 : baseline.i8_gemv_4x2__xu8)(packedB, X, xw, outB, N, K, Kp, wz);
    const gemv = unsigned ? (signed ? candidate.i8_gemv_4x4_dotadd_u8__xs8! : candidate.i8_gemv_4x4_dotadd_u8__xu8!)
      : (signed ? candidate.i8_gemv_4x4_dotadd__xs8! : candidate.i8_gemv_4x4_dotadd__xu8!);
    const gemm = unsigned ? (signed ? candidate.i8_gemm_4x4_dotadd_u8__xs8! : candidate.i8_gemm_4x4_dotadd_u8__xu8!)
      : (signed ? candidate.i8_gemm_4x4_dotadd__xs8! : candidate.i8_gemm_4x4_dotadd__xu8!);
    for (let rep = 0; rep < REPEAT; rep++) {
      gemv(packedC, X, xw, outC, N, K, Kp, wz);
      const at = firstDifference(words(mem, outC, N), words(mem, outB, N));
      if (at >= 0) return `int8 GEMV (${signed ? 'int8' : 'uint8'} activations) output ${at} differs (call ${rep + 1})`;
    }
    (signed ? baseline.i8_gemm_4x2__xs8 : baseline.i8_gemm_4x2__xu8)(packedB, X, xw, outB, M, N, K, Kp, wz);
    gemm(packedC, X, xw, outC, M, N, K, Kp, wz);
    const at = firstDifference(words(mem, outC, M * N), words(mem, outB, M * N));
    if (at >= 0) return `int8 GEMM (${signed ? 'int8' : 'uint8'} activations) output ${at} differs`;
  }
  return undefined;
}
