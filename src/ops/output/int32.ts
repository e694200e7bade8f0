/**
 * int32 output stage (eq. 10): the exact wrapped accumulators are the result, as in ONNX
 * MatMulInteger. Copies them out of wasm memory into `out` (or a new array).
 */
import { rt } from '../../runtime/wasm.js';
import { assertOut } from '../validate.js';

/** @internal Copy `n` int32 accumulators at byte offset `accOff` into out. */
export function outputInt32(accOff: number, n: number, out?: Int32Array): Int32Array {
  const y = assertOut('out', out, Int32Array, n);
  y.set(rt().mem.i32(accOff, n));
  return y;
}
