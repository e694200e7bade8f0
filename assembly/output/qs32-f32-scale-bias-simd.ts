// qs32-f32-scale-bias-simd — the float32 output stage, kept apart from accumulation.
//
// CONTRACT (docs/quantization.md eq. 15)
//   out[m, n] = f32(acc[m, n]) · f32(xs[m] · ws[n]) + bias[n]        m < M, n < N
//   all in float32, in exactly this order (wasm SIMD has no fused multiply-add, so the scalar
//   reference reproduces it bit for bit with Math.fround); f32(acc) rounds to nearest even.
//   acc: M×N int32 (accumulators from an i8 GEMV/GEMM), xs: M float32 activation scales,
//   ws: N float32 per-output-channel weight scales, bias: N float32 or 0 (= none).
//   out may equal acc (in place: each element is read before it is written).
// ALIGNMENT any. OVER-READ none (the N % 4 tail is scalar). ALLOCATES nothing.

export function qs32_f32_scale_bias(acc: usize, out: usize, M: i32, N: i32, xs: usize, ws: usize, bias: usize): void {
  for (let m = 0; m < M; m++) {
    const sx = load<f32>(xs + (<usize>m << 2));
    const vsx = f32x4.splat(sx);
    const row = <usize>m * (<usize>N << 2);
    let n = 0;
    for (; n + 4 <= N; n += 4) {
      const off = <usize>n << 2;
      const s = f32x4.mul(vsx, v128.load(ws + off));
      let y = f32x4.mul(f32x4.convert_i32x4_s(v128.load(acc + row + off)), s);
      if (bias) y = f32x4.add(y, v128.load(bias + off));
      v128.store(out + row + off, y);
    }
    for (; n < N; n++) {
      const off = <usize>n << 2;
      let y = <f32>load<i32>(acc + row + off) * (sx * load<f32>(ws + off));
      if (bias) y += load<f32>(bias + off);
      store<f32>(out + row + off, y);
    }
  }
}
