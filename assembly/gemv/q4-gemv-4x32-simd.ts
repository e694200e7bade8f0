// q4-gemv-4x32-simd — W4A8 GEMV: packed int4 weights × per-group int8 activations → float32,
// 4 output rows per pass, 32 k per step (one 16-byte load per row yields 32 weights).
//
// CONTRACT (docs/quantization.md eq. 40–43)
//   out[n] = Σ_g sx'[g] · ( ws[n,g]·D[n,g] − wz[n,g]·xsum[g] ),
//   D[n,g]  = Σ_{k∈g} stored[n,k]·xq[k] − 8·S_low[g] = Σ_{k∈g} q[n,k]·xq[k]          (exact int32)
//   q[n,k] ∈ [−8, 7]: the signed weight (uint4 weights are stored as q − 8 and their zero point
//   moves into wz); xq[k] ∈ [−127, 127]: the int8 activation; S_low[g]: Σ xq over the k whose
//   nibbles are stored offset-binary (u = q + 8). ws[n,g] = weight scale / 4096, sx' = 4096·sx,
//   xsum = Σ xq / 4096 (powers of two: exact); wz[n,g] = weight scale · (z − 8) (asymmetric only).
//
// PACKED LAYOUT (G = groupSize ∈ {32, 64, 128, 256}, Kp = K rounded up to G, Np = N rounded up to 4)
//   panel p (rows 4p..4p+3), group g, 32-k block b < G/32, at p·PB + g·GB + b·64
//   (GB = 2·G + 16·(1 + asym), PB = (Kp/G)·GB):
//     +16r .. +16r+15  row 4p+r, k = g·G + 32b + j, by int16 lane L (bytes 2L, 2L+1):
//        bits  0–3   j = L       u = q + 8            unpack: P           (P = the lane, signed)
//        bits  4–7   j = 8 + L   u = q + 8            unpack: P >> 4      (arithmetic)
//        bits  8–11  j = 16 + L  u = q + 8            unpack: P >> 8
//        bits 12–15  j = 24 + L  q two's complement   unpack: P >> 12
//     (three shifts, no masks: each shifted lane still carries the nibbles above its own, and
//     the activations q4-act-quantize stores, y_j = xq_j − 16·xq_{j−1} per lane, make those
//     terms cancel across the four dot products, eq. 42; one int32 sum serves the whole block)
//   after the blocks of group g: ws[4p..4p+3, g] as 4 float32 (16 B), then, asymmetric only,
//   wz[4p..4p+3, g] (16 B). Padding rows hold zero scales; padding k hold q = 0 and meet xq = 0.
//   Each panel is one sequential stream.
//   RELAXED BUILD: the layout follows the backend the matrix is packed under; for relaxed SIMD
//   bits 12–15 are offset-binary too (u = q + 8, i.e. the bytes above XOR 0x8000 per lane), so
//   `& 0x0F` and `(>> 4) & 0x0F` per byte give every nibble as u ∈ [0, 15] for
//   i16x8.relaxed_dot_i8x16_i7x16_s against int8 activations (q4-common.ts); S_low then covers
//   all 32 k (q4-act-quantize). Same exact group sums, so both builds give identical outputs.
//
// ACTIVATION INPUTS (written by q4-act-quantize)  xa: Kp int16 (y0..y3 per 32-k block); xcorr[g]
//   = −8·S_low[g] (int32, 4 B per group, added once per panel after the horizontal sums; the
//   accumulators start at 0); per group g, 16 B each: xs[g] = sx'[g] and xsum[g] (float32,
//   splatted to 4 lanes).
// OUTPUT  out[n], N float32; no byte outside out[0..N−1] is written except the G = 32 loops'
//   dead scheduling stores to bytes 16–31 of linear memory (PIN; never allocated, never read).
// ALIGNMENT  packed 64 B (allocator); the rest 16 B. OVER-READ none.
// ACCUMULATOR int32: per lane and block the four dot products are each below 2·2^15·2159 ≈ 2^27.1
//            and add up to the exact block sum (|·| ≤ 32·8·127); group sums ≤ 256·8·127 ≪ 2^31.
//            Float32 across groups.
// SPEED NOTES  4 rows per pass share the 4 activation loads (every stream's rows in the
//   multi-stream G = 32 loop, which has its own entry: no group-size test and no block loop
//   inside; each stream's panel step is finished before the next stream's loads). N > 4: three
//   panel streams for G = 32 and 64 (1.02–1.14× two from DRAM: more requests in flight), two for
//   G = 128 and 256. G = 64 and 128: entries with a constant block count, each 32-k block summed
//   and reduced like G = 32, one stream's group finished before the next one's
//   (1.2× and 1.04–1.16× the loop below). G = 256: the generic loop (rows summed across one
//   32-k block per inner iteration, one hsum per group), 3–6 % faster there. Variants
//   tried (docs/kernels.md): six unpack ops (three shifts) per block instead of four masks:
//   slower; one flat loop with a group-end branch: V8 spilled every accumulator, 2× slower; the
//   G = 32 loop body as one basic block without the pinning stores: V8 emitted all 16 unpacks,
//   then all 16 dot products and spilled (0.37× the old loop).

import { ACT_BYTES, finishGroup, hsum4i16, panelGroupSums, rowBlockRelaxed, rowSum32, storeRowsF32, sumsIn4096 } from './q4-common';

/** Dead-store target of panelStep32: bytes 16–31 of linear memory, never handed out by the host
 *  allocator (src/runtime/memory.ts keeps 0–63 free) and never read. */
export const PIN: usize = 16;

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
 * G = 32, one token over one 4-row panel: the whole K, then the `rows` (≥ 1) results at out.
 * The single-stream GEMV's loop body, and the GEMMs' odd last token (q4-gemm-2x4x32-simd.ts).
 */
// @ts-ignore: decorator
@inline export function tokenPanel32(asym: bool, w: usize, xp: usize, sp: usize, cp: usize, zp: usize, groups: usize, out: usize, rows: i32): void {
  const stride: usize = asym ? 96 : 80;
  const xEnd = xp + (groups << 5) * ACT_BYTES;
  let acc = f32x4.splat(0);
  do {
    const x0 = v128.load(xp), x1 = v128.load(xp, 16);
    const x2 = ASC_FEATURE_RELAXED_SIMD ? x0 : v128.load(xp, 32), x3 = ASC_FEATURE_RELAXED_SIMD ? x1 : v128.load(xp, 48);
    acc = panelStep32(asym, w, x0, x1, x2, x3, cp, sp, zp, acc);
    w += stride;
    xp += 32 * ACT_BYTES;
    sp += 16;
    cp += 4;
    zp += 16;
  } while (xp < xEnd);
  storeRowsF32(out, acc, rows);
}

/** G = 32, one weight stream (N ≤ 4, or the last panel the multi-stream pass leaves). */
// @ts-ignore: decorator
@inline function gemvQ4One32(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32): void {
  const groups = <usize>(Kp >> 5);
  const panelBytes = groups * (asym ? 96 : 80);
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    tokenPanel32(asym, w, xq, xs, xcorr, xsum, groups, out, N - row);
    w += panelBytes;
    out += 16;
  }
}

/**
 * simd128: the exact sums of one 4-row 32-k block at w, [D(r0), D(r1), D(r2), D(r3)], with hsum4
 * written out by halves and dead stores at PIN after row 0, the pair sum of rows 0–1 and row 2,
 * so V8 finishes each row before the next one's loads (see panelStep32 for why).
 */
// @ts-ignore: decorator
@inline function pinnedSums32(w: usize, x0: v128, x1: v128, x2: v128, x3: v128): v128 {
  const r0 = rowSum32(v128.load(w), x0, x1, x2, x3);
  v128.store(PIN, r0);
  const r1 = rowSum32(v128.load(w, 16), x0, x1, x2, x3);
  const t0 = i32x4.add(v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), v128.shuffle<i32>(r0, r1, 2, 6, 3, 7));
  v128.store(PIN, t0);
  const r2 = rowSum32(v128.load(w, 32), x0, x1, x2, x3);
  v128.store(PIN, r2);
  const r3 = rowSum32(v128.load(w, 48), x0, x1, x2, x3);
  const t1 = i32x4.add(v128.shuffle<i32>(r2, r3, 0, 4, 1, 5), v128.shuffle<i32>(r2, r3, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}

/**
 * One panel's G = 32 group step: exact sums of the 4 rows (activations already loaded: simd128
 * x0..x3, relaxed x0, x1), the correction, then the scaled float update of acc.
 * Scheduling: V8 places pure ops as late as their uses allow, in breadth-first order from the
 * loop's phis, so as one basic block this loop came out as all 16 unpacks, then all 16 dot
 * products, with panel A finished after panel B: spills everywhere (0.37× the old loop). A store
 * is an effect that must come before the next load, so dead stores at PIN fix the order: simd128
 * after row 0, after the pair sum of rows 0–1, after row 2 and after the new acc (no spill left);
 * relaxed (fewer live vectors) only after the new acc (no spill; per-row stores there cost 4–10 %).
 */
// @ts-ignore: decorator
@inline export function panelStep32(asym: bool, w: usize, x0: v128, x1: v128, x2: v128, x3: v128, cp: usize, sp: usize, zp: usize, acc: v128): v128 {
  let h: v128;
  if (ASC_FEATURE_RELAXED_SIMD) {
    h = hsum4i16(rowBlockRelaxed(v128.load(w), x0, x1), rowBlockRelaxed(v128.load(w, 16), x0, x1),
      rowBlockRelaxed(v128.load(w, 32), x0, x1), rowBlockRelaxed(v128.load(w, 48), x0, x1));
  } else {
    h = pinnedSums32(w, x0, x1, x2, x3);
  }
  const a = finishGroup(asym, i32x4.add(h, v128.load32_splat(cp)), w + 64, sp, zp, acc);
  v128.store(PIN, a);
  return a;
}

/**
 * G = 32·B (B ≥ 2) panel step: per 32-k block the G = 32 step's pinned row sums and horizontal
 * sums (relaxed: int16 ones), the block results added; then the correction, the scaled update of
 * acc and its pin. One hsum per block costs more ops than summing rows across blocks first
 * (the old G ≥ 64 loop), but V8 schedules it without spills: G = 64 1.18–1.34×, G = 128 1.03–1.18×.
 */
// @ts-ignore: decorator
@inline export function panelStepBlocks(asym: bool, w: usize, xp: usize, B: i32, cp: usize, sp: usize, zp: usize, acc: v128): v128 {
  let h = i32x4.splat(0);
  for (let b = 0; b < B; b++) {
    const x0 = v128.load(xp), x1 = v128.load(xp, 16);
    if (ASC_FEATURE_RELAXED_SIMD) {
      h = i32x4.add(h, hsum4i16(rowBlockRelaxed(v128.load(w), x0, x1), rowBlockRelaxed(v128.load(w, 16), x0, x1),
        rowBlockRelaxed(v128.load(w, 32), x0, x1), rowBlockRelaxed(v128.load(w, 48), x0, x1)));
    } else {
      const x2 = v128.load(xp, 32), x3 = v128.load(xp, 48);
      h = i32x4.add(h, pinnedSums32(w, x0, x1, x2, x3));
    }
    w += 64;
    xp += 32 * ACT_BYTES;
  }
  const a = finishGroup(asym, i32x4.add(h, v128.load32_splat(cp)), w, sp, zp, acc);
  v128.store(PIN, a);
  return a;
}

/** G = 32·B, B ≥ 2, one weight stream (N ≤ 4, or the last panel the multi-stream pass leaves). */
// @ts-ignore: decorator
@inline function gemvQ4OneG(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const B = G >> 5;
  const stride: usize = (<usize>G << 1) + (asym ? 32 : 16);
  const xEnd = xq + <usize>Kp * ACT_BYTES;
  let w = packed;
  for (let row = 0; row < N; row += 4) {
    let acc = f32x4.splat(0);
    let xp = xq, sp = xs, cp = xcorr, zp = xsum;
    do {
      acc = panelStepBlocks(asym, w, xp, B, cp, sp, zp, acc);
      w += stride;
      xp += <usize>G * ACT_BYTES;
      sp += 16;
      cp += 4;
      zp += 16;
    } while (xp < xEnd);
    storeRowsF32(out, acc, N - row);
    out += 16;
  }
}

/**
 * G = 32, 64 or 128, S weight streams (S = 2 or 3): the first S·⌊P/S⌋ panels split into S runs,
 * panel p of run r at p + r·⌊P/S⌋. Each step does one group of every stream's panel, stream by
 * stream (each panel step finished and pinned before the next stream's loads). G = 32 loads the
 * activations once per step for all streams; G = 32·B (B ≥ 2) sums and reduces each 32-k block
 * like the G = 32 step (panelStepBlocks). Returns the number of panels done; the caller finishes
 * the rest (fewer than S) with one stream.
 */
// @ts-ignore: decorator
@inline function gemvQ4Streams(asym: bool, S: i32, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): i32 {
  const groups = <usize>(Kp / G);
  const stride: usize = (<usize>G << 1) + (asym ? 32 : 16);   // packed bytes + scales (+ zero-point terms)
  const run = ((N + 3) >> 2) / S;
  const panelBytes = groups * stride;
  const gap = <usize>run * panelBytes;
  const xEnd = xq + <usize>Kp * ACT_BYTES;
  for (let p = 0; p < run; p++) {
    let w = packed + <usize>p * panelBytes;
    let a0 = f32x4.splat(0), a1 = a0, a2 = a0;
    let xp = xq, sp = xs, cp = xcorr, zp = xsum;
    do {
      if (G == 32) {
        const x0 = v128.load(xp), x1 = v128.load(xp, 16);
        const x2 = ASC_FEATURE_RELAXED_SIMD ? x0 : v128.load(xp, 32), x3 = ASC_FEATURE_RELAXED_SIMD ? x1 : v128.load(xp, 48);
        a0 = panelStep32(asym, w, x0, x1, x2, x3, cp, sp, zp, a0);
        a1 = panelStep32(asym, w + gap, x0, x1, x2, x3, cp, sp, zp, a1);
        if (S > 2) a2 = panelStep32(asym, w + 2 * gap, x0, x1, x2, x3, cp, sp, zp, a2);
      } else {
        a0 = panelStepBlocks(asym, w, xp, G >> 5, cp, sp, zp, a0);
        a1 = panelStepBlocks(asym, w + gap, xp, G >> 5, cp, sp, zp, a1);
        if (S > 2) a2 = panelStepBlocks(asym, w + 2 * gap, xp, G >> 5, cp, sp, zp, a2);
      }
      w += stride;
      xp += <usize>G * ACT_BYTES;
      sp += 16;
      cp += 4;
      zp += 16;
    } while (xp < xEnd);
    storeRowsF32(out + (<usize>p << 4), a0, N - (p << 2));
    storeRowsF32(out + (<usize>(p + run) << 4), a1, N - ((p + run) << 2));
    if (S > 2) storeRowsF32(out + (<usize>(p + 2 * run) << 4), a2, N - ((p + 2 * run) << 2));
  }
  return S * run;
}

/**
 * G = 32, 64 or 128: `streams` (2 or 3) panel streams over the first streams·⌊P/streams⌋ panels,
 * then one stream over the rest (at most 2 panels). Written without a loop over the stream count:
 * binaryen merged `S == 3 ? f(3) : f(2)` into one body with a run-time S, which cost a branch
 * and a spilled accumulator per step.
 */
// @ts-ignore: decorator
@inline function gemvQ4MultiStream(asym: bool, streams: i32, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  const panelBytes = <usize>(Kp / G) * ((<usize>G << 1) + (asym ? 32 : 16));
  const done = gemvQ4Streams(asym, streams, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
  const w = packed + <usize>done * panelBytes, o = out + (<usize>done << 4), n = N - (done << 2);
  if (n <= 0) return;
  if (G == 32) gemvQ4One32(asym, w, xq, xs, xcorr, xsum, o, n, Kp);
  else gemvQ4OneG(asym, w, xq, xs, xcorr, xsum, o, n, Kp, G);
}

/**
 * Two weight streams, any G (used for G = 256, where it measured 3–6 % faster than the per-block
 * loop): panel p and panel p + P/2 advance together, group by group. Same results.
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
  if (G == 32) gemvQ4One32(false, packed, xq, xs, xcorr, xsum, out, N, Kp);
  else if (G == 64) gemvQ4OneG(false, packed, xq, xs, xcorr, xsum, out, N, Kp, 64);
  else if (G == 128) gemvQ4OneG(false, packed, xq, xs, xcorr, xsum, out, N, Kp, 128);
  else gemvQ4(false, false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

/** Asymmetric uint4 weights with per-group zero points folded into wz. */
export function q4_gemv_4x32__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  if (G == 32) gemvQ4One32(true, packed, xq, xs, xcorr, xsum, out, N, Kp);
  else if (G == 64) gemvQ4OneG(true, packed, xq, xs, xcorr, xsum, out, N, Kp, 64);
  else if (G == 128) gemvQ4OneG(true, packed, xq, xs, xcorr, xsum, out, N, Kp, 128);
  else gemvQ4(true, false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
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

/**
 * Multi-stream variants (N > 4): G = 32 and 64 three panel streams (the last P mod 3 panels
 * through one), G = 128 and 256 two streams (three measured 0.92–0.97× there). More
 * streams keep more DRAM requests in flight (docs/kernels.md).
 */
export function q4_gemv_4x32_ms__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  if (G == 32) gemvQ4MultiStream(false, 3, packed, xq, xs, xcorr, xsum, out, N, Kp, 32);
  else if (G == 64) gemvQ4MultiStream(false, 3, packed, xq, xs, xcorr, xsum, out, N, Kp, 64);
  else if (G == 128) gemvQ4MultiStream(false, 2, packed, xq, xs, xcorr, xsum, out, N, Kp, 128);
  else gemvQ4TwoStreams(false, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}

export function q4_gemv_4x32_ms__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, N: i32, Kp: i32, G: i32): void {
  if (G == 32) gemvQ4MultiStream(true, 3, packed, xq, xs, xcorr, xsum, out, N, Kp, 32);
  else if (G == 64) gemvQ4MultiStream(true, 3, packed, xq, xs, xcorr, xsum, out, N, Kp, 64);
  else if (G == 128) gemvQ4MultiStream(true, 2, packed, xq, xs, xcorr, xsum, out, N, Kp, 128);
  else gemvQ4TwoStreams(true, packed, xq, xs, xcorr, xsum, out, N, Kp, G);
}
