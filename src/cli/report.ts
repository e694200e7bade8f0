/**
 * `intquant report [<model.safetensors>] [--group 32] [--json]` — per 2-D float tensor of a
 * safetensors file: SQNR / max abs error / stored bytes under int8 per-channel, int4 per-group
 * min-max and int4 per-group MSE, then the totals per scheme. Streams tensor by tensor.
 * Without a file: the report on the embedded heavy-tailed matrix (`npm start` until the demo lands).
 */
import { init } from '../index.js';
import { sqnr, maxAbsError } from '../calibrate/metrics.js';
import { heavyTailedMatrix } from '../data/heavy-tailed.js';
import { INT4_GROUP_SIZES } from '../ops/packed-int4-matrix.js';
import { SafetensorsReader, FLOAT_DTYPES, type TensorInfo } from '../io/safetensors.js';
import { dequantizeWeight, describeScheme, quantizeWeight, storedBytes, tensorMeta, skipReason, type WeightScheme } from '../io/quantized.js';
import { intChoice, parseCommandArgs, UsageError } from './args.js';
import type { Command } from './command.js';
import { createProgress } from './progress.js';
import { formatReport, quantReport } from './quant-report.js';

const NAME = 'report';

export const reportCommand: Command = {
  name: NAME,
  summary: 'quantization error and size per scheme, per tensor of a safetensors file',
  synopsis: 'intquant report [<model.safetensors>] [--group 32] [--json]',
  help: `usage: intquant report [<model.safetensors>] [--group 32] [--json] [--quiet]

For every 2-D F32/F16/BF16 tensor of the file: its shape, and the SQNR (dB), max abs error
and stored bytes (values + F32 scales, as \`intquant quantize\` writes them) under
  int8 per-channel symmetric (axis 0), min-max
  int4 group-G symmetric (axis 1), min-max (the value of largest magnitude maps to −8)
  int4 group-G symmetric (axis 1), MSE (least squared error by re-rounding and refits)
then the total size per scheme. Tensors are read one at a time (large files are fine).
int4 rows are stored padded to whole groups (as \`intquant quantize\` writes them); a
tensor with NaN / Inf values is listed as not quantizable.

Without a file: the report on the embedded seeded heavy-tailed 256×512 matrix across eight
schemes (what \`npm start\` prints).

options:
  --group N     int4 group size: ${INT4_GROUP_SIZES.join(', ')} (default 32)
  --json        machine-readable output on stdout
  --quiet       no progress output
  -h, --help    this text`,

  async run(args) {
    const a = parseCommandArgs(NAME, args, { json: { type: 'boolean' }, group: { type: 'string' }, quiet: { type: 'boolean' } });
    if (a.help) { console.log(this.help); return 0; }
    if (a.positionals.length > 1) throw new UsageError(`unexpected argument '${a.positionals[1]}'`, NAME);
    const json = a.values.json === true;
    await init();
    if (a.positionals.length === 0) {
      if (a.values.group !== undefined) throw new UsageError('--group applies to a safetensors file report only', NAME);
      embeddedReport(json);
      return 0;
    }
    const group = intChoice(NAME, '--group', a.values.group, INT4_GROUP_SIZES, 32);
    const report = reportFile(a.positionals[0]!, group, { quiet: a.values.quiet === true });
    console.log(json ? JSON.stringify(report, null, 2) : formatFileReport(report));
    return 0;
  },
};

function embeddedReport(json: boolean): void {
  const m = heavyTailedMatrix();
  const rows = quantReport(m.data, m.rows, m.cols);
  if (json) {
    console.log(JSON.stringify({ data: m.description, floatBytes: m.data.length * 4, rows }, null, 2));
  } else {
    console.log(`intquant quantization report — ${m.description}\n`);
    console.log(formatReport(rows, m.data.length * 4));
    console.log('\nSQNR: 10·log10(Σx² / Σ(x − Q/DQ(x))²); bytes: packed values + float32 scales + zero points.');
  }
}

export interface SchemeResult {
  scheme: string;
  /** null when the tensor cannot be quantized (NaN / Inf values). */
  sqnrDb: number | null;
  maxAbsError: number | null;
  bytes: number;
}
export interface TensorReport { name: string; dtype: string; shape: number[]; bytes: number; schemes: SchemeResult[]; error?: string }
export interface SchemeTotal { scheme: string; bytes: number; compression: number; sqnrDb: number | null; notApplicable: number }
export interface FileReport {
  file: string;
  groupSize: number;
  tensors: TensorReport[];
  /** Over the reported tensors; a tensor a scheme does not apply to counts at its original size. */
  totals: SchemeTotal[];
  /** Bytes of the reported tensors as stored in the file. */
  originalBytes: number;
  /** Tensors not reported (not 2-D float) and their bytes, copied unchanged by `quantize`. */
  other: { count: number; bytes: number };
}

export function reportSchemes(group: number): WeightScheme[] {
  return [
    { weights: 'int8', groupSize: group, method: 'minmax', symmetric: true },
    { weights: 'int4', groupSize: group, method: 'minmax', symmetric: true },
    { weights: 'int4', groupSize: group, method: 'mse', symmetric: true },
  ];
}

const isReported = (t: TensorInfo) => FLOAT_DTYPES.includes(t.dtype) && t.shape.length === 2 && t.size > 0;

/** The report for one file (the library must be initialised). */
export function reportFile(path: string, group = 32, options: { quiet?: boolean } = {}): FileReport {
  using r = SafetensorsReader.open(path);
  const schemes = reportSchemes(group);
  const reported = r.tensors.filter(isReported);
  const other = r.tensors.filter((t) => !isReported(t));
  const sums = schemes.map(() => ({ bytes: 0, sig: 0, noise: 0, na: 0 }));
  const tensors: TensorReport[] = [];
  const progress = createProgress('report', reported.length, process.stderr, options);
  try {
    reported.forEach((t, i) => {
      progress.update(i + 1, t.name);
      const [N, K] = t.shape as [number, number];
      const x = r.readFloat32(t.name);
      const row: TensorReport = { name: t.name, dtype: t.dtype, shape: [N, K], bytes: t.byteLength, schemes: [] };
      let sig = 0;
      for (let j = 0; j < x.length; j++) sig += x[j]! * x[j]!;
      schemes.forEach((s, k) => {
        const sum = sums[k]!;
        if (skipReason(t, s) !== undefined || row.error) {
          row.schemes.push({ scheme: describeScheme(s), sqnrDb: null, maxAbsError: null, bytes: t.byteLength });
          sum.bytes += t.byteLength; sum.na++;
          return;
        }
        try {
          const xq = dequantizeWeight(tensorMeta(t, s), quantizeWeight(x, N, K, s));
          let noise = 0;
          for (let j = 0; j < x.length; j++) { const d = x[j]! - xq[j]!; noise += d * d; }
          const bytes = storedBytes(N, K, s);
          row.schemes.push({ scheme: describeScheme(s), sqnrDb: sqnr(x, xq), maxAbsError: maxAbsError(x, xq), bytes });
          sum.bytes += bytes; sum.sig += sig; sum.noise += noise;
        } catch (e) {
          // e.g. NaN / Inf weights: report the reason, count the tensor at its original size
          row.error = e instanceof Error ? e.message.split('\n')[0] : String(e);
          row.schemes.push({ scheme: describeScheme(s), sqnrDb: null, maxAbsError: null, bytes: t.byteLength });
          sum.bytes += t.byteLength; sum.na++;
        }
      });
      tensors.push(row);
    });
  } finally {
    progress.done();
  }
  const originalBytes = reported.reduce((a, t) => a + t.byteLength, 0);
  return {
    file: path, groupSize: group, tensors, originalBytes,
    totals: schemes.map((s, k) => {
      const sum = sums[k]!;
      return {
        scheme: describeScheme(s), bytes: sum.bytes, compression: sum.bytes ? originalBytes / sum.bytes : 1,
        sqnrDb: sum.sig === 0 && sum.noise === 0 ? null : sum.noise === 0 ? Infinity : 10 * Math.log10(sum.sig / sum.noise),
        notApplicable: sum.na,
      };
    }),
    other: { count: other.length, bytes: other.reduce((a, t) => a + t.byteLength, 0) },
  };
}

function table(head: string[], body: string[][], leftCols = 1): string {
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (c: string[]) => '| ' + c.map((v, i) => (i < leftCols ? v.padEnd(w[i]!) : v.padStart(w[i]!))).join(' | ') + ' |';
  return [line(head), '|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|', ...body.map(line)].join('\n');
}

const db = (v: number | null) => (v === null ? 'n/a' : v === Infinity ? '∞' : v.toFixed(2));

export function formatFileReport(rep: FileReport): string {
  const out: string[] = [`intquant report — ${rep.file}`, ''];
  if (rep.tensors.length === 0) {
    out.push('no 2-D F32/F16/BF16 tensors to report');
  } else {
    const body: string[][] = [];
    for (const t of rep.tensors) {
      t.schemes.forEach((s, i) => body.push([
        i === 0 ? t.name : '', i === 0 ? `${t.dtype} [${t.shape.join('×')}]` : '', s.scheme,
        db(s.sqnrDb), s.maxAbsError === null ? 'n/a' : s.maxAbsError.toExponential(3), String(s.bytes),
        s.sqnrDb === null ? '—' : `${(t.bytes / s.bytes).toFixed(2)}×`,
      ]));
      if (t.error) body.push(['', '', `(not quantizable: ${t.error})`, '', '', '', '']);
    }
    out.push(table(['tensor', 'dtype [shape]', 'scheme', 'SQNR dB', 'max abs err', 'bytes', 'vs original'], body, 3));
    out.push('', `summary over ${rep.tensors.length} tensor${rep.tensors.length === 1 ? '' : 's'} (${rep.originalBytes} bytes as stored):`);
    out.push(table(['scheme', 'total bytes', 'vs original', 'SQNR dB (all tensors)'], [
      ['original', String(rep.originalBytes), '1.00×', '∞'],
      ...rep.totals.map((s) => [
        s.scheme + (s.notApplicable ? ` (${s.notApplicable} kept as is)` : ''),
        String(s.bytes), `${s.compression.toFixed(2)}×`, db(s.sqnrDb),
      ]),
    ]));
  }
  if (rep.other.count) out.push('', `${rep.other.count} other tensor${rep.other.count === 1 ? '' : 's'} (not 2-D float, ${rep.other.bytes} bytes) would be copied unchanged.`);
  out.push('', 'SQNR: 10·log10(Σx² / Σ(x − DQ(Q(x)))²); bytes: stored values + F32 scales.');
  return out.join('\n');
}
