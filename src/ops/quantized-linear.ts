/**
 * QuantizedLinear: a float32 linear layer y = W·x + b run in integers.
 *   weights: per-output-channel symmetric int8, s_w[n] = f32(max_k |W[n,k]| / 127),
 *            q = clamp(round_half_even(f32(W/s_w)), −127, 127), packed once (PackedInt8Matrix);
 *   forward: dynamic symmetric int8 quantization of x (eq. 16, kernel f32-qs8-dynamic-simd)
 *            → exact int8 GEMV (eq. 10) → float32 output stage (eq. 15) with the float bias.
 * Memory: the packed matrix plus 8·N bytes (scales and bias) in wasm memory; no float copy of W.
 */
import { DisposedError, InvalidArgumentError, NaNInputError } from '../errors.js';
import type { WasmMemory } from '../runtime/memory.js';
import { rt } from '../runtime/wasm.js';
import { PackedInt8Matrix } from './packed-int8-matrix.js';
import { runOutputFloat32 } from './output/float32.js';
import { part, scratch } from './scratch.js';
import { assertDim, assertLength, assertOut } from './validate.js';

export interface QuantizedLinearOptions {
  /** float32 bias, length N. */
  bias?: Float32Array;
  /** Weight type: 'int8' (per-channel symmetric). */
  weightType: 'int8';
}

const registry = new FinalizationRegistry<{ mem: WasmMemory; offset: number }>(({ mem, offset }) => {
  if (mem.isLive(offset)) mem.release(offset);
});

function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : (f % 2 === 0 ? f : f + 1);
}

export class QuantizedLinear {
  readonly N: number;
  readonly K: number;
  readonly weightType = 'int8' as const;
  readonly hasBias: boolean;
  /** The packed int8 weights. */
  readonly weights: PackedInt8Matrix;
  /** Bytes in wasm memory: packed weights + int32 bias + float32 scales and bias. */
  readonly byteLength: number;
  private paramOff: number; // N f32 weight scales, then N f32 bias
  private readonly mem: WasmMemory;
  private readonly token = {};

  private constructor(weights: PackedInt8Matrix, scales: Float32Array, bias: Float32Array | undefined) {
    this.weights = weights;
    this.N = weights.N;
    this.K = weights.K;
    this.hasBias = bias !== undefined;
    this.mem = weights.mem;
    try {
      this.paramOff = this.mem.alloc(8 * this.N);
    } catch (e) {
      weights.dispose();
      throw e;
    }
    this.mem.f32(this.paramOff, this.N).set(scales);
    this.mem.f32(this.paramOff + 4 * this.N, this.N).set(bias ?? new Float32Array(this.N));
    this.byteLength = weights.byteLength + 8 * this.N;
    registry.register(this, { mem: this.mem, offset: this.paramOff }, this.token);
  }

  /**
   * Quantize row-major N×K float32 weights (rows = output channels) to per-channel int8 and pack them.
   * @throws InvalidArgumentError (wrong type/length, non-finite weight), NaNInputError.
   */
  static fromFloat32(w: Float32Array, N: number, K: number, options: QuantizedLinearOptions = { weightType: 'int8' }): QuantizedLinear {
    if (!(w instanceof Float32Array)) throw new InvalidArgumentError('w', 'must be a Float32Array (row-major N×K)');
    assertDim('N', N);
    assertDim('K', K);
    if (w.length !== N * K) throw new InvalidArgumentError('w', `has ${w.length} elements but N·K = ${N}·${K} = ${N * K}`);
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options', "must be an object { weightType: 'int8', bias? }");
    if (options.weightType !== 'int8') throw new InvalidArgumentError('weightType', `must be 'int8', got ${String(options.weightType)}`);
    const bias = options.bias;
    if (bias !== undefined) {
      if (!(bias instanceof Float32Array)) throw new InvalidArgumentError('bias', `must be a Float32Array of length N = ${N}`);
      assertLength('bias', bias, N, 'N');
      for (let i = 0; i < N; i++) if (!Number.isFinite(bias[i]!)) throw new InvalidArgumentError('bias', `must be finite, got ${bias[i]} at index ${i}`);
    }
    const f = Math.fround;
    const scales = new Float32Array(N);
    const packed = PackedInt8Matrix.fromRows(N, K, 'int8', (n, row) => {
      const o = n * K;
      let a = 0;
      for (let k = 0; k < K; k++) {
        const v = w[o + k]!;
        if (Number.isNaN(v)) throw new NaNInputError('w', o + k);
        if (!Number.isFinite(v)) throw new InvalidArgumentError('w', `contains ${v} at index ${o + k}; weights must be finite`);
        const av = Math.abs(v);
        if (av > a) a = av;
      }
      const s = f(a / 127);
      scales[n] = s;
      if (s === 0) return; // all-zero row: codes stay 0
      for (let k = 0; k < K; k++) {
        const q = roundHalfEven(f(w[o + k]! / s));
        row[k] = q < -127 ? -127 : q > 127 ? 127 : q;
      }
    });
    return new QuantizedLinear(packed, scales, bias);
  }

  /** Per-output-channel weight scales s_w (a copy). */
  get weightScales(): Float32Array {
    return this.mem.f32(this.off(), this.N).slice();
  }

  private off(): number {
    if (this.paramOff === 0) throw new DisposedError(`QuantizedLinear(${this.N}×${this.K})`);
    return this.paramOff;
  }

  /** y = W·x + b for one activation vector x (length K). */
  forward(x: Float32Array, out?: Float32Array): Float32Array {
    return this.forwardBatch(x, 1, out);
  }

  /** Y = X·Wᵀ + b for M rows (X is M×K row-major, Y is M×N); each row gets its own activation scale. */
  forwardBatch(X: Float32Array, M: number, out?: Float32Array): Float32Array {
    const params = this.off();
    const packed = this.weights.byteOffset;
    assertDim('M', M);
    const { N, K } = this;
    if (!(X instanceof Float32Array)) throw new InvalidArgumentError('x', `must be a Float32Array of length ${M === 1 ? `K = ${K}` : `M·K = ${M * K}`}`);
    assertLength('x', X, M * K, M === 1 ? `K = ${K}` : `M·K = ${M}·${K}`);
    const y = assertOut('out', out, Float32Array, M * N);
    const fB = part(4 * M * K), qB = part(M * K), aB = part(4 * M * N);
    const base = scratch(fB + qB + aB + part(4 * M));
    const qOff = base + fB, accOff = qOff + qB, xsOff = accOff + aB;
    const mem = this.mem;
    const k = rt().kernels;
    mem.f32(base, M * K).set(X);
    const xs = mem.f32(xsOff, M);
    for (let m = 0; m < M; m++) {
      const s = k.f32_qs8_dynamic(base + 4 * m * K, qOff + m * K, K);
      if (!Number.isFinite(s)) {
        for (let i = m * K; i < (m + 1) * K; i++) {
          if (Number.isNaN(X[i]!)) throw new NaNInputError('x', i);
          if (!Number.isFinite(X[i]!)) throw new InvalidArgumentError('x', `contains ${X[i]} at index ${i}; activations must be finite`);
        }
        throw new InvalidArgumentError('x', 'has an activation range too large for float32 scales');
      }
      xs[m] = s;
    }
    this.weights.runGemm(packed, qOff, accOff, M, true);
    runOutputFloat32(accOff, accOff, M, N, xsOff, params, this.hasBias ? params + 4 * N : 0);
    y.set(mem.f32(accOff, M * N));
    return y;
  }

  get disposed(): boolean { return this.paramOff === 0; }

  dispose(): void {
    const off = this.off();
    registry.unregister(this.token);
    this.mem.release(off);
    this.paramOff = 0;
    this.weights.dispose();
  }

  [Symbol.dispose](): void {
    if (this.paramOff !== 0) this.dispose();
  }
}
