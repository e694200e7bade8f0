/**
 * Where the packed matrices put each weight, per kernel build. The kernels' files draw these
 * layouts byte by byte (assembly/gemv/*.ts); this module is the host's single copy of the index
 * arithmetic, used by the packers, the unpackers and the start-up self-test.
 *
 *   int8 '4x2' (simd128, relaxed): panels of 4 rows, 4 rows × 2 k per 8 bytes   (i8-gemv-4x2-simd)
 *   int8 '4x4' (dot-add):          panels of 4 rows, 4 rows × 4 k per 16 bytes  (i8-gemv-4x4-dotadd)
 *   int4 'simd128' / 'relaxed':    per row 16 bytes per 32-k block, lanes = k    (q4-gemv-4x32-simd)
 *   int4 'dotadd':                 4 rows × 8 k per 16 bytes, rows in lanes      (q4-gemv-4x8-dotadd)
 *
 * A matrix is packed in the layout of the backend the process runs (one per process).
 */
import type { Backend } from '../runtime/wasm.js';

export type Int8Layout = '4x2' | '4x4';
export type Int4Layout = 'simd128' | 'relaxed' | 'dotadd';

export function int8LayoutOf(backend: Backend): Int8Layout {
  return backend === 'relaxed-dotadd' ? '4x4' : '4x2';
}

export function int4LayoutOf(backend: Backend): Int4Layout {
  return backend === 'relaxed-dotadd' ? 'dotadd' : backend === 'relaxed-simd' ? 'relaxed' : 'simd128';
}

/**
 * Bytes of a packed int8 block: the weights (Np·Kp), bias' (4·Np) and, in the '4x4' layout,
 * bias8 = bias' − 128·Σ_k P[n,k] (4·Np) for the dot-add kernels' unsigned form (eq. 45').
 */
export function int8PackedBytes(layout: Int8Layout, Np: number, Kp: number): number {
  return Np * Kp + (layout === '4x4' ? 8 : 4) * Np;
}

/** Byte offset of W[n,k] in a packed int8 block (Kp = K rounded up to 16; bias' follows at Np·Kp). */
export function int8Offset(layout: Int8Layout, n: number, k: number, Kp: number): number {
  const panel = (n >> 2) * 4 * Kp, r = n & 3;
  return layout === '4x2'
    ? panel + ((k >> 1) << 3) + 2 * r + (k & 1)
    : panel + ((k >> 2) << 4) + 4 * r + (k & 3);
}

/**
 * Bytes of W4A8 activation storage per k per token that q4_act_quantize writes for a layout:
 * int16 codes (simd128; the relaxed build uses half), or code quads broadcast to 16 bytes (dotadd).
 */
export function int4ActBytes(layout: Int4Layout): number {
  return layout === 'dotadd' ? 4 : 2;
}

/** A nibble's place in one 64-byte 4-row 32-k block: byte, bit shift, and the offset added to q (8: offset-binary). */
export interface NibbleSlot { readonly byte: number; readonly shift: number; readonly offset: number }

/**
 * simd128: lane L of row r holds k-offsets L, 8+L, 16+L, 24+L in bits 0–3, 4–7, 8–11, 12–15, the
 * top nibble two's complement (the kernel shifts the lane right arithmetically); relaxed: the
 * same places, all four offset-binary; dotadd: chunk c = j >> 3, lane r, byte j & 3, low nibble
 * for (j >> 2) & 1 = 0, high for 1, offset-binary.
 */
function slot(layout: Int4Layout, r: number, j: number): NibbleSlot {
  if (layout === 'dotadd') return { byte: 16 * (j >> 3) + 4 * r + (j & 3), shift: 4 * ((j >> 2) & 1), offset: 8 };
  const L = j & 7, quarter = j >> 3;
  return { byte: 16 * r + 2 * L + (quarter >> 1), shift: (quarter & 1) * 4, offset: layout === 'relaxed' || quarter !== 3 ? 8 : 0 };
}

const SLOTS: Record<Int4Layout, readonly NibbleSlot[]> = {
  simd128: Array.from({ length: 128 }, (_, i) => slot('simd128', i >> 5, i & 31)),
  relaxed: Array.from({ length: 128 }, (_, i) => slot('relaxed', i >> 5, i & 31)),
  dotadd: Array.from({ length: 128 }, (_, i) => slot('dotadd', i >> 5, i & 31)),
};

/** The slots of one layout, indexed r·32 + j (row r of the panel, k-offset j in the 32-k block). */
export function int4Slots(layout: Int4Layout): readonly NibbleSlot[] {
  return SLOTS[layout];
}

/**
 * A packed int4 block (panels × groups of `2·G + 16·(1 + asym)` bytes) copied from one layout to
 * another: every nibble moved to its slot in `to` (q kept, the offset re-applied), scales as they
 * are. Lets the self-test and the tests feed one matrix to builds with different layouts.
 */
export function relayoutInt4(src: Uint8Array, from: Int4Layout, to: Int4Layout, G: number, asym: boolean): Uint8Array {
  const dst = src.slice();
  if (from === to) return dst;
  const a = int4Slots(from), b = int4Slots(to);
  const GB = 2 * G + (asym ? 32 : 16);
  for (let g = 0; g < src.length; g += GB) {
    for (let o = g; o < g + 2 * G; o += 64) {
      dst.fill(0, o, o + 64);
      for (let i = 0; i < 128; i++) {
        const s = a[i]!, t = b[i]!;
        const q = ((src[o + s.byte]! >> s.shift) - s.offset) & 15;          // q mod 16
        dst[o + t.byte]! |= ((q + t.offset) & 15) << t.shift;
      }
    }
  }
  return dst;
}

/** A packed int8 block (weights, bias' and, for '4x4', bias8) copied from one layout to another. */
export function relayoutInt8(src: Uint8Array, from: Int8Layout, to: Int8Layout, Np: number, Kp: number): Uint8Array {
  if (from === to) return src.slice();
  const dst = new Uint8Array(int8PackedBytes(to, Np, Kp));
  const w = Np * Kp;
  const bias = new Int32Array(src.buffer.slice(src.byteOffset + w, src.byteOffset + w + 4 * Np));
  for (let n = 0; n < Np; n++) {
    let sum = 0;
    for (let k = 0; k < Kp; k++) {
      const v = src[int8Offset(from, n, k, Kp)]!;
      dst[int8Offset(to, n, k, Kp)] = v;
      sum += (v << 24) >> 24;
    }
    if (to === '4x4') new DataView(dst.buffer).setInt32(w + 4 * Np + 4 * n, (bias[n]! - Math.imul(128, sum)) | 0, true);
  }
  dst.set(new Uint8Array(bias.buffer), w);
  return dst;
}
