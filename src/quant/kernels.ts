/**
 * Dispatch from resolved parameters to the element-wise kernels (assembly/quant/), split over
 * the thread pool (docs/threads.md).
 *
 * Every call here works on byte offsets already in wasm memory. The granularity (eq. 4, 50, 51)
 * becomes kernel calls:
 *   per tensor                  → *_run    (one scale for all n elements)
 *   per axis, inner > 1         → *_blocks (outer·dim rows of `inner`, one block per row, scale index cycling over dim)
 *   per axis, last axis         → *_cols   (outer rows of dim columns, one scale row)
 *   blocked, last axis          → *_blocks (outer rows of dim, cut into blocks of blockSize; the last block of a row may be short)
 *   blocked, inner > 1          → *_cols   (outer·dim rows of inner columns, a new scale row every blockSize rows
 *                                           and at every slice of dim rows, after a possibly short last block)
 * A block longer than the axis is passed as min(blockSize, dim): one block of dim.
 *
 * Split: each share is a contiguous run of units — 16-aligned elements per tensor, else the
 * units that own one scale (or scale row): a row (per axis) or a block (blocked). Units come in
 * slices of the outer dimension (a slice restarts the scale cycle or ends with the ragged block),
 * so a share is at most three kernel calls: the rest of a slice, whole slices, the start of a
 * slice. Every element is computed by one thread in the same block with the same scale and the
 * same code path (SIMD body or scalar tail) as in one call, so results are bit-identical for any
 * thread count, and the first NaN index is the smallest any call reports.
 */
import { NaNInputError } from '../errors.js';
import type {
  DequantizeBlocksFn, DequantizeColsFn, DequantizeRunFn, KernelExports, QuantizeBlocksFn, QuantizeColsFn, QuantizeRunFn,
} from '../runtime/abi.js';
import type { WasmMemory } from '../runtime/memory.js';
import { firstReported, runShares, sharesFor, splitRange } from '../runtime/parallel.js';
import type { KernelCall } from '../runtime/pool.js';
import type { ResolvedParams } from './params.js';
import type { QTypeInfo } from './qtypes.js';

/** Kernel names of one family (the pool calls kernels by name). */
export interface FamilyNames { run: string; blocks: string; cols: string }
const SUFFIX = { int8: 'i8', uint8: 'u8', int16: 'i16', uint16: 'u16' } as const;

export function quantizeNames(info: QTypeInfo): FamilyNames {
  const t = SUFFIX[info.storage];
  return { run: `quantize_f32_${t}`, blocks: `quantize_f32_${t}_blocks`, cols: `quantize_f32_${t}_cols` };
}
export function dequantizeNames(info: QTypeInfo): FamilyNames {
  const t = SUFFIX[info.storage];
  return { run: `dequantize_${t}_f32`, blocks: `dequantize_${t}_f32_blocks`, cols: `dequantize_${t}_f32_cols` };
}
export const FAKE_QUANTIZE_NAMES: FamilyNames = { run: 'fake_quantize_f32', blocks: 'fake_quantize_f32_blocks', cols: 'fake_quantize_f32_cols' };

interface Family<R, B, C> { run: R; blocks: B; cols: C }
type QFamily = Family<QuantizeRunFn, QuantizeBlocksFn, QuantizeColsFn>;
type DQFamily = Family<DequantizeRunFn, DequantizeBlocksFn, DequantizeColsFn>;

function family<F>(k: KernelExports, names: FamilyNames): F {
  const fns = k as unknown as Record<string, unknown>;
  return { run: fns[names.run], blocks: fns[names.blocks], cols: fns[names.cols] } as F;
}
/** The kernels themselves (direct single-thread calls: tests, activation quantization). */
export const quantizeFamily = (k: KernelExports, info: QTypeInfo): QFamily => family(k, quantizeNames(info));
export const dequantizeFamily = (k: KernelExports, info: QTypeInfo): DQFamily => family(k, dequantizeNames(info));
export const fakeQuantizeFamily = (k: KernelExports): QFamily => family(k, FAKE_QUANTIZE_NAMES);

/** Scales and zero points copied into wasm memory for the *_blocks / *_cols kernels. */
export interface ParamBlock { scales: number; zps: number; offset: number }

/** Copy rp's scales and zero points into one allocation (none for per tensor). Release with `mem.release(pb.offset)`. */
export function stageParams(mem: WasmMemory, rp: ResolvedParams): ParamBlock | undefined {
  if (rp.granularity === 'tensor') return undefined;
  const n = rp.scale.length;
  const stride = Math.ceil((n * 4) / 64) * 64;
  const offset = mem.alloc(stride + n * 4);
  mem.f32(offset, n).set(rp.scale);
  mem.f32(offset + stride, n).set(rp.zeroPoint);
  return { scales: offset, zps: offset + stride, offset };
}

/** One kernel call of a share: its first element, its element count and its arguments after (src, dst). */
interface Piece { readonly elem: number; readonly count: number; readonly args: readonly number[] }

/**
 * How a call is cut: `units` in slices of `perSlice`; `part(o, k0, k1)` covers units k0…k1−1
 * of slice o, `whole(o, m)` slices o…o+m−1.
 */
interface Plan {
  fn: string;
  units: number;
  align: number;
  perSlice: number;
  part: (o: number, k0: number, k1: number) => Piece;
  whole: (o: number, m: number) => Piece;
}

function planOf(f: FamilyNames, rp: ResolvedParams, pb: ParamBlock | undefined): Plan {
  const { outer, dim, inner } = rp;
  if (pb === undefined) { // per tensor: 16-aligned element ranges (each element keeps its SIMD or tail path)
    const run = (e: number, n: number): Piece => ({ elem: e, count: n, args: [n, rp.scale[0]!, rp.zeroPoint[0]!] });
    return { fn: f.run, units: rp.size, align: 16, perSlice: rp.size, part: (_o, k0, k1) => run(k0, k1 - k0), whole: () => run(0, rp.size) };
  }
  const S = pb.scales, Z = pb.zps;
  if (rp.granularity === 'axis' && inner > 1) { // rows of inner, row d of a slice uses scale d
    return {
      fn: f.blocks, units: outer * dim, align: 1, perSlice: dim,
      part: (o, k0, k1) => ({ elem: (o * dim + k0) * inner, count: (k1 - k0) * inner, args: [k1 - k0, inner, inner, S + 4 * k0, Z + 4 * k0, k1 - k0] }),
      whole: (o, m) => ({ elem: o * dim * inner, count: m * dim * inner, args: [m * dim, inner, inner, S, Z, dim] }),
    };
  }
  if (rp.granularity === 'axis') { // rows of dim, one scale row for all
    const rows = (o: number, m: number): Piece => ({ elem: o * dim, count: m * dim, args: [m, dim, S, Z, m, m] });
    return { fn: f.cols, units: outer, align: 1, perSlice: 1, part: (o) => rows(o, 1), whole: rows };
  }
  const B = Math.min(rp.blockSize, dim), nb = rp.blocks;
  // units k0 … k1−1 of a slice span its elements k0·B … min(dim, k1·B): only the slice's last block is short
  const span = (k0: number, k1: number) => Math.min(dim, k1 * B) - k0 * B;
  if (inner === 1) { // blocks along the last axis, one scale each
    return {
      fn: f.blocks, units: outer * nb, align: 1, perSlice: nb,
      part: (o, k0, k1) => {
        const t = o * nb + k0, len = span(k0, k1);
        return { elem: o * dim + k0 * B, count: len, args: [1, len, B, S + 4 * t, Z + 4 * t, k1 - k0] };
      },
      whole: (o, m) => ({ elem: o * dim, count: m * dim, args: [m, dim, B, S + 4 * o * nb, Z + 4 * o * nb, m * nb] }),
    };
  }
  // blocks of B rows of inner columns, one scale row of inner each
  return {
    fn: f.cols, units: outer * nb, align: 1, perSlice: nb,
    part: (o, k0, k1) => {
      const t = o * nb + k0, rows = span(k0, k1);
      return { elem: (o * dim + k0 * B) * inner, count: rows * inner, args: [rows, inner, S + 4 * inner * t, Z + 4 * inner * t, B, rows] };
    },
    whole: (o, m) => ({ elem: o * dim * inner, count: m * dim * inner, args: [m * dim, inner, S + 4 * inner * o * nb, Z + 4 * inner * o * nb, B, dim] }),
  };
}

/** The kernel calls covering units u0 … u0+n−1: the rest of a slice, whole slices, the start of a slice. */
function piecesOf(plan: Plan, u0: number, n: number): Piece[] {
  const out: Piece[] = [];
  const per = plan.perSlice, end = u0 + n;
  for (let u = u0; u < end;) {
    const o = Math.floor(u / per), k = u - o * per;
    if (k === 0 && end - u >= per) {
      const m = Math.floor((end - u) / per);
      out.push(plan.whole(o, m));
      u += m * per;
    } else {
      const k1 = Math.min(per, k + end - u);
      out.push(plan.part(o, k, k1));
      u += k1 - k;
    }
  }
  return out;
}

/** @internal Tests: the element ranges of every share's calls when a call on rp is cut into `shares` shares. */
export function shareElements(rp: ResolvedParams, shares: number): { start: number; count: number }[][] {
  const plan = planOf(FAKE_QUANTIZE_NAMES, rp, rp.granularity === 'tensor' ? undefined : { scales: 0, zps: 0, offset: 0 });
  return splitRange(plan.units, shares, plan.align).map(({ start, count }) => piecesOf(plan, start, count).map((p) => ({ start: p.elem, count: p.count })));
}

/**
 * The kernel calls of eq. 4's granularity over the pool. srcBytes/dstBytes: bytes per element
 * (the work the threshold weighs is input + output bytes). Returns each call's result and the
 * element it starts at.
 */
function callSplit(f: FamilyNames, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number,
  srcBytes: number, dstBytes: number, extra: readonly number[]): { results: number[][]; starts: number[][] } {
  const plan = planOf(f, rp, pb);
  const ranges = splitRange(plan.units, sharesFor(rp.size * (srcBytes + dstBytes), Math.ceil(plan.units / plan.align)), plan.align);
  const pieces = ranges.map(({ start, count }) => piecesOf(plan, start, count));
  const calls = pieces.map((ps) => ps.map((p): KernelCall => ({ fn: plan.fn, args: [src + srcBytes * p.elem, dst + dstBytes * p.elem, ...p.args, ...extra] })));
  return { results: runShares(calls), starts: pieces.map((ps) => ps.map((p) => p.elem)) };
}

/** A quantize-like family's calls (quantize or fake-quantize); returns the first NaN index or −1. */
export function callQuantLike(f: FamilyNames, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number, dstBytes: number): number {
  if (rp.size === 0) return -1;
  const { results, starts } = callSplit(f, rp, pb, src, dst, 4, dstBytes, [rp.info.qmin, rp.info.qmax]);
  return firstReported(results, starts);
}

/** The dequantize calls. */
export function callDequantize(f: FamilyNames, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number, srcBytes: number): void {
  if (rp.size === 0) return;
  callSplit(f, rp, pb, src, dst, srcBytes, 4, []);
}

/** Throw NaNInputError when a kernel reported a NaN. */
export function throwIfNaN(index: number, argument: string): void {
  if (index >= 0) throw new NaNInputError(argument, index);
}
