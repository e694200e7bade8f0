/**
 * `intquant dequantize <in.safetensors> <out.safetensors>` — reads what `intquant quantize`
 * wrote and writes float32 tensors back under the original names.
 */
import { init } from '../index.js';
import { IntquantError } from '../errors.js';
import { SafetensorsReader, SafetensorsWriter, type TensorSpec } from '../io/safetensors.js';
import {
  FORMAT_KEY, FORMAT_VALUE, TENSOR_KEY_PREFIX, dequantizeWeight, parseTensorMeta, storedSpecs, type QuantizedTensorMeta,
} from '../io/quantized.js';
import { parseCommandArgs, positionals } from './args.js';
import { inTensor, type Command } from './command.js';
import { createProgress } from './progress.js';

const NAME = 'dequantize';

export const dequantizeCommand: Command = {
  name: NAME,
  summary: 'turn a file written by `intquant quantize` back into float32 tensors',
  synopsis: 'intquant dequantize <in.safetensors> <out.safetensors>',
  help: `usage: intquant dequantize <in.safetensors> <out.safetensors> [--quiet]

Reads a file written by \`intquant quantize\` (W.q, W.scale, W.zero_point and the
"intquant.tensor:W" metadata, docs/safetensors.md) and writes each quantized tensor back as
F32 under its original name and shape; every other tensor is copied unchanged and the
intquant.* metadata is dropped. The file is streamed: one tensor in memory at a time.

options:
  --quiet       no progress output
  -h, --help    this text`,

  async run(args) {
    const a = parseCommandArgs(NAME, args, { quiet: { type: 'boolean' } });
    if (a.help) { console.log(this.help); return 0; }
    const [input, output] = positionals(NAME, a.positionals, ['in.safetensors', 'out.safetensors']) as [string, string];
    await init();
    const s = dequantizeFile(input, output, { quiet: a.values.quiet === true });
    console.log(`${output}: ${s.dequantized} tensor${s.dequantized === 1 ? '' : 's'} dequantized to F32, ${s.copied} copied`);
    return 0;
  },
};

/** Dequantize `input` into `output` (the library must be initialised). */
export function dequantizeFile(input: string, output: string, options: { quiet?: boolean } = {}): { dequantized: number; copied: number } {
  using r = SafetensorsReader.open(input);
  const fmt = r.metadata[FORMAT_KEY];
  if (fmt === undefined) {
    throw new IntquantError('IQ_QUANTIZED_FORMAT', `${input}: not written by \`intquant quantize\` (no "${FORMAT_KEY}" in __metadata__)`);
  }
  if (fmt !== FORMAT_VALUE) throw new IntquantError('IQ_QUANTIZED_FORMAT', `${input}: unsupported format "${fmt}" (this intquant reads "${FORMAT_VALUE}")`);
  const metas: [string, QuantizedTensorMeta][] = [];
  const stored = new Set<string>();
  for (const [key, value] of Object.entries(r.metadata)) {
    if (!key.startsWith(TENSOR_KEY_PREFIX)) continue;
    const name = key.slice(TENSOR_KEY_PREFIX.length);
    const m = parseTensorMeta(name, value);
    for (const s of storedSpecs(m)) {
      if (!r.has(s.name)) throw new IntquantError('IQ_QUANTIZED_FORMAT', `${input}: tensor '${s.name}' for '${name}' is missing`);
      const t = r.info(s.name);
      if (t.dtype !== s.dtype || t.shape.join() !== s.shape.join()) {
        throw new IntquantError('IQ_QUANTIZED_FORMAT',
          `${input}: tensor '${s.name}' is ${t.dtype} [${t.shape.join(', ')}], expected ${s.dtype} [${s.shape.join(', ')}] for '${name}'`);
      }
      stored.add(s.name);
    }
    if (r.has(name)) throw new IntquantError('IQ_QUANTIZED_FORMAT', `${input}: quantized tensor '${name}' is also stored under its own name`);
    metas.push([name, m]);
  }
  metas.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const copies = r.tensors.filter((t) => !stored.has(t.name));
  const specs: TensorSpec[] = [
    ...metas.map(([name, m]) => ({ name, dtype: 'F32' as const, shape: m.shape })),
    ...copies.map((t) => ({ name: t.name, dtype: t.dtype, shape: t.shape })),
  ];
  const metadata = Object.fromEntries(Object.entries(r.metadata).filter(([k]) => !k.startsWith('intquant.')));
  const w = new SafetensorsWriter(output, specs, metadata);
  const total = metas.length + copies.length;
  const progress = createProgress('dequantize', total, process.stderr, options);
  try {
    let i = 0;
    for (const [name, m] of metas) {
      progress.update(++i, name);
      try {
        const zp = m.zero_point ? (r.read(m.zero_point) as Uint8Array) : undefined;
        const x = dequantizeWeight(m, {
          q: r.read(m.q) as Int8Array | Uint8Array, scale: r.read(m.scale) as Float32Array, ...(zp ? { zeroPoint: zp } : {}),
        });
        w.write(name, x);
      } catch (e) {
        throw inTensor(name, e);
      }
    }
    for (const t of copies) {
      progress.update(++i, t.name);
      w.write(t.name, r.readBytes(t.name));
    }
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  } finally {
    progress.done();
  }
  return { dequantized: metas.length, copied: copies.length };
}
