// permute — gather a batch into group-major order for the calibration kernels (docs/quantization.md eq. 22).
//
// CONTRACT
//   dst[s][c][r][k] = src[s][r][c][k]   for s < slabs, r < rows, c < cols, k < run
//   i.e. swap the two middle axes of a [slabs, rows, cols, run] float32 tensor. Calibration
//   groups (per-axis channels, per-block blocks) are strided in the caller's layout; after this
//   every group's elements of the batch are one contiguous run:
//     per axis,  x as [A, C, I]     → slabs 1,      rows A, cols C, run I  → [C, A·I]
//     per block, x as [A, nb, B, I] → slabs A·nb,   rows B, cols I, run 1  → [A·nb·I, B]
//   Pure data movement: bit patterns (NaN included) are copied unchanged.
// LAYOUT     src, dst: float32[slabs·rows·cols·run], must not overlap.
// ALIGNMENT  none required.
// OVER-READ  none.
// NaN        copied, not inspected.

export function cal_permute_f32(src: usize, dst: usize, slabs: i32, rows: i32, cols: i32, run: i32): void {
  const slab = (<usize>rows * <usize>cols * <usize>run) << 2;
  const runB = <usize>run << 2;
  for (let s = 0; s < slabs; s++) {
    const sb = src + <usize>s * slab, db = dst + <usize>s * slab;
    if (run == 1) {
      // 4×4 tiles transposed in registers, scalar edges.
      let r = 0;
      for (; r + 4 <= rows; r += 4) {
        let c = 0;
        for (; c + 4 <= cols; c += 4) {
          const p = sb + ((<usize>r * <usize>cols + <usize>c) << 2);
          const rowB = <usize>cols << 2;
          const a = v128.load(p), b = v128.load(p + rowB), e = v128.load(p + 2 * rowB), d = v128.load(p + 3 * rowB);
          const ab0 = v128.shuffle<i32>(a, b, 0, 4, 1, 5), ab1 = v128.shuffle<i32>(a, b, 2, 6, 3, 7);
          const ed0 = v128.shuffle<i32>(e, d, 0, 4, 1, 5), ed1 = v128.shuffle<i32>(e, d, 2, 6, 3, 7);
          const q = db + ((<usize>c * <usize>rows + <usize>r) << 2);
          const colB = <usize>rows << 2;
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
    } else {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          memory.copy(db + (<usize>c * <usize>rows + <usize>r) * runB, sb + (<usize>r * <usize>cols + <usize>c) * runB, runB);
        }
      }
    }
  }
}
