// onnx-int2 — 2-bit values four to a byte in ONNX order (docs/quantization.md eq. 9).
//
// CONTRACT
//   pack_int2(q, packed, n):  packed[j] = Σ_{t<4} (q[4j+t] & 3) << 2t, j < ceil(n/4); missing
//                             trailing values are 0. The host checks q is in the type's range.
//   unpack_int2_s(packed, q, n): q[i] = bits 2(i mod 4) … of byte floor(i/4), sign-extended (int2, [−2, 1]).
//   unpack_int2_u(packed, q, n): the same, zero-extended (uint2, [0, 3]).
// LAYOUT     q: bytes[n], packed: bytes[ceil(n/4)].  ALIGNMENT none.  OVER-READ none.
//            Scalar loops: 2-bit storage is rare and small; it is not on a hot path.
// NaN        not applicable.

export function pack_int2(q: usize, packed: usize, n: i32): void {
  const bytes = (n + 3) >> 2;
  for (let j = 0; j < bytes; j++) {
    let b = 0;
    for (let t = 0; t < 4; t++) {
      const i = (j << 2) + t;
      if (i < n) b |= (<i32>load<u8>(q + <usize>i) & 3) << (t << 1);
    }
    store<u8>(packed + <usize>j, b);
  }
}

// @ts-ignore: decorator
@inline function unpack2(packed: usize, q: usize, n: i32, signed: bool): void {
  for (let i = 0; i < n; i++) {
    let v = (<i32>load<u8>(packed + <usize>(i >> 2)) >> ((i & 3) << 1)) & 3;
    if (signed) v = (v ^ 2) - 2;
    store<u8>(q + <usize>i, v);
  }
}

export function unpack_int2_s(packed: usize, q: usize, n: i32): void { unpack2(packed, q, n, true); }
export function unpack_int2_u(packed: usize, q: usize, n: i32): void { unpack2(packed, q, n, false); }
