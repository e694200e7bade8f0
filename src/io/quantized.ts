/**
 * Quantized weights in safetensors files (docs/safetensors.md): the naming scheme and metadata
 * `intquant quantize` writes and `intquant dequantize` reads, and the per-tensor quantize /
 * dequantize steps both commands (and `intquant report`) share.
 *
 * For a 2-D float tensor `W` of shape [N, K] (rows = output channels, as PyTorch Linear stores them):
 *   W.q          int8 per-channel: I8 [N, K] (U8 when asymmetric);
 *                int4 per-group:   U8 [N, Kp/2] with Kp = ⌈K/G⌉·G: each row padded to whole groups
 *                                  (padding quantizes 0), two values per byte in ONNX order (element
 *                                  2i in the low nibble of byte i; signed int4 as two's complement)
 *   W.scale      F32 [N] (per channel, axis 0) or F32 [N, ⌈K/G⌉] (groups of G along axis 1)
 *   W.zero_point U8, same shape as W.scale, one value per byte (asymmetric schemes only)
 * and the header's __metadata__ gets `intquant.tensor:W` = JSON describing the scheme.
 */
import { IntquantError } from '../errors.js';
import { qparamsFromRange, quantize, dequantize, packInt4, unpackInt4, type QParams } from '../quant/index.js';
import type { QType } from '../quant/qtypes.js';
import { MseObserver } from '../calibrate/index.js';
import { quantizeInt4Runs } from '../calibrate/int4-groups.js';
import { gptqQuantize } from '../calibrate/gptq.js';
import { FLOAT_DTYPES, type SafetensorsDType, type TensorInfo, type TensorSpec } from './safetensors.js';

export type WeightBits = 'int8' | 'int4';
/**
 * How the codes are chosen: 'minmax' and 'mse' range setting (int8: observed / MSE-searched
 * per-row range; int4: eq. 60 / the refit of eq. 62–66), 'hqq' (int4 only, eq. 67–68), 'gptq'
 * (with calibration activations, eq. 70–79).
 */
export type RangeMethod = 'minmax' | 'mse' | 'hqq' | 'gptq';

export interface WeightScheme {
  weights: WeightBits;
  /** int4 only: values per group along axis 1. */
  groupSize: number;
  method: RangeMethod;
  /** Symmetric signed grid (no zero point); false = unsigned grid with zero points. */
  symmetric: boolean;
}

export const FORMAT_KEY = 'intquant.format';
export const FORMAT_VALUE = 'intquant-safetensors/1';
export const VERSION_KEY = 'intquant.version';
export const TENSOR_KEY_PREFIX = 'intquant.tensor:';

/** What `__metadata__["intquant.tensor:<name>"]` holds (JSON). */
export interface QuantizedTensorMeta {
  qtype: QType;
  /** 0: per channel (one scale per row); 1: blocked along the rows. */
  axis: 0 | 1;
  block_size?: number;
  method: RangeMethod;
  symmetric: boolean;
  /** The original dtype and shape. */
  dtype: SafetensorsDType;
  shape: [number, number];
  /** 'onnx-int4': two 4-bit values per byte, element 2i in the low nibble. */
  packing?: 'onnx-int4';
  q: string;
  scale: string;
  zero_point?: string;
}

/** A quantized tensor as stored. */
export interface StoredWeight {
  q: Int8Array | Uint8Array;
  scale: Float32Array;
  zeroPoint?: Uint8Array;
}

export function quantizedNames(name: string): { q: string; scale: string; zeroPoint: string } {
  return { q: `${name}.q`, scale: `${name}.scale`, zeroPoint: `${name}.zero_point` };
}

export function schemeQType(s: WeightScheme): QType {
  return s.weights === 'int8' ? (s.symmetric ? 'int8' : 'uint8') : (s.symmetric ? 'int4' : 'uint4');
}

export function describeScheme(s: WeightScheme): string {
  const g = s.weights === 'int8' ? 'per-channel' : `group-${s.groupSize}`;
  const method = { minmax: 'min-max', mse: 'MSE', hqq: 'HQQ', gptq: 'GPTQ' }[s.method];
  return `${schemeQType(s)} ${g} ${s.symmetric ? 'symmetric' : 'asymmetric'} ${method}`;
}

/** Why `intquant quantize` copies this tensor unchanged, or undefined when it quantizes it. */
export function skipReason(t: TensorInfo, s: WeightScheme): string | undefined {
  if (!FLOAT_DTYPES.includes(t.dtype)) return `${t.dtype} is not a float dtype`;
  if (t.shape.length !== 2) return `${t.shape.length}-D (only 2-D weights are quantized)`;
  if (t.size === 0) return 'empty';
  return undefined;
}

/** The metadata entry for a tensor quantized with `s`. */
export function tensorMeta(t: TensorInfo, s: WeightScheme): QuantizedTensorMeta {
  const n = quantizedNames(t.name);
  const m: QuantizedTensorMeta = {
    qtype: schemeQType(s), axis: s.weights === 'int8' ? 0 : 1, method: s.method, symmetric: s.symmetric,
    dtype: t.dtype, shape: [t.shape[0]!, t.shape[1]!], q: n.q, scale: n.scale,
  };
  if (s.weights === 'int4') { m.block_size = s.groupSize; m.packing = 'onnx-int4'; }
  if (!s.symmetric) m.zero_point = n.zeroPoint;
  return m;
}

/** dtype and shape of each stored tensor for `meta`. */
export function storedSpecs(meta: QuantizedTensorMeta): TensorSpec[] {
  const [N, K] = meta.shape;
  const Kp = paddedK(meta);
  const scaleShape = meta.axis === 0 ? [N] : [N, Kp / meta.block_size!];
  const specs: TensorSpec[] = [
    meta.packing === 'onnx-int4'
      ? { name: meta.q, dtype: 'U8', shape: [N, Kp / 2] }
      : { name: meta.q, dtype: meta.qtype === 'int8' ? 'I8' : 'U8', shape: [N, K] },
    { name: meta.scale, dtype: 'F32', shape: scaleShape },
  ];
  if (meta.zero_point) specs.push({ name: meta.zero_point, dtype: 'U8', shape: scaleShape });
  return specs;
}

/** Columns per stored row: K rounded up to whole groups (int4), K otherwise. */
export function paddedK(m: { shape: readonly number[]; block_size?: number }): number {
  const K = m.shape[1]!;
  return m.block_size ? Math.ceil(K / m.block_size) * m.block_size : K;
}

function runRanges(x: Float32Array, run: number): { min: Float32Array; max: Float32Array } {
  const count = x.length / run;
  const min = new Float32Array(count), max = new Float32Array(count);
  for (let r = 0; r < count; r++) {
    let lo = Infinity, hi = -Infinity;
    for (let i = r * run, end = i + run; i < end; i++) { const v = x[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
    min[r] = lo; max[r] = hi;
  }
  return { min, max };
}

/** Quantization parameters for a row-major [N, K] weight under scheme `s`. */
export function weightParams(x: Float32Array, N: number, K: number, s: WeightScheme): QParams {
  const qtype = schemeQType(s);
  const axis = s.weights === 'int8' ? 0 : 1;
  const blockSize = s.weights === 'int8' ? undefined : s.groupSize;
  if (s.method === 'mse') {
    const obs = new MseObserver({ qtype, symmetric: s.symmetric, axis, ...(blockSize ? { blockSize } : {}) });
    try {
      const p = obs.observe(x, [N, K]).qparams();
      return { ...p, axis, ...(blockSize ? { blockSize } : {}) };
    } finally {
      obs.dispose();
    }
  }
  // min-max: ranges per row (axis 0) or per run of G along a row (blocks along axis 1, row-major
  // = the ONNX blocked scale layout [N, K/G])
  const { min, max } = runRanges(x, blockSize ?? K);
  for (let i = 0; i < min.length; i++) {
    if (!Number.isFinite(min[i]!) || !Number.isFinite(max[i]!)) {
      const bad = x.findIndex((v) => !Number.isFinite(v));
      throw new IntquantError('IQ_NONFINITE_WEIGHT', `contains ${x[bad]} at index ${bad}; only finite weights can be quantized`);
    }
  }
  const p = qparamsFromRange(min, max, { qtype, symmetric: s.symmetric, axis });
  return blockSize ? { ...p, axis, blockSize } : { ...p, axis };
}

const asF32 = (s: number | Float32Array): Float32Array => (typeof s === 'number' ? Float32Array.of(s) : s);

/**
 * Quantize a row-major [N, K] weight into what the file stores. int8: per-row parameters by
 * min-max or the MSE search (eq. 7, 27), or GPTQ's codes (with `calibration`, M×K). int4: the
 * group quantizer of PackedInt4Matrix.quantize (eq. 60–68) on the rows as they are (a ragged last
 * group is fitted on its own values), or GPTQ; each row is then padded to whole groups with the
 * code of 0 (0 for int4, the group's zero point for uint4), so the padding dequantizes to 0.
 */
export function quantizeWeight(x: Float32Array, N: number, K: number, s: WeightScheme, calibration?: Float32Array): StoredWeight {
  if (s.weights === 'int4') return quantizeInt4Weight(x, N, K, s, calibration);
  if (s.method === 'gptq') {
    if (!s.symmetric) throw new IntquantError('IQ_UNSUPPORTED', 'GPTQ int8 weights are symmetric per channel; drop --asymmetric');
    const g = gptqQuantize(x, N, K, calibration!, { weightType: 'int8', groupSize: K, symmetric: true });
    return { q: g.q, scale: g.scales };
  }
  if (s.method === 'hqq') throw new IntquantError('IQ_UNSUPPORTED', "method 'hqq' applies to int4 weights only");
  const p = weightParams(x, N, K, s);
  const q = quantize(x, [N, K], p) as Int8Array | Uint8Array;
  const out: StoredWeight = { q, scale: asF32(p.scale) };
  if (!s.symmetric) out.zeroPoint = Uint8Array.from(p.zeroPoint as ArrayLike<number>);
  return out;
}

function quantizeInt4Weight(x: Float32Array, N: number, K: number, s: WeightScheme, calibration?: Float32Array): StoredWeight {
  const G = s.groupSize, groups = Math.ceil(K / G), Kp = groups * G;
  const g = s.method === 'gptq'
    ? gptqQuantize(x, N, K, calibration!, { weightType: 'int4', groupSize: G, symmetric: s.symmetric })
    : quantizeInt4Runs(x, N, K, G, s.symmetric, s.method);
  const q = s.symmetric ? new Int8Array(N * Kp) : new Uint8Array(N * Kp);
  for (let n = 0; n < N; n++) {
    q.set(g.q.subarray(n * K, (n + 1) * K), n * Kp);
    if (g.zeroPoints && Kp > K) q.fill(g.zeroPoints[n * groups + groups - 1]!, n * Kp + K, (n + 1) * Kp);
  }
  const out: StoredWeight = { q: packInt4(q), scale: g.scales };
  if (g.zeroPoints) out.zeroPoint = g.zeroPoints;
  return out;
}

/**
 * The float32 values a stored weight represents: f32((q − zero_point)·scale) (eq. 3). int4 scales
 * may be negative (signed int4 orients its grid by the scale's sign, eq. 60), which eq. 3 takes as it is.
 */
export function dequantizeWeight(meta: QuantizedTensorMeta, w: StoredWeight): Float32Array {
  const [N, K] = meta.shape;
  const Kp = paddedK(meta);
  const signed = meta.qtype === 'int8' || meta.qtype === 'int4';
  if (meta.packing === 'onnx-int4') {
    const q = unpackInt4(w.q as Uint8Array, N * Kp, signed);
    const G = meta.block_size!, groups = Kp / G;
    const x = new Float32Array(N * K);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++) {
        const j = n * groups + Math.floor(k / G);
        x[n * K + k] = Math.fround((q[n * Kp + k]! - (w.zeroPoint ? w.zeroPoint[j]! : 0)) * w.scale[j]!);
      }
    }
    return x;
  }
  const q = signed ? new Int8Array(w.q.buffer, w.q.byteOffset, w.q.length) : new Uint8Array(w.q.buffer, w.q.byteOffset, w.q.length);
  const p: QParams = { qtype: meta.qtype, scale: w.scale, axis: meta.axis };
  if (w.zeroPoint) p.zeroPoint = w.zeroPoint;
  return dequantize(q, [N, K], p);
}

/** Stored bytes of a scheme for an [N, K] weight (values + F32 scales + U8 zero points). */
export function storedBytes(N: number, K: number, s: WeightScheme): number {
  const Kp = s.weights === 'int8' ? K : Math.ceil(K / s.groupSize) * s.groupSize;
  const groups = s.weights === 'int8' ? N : N * (Kp / s.groupSize);
  return (s.weights === 'int8' ? N * K : (N * Kp) / 2) + groups * 4 + (s.symmetric ? 0 : groups);
}

const QTYPES_OK: readonly QType[] = ['int8', 'uint8', 'int4', 'uint4'];
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

/** Parse and check one `intquant.tensor:<name>` metadata value. */
export function parseTensorMeta(name: string, json: string): QuantizedTensorMeta {
  const bad = (why: string): never => { throw new IntquantError('IQ_QUANTIZED_FORMAT', `metadata for '${name}' ${why}`); };
  let m: Partial<QuantizedTensorMeta>;
  try {
    m = JSON.parse(json) as Partial<QuantizedTensorMeta>;
  } catch {
    return bad('is not valid JSON');
  }
  if (m === null || typeof m !== 'object') return bad('is not a JSON object');
  if (!QTYPES_OK.includes(m.qtype as QType)) bad(`has unsupported qtype ${JSON.stringify(m.qtype)}`);
  if (!Array.isArray(m.shape) || m.shape.length !== 2 || !m.shape.every(isInt)) bad(`has a bad shape ${JSON.stringify(m.shape)}`);
  if (m.axis !== 0 && m.axis !== 1) bad(`has a bad axis ${JSON.stringify(m.axis)}`);
  const is4 = m.qtype === 'int4' || m.qtype === 'uint4';
  if (is4 !== (m.axis === 1)) bad(`pairs ${m.qtype} with axis ${m.axis} (intquant writes int8 per channel on axis 0, int4 per group on axis 1)`);
  if (is4 && (!isInt(m.block_size) || m.block_size % 2 !== 0)) bad(`has a bad block_size ${JSON.stringify(m.block_size)}`);
  if (is4 && m.packing !== 'onnx-int4') bad(`has unknown packing ${JSON.stringify(m.packing)}`);
  if (typeof m.q !== 'string' || typeof m.scale !== 'string') bad('does not name its q and scale tensors');
  const unsigned = m.qtype === 'uint8' || m.qtype === 'uint4';
  if (unsigned && typeof m.zero_point !== 'string') bad(`is ${m.qtype} but names no zero_point tensor`);
  if (!unsigned && m.zero_point !== undefined) bad(`is ${m.qtype} (symmetric) but names a zero_point tensor`);
  if (!FLOAT_DTYPES.includes(m.dtype as SafetensorsDType)) bad(`has a bad original dtype ${JSON.stringify(m.dtype)}`);
  return m as QuantizedTensorMeta;
}
