// f32-qs8-dynamic-simd — dynamic symmetric int8 quantization of one activation row, for
// QuantizedLinear (a small fused absmax + quantize kernel owned by the GEMV family).
//
// CONTRACT (docs/quantization.md eq. 16)
//   a = max_k |x[k]|   (NaN if any x[k] is NaN),   s = f32(a / 127)
//   q[k] = clamp(round_half_even(f32(x[k] / s)), −127, 127)     (true float32 division)
//   returns s. s = 0 (all-zero row) writes q = 0. Non-finite s (NaN or ±Inf input) is returned
//   as is and q is left unwritten: the host rejects such input.
//   Symmetric range [−127, 127], zero point 0, so the GEMV needs no activation-zero-point fold.
// ALIGNMENT any. OVER-READ none (tails are scalar). ALLOCATES nothing.
// Two passes over x (absmax, then quantize); x is K·4 bytes and stays in L1/L2.

// Speed: the absmax runs on the float bits with the sign cleared, as int32 (one vpand + vpmaxsd:
// for non-negative floats int order is float order, and a NaN's bits exceed +Inf's, so a NaN
// still wins); the quantize pass clamps and rounds with quant/quantize.ts toInt (pmin / pmax, then
// the 1.5·2^23 magic-number add; zero point 0; no NaN can reach it), where f32x4.max / min /
// nearest and i32x4.trunc_sat_f32x4_s lower to long sequences in V8: 2.0 → 0.42 µs at K = 1024,
// 8.0 → 1.65 µs at K = 4096 (Node 20, AMD EPYC Zen 5).
import { toInt } from '../quant/quantize';

export function f32_qs8_dynamic(x: usize, q: usize, K: i32): f32 {
  const noSign = i32x4.shr_u(i32x4.splat(-1), 1);
  let vm = i32x4.splat(0);
  let k = 0;
  for (; k + 4 <= K; k += 4) vm = i32x4.max_s(vm, v128.and(v128.load(x + (<usize>k << 2)), noSign));
  let bits = max(max(i32x4.extract_lane(vm, 0), i32x4.extract_lane(vm, 1)), max(i32x4.extract_lane(vm, 2), i32x4.extract_lane(vm, 3)));
  for (; k < K; k++) bits = max(bits, load<i32>(x + (<usize>k << 2)) & 0x7fffffff);
  const a = reinterpret<f32>(bits);
  const s: f32 = a / <f32>127;
  if (!isFinite(s)) return s;
  if (s == 0) { memory.fill(q, 0, <usize>K); return s; }
  const vs = f32x4.splat(s);
  const lo = f32x4.splat(-127), hi = f32x4.splat(127);
  const magic = f32x4.splat(12582912), bias = i32x4.splat(0x4B400000);
  k = 0;
  for (; k + 16 <= K; k += 16) {
    const p = x + (<usize>k << 2);
    const q0 = toInt(f32x4.div(v128.load(p), vs), lo, hi, magic, bias);
    const q1 = toInt(f32x4.div(v128.load(p, 16), vs), lo, hi, magic, bias);
    const q2 = toInt(f32x4.div(v128.load(p, 32), vs), lo, hi, magic, bias);
    const q3 = toInt(f32x4.div(v128.load(p, 48), vs), lo, hi, magic, bias);
    v128.store(q + <usize>k, i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(q0, q1), i16x8.narrow_i32x4_s(q2, q3)));
  }
  for (; k < K; k++) {
    const v = min<f32>(127, max<f32>(-127, nearest<f32>(load<f32>(x + (<usize>k << 2)) / s)));
    store<i8>(q + <usize>k, <i8><i32>v);
  }
  return s;
}
