/**
 * Scalar JS twins of the element-wise quantization kernels (assembly/quant/, assembly/pack/).
 *
 * The oracle for tests and the baseline for benchmarks. Written straight from the equations in
 * docs/quantization.md, one element at a time, sharing no code with the kernels or with the host
 * wrappers in src/quant/: float32 division is `Math.fround(x / s)` (a double quotient of two
 * float32 values rounded once to float32 is the correctly rounded float32 quotient), rounding half
 * to even is spelled out, saturation happens before any integer conversion.
 *
 * Twins take typed arrays and element offsets where the kernels take byte offsets, and return
 * what the kernels return (the first NaN index or −1).
 */

type F32 = Float32Array;
/** Integer storage: one value per element. */
export type IntArray = Int8Array | Uint8Array | Int16Array | Uint16Array;

/** Round half to even (IEEE roundTiesToEven), for any double. eq. (2) */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // ties go towards +∞
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** eq. (2): clamp(rhe(f32(x / s)) + z, qmin, qmax). x must not be NaN. */
export function quantizeValue(x: number, s: number, z: number, qmin: number, qmax: number): number {
  const q = roundHalfEven(Math.fround(x / s)) + z;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/** eq. (3): f32((q − z) · s). */
export function dequantizeValue(q: number, s: number, z: number): number {
  return Math.fround((q - z) * s);
}

/** eq. (5). */
export function fakeQuantizeValue(x: number, s: number, z: number, qmin: number, qmax: number): number {
  return Math.fround((quantizeValue(x, s, z, qmin, qmax) - z) * s);
}

// ---- twins of assembly/quant/quantize.ts ----------------------------------------------------

/** Twin of quantize_f32_T: q[i] for i < n (element offsets xo, qo). */
export function quantizeRun(x: F32, xo: number, q: IntArray, qo: number, n: number,
  s: number, z: number, qmin: number, qmax: number): number {
  for (let i = 0; i < n; i++) {
    const v = x[xo + i]!;
    if (v !== v) return i;
    q[qo + i] = quantizeValue(v, s, z, qmin, qmax);
  }
  return -1;
}

/**
 * The blocks of the *_blocks kernels (eq. 4, 50, 51): each of `rows` rows of `rowLen` elements is cut
 * into ⌈rowLen / blockLen⌉ blocks, the last one shorter when blockLen does not divide rowLen;
 * block number b (counted over all rows) uses scale b mod nScales.
 */
function forEachBlock(rows: number, rowLen: number, blockLen: number, nScales: number,
  body: (start: number, len: number, j: number) => number): number {
  const perRow = Math.ceil(rowLen / blockLen);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < perRow; k++) {
      const start = r * rowLen + k * blockLen;
      const res = body(start, Math.min(blockLen, rowLen - k * blockLen), (r * perRow + k) % nScales);
      if (res >= 0) return start + res;
    }
  }
  return -1;
}

/**
 * The scale row of row r in the *_cols kernels (eq. 4, 51): rows come in slices of sliceRows,
 * grouped by groupRows inside a slice (the last group of a slice may be short).
 */
export function colsScaleRow(r: number, groupRows: number, sliceRows: number): number {
  return Math.floor(r / sliceRows) * Math.ceil(sliceRows / groupRows) + Math.floor((r % sliceRows) / groupRows);
}

/** Twin of quantize_f32_T_blocks. */
export function quantizeBlocks(x: F32, q: IntArray, rows: number, rowLen: number, blockLen: number,
  scales: F32, zps: F32, nScales: number, qmin: number, qmax: number): number {
  return forEachBlock(rows, rowLen, blockLen, nScales,
    (start, len, j) => quantizeRun(x, start, q, start, len, scales[j]!, zps[j]!, qmin, qmax));
}

/** Twin of quantize_f32_T_cols. */
export function quantizeCols(x: F32, q: IntArray, rows: number, cols: number,
  scales: F32, zps: F32, groupRows: number, sliceRows: number, qmin: number, qmax: number): number {
  for (let i = 0; i < rows * cols; i++) if (x[i] !== x[i]) return i;
  for (let r = 0; r < rows; r++) {
    const g = colsScaleRow(r, groupRows, sliceRows) * cols;
    for (let c = 0; c < cols; c++) {
      q[r * cols + c] = quantizeValue(x[r * cols + c]!, scales[g + c]!, zps[g + c]!, qmin, qmax);
    }
  }
  return -1;
}

// ---- twins of assembly/quant/dequantize.ts --------------------------------------------------

/** Twin of dequantize_T_f32. */
export function dequantizeRun(q: IntArray, qo: number, y: F32, yo: number, n: number, s: number, z: number): void {
  for (let i = 0; i < n; i++) y[yo + i] = dequantizeValue(q[qo + i]!, s, z);
}

/** Twin of dequantize_T_f32_blocks. */
export function dequantizeBlocks(q: IntArray, y: F32, rows: number, rowLen: number, blockLen: number,
  scales: F32, zps: F32, nScales: number): void {
  forEachBlock(rows, rowLen, blockLen, nScales, (start, len, j) => {
    dequantizeRun(q, start, y, start, len, scales[j]!, zps[j]!);
    return -1;
  });
}

/** Twin of dequantize_T_f32_cols. */
export function dequantizeCols(q: IntArray, y: F32, rows: number, cols: number,
  scales: F32, zps: F32, groupRows: number, sliceRows: number): void {
  for (let r = 0; r < rows; r++) {
    const g = colsScaleRow(r, groupRows, sliceRows) * cols;
    for (let c = 0; c < cols; c++) y[r * cols + c] = dequantizeValue(q[r * cols + c]!, scales[g + c]!, zps[g + c]!);
  }
}

// ---- twins of assembly/quant/fake-quantize.ts -----------------------------------------------

/** Twin of fake_quantize_f32. */
export function fakeQuantizeRun(x: F32, xo: number, y: F32, yo: number, n: number,
  s: number, z: number, qmin: number, qmax: number): number {
  for (let i = 0; i < n; i++) {
    const v = x[xo + i]!;
    if (v !== v) return i;
    y[yo + i] = fakeQuantizeValue(v, s, z, qmin, qmax);
  }
  return -1;
}

/** Twin of fake_quantize_f32_blocks. */
export function fakeQuantizeBlocks(x: F32, y: F32, rows: number, rowLen: number, blockLen: number,
  scales: F32, zps: F32, nScales: number, qmin: number, qmax: number): number {
  return forEachBlock(rows, rowLen, blockLen, nScales,
    (start, len, j) => fakeQuantizeRun(x, start, y, start, len, scales[j]!, zps[j]!, qmin, qmax));
}

/** Twin of fake_quantize_f32_cols. */
export function fakeQuantizeCols(x: F32, y: F32, rows: number, cols: number,
  scales: F32, zps: F32, groupRows: number, sliceRows: number, qmin: number, qmax: number): number {
  for (let i = 0; i < rows * cols; i++) if (x[i] !== x[i]) return i;
  for (let r = 0; r < rows; r++) {
    const g = colsScaleRow(r, groupRows, sliceRows) * cols;
    for (let c = 0; c < cols; c++) {
      y[r * cols + c] = fakeQuantizeValue(x[r * cols + c]!, scales[g + c]!, zps[g + c]!, qmin, qmax);
    }
  }
  return -1;
}

// ---- twins of assembly/quant/minmax.ts and range.ts -----------------------------------------

/** Twin of minmax_f32: [min, max] (−0 < +0), or the first NaN index. */
export function minMax(x: F32): { nanIndex: number; min: number; max: number } {
  let mn = Infinity, mx = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v !== v) return { nanIndex: i, min: NaN, max: NaN };
    if (v < mn || (v === 0 && mn === 0 && Object.is(v, -0))) mn = v;
    if (v > mx || (v === 0 && mx === 0 && Object.is(mx, -0))) mx = v;
  }
  return { nanIndex: -1, min: mn, max: mx };
}

/** Twin of first_outside_i8 / first_outside_u8 (the array's type decides how bytes read). */
export function firstOutside(q: Int8Array | Uint8Array, lo: number, hi: number): number {
  for (let i = 0; i < q.length; i++) if (q[i]! < lo || q[i]! > hi) return i;
  return -1;
}

// ---- twins of assembly/pack/ ------------------------------------------------------------------

/** Twin of pack_int4: element 2j in the low nibble of byte j. */
export function packInt4(q: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(q.length / 2));
  for (let i = 0; i < q.length; i++) out[i >> 1]! |= (q[i]! & 15) << ((i & 1) * 4);
  return out;
}

/** Twin of unpack_int4_s / unpack_int4_u. */
export function unpackInt4(packed: Uint8Array, n: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = (packed[i >> 1]! >> ((i & 1) * 4)) & 15;
    out[i] = signed && v >= 8 ? v - 16 : v;
  }
  return out;
}

/** Twin of pack_int2: element 4j in the lowest two bits of byte j. */
export function packInt2(q: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(q.length / 4));
  for (let i = 0; i < q.length; i++) out[i >> 2]! |= (q[i]! & 3) << ((i & 3) * 2);
  return out;
}

/** Twin of unpack_int2_s / unpack_int2_u. */
export function unpackInt2(packed: Uint8Array, n: number, signed: boolean): Int8Array | Uint8Array {
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = (packed[i >> 2]! >> ((i & 3) * 2)) & 3;
    out[i] = signed && v >= 2 ? v - 4 : v;
  }
  return out;
}

// ---- whole-tensor reference, indexed straight from eq. (4) ----------------------------------

/** Quantization parameters in their plainest form: one scale/zero point per scale-tensor element. */
export interface RefParams {
  qmin: number;
  qmax: number;
  /** Length 1 (per tensor), shape[axis] (per axis) or the blocked scale tensor, row-major. */
  scale: ArrayLike<number>;
  zeroPoint: ArrayLike<number>;
  /** Normalised (non-negative) axis; ignored for per-tensor. */
  axis: number;
  /** 0 unless blocked. */
  blockSize: number;
}

/** eq. (4): the index into the scale tensor of element i of a tensor of `shape`. */
export function scaleIndex(i: number, shape: readonly number[], p: RefParams): number {
  if (p.scale.length === 1 && p.blockSize === 0) return 0;
  let inner = 1;
  for (let k = p.axis + 1; k < shape.length; k++) inner *= shape[k]!;
  const dim = shape[p.axis]!;
  const d = Math.floor(i / inner) % dim;
  if (p.blockSize === 0) return d;
  const o = Math.floor(i / (inner * dim));
  const nb = Math.ceil(dim / p.blockSize);
  return (o * nb + Math.floor(d / p.blockSize)) * inner + (i % inner);
}

/** Whole-tensor quantize (eq. 2, 4); throws on NaN. `out` receives one value per element. */
export function quantizeTensorRef(x: F32, shape: readonly number[], p: RefParams, out: IntArray): IntArray {
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== x[i]) throw new Error(`NaN at ${i}`);
    const j = scaleIndex(i, shape, p);
    out[i] = quantizeValue(x[i]!, Math.fround(p.scale[j]!), p.zeroPoint[j]!, p.qmin, p.qmax);
  }
  return out;
}

/** Whole-tensor dequantize (eq. 3, 4). */
export function dequantizeTensorRef(q: ArrayLike<number>, shape: readonly number[], p: RefParams): Float32Array {
  const y = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    const j = scaleIndex(i, shape, p);
    y[i] = dequantizeValue(q[i]!, Math.fround(p.scale[j]!), p.zeroPoint[j]!);
  }
  return y;
}

/** Whole-tensor fake quantize (eq. 5, 4); throws on NaN. */
export function fakeQuantizeTensorRef(x: F32, shape: readonly number[], p: RefParams): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== x[i]) throw new Error(`NaN at ${i}`);
    const j = scaleIndex(i, shape, p);
    y[i] = fakeQuantizeValue(x[i]!, Math.fround(p.scale[j]!), p.zeroPoint[j]!, p.qmin, p.qmax);
  }
  return y;
}

/**
 * eq. (53): the largest scale ≤ s whose widest code k·s stays a finite float32 (s itself unless
 * f32(k·s) overflows). Found by bisection on the float32 bit patterns.
 */
export function finiteGridScaleRef(s: number, k: number): number {
  const bits = new Float32Array(1), ints = new Int32Array(bits.buffer);
  const ok = (i: number) => { ints[0] = i; return Number.isFinite(Math.fround(bits[0]! * k)); };
  bits[0] = s;
  let hi = ints[0]!;
  if (ok(hi)) return s;
  let lo = 0; // bit pattern of +0: always finite
  while (hi - lo > 1) { const mid = lo + Math.floor((hi - lo) / 2); if (ok(mid)) lo = mid; else hi = mid; }
  ints[0] = lo;
  return bits[0]!;
}

/** eq. (8), (53): ONNX DynamicQuantizeLinear, every step rounded to float32. Finite, NaN-free x. */
export function dynamicQuantizeRef(x: F32): { q: Uint8Array; scale: number; zeroPoint: number } {
  let lo = 0, hi = 0;
  for (let i = 0; i < x.length; i++) { const v = x[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
  let scale = Math.fround(Math.fround(hi - lo) / 255);
  if (!Number.isFinite(scale)) scale = Math.fround(Math.fround(hi / 255) - Math.fround(lo / 255));
  if (scale === 0) scale = hi === lo ? 1 : 2 ** -149;
  const zf = roundHalfEven(Math.fround(0 - Math.fround(lo / scale)));
  const zeroPoint = zf < 0 ? 0 : zf > 255 ? 255 : zf;
  scale = finiteGridScaleRef(scale, Math.max(zeroPoint, 255 - zeroPoint));
  const q = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) q[i] = quantizeValue(x[i]!, scale, zeroPoint, 0, 255);
  return { q, scale, zeroPoint };
}
