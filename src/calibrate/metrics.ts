/**
 * Error metrics for lossy paths (docs/quantization.md, "Error metrics").
 * All accumulate in double precision.
 */
import { InvalidArgumentError } from '../errors.js';

type Floats = ArrayLike<number>;

function check(x: Floats, y: Floats): void {
  if (x.length !== y.length) throw new InvalidArgumentError('xq', `length ${y.length} differs from x length ${x.length}`);
  if (x.length === 0) throw new InvalidArgumentError('x', 'is empty; metrics need at least one element');
}

/** Mean squared error ‖x − x̂‖² / n. */
export function mse(x: Floats, xq: Floats): number {
  check(x, xq);
  let s = 0;
  for (let i = 0; i < x.length; i++) { const d = x[i]! - xq[i]!; s += d * d; }
  return s / x.length;
}

/** Signal-to-quantization-noise ratio in dB: 10·log10(Σx² / Σ(x − x̂)²). Infinity when exact. */
export function sqnr(x: Floats, xq: Floats): number {
  check(x, xq);
  let sig = 0, noise = 0;
  for (let i = 0; i < x.length; i++) { const a = x[i]!, d = a - xq[i]!; sig += a * a; noise += d * d; }
  if (noise === 0) return Infinity;
  return 10 * Math.log10(sig / noise);
}

/** max |x − x̂|. */
export function maxAbsError(x: Floats, xq: Floats): number {
  check(x, xq);
  let m = 0;
  for (let i = 0; i < x.length; i++) { const d = Math.abs(x[i]! - xq[i]!); if (d > m || Number.isNaN(d)) m = d; }
  return m;
}

/** Cosine similarity x·x̂ / (‖x‖‖x̂‖); 1 for two all-zero vectors. */
export function cosineSimilarity(x: Floats, xq: Floats): number {
  check(x, xq);
  let dot = 0, nx = 0, ny = 0;
  for (let i = 0; i < x.length; i++) { const a = x[i]!, b = xq[i]!; dot += a * b; nx += a * a; ny += b * b; }
  if (nx === 0 && ny === 0) return 1;
  if (nx === 0 || ny === 0) return 0;
  return dot / Math.sqrt(nx * ny);
}
