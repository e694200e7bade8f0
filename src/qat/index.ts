/**
 * Quantization-aware training helpers (docs/quantization.md, "Quantization-aware training",
 * eq. 29–32): the straight-through estimator for fake-quant and LSQ gradients for a learnable
 * scale and zero point (Esser et al. 2020, "Learned Step Size Quantization"; the zero-point term
 * as in LSQ+, Bhalgat et al. 2020, for the ONNX parametrisation).
 *
 * Forward (eq. 5 / 26): y = s·(clamp(round(x/s) + z, qmin, qmax) − z), round half to even.
 * Regions use the continuous condition of eq. 29: x is inside when s(qmin − z) ≤ x ≤ s(qmax − z).
 * Per-axis and blocked parameters (QParams with `axis` / `blockSize`) need x's shape.
 * Plain JS over the caller's arrays (element-wise, one pass); gradients accumulate in float64.
 */
import { InvalidArgumentError, NaNInputError } from '../errors.js';
import { resolveParams, type QParams, type ResolvedParams } from '../quant/params.js';

export interface FakeQuantizeBackwardOptions {
  /** x's shape; required for per-axis and blocked parameters (default [x.length]). */
  shape?: readonly number[];
}

export interface LsqOptions extends FakeQuantizeBackwardOptions {
  /**
   * Multiplier for the scale and zero-point gradients (eq. 32). A number, or 'lsq' for
   * 1/√(N·qmax) with N the elements sharing that scale (the whole tensor per tensor, a channel
   * per axis, a block when blocked). Default 1 (no scaling).
   */
  gradientScale?: number | 'lsq';
}

export interface LsqGradients {
  /** ∂L/∂x by the straight-through estimator (eq. 29). */
  gradX: Float32Array;
  /** ∂L/∂s per scale (length 1 per tensor; one per channel / block), times the gradient scale (eq. 30, 32). */
  gradScale: Float32Array;
  /** ∂L/∂z per zero point, same layout and scaling (eq. 31). */
  gradZeroPoint: Float32Array;
}

const f = Math.fround;

function nearestEven(v: number): number {
  const fl = Math.floor(v);
  const d = v - fl;
  if (d > 0.5) return fl + 1;
  if (d < 0.5) return fl;
  return fl % 2 === 0 ? fl : fl + 1;
}

interface Prepared { rp: ResolvedParams; n: number; group: (e: number) => number }

function prepare(x: unknown, gradOut: unknown, p: QParams, options: FakeQuantizeBackwardOptions | undefined): Prepared {
  if (!(x instanceof Float32Array)) throw new InvalidArgumentError('x', 'must be a Float32Array');
  if (!(gradOut instanceof Float32Array)) throw new InvalidArgumentError('gradOut', 'must be a Float32Array (∂L/∂y, one per element of x)');
  if (gradOut.length !== x.length) throw new InvalidArgumentError('gradOut', `has ${gradOut.length} elements, x has ${x.length}; they must match`);
  if (x.length === 0) throw new InvalidArgumentError('x', 'is empty');
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new InvalidArgumentError('options', 'must be an object');
  const shape = options?.shape;
  const perGroup = typeof p?.scale !== 'number' && (p?.blockSize !== undefined || (p?.scale as ArrayLike<number> | undefined)?.length !== 1);
  if (shape === undefined && perGroup) {
    throw new InvalidArgumentError('options.shape', "per-axis and blocked parameters need x's shape to find each element's channel / block; pass { shape }");
  }
  const rp = resolveParams(p, shape ?? [x.length]);
  if (rp.size !== x.length) throw new InvalidArgumentError('options.shape', `holds ${rp.size} elements but x has ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]!)) throw new NaNInputError('x', i);
    if (Number.isNaN(gradOut[i]!)) throw new NaNInputError('gradOut', i);
  }
  const { granularity, dim, inner, blockSize, blocks: nb } = rp;
  let group: (e: number) => number;
  if (granularity === 'tensor') group = () => 0;
  else if (granularity === 'axis') group = (e) => Math.floor(e / inner) % dim;
  else {
    // eq. 4 with ⌈dim/blockSize⌉ blocks (eq. 50): the last block along the axis may be shorter
    group = (e) => {
      const i = e % inner, ac = (e - i) / inner, c = ac % dim, a = (ac - c) / dim;
      return (a * nb + Math.floor(c / blockSize)) * inner + i;
    };
  }
  return { rp, n: x.length, group };
}

/**
 * Straight-through estimator for fake-quant (eq. 29): gradX[i] = gradOut[i] where
 * s(qmin − z) ≤ x[i] ≤ s(qmax − z), 0 where the forward clamps.
 */
export function fakeQuantizeBackward(x: Float32Array, gradOut: Float32Array, p: QParams, options?: FakeQuantizeBackwardOptions): Float32Array {
  const { rp, n, group } = prepare(x, gradOut, p, options);
  const { scale, zeroPoint, info } = rp;
  const gx = new Float32Array(n);
  for (let e = 0; e < n; e++) {
    const g = group(e), s = scale[g]!, z = zeroPoint[g]!;
    const v = x[e]!;
    if (v >= s * (info.qmin - z) && v <= s * (info.qmax - z)) gx[e] = gradOut[e]!;
  }
  return gx;
}

/**
 * LSQ gradients (eq. 29–32) of L through y = fakeQuantize(x; s, z), given gradOut = ∂L/∂y:
 *   inside   ∂y/∂s = round(x/s) − x/s,  ∂y/∂z = 0,   ∂y/∂x = 1
 *   below    ∂y/∂s = qmin − z,           ∂y/∂z = −s,  ∂y/∂x = 0
 *   above    ∂y/∂s = qmax − z,           ∂y/∂z = −s,  ∂y/∂x = 0
 * summed per scale, then multiplied by the gradient scale.
 */
export function lsqGradients(x: Float32Array, gradOut: Float32Array, p: QParams, options?: LsqOptions): LsqGradients {
  const { rp, n, group } = prepare(x, gradOut, p, options);
  const { scale, zeroPoint, info } = rp;
  const groups = scale.length;
  const gs = options?.gradientScale ?? 1;
  if (gs !== 'lsq' && (typeof gs !== 'number' || !Number.isFinite(gs))) {
    throw new InvalidArgumentError('options.gradientScale', `must be a finite number or 'lsq', got ${String(gs)}`);
  }
  const gx = new Float32Array(n);
  const ds = new Float64Array(groups), dz = new Float64Array(groups);
  const members = new Float64Array(groups); // N of eq. 32: a ragged last block has fewer
  for (let e = 0; e < n; e++) {
    const g = group(e), s = scale[g]!, z = zeroPoint[g]!;
    const v = x[e]!, go = gradOut[e]!;
    members[g]!++;
    if (v < s * (info.qmin - z)) { ds[g]! += go * (info.qmin - z); dz[g]! -= go * s; }
    else if (v > s * (info.qmax - z)) { ds[g]! += go * (info.qmax - z); dz[g]! -= go * s; }
    else {
      const u = f(v / s);
      ds[g]! += go * (nearestEven(u) - u);
      gx[e] = go;
    }
  }
  const gradScale = new Float32Array(groups), gradZeroPoint = new Float32Array(groups);
  for (let g = 0; g < groups; g++) {
    const k = gs === 'lsq' ? 1 / Math.sqrt(members[g]! * info.qmax) : gs;
    gradScale[g] = ds[g]! * k;
    gradZeroPoint[g] = dz[g]! * k;
  }
  return { gradX: gx, gradScale, gradZeroPoint };
}
