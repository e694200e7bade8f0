// q4-gemm-2x4x32-simd — W4A8 GEMM (prefill) for the simd128 build: M tokens × packed int4
// weights → float32 M×N, two tokens per pass sharing each packed weight load and its unpack in
// registers, 4 output rows per panel, 32 k per step.
//
// CONTRACT  out[t, n] = the q4-gemv-4x32-simd result for token t (same formula, docs/quantization.md
//   eq. 40–43: out[n] = Σ_g sx'[g]·(ws[n,g]·D[n,g] − wz[n,g]·xsum[g]), D = Σ q·xq exact int32),
//   bit for bit: the same exact group sums, then per token and group `finishGroup` on
//   i32x4.add(hsum, xcorr) exactly as the GEMV's panelStep32.
// LAYOUT    the packed panels of q4-gemv-4x32-simd.ts (its header draws them byte by byte).
// INPUTS    per token t, exactly what q4-act-quantize writes for one token, token-major:
//   xq + 2·t·Kp (Kp int16 activations; the relaxed build uses the first Kp bytes),
//   xcorr + 4·(t·groups + g), xs / xsum + 16·(t·groups + g). No scratch.
// OUTPUT    out[t·N + n], M×N float32; no byte outside out[0..M·N−1] is written except the dead
//   scheduling stores to bytes 16–31 of linear memory (PIN, as the GEMV).
// ALIGNMENT packed 64 B; the rest 16 B. OVER-READ none.
// ACCUMULATOR as q4-gemv-4x32-simd: int32 per group (< 2^31), float32 across groups.
// ORDER     panel-outer: for each 4-row panel, every token pair (t, t+1) runs the whole K, then
//   an odd last token runs the GEMV's single-token step on the same panel, so a panel's packed
//   bytes (80–96 B per group per panel, ~10 KiB at K = 4096) come from DRAM once and stay in L1
//   for the other tokens; the activations (2·Kp bytes per token) are re-read from L1/L2 per panel.
// PAIR STEP per row and 32 k: 1 load + 4 unpack ops (1 shift, 3 masks) shared, then per token
//   4 activation loads + 4 `i32x4.dot_i16x8_s` + 3 adds (the activations are reloaded per row:
//   8 of them kept live would not fit the 15 xmm registers with the unpacked row, two tokens'
//   partial horizontal sums and two accumulators). Dead stores at PIN after each token's sums of
//   rows 0 and 2, its pair sum of rows 0–1, A's horizontal sum and each new accumulator fix V8's
//   schedule (see panelStep32 in q4-gemv-4x32-simd.ts for why).
// RELAXED BUILD tokens one at a time through the GEMV's step (panel-outer order kept); not used
//   by the host, which has its own GEMM choice there.
// SPEED NOTES (G = 32; AMD EPYC, Node 20 / V8 11.3; CPU time, medians of 11 interleaved paired
//   rounds against per-token two-stream GEMVs through the public API): 1024²: 0.96–1.11× (M = 2),
//   0.98–1.06× (M = 4), 1.02–1.07× (M = 8) — in cache it is a wash: per pair and 4 rows × 32 k
//   16 of 32 unpack ops are saved but 24 more activation loads issued (≈ 152 vector instructions
//   against 2 × 73), and the loop is instruction-throughput bound. 4096² (8.5 MiB, L3): 0.94–1.00×
//   (M = 2), 1.02–1.06× (M = 4), 1.07–1.12× (M = 8). 8192×4096: 1.09×, 1.11×, 1.25×.
//   11008×4096: 1.10–1.13× (M = 2), 1.12–1.18× (M = 4), 1.14–1.26× (M = 8): the weights stream
//   from memory once for all tokens. TurboFan code: no vector spill in the pair loop except one
//   mask reload and one accumulator spill/reload per group (3 ops). Tried and dropped
//   (docs/kernels.md): a 2-row × 2-token tile (activations loaded once per two rows: 75 spill ops,
//   0.70–0.79×), four tokens with partial sums in scratch (= pairs, 1.00–1.03×), fewer pins
//   (0.78–0.83×), the same pair step for G = 64 / 128 (0.88–1.10×, not used).
import { ACT_BYTES, finishGroup, storeRowsF32 } from './q4-common';
import { PIN, tokenPanel32 } from './q4-gemv-4x32-simd';

/** One row's 32-k sum for one token from the row's four unpacked vectors (activations loaded at xp). */
// @ts-ignore: decorator
@inline function dotU(u0: v128, u1: v128, u2: v128, u3: v128, xp: usize): v128 {
  const d0 = i32x4.dot_i16x8_s(u0, v128.load(xp));
  const d1 = i32x4.dot_i16x8_s(u1, v128.load(xp, 16));
  const d2 = i32x4.dot_i16x8_s(u2, v128.load(xp, 32));
  const d3 = i32x4.dot_i16x8_s(u3, v128.load(xp, 48));
  return i32x4.add(i32x4.add(d0, d1), i32x4.add(d2, d3));
}

/** [a0+a1 lanes 0/2 …]: the first level of hsum4 for rows (a, b) (same as panelStep32's t0). */
// @ts-ignore: decorator
@inline function pairSum(a: v128, b: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
}

// @ts-ignore: decorator
@inline function quadSum(t0: v128, t1: v128): v128 {
  return i32x4.add(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5), v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
}

/** G = 32, tokens A and B over one panel: returns nothing, stores both tokens' rows. */
// @ts-ignore: decorator
@inline function pairPanel32(asym: bool, w: usize, xa: usize, xRow: usize, sa: usize, ca: usize, za: usize, groups: usize, outA: usize, outB: usize, rows: i32): void {
  const stride: usize = asym ? 96 : 80;
  const sRow = groups << 4, cRow = groups << 2;
  const xEnd = xa + (groups << 6);
  let accA = f32x4.splat(0), accB = f32x4.splat(0);
  do {
    const xb = xa + xRow;
    let v = v128.load(w);
    let u0 = v, u1 = i16x8.shr_s(v, 4), u2 = i16x8.shr_s(v, 8), u3 = i16x8.shr_s(v, 12);
    const a0 = dotU(u0, u1, u2, u3, xa);
    v128.store(PIN, a0);
    const b0 = dotU(u0, u1, u2, u3, xb);
    v128.store(PIN, b0);
    v = v128.load(w, 16);
    u0 = v; u1 = i16x8.shr_s(v, 4); u2 = i16x8.shr_s(v, 8); u3 = i16x8.shr_s(v, 12);
    const ta0 = pairSum(a0, dotU(u0, u1, u2, u3, xa));
    v128.store(PIN, ta0);
    const tb0 = pairSum(b0, dotU(u0, u1, u2, u3, xb));
    v128.store(PIN, tb0);
    v = v128.load(w, 32);
    u0 = v; u1 = i16x8.shr_s(v, 4); u2 = i16x8.shr_s(v, 8); u3 = i16x8.shr_s(v, 12);
    const a2 = dotU(u0, u1, u2, u3, xa);
    v128.store(PIN, a2);
    const b2 = dotU(u0, u1, u2, u3, xb);
    v128.store(PIN, b2);
    v = v128.load(w, 48);
    u0 = v; u1 = i16x8.shr_s(v, 4); u2 = i16x8.shr_s(v, 8); u3 = i16x8.shr_s(v, 12);
    const hA = quadSum(ta0, pairSum(a2, dotU(u0, u1, u2, u3, xa)));
    v128.store(PIN, hA);
    const hB = quadSum(tb0, pairSum(b2, dotU(u0, u1, u2, u3, xb)));
    accA = finishGroup(asym, i32x4.add(hA, v128.load32_splat(ca)), w + 64, sa, za, accA);
    v128.store(PIN, accA);
    accB = finishGroup(asym, i32x4.add(hB, v128.load32_splat(ca + cRow)), w + 64, sa + sRow, za + sRow, accB);
    v128.store(PIN, accB);
    w += stride;
    xa += 64;
    sa += 16;
    ca += 4;
    za += 16;
  } while (xa < xEnd);
  storeRowsF32(outA, accA, rows);
  storeRowsF32(outB, accB, rows);
}

// @ts-ignore: decorator
@inline function gemmQ4Pairs32(asym: bool, packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32): void {
  const groups = <usize>(Kp >> 5);
  const stride: usize = asym ? 96 : 80;
  const panelBytes = groups * stride;
  const xRow = <usize>Kp << 1;
  const oRow = <usize>N << 2;
  const panels = (N + 3) >> 2;
  for (let p = 0; p < panels; p++) {
    const w = packed + <usize>p * panelBytes;
    const rows = N - (p << 2);
    const o = out + (<usize>p << 4);
    let t = 0;
    if (!ASC_FEATURE_RELAXED_SIMD) {
      for (; t + 1 < M; t += 2) {
        const tu = <usize>t;
        pairPanel32(asym, w, xq + tu * xRow, xRow, xs + ((tu * groups) << 4), xcorr + ((tu * groups) << 2), xsum + ((tu * groups) << 4),
          groups, o + tu * oRow, o + (tu + 1) * oRow, rows);
      }
    }
    for (; t < M; t++) {
      const tu = <usize>t;
      tokenPanel32(asym, w, xq + tu * xRow, xs + ((tu * groups) << 4), xcorr + ((tu * groups) << 2), xsum + ((tu * groups) << 4), groups, o + tu * oRow, rows);
    }
  }
}

export function q4_gemm_2x4x32__sym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32): void {
  gemmQ4Pairs32(false, packed, xq, xs, xcorr, xsum, out, M, N, Kp);
}

export function q4_gemm_2x4x32__asym(packed: usize, xq: usize, xs: usize, xcorr: usize, xsum: usize, out: usize, M: i32, N: i32, Kp: i32, G: i32): void {
  gemmQ4Pairs32(true, packed, xq, xs, xcorr, xsum, out, M, N, Kp);
}
