/**
 * Dispatch from resolved parameters to the element-wise kernels (assembly/quant/).
 *
 * Every call here works on byte offsets already in wasm memory. The granularity (eq. 4, 50, 51)
 * becomes one kernel call:
 *   per tensor                  → *_run    (one scale for all n elements)
 *   per axis, inner > 1         → *_blocks (outer·dim rows of `inner`, one block per row, scale index cycling over dim)
 *   per axis, last axis         → *_cols   (outer rows of dim columns, one scale row)
 *   blocked, last axis          → *_blocks (outer rows of dim, cut into blocks of blockSize; the last block of a row may be short)
 *   blocked, inner > 1          → *_cols   (outer·dim rows of inner columns, a new scale row every blockSize rows
 *                                           and at every slice of dim rows, after a possibly short last block)
 * A block longer than the axis is passed as min(blockSize, dim): one block of dim.
 */
import { NaNInputError } from '../errors.js';
import type {
  DequantizeBlocksFn, DequantizeColsFn, DequantizeRunFn, KernelExports, QuantizeBlocksFn, QuantizeColsFn, QuantizeRunFn,
} from '../runtime/abi.js';
import type { WasmMemory } from '../runtime/memory.js';
import type { ResolvedParams } from './params.js';
import type { QTypeInfo } from './qtypes.js';

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

/** The one kernel call of a quantize-like family (quantize or fake-quantize); returns the first NaN index or −1. */
export function callQuantLike(f: QFamily, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number): number {
  const { qmin, qmax } = rp.info;
  if (rp.size === 0) return -1;
  if (pb === undefined) return f.run(src, dst, rp.size, rp.scale[0]!, rp.zeroPoint[0]!, qmin, qmax);
  if (rp.granularity === 'axis') {
    if (rp.inner > 1) return f.blocks(src, dst, rp.outer * rp.dim, rp.inner, rp.inner, pb.scales, pb.zps, rp.dim, qmin, qmax);
    return f.cols(src, dst, rp.outer, rp.dim, pb.scales, pb.zps, rp.outer, rp.outer, qmin, qmax);
  }
  const B = Math.min(rp.blockSize, rp.dim);
  if (rp.inner === 1) return f.blocks(src, dst, rp.outer, rp.dim, B, pb.scales, pb.zps, rp.scale.length, qmin, qmax);
  return f.cols(src, dst, rp.outer * rp.dim, rp.inner, pb.scales, pb.zps, B, rp.dim, qmin, qmax);
}

/** The one dequantize kernel call. */
export function callDequantize(f: DQFamily, rp: ResolvedParams, pb: ParamBlock | undefined, src: number, dst: number): void {
  if (rp.size === 0) return;
  if (pb === undefined) { f.run(src, dst, rp.size, rp.scale[0]!, rp.zeroPoint[0]!); return; }
  if (rp.granularity === 'axis') {
    if (rp.inner > 1) f.blocks(src, dst, rp.outer * rp.dim, rp.inner, rp.inner, pb.scales, pb.zps, rp.dim);
    else f.cols(src, dst, rp.outer, rp.dim, pb.scales, pb.zps, rp.outer, rp.outer);
    return;
  }
  const B = Math.min(rp.blockSize, rp.dim);
  if (rp.inner === 1) f.blocks(src, dst, rp.outer, rp.dim, B, pb.scales, pb.zps, rp.scale.length);
  else f.cols(src, dst, rp.outer * rp.dim, rp.inner, pb.scales, pb.zps, B, rp.dim);
}

/** Throw NaNInputError when a kernel reported a NaN. */
export function throwIfNaN(index: number, argument: string): void {
  if (index >= 0) throw new NaNInputError(argument, index);
}
