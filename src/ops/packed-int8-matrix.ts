/**
 * PackedInt8Matrix: int8/uint8 weights (N output rows × K) packed once into the GEMV/GEMM kernels'
 * panel layout in wasm memory (panels of 4 rows, 4 rows × 2 k per 8 bytes; drawn in
 * assembly/gemv/i8-gemv-4x2-simd.ts), with the zero points folded into an int32 bias (eq. 13).
 *
 * Memory: one block of Np·Kp + 4·Np bytes (Np = N rounded up to 4, Kp = K rounded up to 16;
 * + 4·Np more for the dot-add build's second bias), exposed as `byteLength`; nothing else stays
 * alive (the caller's array is not kept).
 * Ownership mirrors Tensor: `dispose()` / `using`, a FinalizationRegistry backstop, and
 * DisposedError on use after dispose.
 */
import { DisposedError, InvalidArgumentError } from '../errors.js';
import type { WasmMemory } from '../runtime/memory.js';
import { currentBuild, rt } from '../runtime/wasm.js';
import { part, scratch } from './scratch.js';
import { runSharesOn, sharesFor, splitRange } from '../runtime/parallel.js';
import { outputInt32 } from './output/int32.js';
import { int8LayoutOf, int8Offset, int8PackedBytes } from './layouts.js';
import {
  assertDim, assertInt8Like, assertLength, assertOut, assertZeroPoint, type Int8Like,
} from './validate.js';

export interface PackedInt8MatrixOptions {
  /** Weight zero point z_w (default 0): in [−128, 127] for Int8Array weights, [0, 255] for Uint8Array. */
  zeroPoint?: number;
  /** int32 bias b[n], length N (default 0): accumulators start from it. */
  bias?: Int32Array;
  /** Activation zero point z_x (default 0), folded into the bias now: [−128, 127] for int8 x, [0, 255] for uint8 x. */
  xZeroPoint?: number;
}

const registry = new FinalizationRegistry<{ mem: WasmMemory; offset: number }>(({ mem, offset }) => {
  if (mem.isLive(offset)) mem.release(offset);
});

/** Fills `row` (length K, int8 domain) with weight row n. */
export type RowSource = (n: number, row: Int8Array) => void;

export class PackedInt8Matrix {
  /** Output channels (rows of W). */
  readonly N: number;
  /** Reduction length (columns of W). */
  readonly K: number;
  /** Storage type of the weights as given. */
  readonly weightType: 'int8' | 'uint8';
  /** Weight zero point as given (in the weight type's domain). */
  readonly zeroPoint: number;
  /** Activation zero point folded into the bias. */
  readonly xZeroPoint: number;
  /** Bytes this matrix occupies in wasm memory (packed weights + int32 bias). */
  readonly byteLength: number;
  /** @internal K rounded up to 16. */
  readonly Kp: number;
  /** @internal Weight zero point in the int8 storage domain (z_w, or z_w − 128 for uint8). */
  readonly wz: number;
  /** @internal */
  readonly mem: WasmMemory;
  /** @internal The kernel build this matrix is packed for and runs on (the runtime's unless a benchmark binds another). */
  readonly build = currentBuild();
  /** @internal The packed layout, which follows the build (src/ops/layouts.ts). */
  readonly layout = int8LayoutOf(this.build.backend);
  private offset: number;
  private readonly token = {};

  private constructor(mem: WasmMemory, N: number, K: number, weightType: 'int8' | 'uint8', zeroPoint: number, xZeroPoint: number) {
    this.mem = mem;
    this.N = N;
    this.K = K;
    this.Kp = Math.ceil(K / 16) * 16;
    this.weightType = weightType;
    this.zeroPoint = zeroPoint;
    this.xZeroPoint = xZeroPoint;
    this.wz = weightType === 'uint8' ? zeroPoint - 128 : zeroPoint;
    const Np = Math.ceil(N / 4) * 4;
    this.byteLength = int8PackedBytes(this.layout, Np, this.Kp);
    this.offset = mem.alloc(this.byteLength);
    registry.register(this, { mem, offset: this.offset }, this.token);
  }

  /**
   * Pack row-major N×K weights. The array is read once and not kept.
   * @throws InvalidArgumentError on a wrong array type, length ≠ N·K, bad dimensions,
   *   zero points out of range or a bias that is not an Int32Array of length N.
   */
  static from(w: Int8Array | Uint8Array, N: number, K: number, options: PackedInt8MatrixOptions = {}): PackedInt8Matrix {
    assertInt8Like('w', w);
    assertDim('N', N);
    assertDim('K', K);
    if (w.length !== N * K) throw new InvalidArgumentError('w', `has ${w.length} elements but N·K = ${N}·${K} = ${N * K}; pass the row-major N×K weights (rows = output channels)`);
    return PackedInt8Matrix.fromStrided(w, N, K, K, 1, options);
  }

  /** @internal Pack W[n,k] = w[n·sN + k·sK] (ONNX's K×N B is sN = 1, sK = N). */
  static fromStrided(w: Int8Like, N: number, K: number, sN: number, sK: number, options: PackedInt8MatrixOptions = {}): PackedInt8Matrix {
    const unsigned = w instanceof Uint8Array;
    const flip = unsigned ? 0x80 : 0;
    const row = new Int8Array(K);
    return PackedInt8Matrix.fromRows(N, K, unsigned ? 'uint8' : 'int8', (n, r) => {
      const base = n * sN;
      if (sK === 1 && !unsigned) r.set((w as Int8Array).subarray(base, base + K));
      else for (let k = 0; k < K; k++) r[k] = w[base + k * sK]! ^ flip;
    }, options, row);
  }

  /** @internal Pack from a row source that writes int8-domain rows (uint8 weights already − 128). */
  static fromRows(N: number, K: number, weightType: 'int8' | 'uint8', source: RowSource, options: PackedInt8MatrixOptions = {}, rowBuf = new Int8Array(K)): PackedInt8Matrix {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', 'must be an object { zeroPoint?, bias?, xZeroPoint? }');
    const zeroPoint = options.zeroPoint ?? 0;
    assertZeroPoint('zeroPoint', zeroPoint, weightType === 'int8');
    const xZeroPoint = options.xZeroPoint ?? 0;
    if (typeof xZeroPoint !== 'number' || !Number.isInteger(xZeroPoint) || xZeroPoint < -128 || xZeroPoint > 255) {
      throw new InvalidArgumentError('xZeroPoint', `must be an integer in [-128, 127] (int8 activations) or [0, 255] (uint8 activations), got ${String(xZeroPoint)}`);
    }
    const bias = options.bias;
    if (bias !== undefined) {
      if (!(bias instanceof Int32Array)) throw new InvalidArgumentError('bias', `must be an Int32Array of length N = ${N}`);
      assertLength('bias', bias, N, 'N');
    }
    const mem = rt().mem;
    const m = new PackedInt8Matrix(mem, N, K, weightType, zeroPoint, xZeroPoint);
    const { Kp, wz } = m;
    const Np = Math.ceil(N / 4) * 4;
    const off = m.offset;
    // Views after the allocation (which may have grown memory).
    const dst = mem.i8(off, Np * Kp);
    dst.fill(0);
    const biases = mem.i32(off + Np * Kp, (m.byteLength - Np * Kp) >> 2);
    biases.fill(0);
    const Kz = Math.imul(K, wz);
    const layout = m.layout;
    try {
      for (let n = 0; n < N; n++) {
        rowBuf.fill(0);
        source(n, rowBuf);
        // the backend's panel layout (src/ops/layouts.ts): 4 rows × 2 k per 8 bytes, or × 4 k per 16
        let sum = 0;
        for (let k = 0; k < K; k++) { const v = rowBuf[k]!; dst[int8Offset(layout, n, k, Kp)] = v; sum += v; }
        // eq. 13: b'[n] = b[n] − z_x·Σ_k w[n,k] + K·z_w·z_x  (int8 domain, mod 2^32)
        const b = ((bias ? bias[n]! : 0) - Math.imul(xZeroPoint, sum | 0) + Math.imul(Kz, xZeroPoint)) | 0;
        biases[n] = b;
        // eq. 45': the dot-add kernels' unsigned form adds 128 to int8 activations
        if (layout === '4x4') biases[Np + n] = (b - Math.imul(128, sum | 0)) | 0;
      }
    } catch (e) {
      m.dispose();
      throw e;
    }
    return m;
  }

  get disposed(): boolean { return this.offset === 0; }

  /** @internal Byte offset of the packed block. Throws DisposedError after dispose. */
  get byteOffset(): number {
    if (this.offset === 0) throw new DisposedError(`PackedInt8Matrix(${this.N}×${this.K})`);
    return this.offset;
  }

  private checkX(argument: string, x: unknown, n: number, what: string): Int8Like {
    assertInt8Like(argument, x);
    assertLength(argument, x, n, what);
    const signed = x instanceof Int8Array;
    if (signed ? this.xZeroPoint > 127 : this.xZeroPoint < 0) {
      throw new InvalidArgumentError(argument, `is ${signed ? 'int8' : 'uint8'} but the matrix was packed with xZeroPoint ${this.xZeroPoint}, outside that type's range; pack with a matching xZeroPoint or pass ${signed ? 'Uint8Array' : 'Int8Array'} activations`);
    }
    return x;
  }

  /** Exact acc[n] = b[n] + Σ_k (W[n,k] − z_w)(x[k] − z_x), int32 wrapping (eq. 10). */
  gemv(x: Int8Array | Uint8Array, out?: Int32Array): Int32Array {
    const packed = this.byteOffset;
    this.checkX('x', x, this.K, `K = ${this.K}`);
    if (out !== undefined) assertOut('out', out, Int32Array, this.N);
    const xB = part(this.K), wB = this.widenBytes(1);
    const xOff = scratch(xB + wB + part(4 * this.N));
    const xwOff = xOff + xB, yOff = xwOff + wB;
    const mem = this.mem;
    mem.bytes(xOff, this.K).set(new Uint8Array(x.buffer, x.byteOffset, this.K));
    this.runGemv(packed, xOff, xwOff, yOff, x instanceof Int8Array);
    return outputInt32(yOff, this.N, out); // int32 output stage (eq. 10)
  }

  /** Exact acc[m,n] for M tokens: X is M×K row-major, the result M×N row-major (eq. 10, 14). */
  gemm(X: Int8Array | Uint8Array, M: number, out?: Int32Array): Int32Array {
    const packed = this.byteOffset;
    assertDim('M', M);
    this.checkX('X', X, M * this.K, `M·K = ${M}·${this.K}`);
    if (out !== undefined) assertOut('out', out, Int32Array, M * this.N);
    const xB = part(M * this.K), wB = this.widenBytes(M);
    const xOff = scratch(xB + wB + part(4 * M * this.N));
    const xwOff = xOff + xB, yOff = xwOff + wB;
    const mem = this.mem;
    mem.bytes(xOff, M * this.K).set(new Uint8Array(X.buffer, X.byteOffset, M * this.K));
    this.runGemm(packed, xOff, xwOff, yOff, M, X instanceof Int8Array);
    return outputInt32(yOff, M * this.N, out);
  }

  /** @internal Threads a call with M tokens uses: the weights streamed (GEMM: ×M/4 for the compute), by panels. */
  shares(M: number): number {
    const Np = Math.ceil(this.N / 4) * 4;
    return sharesFor(Np * this.Kp * (M === 1 ? 1 : (M + 3) / 4), Np / 4);
  }

  /** @internal Scratch bytes (a `part`) the kernels need for M tokens of activations widened to int16 (or split into 7-bit halves), one copy per share. */
  widenBytes(M: number): number { return part(2 * M * this.Kp) * this.shares(M); }

  /** @internal Run the GEMV kernel on activations already in wasm memory; xwOff: widenBytes(1) of scratch. */
  runGemv(packed: number, xOff: number, xwOff: number, yOff: number, signedX: boolean): void {
    this.runGemm(packed, xOff, xwOff, yOff, 1, signedX);
  }

  /**
   * @internal Run the GEMM kernel (M = 1: the GEMV) split by 4-row panels over the pool (each
   * share its own rows, bias' and widened copy of X); xwOff: widenBytes(M) of scratch.
   */
  runGemm(packed: number, xOff: number, xwOff: number, yOff: number, M: number, signedX: boolean): void {
    const { N, K, Kp, wz } = this;
    const Np = Math.ceil(N / 4) * 4;
    // the kernel form (layouts.ts): simd128's 4x2, or the dot-add 4x4 split / unsigned form, whose
    // unsigned form with int8 activations adds bias8 (after bias') instead of bias'
    const u8 = this.layout === '4x4' && this.build.dotAddUnsigned === true;
    const bias = packed + Np * Kp + (u8 && signedX ? 4 * Np : 0);
    const form = this.layout === '4x2' ? '4x2' : u8 ? '4x4_dotadd_u8' : '4x4_dotadd';
    const step = part(2 * M * Kp);
    const fn = `i8_${M === 1 ? 'gemv' : 'gemm'}_${form}_rows__${signedX ? 'xs8' : 'xu8'}`;
    runSharesOn(this.build, splitRange(N, this.shares(M), 4).map(({ start: n0, count }, t) => [{
      fn,
      args: M === 1
        ? [packed + n0 * Kp, bias + 4 * n0, xOff, xwOff + t * step, yOff + 4 * n0, count, K, Kp, wz]
        : [packed + n0 * Kp, bias + 4 * n0, xOff, xwOff + t * step, yOff + 4 * n0, 4 * N, M, count, K, Kp, wz],
    }]));
  }

  dispose(): void {
    if (this.offset === 0) throw new DisposedError(`PackedInt8Matrix(${this.N}×${this.K})`);
    this.mem.release(this.offset); // first: refused (BusyError) while a parallel call runs
    registry.unregister(this.token);
    this.offset = 0;
  }

  [Symbol.dispose](): void {
    if (this.offset !== 0) this.dispose();
  }
}
