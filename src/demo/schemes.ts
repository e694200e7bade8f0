/**
 * Quantized versions of the demo MLP, built with the public API (src/index.ts) only, each run
 * through the integer kernels and, for checking, through a float fake-quant simulation of the
 * same arithmetic. Every integer layer is one QuantizedLinear.
 *
 *   W8A8 static   weights per-channel symmetric int8 (narrow range [−127, 127]) from an observer
 *                 (MinMaxObserver / MseObserver, axis 0); activations (each layer's input)
 *                 asymmetric uint8 per tensor, calibrated by the same kind of observer.
 *                 QuantizedLinear.fromFloat32({ weightType: 'int8', weightParams, inputParams }):
 *                 quantize(x) with the calibrated parameters → int8 GEMM (activation zero point
 *                 folded at pack time) → float output stage (s_x·s_w[n], float bias).
 *   W8A8 dynamic  QuantizedLinear.fromFloat32({ weightType: 'int8' }) (per-channel max-abs int8
 *                 weights; each input row quantized on the fly, symmetric int8).
 *   W4A8          weights symmetric int4 in groups of 32 along K from an observer (axis 1,
 *                 blockSize 32) or learned by QAT: QuantizedLinear.fromFloat32({ weightType:
 *                 'int4', weightParams }) on PackedInt4Matrix; the W4A8 kernel quantizes each
 *                 activation row per group of 32 to int8 on the fly (docs eq. 43), so these rows
 *                 use no calibrated activation parameters; the layer adds the float bias.
 *   W4A8 GPTQ     QuantizedLinear.fromFloat32({ weightType: 'int4', method: 'gptq', calibration }):
 *                 int4 group-32 codes chosen by GPTQ's error feedback on each layer's calibration
 *                 inputs (docs eq. 70–79); the same W4A8 kernel.
 */
import {
  MinMaxObserver, MseObserver, QuantizedLinear,
  dequantize, fakeQuantize, qparamsFromRange, quantize,
  type QParams,
} from '../index.js';
import { linearForward } from './mlp.js';

export type RangeMethod = 'minmax' | 'mse';
export const INT4_GROUP = 32;

/** One layer run through integer kernels; outputs are pre-activation (before ReLU). */
export interface IntLayer {
  readonly K: number;
  readonly N: number;
  /** Bytes of the stored weights: integer codes (int4: two per byte) + float32 scales; bias not counted. */
  readonly weightBytes: number;
  /** The weights the kernel multiplies by, dequantized, N×K (for weight SQNR). */
  readonly dequantizedWeights: Float32Array;
  /** Y (M×N) = layer(X (M×K)) through the integer kernels. */
  forwardBatch(X: Float32Array, M: number): Float32Array;
  /** One vector through the integer kernels (what the GEMV timing measures). */
  forward(x: Float32Array): Float32Array;
  /** The same arithmetic in float32 with fake-quantized inputs and dequantized weights. */
  simulate(X: Float32Array, M: number): Float32Array;
  dispose(): void;
}

function makeObserver(method: RangeMethod, o: ConstructorParameters<typeof MinMaxObserver>[0]): MinMaxObserver | MseObserver {
  return method === 'mse' ? new MseObserver(o) : new MinMaxObserver(o);
}

/** N×K output-major ⇄ K×N input-major. */
export function transpose(a: Float32Array, R: number, C: number): Float32Array {
  const t = new Float32Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) t[c * R + r] = a[r * C + c]!;
  return t;
}

/** Σ over the rows: Y = X·W + b, with W given output-major N×K (transposed once here). */
function floatLinear(X: Float32Array, M: number, wNK: Float32Array, b: Float32Array, N: number, K: number): Float32Array {
  const Y = new Float32Array(M * N);
  linearForward(X, M, K, transpose(wNK, N, K), b, N, Y);
  return Y;
}

/** Calibrate one activation tensor (a layer's input): asymmetric uint8, per tensor. */
export function calibrateActivation(method: RangeMethod, batches: Array<{ x: Float32Array; M: number; K: number }>): QParams {
  const obs = makeObserver(method, { qtype: 'uint8' });
  try {
    for (const b of batches) obs.observe(b.x, [b.M, b.K]);
    return obs.qparams();
  } finally {
    obs.dispose();
  }
}

/** W8A8 with static (calibrated) activations. */
export function w8a8Static(wNK: Float32Array, b: Float32Array, N: number, K: number, method: RangeMethod, act: QParams): IntLayer {
  const obs = makeObserver(method, { qtype: 'int8', symmetric: true, narrowRange: true, axis: 0 });
  let pW: QParams;
  try {
    obs.observe(wNK, [N, K]);
    pW = obs.qparams();
  } finally {
    obs.dispose();
  }
  const wDeq = dequantize(quantize(wNK, [N, K], pW), [N, K], pW);
  const ql = QuantizedLinear.fromFloat32(wNK, N, K, { weightType: 'int8', weightParams: pW, inputParams: act, bias: b });
  return {
    K, N, weightBytes: N * K + 4 * N, dequantizedWeights: wDeq,
    forwardBatch: (X, M) => ql.forwardBatch(X, M),
    forward: (x) => ql.forward(x),
    simulate: (X, M) => floatLinear(fakeQuantize(X, [M, K], act), M, wDeq, b, N, K),
    dispose: () => ql.dispose(),
  };
}

/** Per-row (or per-row-per-group) absmax → symmetric int8 parameters, as the dynamic kernels compute them. */
function dynamicParams(X: Float32Array, M: number, K: number, group: number | undefined): QParams {
  const G = group ?? K;
  const groups = Math.ceil(K / G);
  const lo = new Float32Array(M * groups), hi = new Float32Array(M * groups);
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < groups; g++) {
      let a = 0;
      for (let k = g * G; k < Math.min(K, (g + 1) * G); k++) a = Math.max(a, Math.abs(X[m * K + k]!));
      lo[m * groups + g] = -a;
      hi[m * groups + g] = a;
    }
  }
  return group === undefined
    ? qparamsFromRange(lo, hi, { qtype: 'int8', symmetric: true, narrowRange: true, axis: 0 })
    : qparamsFromRange(lo, hi, { qtype: 'int8', symmetric: true, narrowRange: true, axis: 1, blockSize: group });
}

/** W8A8 through QuantizedLinear (max-abs weights, dynamic per-row activations). */
export function w8a8Dynamic(wNK: Float32Array, b: Float32Array, N: number, K: number): IntLayer {
  const ql = QuantizedLinear.fromFloat32(wNK, N, K, { weightType: 'int8', bias: b });
  const pW = qparamsFromRange(...rowRanges(wNK, N, K), { qtype: 'int8', symmetric: true, narrowRange: true, axis: 0 });
  const wDeq = fakeQuantize(wNK, [N, K], pW);
  return {
    K, N, weightBytes: N * K + 4 * N, dequantizedWeights: wDeq,
    forwardBatch: (X, M) => ql.forwardBatch(X, M),
    forward: (x) => ql.forward(x),
    simulate: (X, M) => floatLinear(fakeQuantize(X, [M, K], dynamicParams(X, M, K, undefined)), M, wDeq, b, N, K),
    dispose: () => ql.dispose(),
  };
}

function rowRanges(w: Float32Array, N: number, K: number): [Float32Array, Float32Array] {
  const lo = new Float32Array(N), hi = new Float32Array(N);
  for (let n = 0; n < N; n++) {
    let a = Infinity, z = -Infinity;
    for (let k = 0; k < K; k++) { const v = w[n * K + k]!; if (v < a) a = v; if (v > z) z = v; }
    lo[n] = a; hi[n] = z;
  }
  return [lo, hi];
}

/**
 * int4 group-32 parameters for N×K weights from an observer: blocks of `group` along K, the last
 * one of a row shorter when `group` does not divide K (as ONNX blocked quantization, and as
 * PackedInt4Matrix stores it).
 */
export function int4WeightParams(wNK: Float32Array, N: number, K: number, method: RangeMethod, group = INT4_GROUP): QParams {
  const obs = makeObserver(method, { qtype: 'int4', symmetric: true, axis: 1, blockSize: group });
  try {
    obs.observe(wNK, [N, K]);
    return obs.qparams();
  } finally {
    obs.dispose();
  }
}

/**
 * W4A8: int4 weights in groups of pW.blockSize (default 32) along K (scale: N × ⌈K/G⌉, zero
 * points 0; the last group of a row may be short), through QuantizedLinear. The simulation
 * quantizes activations in the same groups along K, as the kernel does.
 */
export function w4a8(wNK: Float32Array, b: Float32Array, N: number, K: number, pW: QParams): IntLayer {
  const G = pW.blockSize ?? INT4_GROUP;
  const p: QParams = { ...pW, blockSize: G };
  const wDeq = dequantize(quantize(wNK, [N, K], p), [N, K], p);
  const ql = QuantizedLinear.fromFloat32(wNK, N, K, { weightType: 'int4', weightParams: p, bias: b });
  return w4a8Layer(ql, wDeq, b, G);
}

/**
 * W4A8 with GPTQ weights: group-32 int4 codes from GPTQ on `calibration` (M×K, the layer's inputs
 * on calibration images). The simulation uses the packed matrix's own dequantized weights
 * (their scales may be negative — the signed grid's orientation — which QParams do not take).
 */
export function w4a8Gptq(wNK: Float32Array, b: Float32Array, N: number, K: number, calibration: Float32Array): IntLayer {
  const G = INT4_GROUP, groups = Math.ceil(K / G);
  const ql = QuantizedLinear.fromFloat32(wNK, N, K, { weightType: 'int4', groupSize: G, method: 'gptq', calibration, bias: b });
  const { q, scales } = ql.weights.toInt4Values();
  const wDeq = new Float32Array(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) wDeq[n * K + k] = Math.fround(q[n * K + k]! * scales[n * groups + Math.floor(k / G)]!);
  return w4a8Layer(ql, wDeq, b, G);
}

/** An int4 QuantizedLinear as an IntLayer; wDeq: its dequantized N×K weights (groups of G along K, the last one may be short). */
function w4a8Layer(ql: QuantizedLinear<'int4'>, wDeq: Float32Array, b: Float32Array, G: number): IntLayer {
  const { N, K } = ql;
  return {
    K, N,
    weightBytes: N * Math.ceil(K / 2) + 4 * N * Math.ceil(K / G),
    dequantizedWeights: wDeq,
    forwardBatch: (X, M) => ql.forwardBatch(X, M),
    forward: (x) => ql.forward(x),
    simulate: (X, M) => floatLinear(fakeQuantize(X, [M, K], dynamicParams(X, M, K, G)), M, wDeq, b, N, K),
    dispose: () => ql.dispose(),
  };
}

/** y = W·x + b, W row-major N×K Float32Array: the plain-JS float GEMV the speedups are measured against. */
export function floatGemv(w: Float32Array, x: Float32Array, b: Float32Array, N: number, K: number, y: Float32Array): Float32Array {
  for (let n = 0; n < N; n++) {
    const o = n * K;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      s0 += w[o + k]! * x[k]!;
      s1 += w[o + k + 1]! * x[k + 1]!;
      s2 += w[o + k + 2]! * x[k + 2]!;
      s3 += w[o + k + 3]! * x[k + 3]!;
    }
    for (; k < K; k++) s0 += w[o + k]! * x[k]!;
    y[n] = b[n]! + (s0 + s1) + (s2 + s3);
  }
  return y;
}
