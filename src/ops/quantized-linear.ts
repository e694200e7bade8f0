/**
 * QuantizedLinear: a float32 linear layer y = W·x + b run in integers. Float in, float out; one
 * constructor, `fromFloat32(w, N, K, options)`, which always takes the float weights and
 * quantizes them with eq. 2 — either with its own range setting or with parameters you give.
 *
 * weightType 'int8' (PackedInt8Matrix, exact int8 GEMV/GEMM, eq. 10–15):
 *   weights  default: per-output-channel symmetric int8, s_w[n] = f32(max_k |W[n,k]| / 127),
 *            q = clamp(round_half_even(f32(W/s_w)), −127, 127) (method 'minmax').
 *            method 'gptq' with `calibration` (M×K inputs): the same scales, codes chosen by
 *            GPTQ's error feedback (eq. 70–79, src/calibrate/gptq.ts).
 *            `weightParams`: int8 or uint8 QParams, per channel (axis 0) or per tensor, symmetric
 *            or with zero points; the codes are exactly `quantize(w, [N, K], weightParams)`.
 *            One zero point for all rows is folded at pack time (eq. 13); differing per-channel
 *            zero points leave the per-token term −(z_w[n] − z_P)·Σ_k (xq[k] − z_x), applied to
 *            the int32 accumulators before the output stage (exact, wrapping as eq. 10).
 *   inputs   default: dynamic symmetric int8 per token (eq. 16, kernel f32-qs8-dynamic-simd).
 *            `inputParams`: static per-tensor int8/uint8 scale s_x and zero point z_x (e.g.
 *            calibrated by an observer): xq = quantize(x, inputParams) (eq. 2, saturating, NaN
 *            rejected), z_x folded into the packed bias (eq. 13), and s_x used in eq. 15.
 *   output   eq. 15: y = f32(acc)·f32(s_x·s_w[n]) + bias[n].
 *   memory   packed matrix + 8·N bytes (float32 scales and bias) [+ 4·N int32 zero-point terms].
 *
 * weightType 'int4' (PackedInt4Matrix, W4A8, eq. 40–43):
 *   weights  default: groups of `groupSize` (32) along K, `symmetric` (true) int4 or uint4 with
 *            zero points, parameters by `method` — 'minmax', 'mse' (default), 'hqq'
 *            (PackedInt4Matrix.quantize, eq. 60–68) or 'gptq' with `calibration` (eq. 70–79).
 *            `weightParams`: int4 or uint4 QParams, axis 1, blockSize = group size (32–256); the
 *            scales are N × ceil(K / blockSize): the last group of a row may be short, as in
 *            quantize() (eq. 50). int4 with zero points is stored as uint4 (q + 8, z + 8: the
 *            same real values).
 *   inputs   always dynamic: the W4A8 kernel quantizes each token per group to int8 (eq. 43), so
 *            `inputParams` is rejected.
 *   output   the kernel's float32 result, then + bias[n] in float32.
 *   memory   packed matrix + 4·N bytes (float32 bias).
 *
 * Ownership: `dispose()` / `using`, a FinalizationRegistry backstop for the small parameter
 * block, DisposedError after dispose; disposing the layer disposes its packed matrix.
 */
import { DisposedError, InvalidArgumentError, NaNInputError } from '../errors.js';
import type { WasmMemory } from '../runtime/memory.js';
import { rt } from '../runtime/wasm.js';
import { quantize } from '../quant/ops.js';
import { resolveParams, type QParams, type ResolvedParams } from '../quant/params.js';
import { quantizeFamily } from '../quant/kernels.js';
import type { QTypeInfo } from '../quant/qtypes.js';
import { PackedInt8Matrix } from './packed-int8-matrix.js';
import { INT4_GROUP_SIZES, PackedInt4Matrix, checkGroupSize } from './packed-int4-matrix.js';
import { runOutputFloat32 } from './output/float32.js';
import { part, scratch } from './scratch.js';
import { assertDim, assertKnownOptions, assertLength, assertOut } from './validate.js';
import { roundHalfEvenF32 } from '../quant/round.js';
import { INT4_METHODS, int4Method, type Int4Method } from '../calibrate/int4-groups.js';
import { gptqQuantize, type GptqResult } from '../calibrate/gptq.js';

export type LinearWeightType = 'int8' | 'int4';

/** The packed matrix behind a layer of weight type T. */
export type PackedWeightsFor<T extends LinearWeightType> = T extends 'int4' ? PackedInt4Matrix : PackedInt8Matrix;

export interface QuantizedLinearOptions<T extends LinearWeightType = LinearWeightType> {
  /** 'int8': per-channel int8 weights, exact int8 GEMV. 'int4': grouped int4 weights, W4A8 GEMV. */
  weightType: T;
  /** float32 bias, length N. */
  bias?: Float32Array;
  /** int4 only: values per group along K, 32, 64, 128 or 256 (default 32, or weightParams.blockSize). */
  groupSize?: number;
  /** int4 built-in range setting only: true (default) symmetric int4, false asymmetric uint4. */
  symmetric?: boolean;
  /**
   * Precomputed weight parameters (observer output, QAT-learned scales) instead of the built-in
   * range setting. int8: qtype int8/uint8, per channel (axis 0, N scales) or per tensor. int4:
   * qtype int4/uint4, axis 1, blockSize = group size, N·ceil(K/blockSize) scales.
   */
  weightParams?: QParams;
  /** int8 only: static per-tensor int8/uint8 activation parameters (default: dynamic per token, eq. 16). */
  inputParams?: QParams;
  /**
   * How the weight codes are chosen (not with weightParams). int4: 'minmax', 'mse' (default) or
   * 'hqq' from the weights alone (eq. 60–68), or 'gptq' from `calibration` (eq. 70–79).
   * int8: 'minmax' (default, per-channel max-abs scales) or 'gptq' (the same scales, codes by GPTQ).
   */
  method?: LinearMethod;
  /** method 'gptq' only (required): M×K float32 activations of this layer's input, row-major (M ≥ 1 rows). */
  calibration?: Float32Array;
  /** method 'gptq' only: quantize the columns in order of decreasing Hessian diagonal (default false). */
  actOrder?: boolean;
  /** method 'gptq' only: λ = dampening · mean(diag H) added to the Hessian's diagonal (default 0.01, eq. 71). */
  dampening?: number;
}

export type LinearMethod = Int4Method | 'gptq';

const LINEAR_OPTIONS = ['weightType', 'bias', 'groupSize', 'symmetric', 'weightParams', 'inputParams', 'method', 'calibration', 'actOrder', 'dampening'] as const;
const GPTQ_ONLY = ['calibration', 'actOrder', 'dampening'] as const;

const registry = new FinalizationRegistry<{ mem: WasmMemory; offset: number }>(({ mem, offset }) => {
  if (mem.isLive(offset)) mem.release(offset);
});


const qtypeOf = (p: QParams): string => String((p as { qtype?: unknown }).qtype);

/** Reject NaN / ±Inf weights by index, naming `w` (quantize() would saturate infinities). */
function assertFiniteWeights(w: Float32Array): void {
  for (let i = 0; i < w.length; i++) {
    const v = w[i]!;
    if (!Number.isFinite(v)) {
      if (Number.isNaN(v)) throw new NaNInputError('w', i);
      throw new InvalidArgumentError('w', `contains ${v} at index ${i}; weights must be finite`);
    }
  }
}

/** Static activation parameters, resolved. */
interface StaticInput { info: QTypeInfo; scale: number; zeroPoint: number }

interface Int8Parts {
  packed: PackedInt8Matrix;
  scales: Float32Array;
  /** z_w[n] − z_P per row when the weight zero points differ between rows. */
  zDelta?: Int32Array;
}

export class QuantizedLinear<T extends LinearWeightType = LinearWeightType> {
  readonly N: number;
  readonly K: number;
  readonly weightType: T;
  readonly hasBias: boolean;
  /** 'dynamic': activations quantized per token (int8) or per group (int4); 'static': with inputParams. */
  readonly activations: 'dynamic' | 'static';
  /** The packed weights (PackedInt8Matrix for int8, PackedInt4Matrix for int4). */
  readonly weights: PackedWeightsFor<T>;
  /** Bytes in wasm memory: the packed matrix + this layer's parameter block (see the class comment). */
  readonly byteLength: number;
  private paramOff: number; // int8: N f32 scales, N f32 bias [, N i32 zDelta]; int4: N f32 bias
  private readonly mem: WasmMemory;
  private readonly token = {};
  private readonly input: StaticInput | undefined;
  private readonly zDeltaOff: number; // 0: no per-row zero-point term

  private constructor(weightType: T, weights: PackedInt8Matrix | PackedInt4Matrix, bias: Float32Array | undefined,
    int8?: { scales: Float32Array; zDelta?: Int32Array; input?: StaticInput }) {
    this.weightType = weightType;
    this.weights = weights as PackedWeightsFor<T>;
    this.N = weights.N;
    this.K = weights.K;
    this.hasBias = bias !== undefined;
    this.mem = weights.mem;
    this.input = int8?.input;
    this.activations = this.input ? 'static' : 'dynamic';
    const N = this.N;
    const paramBytes = int8 ? (int8.zDelta ? 12 : 8) * N : 4 * N;
    try {
      this.paramOff = this.mem.alloc(paramBytes);
    } catch (e) {
      weights.dispose();
      throw e;
    }
    const biasOff = int8 ? this.paramOff + 4 * N : this.paramOff;
    if (int8) this.mem.f32(this.paramOff, N).set(int8.scales);
    this.mem.f32(biasOff, N).set(bias ?? new Float32Array(N));
    this.zDeltaOff = int8?.zDelta ? this.paramOff + 8 * N : 0;
    if (int8?.zDelta) this.mem.i32(this.zDeltaOff, N).set(int8.zDelta);
    this.byteLength = weights.byteLength + paramBytes;
    registry.register(this, { mem: this.mem, offset: this.paramOff }, this.token);
  }

  /**
   * Quantize row-major N×K float32 weights (rows = output channels) and pack them; see the class
   * comment for the options of each weight type.
   * @throws InvalidArgumentError (wrong type/length, non-finite weight, options that do not fit
   *   the weight type, bad or mismatched parameters), NaNInputError.
   */
  static fromFloat32<T extends LinearWeightType = 'int8'>(w: Float32Array, N: number, K: number,
    options: QuantizedLinearOptions<T> = { weightType: 'int8' } as QuantizedLinearOptions<T>): QuantizedLinear<T> {
    if (!(w instanceof Float32Array)) throw new InvalidArgumentError('w', 'must be a Float32Array (row-major N×K)');
    assertDim('N', N);
    assertDim('K', K);
    if (w.length !== N * K) throw new InvalidArgumentError('w', `has ${w.length} elements but N·K = ${N}·${K} = ${N * K}`);
    if (typeof options !== 'object' || options === null) {
      throw new InvalidArgumentError('options', "must be an object { weightType: 'int8' | 'int4', bias?, groupSize?, symmetric?, weightParams?, inputParams?, method?, calibration?, actOrder?, dampening? }");
    }
    assertKnownOptions('QuantizedLinear.fromFloat32', options, LINEAR_OPTIONS);
    const weightType = options.weightType as unknown;
    if (weightType !== 'int8' && weightType !== 'int4') throw new InvalidArgumentError('weightType', `must be 'int8' or 'int4', got ${String(weightType)}`);
    const bias = options.bias;
    if (bias !== undefined) {
      if (!(bias instanceof Float32Array)) throw new InvalidArgumentError('bias', `must be a Float32Array of length N = ${N}`);
      assertLength('bias', bias, N, 'N');
      for (let i = 0; i < N; i++) if (!Number.isFinite(bias[i]!)) throw new InvalidArgumentError('bias', `must be finite, got ${bias[i]} at index ${i}`);
    }
    const method = linearMethod(options, weightType);
    if (weightType === 'int4') {
      return new QuantizedLinear<T>(options.weightType, buildInt4(w, N, K, options, method), bias);
    }
    if (options.groupSize !== undefined) throw new InvalidArgumentError('groupSize', "applies to weightType 'int4' only; int8 weights are quantized per output channel");
    if (options.symmetric !== undefined) {
      throw new InvalidArgumentError('symmetric', "applies to weightType 'int4' only; int8 weights are symmetric per channel by default — pass weightParams (e.g. uint8 with zero points) for asymmetric int8 weights");
    }
    const input = options.inputParams === undefined ? undefined : resolveInput(options.inputParams, K);
    const parts = method === 'gptq'
      ? buildInt8Gptq(runGptq(w, N, K, options, 'int8'), N, K, input)
      : options.weightParams === undefined
        ? buildInt8Default(w, N, K, input)
        : buildInt8FromParams(w, N, K, options.weightParams, input);
    return new QuantizedLinear<T>(options.weightType, parts.packed, bias, { scales: parts.scales, zDelta: parts.zDelta, input });
  }

  /** Weight scales (a copy): int8 per output channel (N); int4 per group (N × groups, row-major). */
  get weightScales(): Float32Array {
    const off = this.off();
    if (this.weights instanceof PackedInt4Matrix) return this.weights.toInt4Values().scales;
    return this.mem.f32(off, this.N).slice();
  }

  /** Static activation parameters (int8 layers built with inputParams), else undefined. */
  get inputParams(): QParams | undefined {
    const s = this.input;
    return s && { qtype: s.info.name, scale: s.scale, zeroPoint: s.zeroPoint };
  }

  private off(): number {
    if (this.paramOff === 0) throw new DisposedError(`QuantizedLinear(${this.N}×${this.K}, ${this.weightType})`);
    return this.paramOff;
  }

  /** y = W·x + b for one activation vector x (length K). */
  forward(x: Float32Array, out?: Float32Array): Float32Array {
    return this.forwardBatch(x, 1, out);
  }

  /**
   * Y = X·Wᵀ + b for M rows (X is M×K row-major, Y is M×N). Dynamic activations: each row (int8)
   * or each group of a row (int4) gets its own scale; static: all rows use inputParams.
   */
  forwardBatch(X: Float32Array, M: number, out?: Float32Array): Float32Array {
    const params = this.off();
    assertDim('M', M);
    const { N, K } = this;
    if (!(X instanceof Float32Array)) throw new InvalidArgumentError('x', `must be a Float32Array of length ${M === 1 ? `K = ${K}` : `M·K = ${M * K}`}`);
    assertLength('x', X, M * K, M === 1 ? `K = ${K}` : `M·K = ${M}·${K}`);
    const y = assertOut('out', out, Float32Array, M * N);
    const w = this.weights as PackedInt8Matrix | PackedInt4Matrix;
    if (w instanceof PackedInt4Matrix) {
      // W4A8 (eq. 40–43): the GEMV for one row, the GEMM (bit-identical per row) for M > 1.
      if (M === 1) w.gemv(X, y, { activations: 'int8' });
      else w.gemm(X, M, y, { activations: 'int8' });
      if (this.hasBias) {
        const b = this.mem.f32(params, N);
        for (let m = 0; m < M; m++) {
          const o = m * N;
          for (let n = 0; n < N; n++) y[o + n] += b[n]!;
        }
      }
      return y;
    }
    const packed = w.byteOffset;
    const fB = part(4 * M * K), qB = part(M * K), aB = part(4 * M * N), wB = w.widenBytes(M);
    const base = scratch(fB + qB + aB + part(4 * M) + wB);
    const qOff = base + fB, accOff = qOff + qB, xsOff = accOff + aB, xwOff = xsOff + part(4 * M);
    const mem = this.mem;
    const k = rt().kernels;
    mem.f32(base, M * K).set(X);
    const xs = mem.f32(xsOff, M);
    const input = this.input;
    if (input) {
      // static activations: eq. 2 with the calibrated per-tensor s_x, z_x (saturating; NaN rejected)
      const { info } = input;
      const bad = quantizeFamily(k, info).run(base, qOff, M * K, input.scale, input.zeroPoint, info.qmin, info.qmax);
      if (bad >= 0) throw new NaNInputError('x', bad);
      xs.fill(input.scale);
    } else {
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
    }
    const signedX = input ? input.info.signed : true;
    w.runGemm(packed, qOff, xwOff, accOff, M, signedX);
    if (this.zDeltaOff !== 0) this.applyZeroPointTerms(qOff, accOff, M, signedX, input ? input.zeroPoint : 0);
    runOutputFloat32(accOff, accOff, M, N, xsOff, params, this.hasBias ? params + 4 * N : 0);
    y.set(mem.f32(accOff, M * N));
    return y;
  }

  /** acc[m,n] −= (z_w[n] − z_P)·Σ_k (xq[m,k] − z_x), wrapping int32 (eq. 10 with per-row zero points). */
  private applyZeroPointTerms(qOff: number, accOff: number, M: number, signedX: boolean, zx: number): void {
    const { N, K, mem } = this;
    const xq = signedX ? mem.i8(qOff, M * K) : mem.bytes(qOff, M * K);
    const acc = mem.i32(accOff, M * N);
    const zd = mem.i32(this.zDeltaOff, N);
    for (let m = 0; m < M; m++) {
      let s = 0;
      for (let k = m * K, e = (m + 1) * K; k < e; k++) s += xq[k]!; // |Σ| ≤ 255·K < 2^53: exact
      const sx = (s - K * zx) | 0;
      const o = m * N;
      for (let n = 0; n < N; n++) acc[o + n] = (acc[o + n]! - Math.imul(zd[n]!, sx)) | 0;
    }
  }

  get disposed(): boolean { return this.paramOff === 0; }

  dispose(): void {
    const off = this.off();
    this.mem.release(off); // first: refused (BusyError) while a parallel call runs
    registry.unregister(this.token);
    this.paramOff = 0;
    this.weights.dispose();
  }

  [Symbol.dispose](): void {
    if (this.paramOff !== 0) this.dispose();
  }
}

/**
 * The method option, checked against the weight type and the other options: weightParams replace
 * any method; calibration, actOrder and dampening belong to 'gptq' (which needs calibration).
 */
function linearMethod(options: QuantizedLinearOptions, weightType: LinearWeightType): LinearMethod | undefined {
  const allowed: readonly string[] = weightType === 'int4' ? [...INT4_METHODS, 'gptq'] : ['minmax', 'gptq'];
  const m = options.method as unknown;
  if (m !== undefined && options.weightParams !== undefined) {
    throw new InvalidArgumentError('method', 'applies to the built-in quantization only; with weightParams the codes are exactly quantize(w, weightParams) — omit method or weightParams');
  }
  if (m !== undefined && (typeof m !== 'string' || !allowed.includes(m))) {
    const hint = weightType === 'int8' && (m === 'mse' || m === 'hqq') ? `; '${m}' is an int4 method (int8 per-channel weights use max-abs scales)` : '';
    throw new InvalidArgumentError('method', `for weightType '${weightType}' must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${typeof m === 'string' ? `'${m}'` : String(m)}${hint}`);
  }
  if (m !== 'gptq') {
    for (const key of GPTQ_ONLY) {
      if (options[key] !== undefined) throw new InvalidArgumentError(key, `applies to method 'gptq' only (got method ${m === undefined ? 'unset' : `'${String(m)}'`}); pass method: 'gptq' or omit ${key}`);
    }
    return weightType === 'int4' && options.weightParams === undefined ? int4Method('method', m) : (m as LinearMethod | undefined);
  }
  if (options.calibration === undefined) {
    throw new InvalidArgumentError('calibration', "method 'gptq' needs calibration: a Float32Array of M×K activations (M rows of this layer's K inputs)");
  }
  if (options.actOrder !== undefined && typeof options.actOrder !== 'boolean') throw new InvalidArgumentError('actOrder', `must be true or false, got ${String(options.actOrder)}`);
  return 'gptq';
}

function runGptq(w: Float32Array, N: number, K: number, options: QuantizedLinearOptions, weightType: LinearWeightType): GptqResult {
  if (options.inputParams !== undefined && weightType === 'int4') {
    throw new InvalidArgumentError('inputParams', "int4 layers run W4A8: the kernel quantizes activations dynamically per group of groupSize (eq. 43), so static input parameters are not supported — omit inputParams, or use weightType 'int8' for static activations");
  }
  return gptqQuantize(w, N, K, options.calibration!, {
    weightType, groupSize: options.groupSize ?? 32, symmetric: options.symmetric ?? true,
    actOrder: options.actOrder ?? false, dampening: options.dampening,
  });
}

/** GPTQ codes with their per-channel scales (int8, zero points 0) packed for the int8 GEMV. */
function buildInt8Gptq(g: GptqResult, N: number, K: number, input: StaticInput | undefined): Int8Parts {
  const packed = PackedInt8Matrix.from(g.q as Int8Array, N, K, { zeroPoint: 0, xZeroPoint: input?.zeroPoint ?? 0 });
  return { packed, scales: g.scales };
}

/** inputParams → per-tensor int8/uint8 s_x, z_x. */
function resolveInput(p: QParams, K: number): StaticInput {
  if (p === null || typeof p !== 'object') throw new InvalidArgumentError('inputParams', 'must be a QParams object { qtype, scale, zeroPoint? } (per tensor, int8 or uint8)');
  const qt = qtypeOf(p);
  if (qt !== 'int8' && qt !== 'uint8') {
    throw new InvalidArgumentError('inputParams.qtype', `static activations are int8 or uint8 (the int8 GEMV's activation types), got '${qt}'`);
  }
  const rp = resolveParams(p, [K], 'inputParams');
  if (rp.granularity !== 'tensor') {
    throw new InvalidArgumentError('inputParams.scale', `static activation parameters are per tensor: one scale (a number) and one zero point for every input, got ${rp.scale.length} scales`);
  }
  return { info: rp.info, scale: rp.scale[0]!, zeroPoint: rp.zeroPoint[0]! };
}

function buildInt8Default(w: Float32Array, N: number, K: number, input: StaticInput | undefined): Int8Parts {
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
      const q = roundHalfEvenF32(f(w[o + k]! / s));
      row[k] = q < -127 ? -127 : q > 127 ? 127 : q;
    }
  }, { xZeroPoint: input?.zeroPoint ?? 0 });
  // An all-zero row has s_w = 0: its accumulators are 0 whatever the (static) activations, so
  // any scale gives the exact 0 and the bias; eq. 15 needs no special case.
  return { packed, scales };
}

function buildInt8FromParams(w: Float32Array, N: number, K: number, p: QParams, input: StaticInput | undefined): Int8Parts {
  if (p === null || typeof p !== 'object') throw new InvalidArgumentError('weightParams', 'must be a QParams object { qtype, scale, zeroPoint?, axis? }');
  const qt = qtypeOf(p);
  if (qt !== 'int8' && qt !== 'uint8') {
    throw new InvalidArgumentError('weightParams.qtype', `weightType 'int8' takes int8 or uint8 weight parameters, got '${qt}'` +
      (qt === 'int4' || qt === 'uint4' ? "; use weightType 'int4' for int4/uint4 weights" : ''));
  }
  const rp: ResolvedParams = resolveParams(p, [N, K], 'weightParams');
  if (rp.granularity === 'blocked') {
    throw new InvalidArgumentError('weightParams.blockSize', "int8 weights are quantized per output channel (axis 0) or per tensor; blocked int8 weights are not supported — drop blockSize, or use weightType 'int4' for groups");
  }
  if (rp.granularity === 'axis' && rp.axis !== 0) {
    throw new InvalidArgumentError('weightParams.axis', `int8 weight parameters are per output channel: axis must be 0 (the N rows of the N×K matrix), got ${String(p.axis ?? 1)}${p.axis === undefined ? ' (QParams default, as ONNX)' : ''}`);
  }
  assertFiniteWeights(w);
  const scales = rp.granularity === 'tensor' ? new Float32Array(N).fill(rp.scale[0]!) : rp.scale;
  const zps = rp.granularity === 'tensor' ? new Float32Array(N).fill(rp.zeroPoint[0]!) : rp.zeroPoint;
  const q = quantize(w, [N, K], p) as Int8Array | Uint8Array;
  let uniform = true;
  for (let n = 1; n < N; n++) if (zps[n] !== zps[0]) { uniform = false; break; }
  const signed = rp.info.signed;
  // One zero point: fold it at pack time (eq. 13). Several: pack with z_P = 0 in the storage
  // domain (int8: 0, uint8: 128) and subtract the per-row remainder per token.
  const zP = uniform ? zps[0]! : signed ? 0 : 128;
  let zDelta: Int32Array | undefined;
  if (!uniform) {
    zDelta = new Int32Array(N);
    for (let n = 0; n < N; n++) zDelta[n] = zps[n]! - zP;
  }
  const packed = PackedInt8Matrix.from(q, N, K, { zeroPoint: zP, xZeroPoint: input?.zeroPoint ?? 0 });
  return { packed, scales, zDelta };
}

function buildInt4(w: Float32Array, N: number, K: number, options: QuantizedLinearOptions, method: LinearMethod | undefined): PackedInt4Matrix {
  if (options.inputParams !== undefined) {
    throw new InvalidArgumentError('inputParams', "int4 layers run W4A8: the kernel quantizes activations dynamically per group of groupSize (eq. 43), so static input parameters are not supported — omit inputParams, or use weightType 'int8' for static activations");
  }
  const p = options.weightParams;
  if (p === undefined) {
    const groupSize = options.groupSize ?? 32;
    const symmetric = options.symmetric ?? true;
    if (typeof symmetric !== 'boolean') throw new InvalidArgumentError('symmetric', `must be true (int4) or false (uint4 with zero points), got ${String(symmetric)}`);
    if (method === 'gptq') {
      checkGroupSize(groupSize);
      const g = runGptq(w, N, K, options, 'int4');
      return PackedInt4Matrix.from(g.q, N, K, { groupSize, scales: g.scales, zeroPoints: g.zeroPoints, signed: symmetric });
    }
    return PackedInt4Matrix.quantize(w, N, K, { groupSize, symmetric, method: method as Int4Method });
  }
  if (p === null || typeof p !== 'object') throw new InvalidArgumentError('weightParams', 'must be a QParams object { qtype, scale, zeroPoint?, axis: 1, blockSize }');
  if (options.symmetric !== undefined) {
    throw new InvalidArgumentError('symmetric', 'applies to the built-in range setting only; with weightParams the qtype decides (int4 symmetric, uint4 with zero points) — omit symmetric');
  }
  const qt = qtypeOf(p);
  if (qt !== 'int4' && qt !== 'uint4') {
    throw new InvalidArgumentError('weightParams.qtype', `weightType 'int4' takes int4 or uint4 weight parameters, got '${qt}'` +
      (qt === 'int8' || qt === 'uint8' ? "; use weightType 'int8' for int8/uint8 weights" : ''));
  }
  const G = p.blockSize;
  if (G === undefined || !INT4_GROUP_SIZES.includes(G)) {
    throw new InvalidArgumentError('weightParams.blockSize', `int4 weights are quantized in groups along K: blockSize must be the group size, one of ${INT4_GROUP_SIZES.join(', ')}, got ${String(G)}`);
  }
  if (options.groupSize !== undefined && options.groupSize !== G) {
    throw new InvalidArgumentError('groupSize', `is ${String(options.groupSize)} but weightParams.blockSize is ${G}; omit groupSize or make them equal`);
  }
  const axis = p.axis ?? 1;
  if (axis !== 1 && axis !== -1) {
    throw new InvalidArgumentError('weightParams.axis', `int4 groups run along K: axis must be 1 (the columns of the N×K matrix), got ${String(axis)}`);
  }
  const groups = Math.ceil(K / G);
  const scale = p.scale as unknown;
  if (!(scale instanceof Float32Array)) {
    throw new InvalidArgumentError('weightParams.scale', `must be a Float32Array of N·ceil(K/blockSize) = ${N}·${groups} = ${N * groups} group scales`);
  }
  assertLength('weightParams.scale', scale, N * groups, `N·ceil(K/blockSize) = ${N}·${groups}`);
  // Validate (scales > 0, zero points in range) and quantize: each code is eq. 2 with its group's
  // parameters, the ragged last group of a row included (blocked along K, eq. 50).
  const rp = resolveParams(p, [N, K], 'weightParams');
  assertFiniteWeights(w);
  const qp = quantize(w, [N, K], p) as Int8Array | Uint8Array;
  const zps = rp.zeroPoint;
  const signed = rp.info.signed && zps.every((z) => z === 0);
  const shift = rp.info.signed ? 8 : 0; // int4 with zero points: q + 8, z + 8 (uint4, same real values)
  const q = signed ? (qp as Int8Array) : shift ? Uint8Array.from(qp, (v) => v + shift) : (qp as Uint8Array);
  const zeroPoints = signed ? undefined : Uint8Array.from(zps, (z) => z + shift);
  return PackedInt4Matrix.from(q, N, K, { groupSize: G, scales: scale, zeroPoints, signed });
}
