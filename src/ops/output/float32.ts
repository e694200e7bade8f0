/**
 * float32 output stage (eq. 15): y[m,n] = f32(acc[m,n])·f32(s_x[m]·s_w[n]) + bias[n], float32,
 * computed by the wasm kernel qs32-f32-scale-bias-simd. Kept apart from accumulation.
 */
import { InvalidArgumentError, assertInteger } from '../../errors.js';
import { rt } from '../../runtime/wasm.js';
import { part, scratch } from '../scratch.js';
import { assertLength, assertOut } from '../validate.js';

/** @internal Run the stage on data already in wasm memory (offsets); biasOff 0 = no bias. out may equal acc. */
export function runOutputFloat32(accOff: number, outOff: number, M: number, N: number, xsOff: number, wsOff: number, biasOff: number): void {
  rt().kernels.qs32_f32_scale_bias(accOff, outOff, M, N, xsOff, wsOff, biasOff);
}

function asScales(argument: string, s: Float32Array | number, n: number): Float32Array {
  const a = typeof s === 'number' ? new Float32Array(n).fill(s) : s;
  if (!(a instanceof Float32Array)) throw new InvalidArgumentError(argument, `must be a number or a Float32Array of length ${n}`);
  assertLength(argument, a, n, 'it');
  for (let i = 0; i < n; i++) {
    if (!(a[i]! > 0) || !Number.isFinite(a[i]!)) throw new InvalidArgumentError(argument, `scales must be finite and > 0, got ${a[i]} at index ${i}`);
  }
  return a;
}

/**
 * Dequantize M×N int32 accumulators to float32: per-row activation scales `xScale` (M or one
 * number), per-output-channel weight scales `wScale` (N or one number), optional float bias (N).
 */
export function outputFloat32(
  acc: Int32Array, M: number, N: number, xScale: Float32Array | number, wScale: Float32Array | number,
  bias?: Float32Array, out?: Float32Array,
): Float32Array {
  assertInteger('M', M, 1);
  assertInteger('N', N, 1);
  if (!(acc instanceof Int32Array)) throw new InvalidArgumentError('acc', `must be an Int32Array of length M·N = ${M * N}`);
  assertLength('acc', acc, M * N, 'M·N');
  const xs = asScales('xScale', xScale, M);
  const ws = asScales('wScale', wScale, N);
  if (bias !== undefined) {
    if (!(bias instanceof Float32Array)) throw new InvalidArgumentError('bias', `must be a Float32Array of length N = ${N}`);
    assertLength('bias', bias, N, 'N');
  }
  const y = assertOut('out', out, Float32Array, M * N);
  const accB = part(4 * M * N), xsB = part(4 * M), wsB = part(4 * N);
  const base = scratch(accB + xsB + wsB + part(4 * N));
  const mem = rt().mem;
  const xsOff = base + accB, wsOff = xsOff + xsB, bOff = wsOff + wsB;
  mem.i32(base, M * N).set(acc);
  mem.f32(xsOff, M).set(xs);
  mem.f32(wsOff, N).set(ws);
  if (bias) mem.f32(bOff, N).set(bias);
  runOutputFloat32(base, base, M, N, xsOff, wsOff, bias ? bOff : 0);
  y.set(mem.f32(base, M * N));
  return y;
}
