/**
 * Dispatch from resolved parameters to the element-wise kernels (assembly/quant/).
 *
 * Every call here works on byte offsets already in wasm memory. The granularity (eq. 4) becomes
 * one kernel call:
 *   per tensor                  → *_run    (one scale for all n elements)
 *   per axis, inner > 1         → *_blocks (outer·dim blocks of `inner`, scale index cycling over dim)
 *   per axis, last axis         → *_cols   (outer rows of dim columns, one scale row)
 *   blocked, last axis          → *_blocks (one scale per block of blockSize)
 *   blocked, inner > 1          → *_cols   (outer·dim rows of inner columns, a new scale row every blockSize rows)
 */
import { NaNInputError } from '../errors.js';
import type {
  DequantizeBlocksFn, DequantizeColsFn, DequantizeRunFn, KernelExports, QuantizeBlocksFn, QuantizeColsFn, QuantizeRunFn,
} from '../runtime/abi.js';
import type { WasmMemory } from '../runtime/memory.js';
import type { ResolvedParams } from './params.js';
import type { QTypeInfo } from './qtypes.js';
import { firstReported, runShares, sharesFor, splitRange } from '../runtime/parallel.js';

interface Family<R, B, C> { run: R; blocks: B; cols: C }
type QFamily = Family<QuantizeRunFn, QuantizeBlocksFn, QuantizeColsFn>;
type DQFamily = Family<DequantizeRunFn, DequantizeBlocksFn, DequantizeColsFn>;

export function quantizeFamily(k: KernelExports, info: QTypeInfo): QFamily {
  switch (info.storage) {
    case 'int8': return { run: k.quantize_f32_i8, blocks: k.quantize_f32_i8_blocks, cols: k.quantize_f32_i8_cols };
    case 'uint8': return { run: k.quantize_f32_u8, blocks: k.quantize_f32_u8_blocks, cols: k.quantize_f32_u8_cols };
    case 'int16': return { run: k.quantize_f32_i16, blocks: k.quantize_f32_i16_blocks, cols: k.quantize_f32_i16_cols };
    case 'uint16': return { run: k.quantize_f32_u16, blocks: k.quantize_f32_u16_blocks, cols: k.quantize_f32_u16_cols };
  }
}

export function dequantizeFamily(k: KernelExports, info: QTypeInfo): DQFamily {
  switch (info.storage) {
    case 'int8': return { run: k.dequantize_i8_f32, blocks: k.dequantize_i8_f32_blocks, cols: k.dequantize_i8_f32_cols };
    case 'uint8': return { run: k.dequantize_u8_f32, blocks: k.dequantize_u8_f32_blocks, cols: k.dequantize_u8_f32_cols };
    case 'int16': return { run: k.dequantize_i16_f32, blocks: k.dequantize_i16_f32_blocks, cols: k.dequantize_i16_f32_cols };
    case 'uint16': return { run: k.dequantize_u16_f32, blocks: k.dequantize_u16_f32_blocks, cols: k.dequantize_u16_f32_cols };
  }
}

export function fakeQuantizeFamily(k: KernelExports): QFamily {
  return { run: k.fake_quantize_f32, blocks: k.fake_quantize_f32_blocks, cols: k.fake_quantize_f32_cols };
}

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

/** Kernel names of one family (the pool calls kernels by name). */
export interface FamilyNames { run: string; blocks: string; cols: string }
const SUFFIX = { int8: 'i8', uint8: 'u8', int16: 'i16', uint16: 'u16' } as const;
export const quantizeNames = (info: QTypeInfo): FamilyNames => {
  const t = SUFFIX[info.storage];
  return { run: `quantize_f32_${t}`, blocks: `quantize_f32_${t}_blocks`, cols: `quantize_f32_${t}_cols` };
};
export const dequantizeNames = (info: QTypeInfo): FamilyNames => {
  const t = SUFFIX[info.storage];
  return { run: `dequantize_${t}_f32`, blocks: `dequantize_${t}_f32_blocks`, cols: `dequantize_${t}_f32_cols` };
};
export const FAKE_QUANTIZE_NAMES: FamilyNames = { run: 'fake_quantize_f32', blocks: 'fake_quantize_f32_blocks', cols: 'fake_quantize_f32_cols' };

/**
 * The kernel call of eq. 4's granularity, split over the pool into contiguous element ranges
 * that keep each scale's elements whole where the scale index depends on the position:
 *   run     any 16-aligned element ranges;
 *   blocks  block ranges (scale pointer moved along) when every block has its own scale, else
 *           whole cycles of nScales blocks;
 *   cols    row ranges when one scale row serves every row, else whole groups of groupRows
 *           rows (scale pointer moved by a scale row per group).
 * Element-wise, so the results do not depend on the split. srcBytes/dstBytes: bytes per
 * element. Returns the first NaN index or −1 (quantize-like kernels).
 */
function callSplit(f: FamilyNames, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number,
  srcBytes: number, dstBytes: number, extra: readonly number[]): number {
  if (rp.size === 0) return -1;
  const work = rp.size * (srcBytes + dstBytes);
  // per-share: [fn, args] given a range of units and the unit's element count
  let fn: string, units: number, align: number, elems: number;
  let argsOf: (u0: number, n: number) => number[];
  if (pb === undefined) {
    fn = f.run; units = rp.size; align = 16; elems = 1;
    argsOf = (u0, n) => [src + srcBytes * u0, dst + dstBytes * u0, n, rp.scale[0]!, rp.zeroPoint[0]!];
  } else {
    let nBlocks: number, blockLen: number, nScales: number, rows: number, cols: number, groupRows: number;
    let blocks: boolean;
    if (rp.granularity === 'axis' && rp.inner > 1) { blocks = true; nBlocks = rp.outer * rp.dim; blockLen = rp.inner; nScales = rp.dim; }
    else if (rp.granularity === 'axis') { blocks = false; rows = rp.outer; cols = rp.dim; groupRows = rp.outer; }
    else if (rp.inner === 1) { blocks = true; nBlocks = rp.outer * (rp.dim / rp.blockSize); blockLen = rp.blockSize; nScales = nBlocks; }
    else { blocks = false; rows = rp.outer * rp.dim; cols = rp.inner; groupRows = rp.blockSize; }
    if (blocks) {
      fn = f.blocks;
      if (nScales! === nBlocks!) {
        units = nBlocks!; align = 1; elems = blockLen!;
        argsOf = (b0, n) => [src + srcBytes * b0 * blockLen!, dst + dstBytes * b0 * blockLen!, n, blockLen!, pb.scales + 4 * b0, pb.zps + 4 * b0, n];
      } else {
        units = nBlocks! / nScales!; align = 1; elems = nScales! * blockLen!;
        argsOf = (c0, n) => [src + srcBytes * c0 * elems, dst + dstBytes * c0 * elems, n * nScales!, blockLen!, pb.scales, pb.zps, nScales!];
      }
    } else {
      fn = f.cols;
      if (groupRows! >= rows!) {
        units = rows!; align = 1; elems = cols!;
        argsOf = (r0, n) => [src + srcBytes * r0 * cols!, dst + dstBytes * r0 * cols!, n, cols!, pb.scales, pb.zps, groupRows!];
      } else {
        units = rows! / groupRows!; align = 1; elems = groupRows! * cols!;
        argsOf = (g0, n) => [src + srcBytes * g0 * elems, dst + dstBytes * g0 * elems, n * groupRows!, cols!, pb.scales + 4 * cols! * g0, pb.zps + 4 * cols! * g0, groupRows!];
      }
    }
  }
  const ranges = splitRange(units, sharesFor(work, Math.ceil(units / align)), align);
  const results = runShares(ranges.map(({ start, count }) => [{ fn, args: [...argsOf(start, count), ...extra] }]));
  return firstReported(results, ranges.map((r) => r.start * elems));
}

/** A quantize-like family's call (quantize or fake-quantize) over the pool; returns the first NaN index or −1. */
export function callQuantLike(f: FamilyNames, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number, dstBytes: number): number {
  return callSplit(f, rp, pb, src, dst, 4, dstBytes, [rp.info.qmin, rp.info.qmax]);
}

/** The dequantize call over the pool. */
export function callDequantize(f: FamilyNames, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number, srcBytes: number): void {
  callSplit(f, rp, pb, src, dst, srcBytes, 4, []);
}

/** Throw NaNInputError when a kernel reported a NaN. */
export function throwIfNaN(index: number, argument: string): void {
  if (index >= 0) throw new NaNInputError(argument, index);
}
