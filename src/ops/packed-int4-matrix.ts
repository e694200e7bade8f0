/**
 * PackedInt4Matrix: int4 weights (N output rows × K) quantized in groups of `groupSize`
 * consecutive k, packed once into the q4 kernels' panel layout in wasm memory
 * (assembly/gemv/q4-gemv-4x32-simd.ts draws it byte by byte; docs/quantization.md eq. 40–44).
 *
 *   signed:   q ∈ [−8, 7], w ≈ s[n,g]·q, s ≠ 0 (its sign orients the grid, eq. 60)   (symmetric)
 *   unsigned: q ∈ [0, 15], w ≈ s[n,g]·(q − z[n,g]), z default 8  (asymmetric, as MatMulNBits)
 *
 * `quantize` picks the parameters from float weights without data: method 'minmax' (ggml Q4_0's
 * grid, eq. 60), 'mse' (the default: re-rounding and least-squares refits, eq. 62–66) or 'hqq'
 * (half-quadratic, eq. 67–68), src/calibrate/int4-groups.ts.
 *
 * Memory: one block of Np·Kp/2 + Np·groups·(4 or 8) bytes (Np = N rounded up to 4, Kp = K
 * rounded up to groupSize): the packed nibbles plus one float32 scale (and, when any zero point
 * differs from 8, one float32 zero-point term) per group. Nothing else stays alive. Ownership
 * as Tensor: dispose() / using, a FinalizationRegistry backstop, DisposedError after dispose.
 */
import { DisposedError, InvalidArgumentError, NaNInputError } from '../errors.js';
import type { WasmMemory } from '../runtime/memory.js';
import { currentBuild, rt } from '../runtime/wasm.js';
import { int4Method, quantizeInt4Runs, type Int4Method } from '../calibrate/int4-groups.js';
import { part, scratch } from './scratch.js';
import { runSharesOn, sharesFor, splitRange } from '../runtime/parallel.js';
import { assertDim, assertKnownOptions, assertLength, assertOut } from './validate.js';
import { int4ActBytes, int4LayoutOf, int4Slots } from './layouts.js';

export interface PackedInt4Options {
  /** Values per group along K: a power of two from 32 to 256. */
  groupSize: number;
  /**
   * One float32 scale per group, N × ceil(K / groupSize), row-major; finite and ≠ 0 (a negative
   * scale mirrors the grid: signed int4 uses it to map a positive extreme to −8, eq. 60).
   */
  scales: Float32Array;
  /** Unsigned weights only: one zero point per group in [0, 15] (default 8 everywhere). */
  zeroPoints?: Uint8Array;
  /** true: q is Int8Array in [−8, 7]; false: q is Uint8Array in [0, 15]. */
  signed: boolean;
}

export interface Int4QuantizeOptions {
  /** Values per group along K: a power of two from 32 to 256. */
  groupSize: number;
  /** true (default): signed int4 q ∈ [−8, 7], no zero point; false: uint4 with a zero point per group. */
  symmetric?: boolean;
  /**
   * How the group parameters are chosen from the weights alone: 'minmax' (signed: the value of
   * largest magnitude maps to −8, eq. 60; unsigned: the range with 0, eq. 7), 'mse' (default:
   * least squared error by alternating re-rounding and refits, eq. 62–66) or 'hqq' (robust ℓp
   * error by half-quadratic splitting, eq. 67–68).
   */
  method?: Int4Method;
}

const QUANTIZE_OPTIONS = ['groupSize', 'symmetric', 'method'] as const;
const FROM_OPTIONS = ['groupSize', 'scales', 'zeroPoints', 'signed'] as const;
const GEMV_OPTIONS = ['activations'] as const;

export interface Int4GemvOptions {
  /** 'int8' (default): W4A8, activations quantized per group to int8 (eq. 43); 'float32': weight-only (eq. 44). */
  activations?: 'int8' | 'float32';
}

export const INT4_GROUP_SIZES = Object.freeze([32, 64, 128, 256]);

/** Relaxed build, M ≥ 8: the W4A8 GEMM beats per-token GEMVs only when the packed weights are this large (docs/kernels.md). */
const GEMM_MIN_BYTES = 24 * 2 ** 20;

/** Tokens per pool call on the per-token GEMV path (bounds the activation scratch). */
const TOKEN_BLOCK = 16;

const registry = new FinalizationRegistry<{ mem: WasmMemory; offset: number }>(({ mem, offset }) => {
  if (mem.isLive(offset)) mem.release(offset);
});

export function checkGroupSize(G: unknown): asserts G is number {
  if (typeof G !== 'number' || !INT4_GROUP_SIZES.includes(G)) {
    throw new InvalidArgumentError('groupSize', `must be a power of two from 32 to 256 (${INT4_GROUP_SIZES.join(', ')}), got ${String(G)}`);
  }
}

export class PackedInt4Matrix {
  readonly N: number;
  readonly K: number;
  readonly groupSize: number;
  /** Groups per row: ceil(K / groupSize). */
  readonly groups: number;
  readonly signed: boolean;
  /** Whether a zero-point term is stored (unsigned weights with some zero point ≠ 8). */
  readonly asymmetric: boolean;
  /** Bytes this matrix occupies in wasm memory (nibbles + scales [+ zero-point terms]). */
  readonly byteLength: number;
  /** @internal K rounded up to groupSize. */
  readonly Kp: number;
  /** @internal */
  readonly mem: WasmMemory;
  private offset: number;
  private readonly token = {};
  /** The kernel build this matrix is packed for and runs on (the runtime's unless a benchmark binds another). */
  private readonly build = currentBuild();
  /** The packed layout, which follows the build (src/ops/layouts.ts). */
  private readonly layout = int4LayoutOf(this.build.backend);
  /** Nibble slots of that layout, indexed row-in-panel·32 + k-offset. */
  private readonly slots = int4Slots(this.layout);

  private constructor(mem: WasmMemory, N: number, K: number, G: number, signed: boolean, asymmetric: boolean) {
    this.mem = mem;
    this.N = N;
    this.K = K;
    this.groupSize = G;
    this.groups = Math.ceil(K / G);
    this.Kp = this.groups * G;
    this.signed = signed;
    this.asymmetric = asymmetric;
    const Np = Math.ceil(N / 4) * 4;
    this.byteLength = (Np / 4) * this.groups * this.groupBytes;
    this.offset = mem.alloc(this.byteLength);
    registry.register(this, { mem, offset: this.offset }, this.token);
  }

  /** Bytes of one group in one 4-row panel: 4 rows × G/2 nibble bytes + 16 B scales (+ 16 B zero-point terms). */
  private get groupBytes(): number {
    return 2 * this.groupSize + (this.asymmetric ? 32 : 16);
  }

  /**
   * Pack int4 values given one per element (row-major N×K) with their group scales.
   * @throws InvalidArgumentError on wrong types or lengths, values or zero points out of range,
   *   a groupSize that is not a power of two from 32 to 256, scales that are not finite and ≠ 0,
   *   or an unknown option.
   */
  static from(q: Int8Array | Uint8Array, N: number, K: number, options: PackedInt4Options): PackedInt4Matrix {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be { groupSize, scales, zeroPoints?, signed }');
    assertKnownOptions('PackedInt4Matrix.from', options, FROM_OPTIONS);
    const { groupSize: G, scales, zeroPoints, signed } = options;
    if (typeof signed !== 'boolean') throw new InvalidArgumentError('signed', `must be true (Int8Array q in [−8, 7]) or false (Uint8Array q in [0, 15]), got ${String(signed)}`);
    if (signed ? !(q instanceof Int8Array) : !(q instanceof Uint8Array)) {
      throw new InvalidArgumentError('q', signed ? 'must be an Int8Array (signed int4 values −8..7)' : 'must be a Uint8Array (unsigned int4 values 0..15)');
    }
    assertDim('N', N);
    assertDim('K', K);
    checkGroupSize(G);
    assertLength('q', q, N * K, `N·K = ${N}·${K}`);
    const groups = Math.ceil(K / G);
    if (!(scales instanceof Float32Array)) throw new InvalidArgumentError('scales', `must be a Float32Array of N·ceil(K/groupSize) = ${N * groups} scales`);
    assertLength('scales', scales, N * groups, `N·ceil(K/groupSize) = ${N}·${groups}`);
    for (let i = 0; i < scales.length; i++) {
      const s = scales[i]!;
      if (!Number.isFinite(s) || s === 0) {
        throw new InvalidArgumentError('scales', `must be finite and ≠ 0 (a negative scale mirrors the grid, eq. 60), got ${s} at index ${i}`);
      }
    }
    const [lo, hi] = signed ? [-8, 7] : [0, 15];
    for (let i = 0; i < q.length; i++) {
      const v = q[i]!;
      if (v < lo || v > hi) throw new InvalidArgumentError('q', `value ${v} at index ${i} is outside [${lo}, ${hi}]; int4 values must fit 4 bits`);
    }
    let asymmetric = false;
    if (zeroPoints !== undefined) {
      if (signed) throw new InvalidArgumentError('zeroPoints', 'signed int4 weights are symmetric: zero points apply to unsigned (signed: false) weights only');
      if (!(zeroPoints instanceof Uint8Array)) throw new InvalidArgumentError('zeroPoints', `must be a Uint8Array of N·ceil(K/groupSize) = ${N * groups} values`);
      assertLength('zeroPoints', zeroPoints, N * groups, `N·ceil(K/groupSize) = ${N}·${groups}`);
      for (let i = 0; i < zeroPoints.length; i++) {
        const z = zeroPoints[i]!;
        if (z > 15) throw new InvalidArgumentError('zeroPoints', `value ${z} at index ${i} is outside [0, 15]`);
        if (z !== 8) asymmetric = true;
      }
    }
    const m = new PackedInt4Matrix(rt().mem, N, K, G, signed, asymmetric);
    m.pack(q, scales, zeroPoints);
    return m;
  }

  /**
   * Import com.microsoft MatMulNBits weights (bits = 4): B uint8 [N, ceil(K/blockSize), blockSize/2]
   * (element 2i of a block in the low nibble of byte i), scales [N·ceil(K/blockSize)], optional zero
   * points packed two per byte [N, ceil(ceil(K/blockSize)/2)] (low nibble first; default 8).
   */
  static fromMatMulNBits(B: Uint8Array, scales: Float32Array, N: number, K: number, blockSize: number, zeroPoints?: Uint8Array): PackedInt4Matrix {
    assertDim('N', N);
    assertDim('K', K);
    checkGroupSize(blockSize);
    const blocks = Math.ceil(K / blockSize);
    if (!(B instanceof Uint8Array)) throw new InvalidArgumentError('B', `must be a Uint8Array [N, ceil(K/blockSize), blockSize/2] = ${N * blocks * (blockSize / 2)} bytes`);
    assertLength('B', B, N * blocks * (blockSize / 2), `N·ceil(K/blockSize)·blockSize/2 = ${N}·${blocks}·${blockSize / 2}`);
    const q = new Uint8Array(N * K);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const byte = B[(n * blocks + Math.floor(k / blockSize)) * (blockSize / 2) + ((k % blockSize) >> 1)]!;
        q[n * K + k] = k & 1 ? byte >> 4 : byte & 15;
      }
    }
    let zp: Uint8Array | undefined;
    if (zeroPoints !== undefined) {
      const perRow = Math.ceil(blocks / 2);
      if (!(zeroPoints instanceof Uint8Array)) throw new InvalidArgumentError('zeroPoints', `must be a Uint8Array [N, ceil(blocks/2)] = ${N * perRow} bytes (two 4-bit zero points per byte)`);
      assertLength('zeroPoints', zeroPoints, N * perRow, `N·ceil(ceil(K/blockSize)/2) = ${N}·${perRow}`);
      zp = new Uint8Array(N * blocks);
      for (let n = 0; n < N; n++) for (let b = 0; b < blocks; b++) {
        const byte = zeroPoints[n * perRow + (b >> 1)]!;
        zp[n * blocks + b] = b & 1 ? byte >> 4 : byte & 15;
      }
    }
    return PackedInt4Matrix.from(q, N, K, { groupSize: blockSize, scales, zeroPoints: zp, signed: false });
  }

  /**
   * Quantize row-major N×K float32 weights per group of `groupSize` along K (the last group of a
   * row may be short): signed int4 (default) or uint4 with zero points, the parameters chosen by
   * `method` ('mse' by default), the codes by eq. 2 (true float32 division, round half to even).
   * @throws InvalidArgumentError (bad sizes, NaN / ±Inf weights, an unknown method or option).
   */
  static quantize(w: Float32Array, N: number, K: number, options: Int4QuantizeOptions): PackedInt4Matrix {
    const q = quantizeInt4Groups(w, N, K, options);
    return PackedInt4Matrix.from(q.q, N, K, { groupSize: options.groupSize, scales: q.scales, zeroPoints: q.zeroPoints, signed: q.signed });
  }

  get disposed(): boolean { return this.offset === 0; }

  /** @internal Byte offset of the packed block; throws DisposedError after dispose. */
  get byteOffset(): number {
    if (this.offset === 0) throw new DisposedError(`PackedInt4Matrix(${this.N}×${this.K}, group ${this.groupSize})`);
    return this.offset;
  }

  private pack(q: Int8Array | Uint8Array, scales: Float32Array, zeroPoints: Uint8Array | undefined): void {
    const { N, K, groups, groupSize: G } = this;
    const mem = this.mem;
    const base = this.offset;
    const bytes = mem.bytes(base, this.byteLength);
    const f32 = mem.f32(base, this.byteLength >> 2);
    bytes.fill(0);
    const GB = this.groupBytes;
    const PB = groups * GB;
    const shift = this.signed ? 0 : 8; // unsigned q is stored as q − 8 (eq. 41)
    const Np = Math.ceil(N / 4) * 4;
    for (let n = 0; n < Np; n++) {
      const p = n >> 2, r = n & 3;
      for (let g = 0; g < groups; g++) {
        const gBase = p * PB + g * GB;
        for (let b = 0; b < G >> 5; b++) {
          const o = gBase + b * 64;
          for (let j = 0; j < 32; j++) {
            const k = g * G + b * 32 + j;
            const v = n < N && k < K ? q[n * K + k]! - shift : 0;
            const s = this.slots[r * 32 + j]!;
            bytes[o + s.byte]! |= ((v + s.offset) & 15) << s.shift;
          }
        }
        const sOff = (gBase + (G >> 5) * 64) >> 2;
        if (n < N) {
          const s = scales[n * groups + g]!;
          f32[sOff + r] = s / 4096; // eq. 42: the nibble is read as 4096·q
          if (this.asymmetric) f32[sOff + 4 + r] = Math.fround(s * ((zeroPoints ? zeroPoints[n * groups + g]! : 8) - 8));
        }
      }
    }
  }

  /** The int4 values, scales and zero points back out of the packed layout (copies). */
  toInt4Values(): { q: Int8Array | Uint8Array; scales: Float32Array; zeroPoints?: Uint8Array } {
    const base = this.byteOffset;
    const { N, K, groups, groupSize: G } = this;
    const bytes = this.mem.bytes(base, this.byteLength);
    const f32 = this.mem.f32(base, this.byteLength >> 2);
    const GB = this.groupBytes, PB = groups * GB;
    const q = this.signed ? new Int8Array(N * K) : new Uint8Array(N * K);
    const scales = new Float32Array(N * groups);
    const zeroPoints = this.signed ? undefined : new Uint8Array(N * groups).fill(8);
    const shift = this.signed ? 0 : 8;
    for (let n = 0; n < N; n++) {
      const p = n >> 2, r = n & 3;
      for (let g = 0; g < groups; g++) {
        const gBase = p * PB + g * GB;
        for (let k = g * G; k < Math.min(K, (g + 1) * G); k++) {
          const j = (k - g * G) & 31, b = (k - g * G) >> 5;
          const s = this.slots[r * 32 + j]!;
          const nib = (bytes[gBase + b * 64 + s.byte]! >> s.shift) & 15;
          q[n * K + k] = (((nib - s.offset) << 28) >> 28) + shift; // back to signed, then the storage domain
        }
        const sOff = (gBase + (G >> 5) * 64) >> 2;
        const scale = f32[sOff + r]! * 4096;
        scales[n * groups + g] = scale;
        if (this.asymmetric) zeroPoints![n * groups + g] = Math.round(f32[sOff + 4 + r]! / scale) + 8;
      }
    }
    return zeroPoints ? { q, scales, zeroPoints } : { q, scales };
  }

  /** Export in com.microsoft MatMulNBits layout (bits 4, block = groupSize); zero points packed two per byte. */
  toMatMulNBits(): { B: Uint8Array; scales: Float32Array; zeroPoints?: Uint8Array } {
    const { q, scales, zeroPoints } = this.toInt4Values();
    const { N, K, groups, groupSize: G } = this;
    const B = new Uint8Array(N * groups * (G / 2));
    for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) {
      const u = this.signed ? q[n * K + k]! + 8 : q[n * K + k]!; // MatMulNBits is unsigned with zero point 8
      B[(n * groups + Math.floor(k / G)) * (G / 2) + ((k % G) >> 1)]! |= u << ((k & 1) * 4);
    }
    if (!zeroPoints || !this.asymmetric) return { B, scales };
    const perRow = Math.ceil(groups / 2);
    const zp = new Uint8Array(N * perRow);
    for (let n = 0; n < N; n++) for (let g = 0; g < groups; g++) zp[n * perRow + (g >> 1)]! |= zeroPoints[n * groups + g]! << ((g & 1) * 4);
    return { B, scales, zeroPoints: zp };
  }

  /** y = W·x for one float32 activation vector (length K). */
  gemv(x: Float32Array, out?: Float32Array, options: Int4GemvOptions = {}): Float32Array {
    void this.byteOffset; // throws DisposedError after dispose()
    if (!(x instanceof Float32Array)) throw new InvalidArgumentError('x', `must be a Float32Array of length K = ${this.K}`);
    assertLength('x', x, this.K, `K = ${this.K}`);
    const y = assertOut('out', out, Float32Array, this.N);
    this.run(x, 1, y, activationsOf(options), 'x');
    return y;
  }

  /** Y = X·Wᵀ for M tokens: X is M×K row-major float32, the result M×N row-major. */
  gemm(X: Float32Array, M: number, out?: Float32Array, options: Int4GemvOptions = {}): Float32Array {
    void this.byteOffset; // throws DisposedError after dispose()
    assertDim('M', M);
    if (!(X instanceof Float32Array)) throw new InvalidArgumentError('X', `must be a Float32Array of M·K = ${M}·${this.K} values`);
    assertLength('X', X, M * this.K, `M·K = ${M}·${this.K}`);
    const y = assertOut('out', out, Float32Array, M * this.N);
    this.run(X, M, y, activationsOf(options), 'X');
    return y;
  }

  private run(X: Float32Array, M: number, y: Float32Array, acts: 'int8' | 'float32', argument: string): void {
    const layout = this.layout;
    // dot-add build: one GEMM pass shares each weight load and unpack among up to 4 tokens.
    if (acts === 'int8' && M >= 2 && layout === 'dotadd') return this.runGemmW4A8(X, M, y, argument, 'dotadd');
    // The GEMM kernel (one unpack per panel-group for all tokens) pays off only with the relaxed
    // build, for 8+ tokens and weights far beyond the last-level cache (it streams them once);
    // otherwise one two-stream GEMV per token measured faster (docs/kernels.md). Same results.
    if (acts === 'int8' && M >= 8 && this.byteLength > GEMM_MIN_BYTES && layout === 'relaxed') {
      return this.runGemmW4A8(X, M, y, argument, 'unpacked');
    }
    // simd128, 2+ tokens: the pair GEMM (two tokens share each weight load and unpack in
    // registers, panel-outer so the weights stream once) measured ≥ per-token GEMVs (docs/kernels.md).
    if (acts === 'int8' && M >= 2 && this.groupSize === 32 && layout === 'simd128') {
      return this.runGemmW4A8(X, M, y, argument, 'pairs');
    }
    const packed = this.byteOffset;
    const { N, K, Kp, groups, groupSize: G } = this;
    const Np = Math.ceil(N / 4) * 4;
    // Tokens go in blocks: each token's activations, group terms and output in one slot of
    // `slot` bytes, so a share runs its rows for every token of the block as one repeated call.
    const block = Math.min(M, TOKEN_BLOCK);
    const xBytes = part(4 * Kp), aBytes = part(4 * Kp), gBytes = part(16 * groups), oBytes = part(4 * Np);
    const slot = aBytes + 3 * gBytes + oBytes;
    const xOff = scratch(xBytes + block * slot);
    const s0 = xOff + xBytes;
    const k = this.build.kernels;
    const mem = this.mem;
    mem.f32(xOff + 4 * K, Kp - K).fill(0); // the kernels read whole groups
    const asym = this.asymmetric;
    // several panel streams at once (three for G = 32 and 64) measured faster at every size with N > 4 (docs/kernels.md)
    const fn = acts === 'int8'
      ? (layout === 'dotadd' ? (asym ? 'q4_gemv_4x8_dotadd__asym' : 'q4_gemv_4x8_dotadd__sym')
        : N > 4 ? (asym ? 'q4_gemv_4x32_ms__asym' : 'q4_gemv_4x32_ms__sym') : (asym ? 'q4_gemv_4x32__asym' : 'q4_gemv_4x32__sym'))
      : (layout === 'dotadd' ? (asym ? 'q4f32_gemv_4x8_dotadd__asym' : 'q4f32_gemv_4x8_dotadd__sym') : (asym ? 'q4f32_gemv_4x32__asym' : 'q4f32_gemv_4x32__sym'));
    const ranges = splitRange(N, sharesFor(Np * Kp / 2, Np / 4), 4);
    const PB = this.groups * this.groupBytes;
    for (let m0 = 0; m0 < M; m0 += block) {
      const tb = Math.min(block, M - m0);
      for (let t = 0; t < tb; t++) {
        const m = m0 + t, a = s0 + t * slot, g0 = a + aBytes, g1 = g0 + gBytes, g2 = g1 + gBytes;
        mem.f32(xOff, K).set(X.subarray(m * K, (m + 1) * K));
        if (acts === 'int8') {
          const bad = k.q4_act_quantize(xOff, Kp, G, a, g0, g1, g2);
          if (bad >= 0) nonFinite(argument, m * K + bad, X[m * K + bad]!);
        } else {
          const bad = k.q4f32_act_prepare(xOff, K, G, a, g0, g1);
          if (bad >= 0) throw new NaNInputError(argument, m * K + bad);
        }
      }
      const g0 = s0 + aBytes, g1 = g0 + gBytes, g2 = g1 + gBytes, o = g2 + gBytes;
      runSharesOn(this.build, ranges.map(({ start: n0, count }) => [acts === 'int8'
        ? { fn, args: [packed + (n0 / 4) * PB, s0, g0, g1, g2, o + 4 * n0, count, Kp, G], repeat: tb, strides: [0, slot, slot, slot, slot, slot] }
        : { fn, args: [packed + (n0 / 4) * PB, s0, g0, g1, o + 4 * n0, count, Kp, G], repeat: tb, strides: [0, slot, slot, slot, slot] }]));
      for (let t = 0; t < tb; t++) y.set(mem.f32(o + t * slot, N), (m0 + t) * N);
    }
  }

  /**
   * W4A8 for M > 1 tokens: activations quantized token by token, then one GEMM pass (eq. 40–43):
   * 'pairs' the simd128 pair kernel (no scratch), 'unpacked' the relaxed build's (unpacks into
   * scratch), 'dotadd' the dot-add build's (up to 4 tokens per weight load, no scratch). Split by
   * panels over the pool: share i writes its rows for all M tokens as an M×count block at
   * out + 4·M·n0 (the blocks tile M×N exactly), gathered into y here.
   */
  private runGemmW4A8(X: Float32Array, M: number, y: Float32Array, argument: string, kernel: 'pairs' | 'unpacked' | 'dotadd'): void {
    const packed = this.byteOffset;
    const { N, K, Kp, groups, groupSize: G } = this;
    const Np = Math.ceil(N / 4) * 4;
    const ranges = splitRange(N, sharesFor((Np * Kp / 2) * ((M + 3) / 4), Np / 4), 4);
    const act = int4ActBytes(this.layout) * Kp; // one token's activation codes
    const xBytes = part(4 * Kp), aBytes = part(act * M), cBytes = part(4 * groups * M), gBytes = part(16 * groups * M);
    const tBytes = kernel === 'unpacked' ? part((G / 32) * 256 + 16 * M) : 0, oBytes = part(4 * Np * M);
    const xOff = scratch(xBytes + aBytes + cBytes + 2 * gBytes + ranges.length * tBytes + oBytes);
    const aOff = xOff + xBytes, cOff = aOff + aBytes, sOff = cOff + cBytes, zOff = sOff + gBytes, tOff = zOff + gBytes, oOff = tOff + ranges.length * tBytes;
    const k = this.build.kernels;
    const mem = this.mem;
    mem.f32(xOff + 4 * K, Kp - K).fill(0);
    for (let m = 0; m < M; m++) {
      mem.f32(xOff, K).set(X.subarray(m * K, (m + 1) * K));
      const bad = k.q4_act_quantize(xOff, Kp, G, aOff + act * m, sOff + 16 * groups * m, cOff + 4 * groups * m, zOff + 16 * groups * m);
      if (bad >= 0) nonFinite(argument, m * K + bad, X[m * K + bad]!);
    }
    const PB = this.groups * this.groupBytes;
    const asym = this.asymmetric;
    const fn = kernel === 'pairs' ? (asym ? 'q4_gemm_2x4x32__asym' : 'q4_gemm_2x4x32__sym')
      : kernel === 'dotadd' ? (asym ? 'q4_gemm_4x8_dotadd__asym' : 'q4_gemm_4x8_dotadd__sym')
      : (asym ? 'q4_gemm_4x32__asym' : 'q4_gemm_4x32__sym');
    runSharesOn(this.build, ranges.map(({ start: n0, count }, t) => {
      const args = [packed + (n0 / 4) * PB, aOff, sOff, cOff, zOff, oOff + 4 * M * n0, M, count, Kp, G];
      return [{ fn, args: kernel === 'unpacked' ? [...args, tOff + t * tBytes] : args }];
    }));
    if (ranges.length === 1) { y.set(mem.f32(oOff, M * N)); return; }
    for (const { start: n0, count } of ranges) {
      const block = mem.f32(oOff + 4 * M * n0, M * count);
      for (let m = 0; m < M; m++) y.set(block.subarray(m * count, (m + 1) * count), m * N + n0);
    }
  }

  /** @internal Exact int32 group sums Σ_{k∈g} q'·xq (signed domain, before scaling), N × groups — for tests. */
  groupSums(xq: Int8Array): Int32Array {
    const packed = this.byteOffset;
    const { N, K, Kp, groups, groupSize: G } = this;
    assertLength('xq', xq, K, `K = ${K}`);
    const Np = Math.ceil(N / 4) * 4;
    const aBytes = part(int4ActBytes(this.layout) * Kp);
    const qOff = scratch(part(Kp) + aBytes + part(4 * groups) + part(16 * groups) + part(4 * Np * groups));
    const aOff = qOff + part(Kp), cOff = aOff + aBytes, zOff = cOff + part(4 * groups), oOff = zOff + part(16 * groups);
    const q = this.mem.i8(qOff, Kp);
    q.fill(0);
    q.set(xq);
    const k = this.build.kernels;
    k.q4_act_from_int8(qOff, Kp, G, aOff, cOff, zOff);
    (this.layout === 'dotadd' ? k.q4_gemv_4x8_dotadd__groupsums! : k.q4_gemv_4x32__groupsums)(packed, aOff, cOff, oOff, N, Kp, G, this.asymmetric ? 1 : 0);
    const raw = this.mem.i32(oOff, Np * groups);
    const out = new Int32Array(N * groups);
    for (let n = 0; n < N; n++) for (let g = 0; g < groups; g++) out[n * groups + g] = raw[((n >> 2) * groups + g) * 4 + (n & 3)]! / 4096;
    return out;
  }

  dispose(): void {
    if (this.offset === 0) throw new DisposedError(`PackedInt4Matrix(${this.N}×${this.K}, group ${this.groupSize})`);
    this.mem.release(this.offset); // first: refused (BusyError) while a parallel call runs
    registry.unregister(this.token);
    this.offset = 0;
  }

  [Symbol.dispose](): void {
    if (this.offset !== 0) this.dispose();
  }
}

function activationsOf(options: Int4GemvOptions): 'int8' | 'float32' {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', "must be { activations?: 'int8' | 'float32' }");
  assertKnownOptions('PackedInt4Matrix.gemv / gemm', options, GEMV_OPTIONS);
  const a = options.activations ?? 'int8';
  if (a !== 'int8' && a !== 'float32') throw new InvalidArgumentError('options.activations', `must be 'int8' or 'float32', got ${String(a)}`);
  return a;
}

function nonFinite(argument: string, index: number, v: number): never {
  if (Number.isNaN(v)) throw new NaNInputError(argument, index);
  throw new InvalidArgumentError(argument, `contains ${v} at index ${index}; int8 activation quantization needs finite values (use activations: 'float32' to propagate infinities)`);
}

/** Per-group int4 quantization of float weights by `options.method` (eq. 2, 60–68): the values, scales and zero points. */
export function quantizeInt4Groups(w: Float32Array, N: number, K: number, options: Int4QuantizeOptions):
  { q: Int8Array | Uint8Array; scales: Float32Array; zeroPoints?: Uint8Array; signed: boolean } {
  if (!(w instanceof Float32Array)) throw new InvalidArgumentError('w', 'must be a Float32Array (row-major N×K)');
  assertDim('N', N);
  assertDim('K', K);
  assertLength('w', w, N * K, `N·K = ${N}·${K}`);
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', "must be { groupSize, symmetric?, method?: 'minmax' | 'mse' | 'hqq' }");
  assertKnownOptions('PackedInt4Matrix.quantize', options, QUANTIZE_OPTIONS);
  const G = options.groupSize;
  checkGroupSize(G);
  const symmetric = options.symmetric ?? true;
  if (typeof symmetric !== 'boolean') throw new InvalidArgumentError('symmetric', `must be true (int4) or false (uint4 with zero points), got ${String(symmetric)}`);
  const method = int4Method('method', options.method);
  return quantizeInt4Runs(w, N, K, G, symmetric, method);
}
