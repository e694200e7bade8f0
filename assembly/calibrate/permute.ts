// permute — gather a batch into group-major order for the calibration kernels (docs/quantization.md eq. 22, 52).
//
// CONTRACT
//   cal_permute_f32(src, dst, slabs, rows, cols, run)                       (per axis)
//     dst[s][c][r][k] = src[s][r][c][k]   for s < slabs, r < rows, c < cols, k < run
//     i.e. swap the two middle axes of a [slabs, rows, cols, run] float32 tensor: x as [A, C, I]
//     with slabs 1, rows A, cols C, run I becomes [C, A·I], one contiguous run per channel.
//   cal_permute_blocks_f32(src, dst, outer, dim, inner, blockSize)          (per block)
//     x as [outer, dim, inner], dim cut into nb = ⌈dim/B⌉ blocks, block j holding
//     L_j = min(B, dim − j·B) rows (the last one shorter when B does not divide dim):
//     for a < outer, j < nb, k < L_j, i < inner, with base = (a·dim + j·B)·inner,
//       dst[base + i·L_j + k] = src[base + k·inner + i]
//     i.e. each [L_j, inner] tile is transposed where it stands, so block (a, j, i) — scale
//     index (a·nb + j)·inner + i (eq. 4) — becomes one contiguous run of L_j elements, the runs
//     in scale order. 1 ≤ blockSize ≤ dim (the host passes min(B, dim): a block longer
//     than the axis is one block of dim).
//   Pure data movement: bit patterns (NaN included) are copied unchanged.
// LAYOUT     src, dst: float32 with the element counts above, must not overlap.
// ALIGNMENT  none required.
// OVER-READ  none.
// NaN        copied, not inspected.

// dst (cols × rows) = transpose of src (rows × cols), float32: 4×4 tiles in registers, scalar edges.
// @ts-ignore: decorator
@inline function transpose(sb: usize, db: usize, rows: i32, cols: i32): void {
  const rowB = <usize>cols << 2, colB = <usize>rows << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const p = sb + ((<usize>r * <usize>cols + <usize>c) << 2);
      const a = v128.load(p), b = v128.load(p + rowB), e = v128.load(p + 2 * rowB), d = v128.load(p + 3 * rowB);
      const ab0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5), ab1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
      const ed0 = v128.shuffle<i32>(e, d, 0, 4, 1, 5), ed1 = v128.shuffle<i32>(e, d, 2, 6, 3, 7);
      const q = db + ((<usize>c * <usize>rows + <usize>r) << 2);
      v128.store(q, v128.shuffle<i64>(ab0, ed0, 0, 2));
      v128.store(q + colB, v128.shuffle<i64>(ab0, ed0, 1, 3));
      v128.store(q + 2 * colB, v128.shuffle<i64>(ab1, ed1, 0, 2));
      v128.store(q + 3 * colB, v128.shuffle<i64>(ab1, ed1, 1, 3));
    }
    for (; c < cols; c++) {
      for (let k = 0; k < 4; k++) {
        store<u32>(db + ((<usize>c * <usize>rows + <usize>(r + k)) << 2),
                   load<u32>(sb + ((<usize>(r + k) * <usize>cols + <usize>c) << 2)));
      }
    }
  }
  for (; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      store<u32>(db + ((<usize>c * <usize>rows + <usize>r) << 2), load<u32>(sb + ((<usize>r * <usize>cols + <usize>c) << 2)));
    }
  }
}

export function cal_permute_f32(src: usize, dst: usize, slabs: i32, rows: i32, cols: i32, run: i32): void {
  const slab = (<usize>rows * <usize>cols * <usize>run) << 2;
  const runB = <usize>run << 2;
  for (let s = 0; s < slabs; s++) {
    const sb = src + <usize>s * slab, db = dst + <usize>s * slab;
    if (run == 1) {
      transpose(sb, db, rows, cols);
    } else {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          memory.copy(db + (<usize>c * <usize>rows + <usize>r) * runB, sb + (<usize>r * <usize>cols + <usize>c) * runB, runB);
        }
      }
    }
  }
}

export function cal_permute_blocks_f32(src: usize, dst: usize, outer: i32, dim: i32, inner: i32, blockSize: i32): void {
  for (let a = 0; a < outer; a++) {
    for (let j = 0; j < dim; j += blockSize) {
      const base = ((<usize>a * <usize>dim + <usize>j) * <usize>inner) << 2;
      transpose(src + base, dst + base, min<i32>(blockSize, dim - j), inner);
    }
  }
}
