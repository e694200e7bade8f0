// onnx-int4 — 4-bit values two to a byte in ONNX order (docs/quantization.md eq. 9).
//
// CONTRACT
//   pack_int4(q, packed, n):  packed[j] = (q[2j] & 0xF) | (q[2j+1] & 0xF) << 4, j < ceil(n/2);
//                             for odd n the last high nibble is 0. Signedness does not matter
//                             (two's-complement nibbles); the host checks q is in the type's range.
//   unpack_int4_s(packed, q, n): q[i] = nibble i (element 2j in the low nibble of byte j),
//                             sign-extended from 4 bits (int4, [−8, 7]).
//   unpack_int4_u(packed, q, n): the same, zero-extended (uint4, [0, 15]).
// LAYOUT     q: bytes[n] (int8 or uint8, one value each), packed: bytes[ceil(n/2)].
// ALIGNMENT  none required.
// OVER-READ  none: SIMD loops stop at the last full 32 values, scalar loops do the tail.
//            Writes exactly n (unpack) or ceil(n/2) (pack) bytes.
// NaN        not applicable.

export function pack_int4(q: usize, packed: usize, n: i32): void {
  const LOW = i8x16.splat(0x0f);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const a = v128.load(q + <usize>i), b = v128.load(q + <usize>i, 16);
    const even = i8x16.shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const odd = i8x16.shuffle(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    v128.store(packed + <usize>(i >> 1), v128.or(v128.and(even, LOW), i8x16.shl(odd, 4)));
  }
  for (; i + 1 < n; i += 2) {
    store<u8>(packed + <usize>(i >> 1), (load<u8>(q + <usize>i) & 0xf) | (load<u8>(q + <usize>i + 1) << 4));
  }
  if (i < n) store<u8>(packed + <usize>(i >> 1), load<u8>(q + <usize>i) & 0xf);
}

// @ts-ignore: decorator
@inline function unpack(packed: usize, q: usize, n: i32, signed: bool): void {
  const LOW = i8x16.splat(0x0f), EIGHT = i8x16.splat(8);
  let i = 0;
  for (; i + 32 <= n; i += 32) {
    const p = v128.load(packed + <usize>(i >> 1));
    let lo = v128.and(p, LOW);
    let hi = i8x16.shr_u(p, 4);
    if (signed) { // (v ^ 8) − 8 sign-extends a nibble
      lo = i8x16.sub(v128.xor(lo, EIGHT), EIGHT);
      hi = i8x16.sub(v128.xor(hi, EIGHT), EIGHT);
    }
    v128.store(q + <usize>i, i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    v128.store(q + <usize>i, i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), 16);
  }
  for (; i < n; i++) {
    const b = <i32>load<u8>(packed + <usize>(i >> 1));
    let v = (i & 1) ? b >> 4 : b & 0xf;
    if (signed) v = (v ^ 8) - 8;
    store<u8>(q + <usize>i, v);
  }
}

export function unpack_int4_s(packed: usize, q: usize, n: i32): void { unpack(packed, q, n, true); }
export function unpack_int4_u(packed: usize, q: usize, n: i32): void { unpack(packed, q, n, false); }
