// q4-gemv-4x32-simd — W4A8 GEMV: packed int4 weights × per-group int8 activations → float32,
// 4 output rows per pass, 32 k per step (one 16-byte load per row yields 32 weights).
//
// CONTRACT (docs/quantization.md eq. 40–43)
//   out[n] = Σ_g sx[g] · ( ws[n,g]·D[n,g] − wz[n,g]·Σ_{k∈g} xq[k] ),
//   D[n,g]  = Σ_{k∈g} v[n,k]·xa[k] − corr[g] = 4096 · Σ_{k∈g} q[n,k]·xq[k]          (exact int32)
//   q[n,k] ∈ [−8, 7]: the signed weight (uint4 weights are stored as q − 8 and their zero point
//   moves into wz); xq[k] ∈ [−127, 127]: the int8 activation; v·xa: the int16 lane value the
//   unpack leaves times the activation as q4-act-quantize stores it (see layout), always
//   4096·(stored nibble)·xq; corr[g] = 8·4096·Σ xq over k-offsets 8–23 (their nibbles are stored
//   offset-binary, u = q + 8). ws[n,g] = weight scale / 4096; wz[n,g] = weight scale · (z − 8)
//   (asymmetric variant only).
//
// PACKED LAYOUT (G = groupSize ∈ {32, 64, 128, 256}, Kp = K rounded up to G, Np = N rounded up to 4)
//   panel p (rows 4p..4p+3), group g, 32-k block b < G/32, at p·PB + g·GB + b·64
//   (GB = 2·G + 16·(1 + asym), PB = (Kp/G)·GB):
//     +16r .. +16r+15  row 4p+r, k = g·G + 32b + j, by int16 lane L (bytes 2L, 2L+1):
//        bits  0–3   j = L       q two's complement   unpack: lane << 12          = 4096·q
//        bits  4–7   j = 8 + L   u = q + 8            unpack: lane & 0x00F0       =   16·u
//        bits  8–11  j = 16 + L  u = q + 8            unpack: lane & 0x0F00       =  256·u
//        bits 12–15  j = 24 + L  q two's complement   unpack: lane & 0xF000       = 4096·q
//     (one shift and three masks; the activations of j = 8–15 are stored ×256 and of j = 16–23
//     ×16, so every product is 4096·nibble·xq and one int32 sum serves the whole block)
//   after the blocks of group g: ws[4p..4p+3, g] as 4 float32 (16 B), then, asymmetric only,
//   wz[4p..4p+3, g] (16 B). Padding rows hold zero scales; padding k hold q = 0 and meet xq = 0.
//   Each panel is one sequential stream.
//
// ACTIVATION INPUTS (written by q4-act-quantize)  xa: Kp int16; per group g, 16 B each:
//   xcorr[g] = −corr[g]/4 (int32, the start value of every accumulator lane), xs[g] = sx[g] and
//   xsum[g] = Σ xq (float32, each splatted to 4 lanes).
// ALIGNMENT  packed 64 B (allocator); the rest 16 B. OVER-READ none.
// ACCUMULATOR int32 per group: |4096·nibble·xq| ≤ 4096·15·127 ≈ 2^22.9 per product, ≤ G = 256
//            products per row → < 2^31: no overflow. Float32 across groups.
// SPEED NOTES  4 rows per pass share the 4 activation loads; G = 32 runs a loop without an inner
//   block loop, larger G two blocks per inner iteration. Variants tried (docs/kernels.md): six
//   unpack ops (three shifts) per block instead of four masks: slower; one flat loop with a
//   group-end branch: V8 spilled every accumulator, 2× slower.

import { ACT_BYTES, finishGroup, panelGroupSums, storeRowsF32, sumsIn4096 } from './q4-common';

// @ts-ignore: decorator
@inline function gemvQ4(asym: bool, sums: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const groups = <usize>(Kp / G);
  const blockBytes = <usize>G << 1;                 // packed bytes of one group of one panel
  const tail: usize = asym ? 32 : 16;               // scale (+ zero-point term) bytes after each group
  const xGroup = <usize>G * ACT_BYTES;
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    let acc = f32x4.splat(0);
    for (let g: usize = 0; g < groups; g++) {
      const d = panelGroupSums(w, xq + g * xGroup, xcorr + (g << 2), G);
      w += blockBytes;
      if (sums) { v128.store(out, sumsIn4096(d)); out += 16; }
      else acc = finishGroup(asym, d, w, xs + (g << 4), xsum + (g << 4), acc);
      w += tail;
    }
    if (sums) continue;
    storeRowsF32(out, acc, N - row);
    out += 16;
  }
}

/**
 * Two weight streams: panel p and panel p + P/2 advance together, group by group, so two
 * sequential streams are in flight from DRAM (the int8 GEMV's `_2s` finding). Same results.
 */
// @ts-ignore: decorator
@inline function gemvQ4TwoStreams(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const groups = <usize>(Kp / G);
  const panels = (N + 3) >> 2;
  const half = panels >> 1;
  const blockBytes = <usize>G << 1;
  const tail: usize = asym ? 32 : 16;
  const panelBytes = groups * (blockBytes + tail);
  const xGroup = <usize>G * ACT_BYTES;
  for (let p = 0; p < half; p++) {
    const q = p + half;
    let w = packed + <usize>p * panelBytes;
    let v = packed + <usize>q * panelBytes;
    let accA = f32x4.splat(0), accB = f32x4.splat(0);
    for (let g: usize = 0; g < groups; g++) {
      const xg = xq + g * xGroup, c = xcorr + (g << 2);
      const dA = panelGroupSums(w, xg, c, G);
      const dB = panelGroupSums(v, xg, c, G);
      w += blockBytes;
      v += blockBytes;
      accA = finishGroup(asym, dA, w, xs + (g << 4), xsum + (g << 4), accA);
      accB = finishGroup(asym, dB, v, xs + (g << 4), xsum + (g << 4), accB);
      w += tail;
      v += tail;
    }
    storeRowsF32(out + (<usize>p << 4), accA, N - (p << 2));
    storeRowsF32(out + (<usize>q << 4), accB, N - (q << 2));
  }
  if (panels & 1) {
    const p = panels - 1;
    gemvQ4(asym, false, packed + <usize>p * panelBytes, xq, xs, xcorr, xsum, out + (<usize>p << 4), N - (p << 2), Kp, G);
  }
}

/** Symmetric int4 weights (no zero point). xsum is not read. */
export function q4_gemv_4x32__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4(false, false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

/** Asymmetric uint4 weights with per-group zero points folded into wz. */
export function q4_gemv_4x32__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4(true, false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

/**
 * Test variant: instead of out[n], writes the exact int32 group sums 4096·Σ_{k∈g} q[n,k]·x[k]
 * (after the eq. 41 offset correction, before any scaling) as int32, panel-major:
 * out[((p·groups) + g)·4 + r] for row 4p + r. Lets tests check the integer part exactly.
 */
export function q4_gemv_4x32__groupsums(packed: usize, xq: usize, xcorr: usize, out: usize, N: i32, Kp: i32, G: i32, asym: bool): void {
  if (asym) gemvQ4(true, true, packed, xq, 0, xcorr, 0, out, N, Kp, G);
  else gemvQ4(false, true, packed, xq, 0, xcorr, 0, out, N, Kp, G);
}

/** Two-stream variants (large matrices, from DRAM). */
export function q4_gemv_4x32_2s__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4TwoStreams(false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

export function q4_gemv_4x32_2s__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  gemvQ4TwoStreams(true, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}
