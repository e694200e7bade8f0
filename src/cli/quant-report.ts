/**
 * The quantization report: for one float matrix, how each scheme (bits × granularity × symmetry)
 * trades bytes for error. This is what `npm start` prints on the embedded heavy-tailed matrix.
 */
import { fakeQuantize, qparamsFromRange, type QParams, type QType } from '../index.js';
import { QTYPES } from '../quant/qtypes.js';
import { sqnr, maxAbsError, cosineSimilarity } from '../calibrate/metrics.js';

export type Granularity = 'tensor' | 'channel' | 'group32';

export interface Scheme {
  name: string;
  qtype: QType;
  granularity: Granularity;
  symmetric: boolean;
}

export interface ReportRow {
  scheme: string;
  qtype: QType;
  granularity: Granularity;
  symmetric: boolean;
  sqnrDb: number;
  maxAbsError: number;
  cosine: number;
  /** Packed values + float32 scales + zero points (packed at the type's bit width). */
  bytes: number;
  compression: number;
}

export const DEFAULT_SCHEMES: Scheme[] = [
  { name: 'int8 per-tensor symmetric', qtype: 'int8', granularity: 'tensor', symmetric: true },
  { name: 'uint8 per-tensor asymmetric', qtype: 'uint8', granularity: 'tensor', symmetric: false },
  { name: 'int8 per-channel symmetric', qtype: 'int8', granularity: 'channel', symmetric: true },
  { name: 'int4 per-tensor symmetric', qtype: 'int4', granularity: 'tensor', symmetric: true },
  { name: 'int4 per-channel symmetric', qtype: 'int4', granularity: 'channel', symmetric: true },
  { name: 'int4 group-32 symmetric', qtype: 'int4', granularity: 'group32', symmetric: true },
  { name: 'uint4 group-32 asymmetric', qtype: 'uint4', granularity: 'group32', symmetric: false },
  { name: 'int2 group-32 symmetric', qtype: 'int2', granularity: 'group32', symmetric: true },
];

/**
 * min and max of each block of `block` consecutive elements along the rows of a rows × cols
 * matrix, row-major: ⌈cols/block⌉ per row, the last one shorter when block does not divide cols
 * (the ONNX blocked scale layout along axis 1, eq. 50).
 */
function rowBlockRanges(x: Float32Array, rows: number, cols: number, block: number): { min: Float32Array; max: Float32Array } {
  const perRow = Math.ceil(cols / block);
  const min = new Float32Array(rows * perRow), max = new Float32Array(rows * perRow);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < perRow; j++) {
      let lo = Infinity, hi = -Infinity;
      const end = r * cols + Math.min(cols, (j + 1) * block);
      for (let i = r * cols + j * block; i < end; i++) { const v = x[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
      min[r * perRow + j] = lo; max[r * perRow + j] = hi;
    }
  }
  return { min, max };
}

export function paramsFor(x: Float32Array, rows: number, cols: number, s: Scheme): QParams {
  const opts = { qtype: s.qtype, symmetric: s.symmetric };
  if (s.granularity === 'tensor') {
    const { min, max } = rowBlockRanges(x, 1, x.length, x.length);
    return qparamsFromRange(min[0]!, max[0]!, opts);
  }
  if (s.granularity === 'channel') {
    const { min, max } = rowBlockRanges(x, rows, cols, cols);
    return qparamsFromRange(min, max, { ...opts, axis: 0 });
  }
  const { min, max } = rowBlockRanges(x, rows, cols, 32); // rows × ⌈cols/32⌉ groups, row-major
  return qparamsFromRange(min, max, { ...opts, axis: 1, blockSize: 32 });
}

export function quantReport(x: Float32Array, rows: number, cols: number, schemes = DEFAULT_SCHEMES): ReportRow[] {
  const floatBytes = x.length * 4;
  return schemes.map((s) => {
    const p = paramsFor(x, rows, cols, s);
    const xq = fakeQuantize(x, [rows, cols], p);
    const nScales = typeof p.scale === 'number' ? 1 : p.scale.length;
    const bits = QTYPES[s.qtype].bits;
    const bytes = Math.ceil((x.length * bits) / 8) + nScales * 4 + (s.symmetric ? 0 : Math.ceil((nScales * bits) / 8));
    return {
      scheme: s.name, qtype: s.qtype, granularity: s.granularity, symmetric: s.symmetric,
      sqnrDb: sqnr(x, xq), maxAbsError: maxAbsError(x, xq), cosine: cosineSimilarity(x, xq),
      bytes, compression: floatBytes / bytes,
    };
  });
}

export function formatReport(rows: ReportRow[], floatBytes: number): string {
  const head = ['scheme', 'SQNR dB', 'max abs err', 'cosine', 'bytes', 'vs float32'];
  const body = [
    ['float32 (reference)', '∞', '0', '1.000000', String(floatBytes), '1.00×'],
    ...rows.map((r) => [r.scheme, r.sqnrDb.toFixed(2), r.maxAbsError.toExponential(3), r.cosine.toFixed(6), String(r.bytes), `${r.compression.toFixed(2)}×`]),
  ];
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]) => '| ' + c.map((v, i) => (i === 0 ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join(' | ') + ' |';
  return [line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...body.map(line)].join('\n');
}
