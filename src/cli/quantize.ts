/**
 * `intquant quantize <in.safetensors> <out.safetensors> --weights int8|int4 [--group 32]
 *  [--method minmax|mse|hqq|gptq] [--calibration acts.safetensors] [--asymmetric]` — tensor by
 *  tensor: read, quantize, write.
 */
import { init } from '../index.js';
import { IntquantError } from '../errors.js';
import { INT4_GROUP_SIZES } from '../ops/packed-int4-matrix.js';
import { FLOAT_DTYPES, SafetensorsReader, SafetensorsWriter, type TensorSpec } from '../io/safetensors.js';
import {
  FORMAT_KEY, FORMAT_VALUE, VERSION_KEY, TENSOR_KEY_PREFIX, describeScheme, quantizeWeight, skipReason, storedSpecs, tensorMeta,
  type QuantizedTensorMeta, type WeightScheme,
} from '../io/quantized.js';
import { choice, intChoice, parseCommandArgs, positionals, UsageError } from './args.js';
import { inTensor, type Command } from './command.js';
import { createProgress } from './progress.js';
import { packageVersion } from './version.js';

const NAME = 'quantize';

export const quantizeCommand: Command = {
  name: NAME,
  summary: 'quantize the 2-D float tensors of a safetensors file to int8 or int4',
  synopsis: 'intquant quantize <in.safetensors> <out.safetensors> --weights int8|int4 [--group 32] [--method minmax|mse|hqq|gptq] [--calibration acts.safetensors] [--asymmetric]',
  help: `usage: intquant quantize <in.safetensors> <out.safetensors> --weights int8|int4 [options]

Quantizes every 2-D F32/F16/BF16 tensor W [N, K] and writes, under documented names
(docs/safetensors.md):
  W.q           int8: I8 [N, K], one scale per row (axis 0)
                int4: U8 [N, Kp/2], two values per byte in ONNX nibble order, one scale per
                      group of G = --group values along each row (axis 1); rows are padded
                      with zeros to Kp = ⌈K/G⌉·G (whole groups)
  W.scale       F32 [N] (int8) or F32 [N, ⌈K/G⌉] (int4)
  W.zero_point  U8, shaped like W.scale (only with --asymmetric)
plus __metadata__ "intquant.tensor:W" describing the scheme, the original dtype and shape.
Other tensors (not 2-D, not F32/F16/BF16, or empty) are copied unchanged.
The file is streamed: one tensor in memory at a time.

options:
  --weights int8|int4     bit width (required)
  --group N               int4 group size: ${INT4_GROUP_SIZES.join(', ')} (default 32)
  --method M              how the codes are chosen (docs/quantization.md):
                            minmax  int8: the row's min/max; int4: the value of largest
                                    magnitude maps to −8 (ggml Q4_0's grid)
                            mse     int8: the clipping range of least MSE per row; int4: least
                                    squared error per group by re-rounding and refits
                            hqq     int4 only: half-quadratic solver for a robust ℓp error
                            gptq    GPTQ error feedback from --calibration activations
                          default: mse for int4, minmax for int8
  --calibration FILE      with --method gptq (required there): a safetensors file holding, for
                          each 2-D weight W [N, K] to quantize, the layer's inputs as a 2-D
                          float tensor of the same name, [M, K] (M ≥ 1 rows)
  --asymmetric            unsigned grid with zero points (uint8 / uint4) instead of symmetric
                          (GPTQ int8 is symmetric only)
  --quiet                 no progress output
  -h, --help              this text

Read it back with \`intquant dequantize\`.`,

  async run(args) {
    const a = parseCommandArgs(NAME, args, {
      weights: { type: 'string' }, group: { type: 'string' }, method: { type: 'string' },
      calibration: { type: 'string' }, asymmetric: { type: 'boolean' }, quiet: { type: 'boolean' },
    });
    if (a.help) { console.log(this.help); return 0; }
    const [input, output] = positionals(NAME, a.positionals, ['in.safetensors', 'out.safetensors']) as [string, string];
    const weights = choice(NAME, '--weights', a.values.weights, ['int8', 'int4'] as const);
    if (weights === 'int8' && a.values.group !== undefined) throw new UsageError('--group applies to --weights int4 only', NAME);
    const scheme: WeightScheme = {
      weights,
      groupSize: intChoice(NAME, '--group', a.values.group, INT4_GROUP_SIZES, 32),
      method: choice(NAME, '--method', a.values.method, ['minmax', 'mse', 'hqq', 'gptq'] as const, weights === 'int4' ? 'mse' : 'minmax'),
      symmetric: a.values.asymmetric !== true,
    };
    if (scheme.method === 'hqq' && weights === 'int8') throw new UsageError("--method hqq applies to --weights int4 only (int8 takes minmax, mse or gptq)", NAME);
    if (scheme.method === 'gptq' && a.values.calibration === undefined) throw new UsageError('--method gptq needs --calibration <acts.safetensors> (each weight\'s layer inputs [M, K] under the weight\'s name)', NAME);
    if (scheme.method !== 'gptq' && a.values.calibration !== undefined) throw new UsageError('--calibration applies to --method gptq only', NAME);
    if (scheme.method === 'gptq' && weights === 'int8' && !scheme.symmetric) throw new UsageError('--method gptq with --weights int8 is symmetric only; drop --asymmetric', NAME);
    await init();
    const summary = quantizeFile(input, output, scheme, { quiet: a.values.quiet === true, calibration: a.values.calibration });
    console.log(
      `${output}: ${summary.quantized} tensor${summary.quantized === 1 ? '' : 's'} quantized (${describeScheme(scheme)}), ` +
      `${summary.copied} copied; ${summary.inBytes} → ${summary.outBytes} data bytes (${(summary.inBytes / Math.max(1, summary.outBytes)).toFixed(2)}×)`);
    return 0;
  },
};

export interface QuantizeSummary { quantized: number; copied: number; inBytes: number; outBytes: number }

/** The layer inputs [M, K] of weight `name` from the calibration file, as float32. */
function calibrationFor(acts: SafetensorsReader, file: string, name: string, K: number): Float32Array {
  const t = acts.tensors.find((x) => x.name === name);
  if (!t) throw new IntquantError('IQ_CALIBRATION', `${file} has no tensor '${name}': GPTQ needs this weight's layer inputs there, a 2-D float tensor [M, ${K}]`);
  if (t.shape.length !== 2 || t.shape[1] !== K || t.shape[0] === 0 || !FLOAT_DTYPES.includes(t.dtype)) {
    throw new IntquantError('IQ_CALIBRATION', `${file}: '${name}' is ${t.dtype} [${t.shape.join(', ')}], but the inputs of a weight with K = ${K} must be a 2-D float tensor [M, ${K}] with M ≥ 1`);
  }
  return acts.readFloat32(name);
}

/** Quantize `input` into `output` (the library must be initialised); GPTQ reads each weight's inputs from `options.calibration`. */
export function quantizeFile(input: string, output: string, scheme: WeightScheme, options: { quiet?: boolean; calibration?: string } = {}): QuantizeSummary {
  using r = SafetensorsReader.open(input);
  using acts = options.calibration === undefined ? undefined : SafetensorsReader.open(options.calibration);
  if (r.metadata[FORMAT_KEY] !== undefined) {
    throw new IntquantError('IQ_QUANTIZED_FORMAT', `${input}: already quantized by intquant (${r.metadata[FORMAT_KEY]}); run \`intquant dequantize\` first`);
  }
  const specs: TensorSpec[] = [];
  const metas = new Map<string, QuantizedTensorMeta>();
  const inputNames = new Set(r.names);
  const produced = new Map<string, string>(); // output name → the input tensor it comes from
  const claim = (out: string, from: string) => {
    const prev = produced.get(out);
    if (prev !== undefined || (out !== from && inputNames.has(out))) {
      throw new IntquantError('IQ_NAME_COLLISION',
        `${input}: output tensor '${out}' for '${from}' collides with ${prev !== undefined ? `the output of '${prev}'` : 'an input tensor of that name'}; rename one of them`);
    }
    produced.set(out, from);
  };
  for (const t of r.tensors) {
    const why = skipReason(t, scheme);
    if (why === undefined) {
      const m = tensorMeta(t, scheme);
      metas.set(t.name, m);
      for (const s of storedSpecs(m)) { claim(s.name, t.name); specs.push(s); }
    } else {
      claim(t.name, t.name);
      specs.push({ name: t.name, dtype: t.dtype, shape: t.shape });
    }
  }
  const metadata: Record<string, string> = { ...r.metadata, [FORMAT_KEY]: FORMAT_VALUE, [VERSION_KEY]: packageVersion() };
  for (const [name, m] of metas) metadata[TENSOR_KEY_PREFIX + name] = JSON.stringify(m);

  const w = new SafetensorsWriter(output, specs, metadata);
  const progress = createProgress('quantize', r.tensors.length, process.stderr, options);
  let inBytes = 0, outBytes = 0;
  try {
    r.tensors.forEach((t, i) => {
      progress.update(i + 1, t.name);
      inBytes += t.byteLength;
      const m = metas.get(t.name);
      if (!m) {
        w.write(t.name, r.readBytes(t.name));
        outBytes += t.byteLength;
        return;
      }
      try {
        const calibration = acts ? calibrationFor(acts, options.calibration!, t.name, m.shape[1]) : undefined;
        const stored = quantizeWeight(r.readFloat32(t.name), m.shape[0], m.shape[1], scheme, calibration);
        w.write(m.q, stored.q);
        w.write(m.scale, stored.scale);
        if (m.zero_point) w.write(m.zero_point, stored.zeroPoint!);
        outBytes += stored.q.byteLength + stored.scale.byteLength + (stored.zeroPoint?.byteLength ?? 0);
      } catch (e) {
        throw inTensor(t.name, e);
      }
    });
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  } finally {
    progress.done();
  }
  return { quantized: metas.size, copied: r.tensors.length - metas.size, inBytes, outBytes };
}
