/**
 * Data-free int4 weight quantization per group (docs/quantization.md eq. 60–68): every run of
 * `run` consecutive values along a row shares one float32 scale (and, unsigned, one zero point).
 *
 *   signed   q ∈ [−8, 7], w ≈ s·q, s ≠ 0 (its sign orients the grid, eq. 60)
 *   unsigned q ∈ [0, 15], w ≈ s·(q − z), s > 0, z an integer in [0, 15]
 *
 * Methods:
 *   'minmax'  signed: the value of largest magnitude maps exactly to −8 with its sign (ggml Q4_0,
 *             eq. 60); unsigned: the range widened to include 0 (eq. 7, asymmetric).
 *   'mse'     from several shrunk starting grids, alternate re-rounding (eq. 62) and the
 *             closed-form least-squares refit of the scale (signed, eq. 63) or of scale and zero
 *             point (unsigned, eq. 64–65) until the codes stop changing; the lowest squared error
 *             wins (eq. 66). Never worse than 'minmax' (its grid is one of the starts).
 *   'hqq'     half-quadratic splitting for a robust ℓp error (p = 0.7, eq. 67–68): the error is
 *             split off into an auxiliary variable shrunk by the ℓp proximal operator, and the
 *             scale (and zero point) refit to the weights minus that variable.
 *
 * Codes are what eq. 2 gives with the chosen parameters: q = clamp(rhe(f32(w / s)) + z). The
 * squared errors are measured against the dequantized values f32((q − z)·s) in float64.
 * Plain JS loops: one group is a few hundred bytes, so a group's passes run in L1; a 4096×4096
 * matrix takes about 1.5 s with 'mse' and 3 s with 'hqq' on one core (bench/suites/weights.ts).
 */
import { InvalidArgumentError, NaNInputError } from '../errors.js';

export const INT4_METHODS = Object.freeze(['minmax', 'mse', 'hqq'] as const);
export type Int4Method = (typeof INT4_METHODS)[number];

/** The default data-free method (chosen by measurement, docs/quantization.md "Choosing the default"). */
export const DEFAULT_INT4_METHOD: Int4Method = 'mse';

export interface Int4Groups {
  /** Signed: Int8Array in [−8, 7]; unsigned: Uint8Array in [0, 15]. One per input value. */
  q: Int8Array | Uint8Array;
  /** One float32 scale per run (signed: ≠ 0 and may be negative; unsigned: > 0). */
  scales: Float32Array;
  /** Unsigned only: one zero point per run in [0, 15]. */
  zeroPoints?: Uint8Array;
  signed: boolean;
}

const f = Math.fround;
const SMALLEST_F32 = 2 ** -149;

/** Shrink factors of the starting grids of 'mse' (eq. 66): 1 is the min-max grid itself. */
const MSE_STARTS = [1, 0.9, 0.8];
/** Re-round / refit rounds per start; the codes settle in 2–3 (the loop stops when they do). */
const MSE_ROUNDS = 6;
/** HQQ's published defaults: ℓp with p = 0.7, β₀ = 10 growing by κ = 1.01, at most 20 rounds (eq. 67–68). */
const HQQ_P = 0.7, HQQ_BETA = 10, HQQ_KAPPA = 1.01, HQQ_ROUNDS = 20;

/** Round half to even of a float already clamped to a small integer range. */
// (Math.round rounds halves up; a half that landed on an odd integer goes one down.)
function rhe(t: number): number {
  const r = Math.round(t);
  return r - t === 0.5 && (r & 1) !== 0 ? r - 1 : r;
}

/** eq. 2 for one value: clamp(rhe(f32(v / s)) + z, lo, hi); clamping first commutes with rounding. */
function code(v: number, s: number, z: number, lo: number, hi: number): number {
  let t = f(v / s) + z;
  t = t < lo ? lo : t > hi ? hi : t;
  return rhe(t);
}

/** Squared error Σ (x − f32((q − z)·s))² of a group under (s, z), float64. */
function sqErr(x: Float32Array, o: number, n: number, s: number, z: number, lo: number, hi: number): number {
  let e = 0;
  for (let i = o; i < o + n; i++) {
    const v = x[i]!;
    const d = v - f((code(v, s, z, lo, hi) - z) * s);
    e += d * d;
  }
  return e;
}

/** eq. 60: the signed value of largest magnitude over −8 (the first one on a tie); 1 for an all-zero group. */
export function q40Scale(x: Float32Array, o: number, n: number): number {
  let m = 0, a = 0;
  for (let i = o; i < o + n; i++) {
    const v = x[i]!, av = Math.abs(v);
    if (av > a) { a = av; m = v; }
  }
  if (a === 0) return 1;
  const s = f(m / -8);
  return s !== 0 ? s : m > 0 ? -SMALLEST_F32 : SMALLEST_F32; // subnormal m: m/8 underflowed
}

/** eq. 7 (asymmetric, uint4) on [min(lo, 0), max(hi, 0)]. */
function minmaxUnsigned(x: Float32Array, o: number, n: number): { s: number; z: number } {
  let lo = 0, hi = 0;
  for (let i = o; i < o + n; i++) { const v = x[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
  let s = f(f(hi - lo) / 15);
  if (s === Infinity) s = f(f(hi / 15) - f(lo / 15));
  if (s === 0) s = hi === lo ? 1 : SMALLEST_F32;
  const z = rhe(f(0 - f(lo / s)));
  return { s, z: z < 0 ? 0 : z > 15 ? 15 : z };
}

/**
 * Signed 'mse' (eq. 62–63, 66): from each start s = c·s₀, alternate q ← eq. 2 and
 * s ← Σ x·q / Σ q² (the least-squares scale for fixed codes) until s stops moving; keep the lowest error.
 */
function mseSigned(x: Float32Array, o: number, n: number, s0: number): number {
  let best = s0, bestE = Infinity;
  for (const c of MSE_STARTS) {
    let s = f(s0 * c);
    for (let round = 0; round < MSE_ROUNDS; round++) {
      // the search rounds x·(1/s) (not eq. 2's division: a code off by one at an exact tie only
      // moves the error, never the codes written, which codeInt4Group derives by eq. 2)
      const inv = 1 / s;
      let e = 0, sxq = 0, sqq = 0;
      for (let i = o; i < o + n; i++) {
        const v = x[i]!;
        let t = v * inv + 8.5; // the code + 8.5, so truncation rounds it (halves up)
        t = t < 0.5 ? 0.5 : t > 15.5 ? 15.5 : t;
        const q = (t | 0) - 8;
        const d = v - q * s;
        e += d * d;
        sxq += v * q;
        sqq += q * q;
      }
      if (e < bestE) { bestE = e; best = s; }
      if (sqq === 0) break;
      const next = f(sxq / sqq);
      if (next === s || next === 0 || (next > 0) !== (s > 0) || !Number.isFinite(next)) break;
      s = next;
    }
  }
  return best;
}

/**
 * Unsigned 'mse' (eq. 62, 64–66): from each start (c·s₀ with the min-max zero point z₀),
 * alternate q ← eq. 2 and the least-squares line x ≈ a·q + b (a = s, b = −s·z),
 * z ← clamp(rhe(−b/a)), s ← Σ x(q − z)/Σ (q − z)², until (s, z) stop changing.
 */
function mseUnsigned(x: Float32Array, o: number, n: number, s0: number, z0: number): { s: number; z: number } {
  let bestS = s0, bestZ = z0, bestE = Infinity;
  for (const c of MSE_STARTS) {
    let s = f(s0 * c), z = z0;
    for (let round = 0; round < MSE_ROUNDS; round++) {
      const inv = 1 / s; // the search multiplies by 1/s (see mseSigned)
      let e = 0, sq = 0, sqq = 0, sx = 0, sxq = 0;
      for (let i = o; i < o + n; i++) {
        const v = x[i]!;
        let t = v * inv + z + 0.5; // truncation rounds (halves up)
        t = t < 0.5 ? 0.5 : t > 15.5 ? 15.5 : t;
        const q = t | 0;
        const d = v - (q - z) * s;
        e += d * d;
        sq += q; sqq += q * q; sx += v; sxq += v * q;
      }
      if (e < bestE) { bestE = e; bestS = s; bestZ = z; }
      const det = n * sqq - sq * sq;
      if (det <= 0) break; // all codes equal: nothing to fit
      const a = (n * sxq - sq * sx) / det, b = (sx - a * sq) / n; // eq. 64
      if (!(a > 0) || !Number.isFinite(a)) break;
      let zn = Math.round(-b / a);
      zn = zn < 0 ? 0 : zn > 15 ? 15 : zn;
      // eq. 65: the scale refit with the integer zero point, from the same codes
      // Σ x(q − zn) = sxq − zn·sx,  Σ (q − zn)² = sqq − 2·zn·sq + n·zn²
      const num = sxq - zn * sx, den = sqq - 2 * zn * sq + n * zn * zn;
      const sn = den > 0 ? f(num / den) : s;
      if (!(sn > 0) || !Number.isFinite(sn) || (sn === s && zn === z)) break;
      s = sn; z = zn;
    }
  }
  return { s: bestS, z: bestZ };
}

/** |e|^(p−1) for |e| in [0, 1] by linear interpolation in a 1024-step table (relative error < 1e-5 above 0.1). */
const POW_STEPS = 1024;
const POW_TABLE = Float64Array.from({ length: POW_STEPS + 2 }, (_, i) => (i === 0 ? 0 : Math.pow(i / POW_STEPS, HQQ_P - 1)));

/**
 * The ℓp proximal ("shrink") operator of eq. 67 applied to e (in grid steps): 0 below the
 * threshold β^(−1/(2−p)) where |e| − |e|^(p−1)/β changes sign, which the caller passes in.
 */
function shrink(e: number, beta: number, threshold: number): number {
  const a = Math.abs(e);
  if (a <= threshold) return 0;
  let pw: number;
  if (a < 1) {
    const u = a * POW_STEPS, i = u | 0;
    pw = POW_TABLE[i]! + (u - i) * (POW_TABLE[i + 1]! - POW_TABLE[i]!);
  } else {
    pw = Math.pow(a, HQQ_P - 1);
  }
  const t = a - pw / beta;
  return t > 0 ? (e > 0 ? t : -t) : 0;
}

/**
 * HQQ (eq. 67–68), signed: with r = x − s·q the error, in grid steps r/|s|, the auxiliary
 * e = shrink(r/|s|)·|s| takes the part of the error the ℓp norm tolerates, and s is the
 * least-squares scale for x − e. Keeps the parameters with the lowest mean |x − x̂| (HQQ's
 * criterion) and stops when a round does not lower it.
 */
function hqqSigned(x: Float32Array, o: number, n: number, s0: number): number {
  let s = s0, best = s0, bestL1 = Infinity, beta = HQQ_BETA;
  for (let round = 0; round < HQQ_ROUNDS; round++) {
    let l1 = 0, num = 0, den = 0;
    const step = Math.abs(s), inv = 1 / s, thr = Math.pow(beta, -1 / (2 - HQQ_P));
    for (let i = o; i < o + n; i++) {
      const v = x[i]!;
      let t = v * inv + 8.5;
      t = t < 0.5 ? 0.5 : t > 15.5 ? 15.5 : t;
      const q = (t | 0) - 8;
      const r = v - q * s;
      l1 += Math.abs(r);
      const e = shrink(r / step, beta, thr) * step;
      num += (v - e) * q; den += q * q;
    }
    if (!(l1 < bestL1)) break;
    bestL1 = l1; best = s;
    if (den === 0) break;
    const next = f(num / den);
    if (next === 0 || (next > 0) !== (s > 0) || !Number.isFinite(next)) break;
    s = next;
    beta *= HQQ_KAPPA;
  }
  return best;
}

/** HQQ (eq. 67–68), unsigned: the same splitting with the least-squares line (s, z) fit to x − e, z rounded. */
function hqqUnsigned(x: Float32Array, o: number, n: number, s0: number, z0: number): { s: number; z: number } {
  let s = s0, z = z0, bestS = s0, bestZ = z0, bestL1 = Infinity, beta = HQQ_BETA;
  for (let round = 0; round < HQQ_ROUNDS; round++) {
    let l1 = 0, sq = 0, sqq = 0, st = 0, stq = 0;
    const inv = 1 / s, thr = Math.pow(beta, -1 / (2 - HQQ_P));
    for (let i = o; i < o + n; i++) {
      const v = x[i]!;
      let u = v * inv + z + 0.5;
      u = u < 0.5 ? 0.5 : u > 15.5 ? 15.5 : u;
      const q = u | 0;
      const r = v - (q - z) * s;
      l1 += Math.abs(r);
      const t = v - shrink(r * inv, beta, thr) * s;
      sq += q; sqq += q * q; st += t; stq += t * q;
    }
    if (!(l1 < bestL1)) break;
    bestL1 = l1; bestS = s; bestZ = z;
    const det = n * sqq - sq * sq;
    if (det <= 0) break;
    const a = (n * stq - sq * st) / det, b = (st - a * sq) / n;
    if (!(a > 0) || !Number.isFinite(a)) break;
    let zn = rhe(-b / a);
    zn = zn < 0 ? 0 : zn > 15 ? 15 : zn;
    s = f(a); z = zn;
    beta *= HQQ_KAPPA;
  }
  return { s: bestS, z: bestZ };
}

/** Throws on NaN / ±Inf, naming `argument` and the index. */
export function assertFiniteValues(argument: string, x: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (!Number.isFinite(v)) {
      if (Number.isNaN(v)) throw new NaNInputError(argument, i);
      throw new InvalidArgumentError(argument, `contains ${v} at index ${i}; weights must be finite`);
    }
  }
}

/** The method option, checked: one of INT4_METHODS, or a typed error naming it. */
export function int4Method(argument: string, m: unknown, allowed: readonly string[] = INT4_METHODS): Int4Method {
  if (m === undefined) return DEFAULT_INT4_METHOD;
  if (typeof m !== 'string' || !allowed.includes(m)) {
    throw new InvalidArgumentError(argument, `must be ${allowed.map((a) => `'${a}'`).join(', ')}, got ${typeof m === 'string' ? `'${m}'` : String(m)}`);
  }
  return m as Int4Method;
}

/**
 * Parameters of one group (values x[o .. o+n)) by `method`: signed → { s, z: 0 }, unsigned → { s, z }.
 * The values must be finite.
 */
export function fitInt4Group(x: Float32Array, o: number, n: number, signed: boolean, method: Int4Method): { s: number; z: number } {
  if (signed) {
    const s0 = q40Scale(x, o, n);
    const s = method === 'minmax' ? s0 : method === 'mse' ? mseSigned(x, o, n, s0) : hqqSigned(x, o, n, s0);
    return { s, z: 0 };
  }
  const p0 = minmaxUnsigned(x, o, n);
  if (method === 'minmax') return p0;
  return method === 'mse' ? mseUnsigned(x, o, n, p0.s, p0.z) : hqqUnsigned(x, o, n, p0.s, p0.z);
}

/** The code of one value under (s, z) by eq. 2 (signed: z = 0, [−8, 7]; unsigned: [0, 15]). */
export function codeInt4Value(v: number, s: number, z: number, signed: boolean): number {
  return signed ? code(v, s, 0, -8, 7) : code(v, s, z, 0, 15);
}

/** Codes of one group under (s, z) by eq. 2, written to q[o .. o+n). */
export function codeInt4Group(x: Float32Array, o: number, n: number, s: number, z: number, signed: boolean, q: Int8Array | Uint8Array): void {
  const lo = signed ? -8 : 0, hi = signed ? 7 : 15;
  for (let i = o; i < o + n; i++) q[i] = code(x[i]!, s, z, lo, hi);
}

/** Squared error of one group under (s, z), float64 (for tests and reports). */
export function groupSqErr(x: Float32Array, o: number, n: number, s: number, z: number, signed: boolean): number {
  return signed ? sqErr(x, o, n, s, 0, -8, 7) : sqErr(x, o, n, s, z, 0, 15);
}

/**
 * Quantize a row-major rows×cols float32 matrix in runs of `run` values along each row (the last
 * run of a row may be shorter: ⌈cols/run⌉ runs per row). `run` may be anything from 1 to cols
 * (cols = per channel); a rows×cols matrix with rows = 1 and run = cols is per tensor.
 */
export function quantizeInt4Runs(w: Float32Array, rows: number, cols: number, run: number, signed: boolean, method: Int4Method): Int4Groups {
  assertFiniteValues('w', w);
  const runs = Math.ceil(cols / run);
  const q = signed ? new Int8Array(rows * cols) : new Uint8Array(rows * cols);
  const scales = new Float32Array(rows * runs);
  const zeroPoints = signed ? undefined : new Uint8Array(rows * runs);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < runs; g++) {
      const o = r * cols + g * run, n = Math.min(run, cols - g * run);
      const { s, z } = fitInt4Group(w, o, n, signed, method);
      scales[r * runs + g] = s;
      if (zeroPoints) zeroPoints[r * runs + g] = z;
      codeInt4Group(w, o, n, s, z, signed, q);
    }
  }
  return zeroPoints ? { q, scales, zeroPoints, signed } : { q, scales, signed };
}

/** The dequantized values f32((q − z)·s) of quantizeInt4Runs' output, rows×cols. */
export function dequantizeInt4Runs(g: Int4Groups, rows: number, cols: number, run: number): Float32Array {
  const runs = Math.ceil(cols / run);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const j = r * runs + Math.floor(c / run);
      const z = g.zeroPoints ? g.zeroPoints[j]! : 0;
      out[r * cols + c] = f((g.q[r * cols + c]! - z) * g.scales[j]!);
    }
  }
  return out;
}
