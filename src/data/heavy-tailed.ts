/**
 * The embedded default data: a seeded, weight-like heavy-tailed matrix.
 *
 * Real transformer and MLP weights are roughly Gaussian in the bulk, differ in scale from one
 * output channel to the next, and carry a few large outliers. Those three traits are what make
 * per-tensor low-bit quantization fail, so the matrix has all three:
 *   w[n,k] = rowScale[n] · t₄(n,k)      (Student-t, 4 degrees of freedom: heavy tails)
 *   rowScale[n] = 0.02 · exp(0.5·g[n])  (log-normal spread of channel scales)
 *   plus 0.1% of entries multiplied by 8 (outliers).
 * Generated, not stored: the same seed gives the same matrix on every platform.
 */
import { Rng } from './random.js';

export interface EmbeddedMatrix {
  data: Float32Array;
  rows: number;
  cols: number;
  description: string;
}

export function heavyTailedMatrix(rows = 256, cols = 512, seed = 20261127): EmbeddedMatrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * cols);
  for (let n = 0; n < rows; n++) {
    const rowScale = 0.02 * Math.exp(0.5 * rng.gaussian());
    for (let k = 0; k < cols; k++) {
      let v = rowScale * rng.studentT(4);
      if (rng.next() < 0.001) v *= 8;
      data[n * cols + k] = v;
    }
  }
  return {
    data, rows, cols,
    description: `${rows}×${cols} seeded heavy-tailed weight matrix (Student-t ν=4, log-normal channel scales, 0.1% ×8 outliers; seed ${seed})`,
  };
}
