import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { init, dequantize, qparamsFromRange, quantize, sqnr, unpackInt4, PackedInt4Matrix } from '../src/index.js';
import { runCli } from '../src/cli/main.js';
import { createProgress } from '../src/cli/progress.js';
import { Rng } from '../src/data/random.js';
import { SafetensorsReader, float32ToFloat16Bits, float16BitsToFloat32, readSafetensors, writeSafetensors } from '../src/io/safetensors.js';
import type { FileReport } from '../src/cli/report.js';

const dir = mkdtempSync(join(tmpdir(), 'intquant-cli-'));
const at = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gaussian(n: number, sigma: number, seed: number): Float32Array {
  const r = new Rng(seed);
  return Float32Array.from({ length: n }, () => sigma * r.gaussian());
}

const W1 = gaussian(64 * 96, 0.05, 1);
const W2 = float32ToFloat16Bits(gaussian(32 * 64, 0.02, 2));
const W2f = float16BitsToFloat32(W2);
const ODD = gaussian(8 * 40, 1, 3);
const BIAS = gaussian(64, 0.1, 4);
const MODEL = at('model.safetensors');

beforeAll(async () => {
  await init();
  writeSafetensors(MODEL, {
    'layer1.weight': { dtype: 'F32', shape: [64, 96], data: W1 },
    'layer2.weight': { dtype: 'F16', shape: [32, 64], data: W2 },
    'layer1.bias': { dtype: 'F32', shape: [64], data: BIAS },
    'odd.weight': { dtype: 'F32', shape: [8, 40], data: ODD }, // 40 columns: a ragged int4 group
    steps: { dtype: 'I32', shape: [1], data: Int32Array.of(1234) },
  }, { format: 'pt' });
});

/** Run the CLI, capturing stdout (console.log), stderr (console.error + progress writes) and the exit code. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { out.push(a.join(' ')); });
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => { err.push(a.join(' ')); });
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => { err.push(String(s).replace(/\n$/, '')); return true; });
  try {
    const code = await runCli(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore(); error.mockRestore(); write.mockRestore();
  }
}

/** A failure: exit 1 and exactly one line on stderr, starting with "intquant: ". */
async function fails(args: string[], message: RegExp): Promise<void> {
  const r = await cli(...args);
  expect(r.code, r.err).toBe(1);
  const lines = r.err.split('\n').filter((l) => l.startsWith('intquant'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^intquant: /);
  expect(lines[0]).toMatch(message);
}

async function usage(args: string[], message: RegExp): Promise<void> {
  const r = await cli(...args);
  expect(r.code, r.err).toBe(2);
  expect(r.err).toMatch(message);
  expect(r.err).toMatch(/--help' for usage/);
}

const layout = (path: string) => {
  using r = SafetensorsReader.open(path);
  return Object.fromEntries(r.tensors.map((t) => [t.name, `${t.dtype} [${t.shape.join(',')}]`]));
};

let report: FileReport;
const sq = (tensor: string, scheme: string) => report.tensors.find((t) => t.name === tensor)!.schemes.find((s) => s.scheme === scheme)!;

describe('intquant report <file>', () => {
  it('reports every 2-D float tensor under int8 per-channel and int4 group-32 min-max / MSE', async () => {
    const r = await cli('report', MODEL, '--json');
    expect(r.code, r.err).toBe(0);
    report = JSON.parse(r.out) as FileReport;
    expect(report.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['layer1.weight', 'F32', [64, 96]], ['layer2.weight', 'F16', [32, 64]], ['odd.weight', 'F32', [8, 40]],
    ]);
    expect(report.tensors[0]!.schemes.map((s) => s.scheme)).toEqual([
      'int8 per-channel symmetric min-max', 'int4 group-32 symmetric min-max', 'int4 group-32 symmetric MSE',
    ]);
    for (const t of ['layer1.weight', 'layer2.weight']) {
      expect(sq(t, 'int8 per-channel symmetric min-max').sqnrDb!).toBeGreaterThan(35);
      const mm = sq(t, 'int4 group-32 symmetric min-max').sqnrDb!, mse = sq(t, 'int4 group-32 symmetric MSE').sqnrDb!;
      expect(mm).toBeGreaterThan(15);
      expect(mm).toBeLessThan(25); // 4 bits: far below int8
      expect(mse).toBeGreaterThan(mm + 0.2); // clipping the Gaussian tails pays at 4 bits
    }
    // ragged rows are padded to whole groups: 40 → 64 columns, 2 scales per row
    expect(sq('odd.weight', 'int4 group-32 symmetric min-max').bytes).toBe(8 * 32 + 8 * 2 * 4);
    expect(sq('odd.weight', 'int4 group-32 symmetric min-max').sqnrDb!).toBeGreaterThan(15);
    expect(sq('odd.weight', 'int8 per-channel symmetric min-max').sqnrDb!).toBeGreaterThan(35);
    // bytes as stored: values + one F32 scale per row / group
    expect(sq('layer1.weight', 'int8 per-channel symmetric min-max').bytes).toBe(64 * 96 + 64 * 4);
    expect(sq('layer1.weight', 'int4 group-32 symmetric min-max').bytes).toBe(64 * 48 + 64 * 3 * 4);
    expect(sq('layer2.weight', 'int4 group-32 symmetric MSE').bytes).toBe(32 * 32 + 32 * 2 * 4);
    expect(report.originalBytes).toBe(64 * 96 * 4 + 32 * 64 * 2 + 8 * 40 * 4);
    expect(report.totals.map((t) => [t.bytes, t.notApplicable])).toEqual([
      [64 * 96 + 64 * 4 + 32 * 64 + 32 * 4 + 8 * 40 + 8 * 4, 0],
      [64 * 48 + 64 * 12 + 32 * 32 + 32 * 8 + 8 * 32 + 8 * 8, 0],
      [64 * 48 + 64 * 12 + 32 * 32 + 32 * 8 + 8 * 32 + 8 * 8, 0],
    ]);
    expect(report.other).toEqual({ count: 2, bytes: 64 * 4 + 4 });
    expect(r.err).toMatch(/report 1\/3 layer1\.weight/); // plain progress lines when not a TTY
  });

  it('prints a table and a per-scheme summary', async () => {
    const r = await cli('report', MODEL, '--quiet');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/layer2\.weight.*F16 \[32×64\].*int8 per-channel symmetric min-max/);
    expect(r.out).toMatch(/summary over 3 tensors/);
    expect(r.out).toMatch(/^\| int4 group-32 symmetric MSE +\| +5440 \| +\d+\.\d\d× \| +\d+\.\d\d \|$/m);
    expect(r.out).toMatch(/2 other tensors/);
    expect(r.err).toBe('');
  });

  it('takes --group', async () => {
    const r = await cli('report', MODEL, '--json', '--group', '64', '--quiet');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.out) as FileReport;
    expect(rep.tensors[0]!.schemes[1]).toMatchObject({ scheme: 'int4 group-64 symmetric min-max', bytes: 64 * 64 + 64 * 2 * 4 }); // 96 → 128
    expect(rep.tensors[1]!.schemes[1]!.bytes).toBe(32 * 32 + 32 * 4);
  });
});

describe('intquant quantize / dequantize', () => {
  const original: Record<string, Float32Array> = { 'layer1.weight': W1, 'layer2.weight': W2f, 'odd.weight': ODD };

  async function roundTrip(tag: string, ...flags: string[]) {
    const q = at(`${tag}.q.safetensors`), dq = at(`${tag}.dq.safetensors`);
    const a = await cli('quantize', MODEL, q, ...flags);
    expect(a.code, a.err).toBe(0);
    const b = await cli('dequantize', q, dq);
    expect(b.code, b.err).toBe(0);
    const back = readSafetensors(dq);
    expect(layout(dq)).toEqual({
      'layer1.bias': 'F32 [64]', 'layer1.weight': 'F32 [64,96]', 'layer2.weight': 'F32 [32,64]', 'odd.weight': 'F32 [8,40]', steps: 'I32 [1]',
    });
    expect(back.metadata).toEqual({ format: 'pt' });
    expect(back.tensors['layer1.bias']!.data).toEqual(BIAS);
    expect(Array.from(back.tensors.steps!.data)).toEqual([1234]);
    const db = (name: string) => sqnr(original[name]!, back.tensors[name]!.data as Float32Array);
    return { q, dq, out: a.out, err: a.err, quantized: readSafetensors(q), db };
  }

  it('int8: per-channel I8 values and F32 scales; dequantize reproduces the report', async () => {
    const r = await roundTrip('int8', '--weights', 'int8');
    expect(r.out).toMatch(/3 tensors quantized \(int8 per-channel symmetric min-max\), 2 copied/);
    expect(layout(r.q)).toEqual({
      'layer1.bias': 'F32 [64]', steps: 'I32 [1]',
      'layer1.weight.q': 'I8 [64,96]', 'layer1.weight.scale': 'F32 [64]',
      'layer2.weight.q': 'I8 [32,64]', 'layer2.weight.scale': 'F32 [32]',
      'odd.weight.q': 'I8 [8,40]', 'odd.weight.scale': 'F32 [8]',
    });
    const md = r.quantized.metadata;
    expect(md.format).toBe('pt');
    expect(md['intquant.format']).toBe('intquant-safetensors/1');
    expect(md['intquant.version']).toBe(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
    expect(JSON.parse(md['intquant.tensor:layer2.weight']!)).toEqual({
      qtype: 'int8', axis: 0, method: 'minmax', symmetric: true, dtype: 'F16', shape: [32, 64],
      q: 'layer2.weight.q', scale: 'layer2.weight.scale',
    });
    // symmetric per-row scale = absmax / 127.5 (eq. 7), values in [−128, 127]
    const s = r.quantized.tensors['layer1.weight.scale']!.data as Float32Array;
    let amax = 0;
    for (let k = 0; k < 96; k++) amax = Math.max(amax, Math.abs(W1[k]!));
    expect(s[0]).toBe(Math.fround(amax / 127.5));
    for (const name of ['layer1.weight', 'layer2.weight', 'odd.weight']) {
      expect(r.db(name)).toBeGreaterThan(35);
      expect(r.db(name)).toBeCloseTo(sq(name, 'int8 per-channel symmetric min-max').sqnrDb!, 9);
    }
  });

  it('int4: packed U8 values in ONNX nibble order, group scales, ragged rows padded; matches the report', async () => {
    const r = await roundTrip('int4', '--weights', 'int4', '--group', '32', '--method', 'minmax');
    expect(r.err).toMatch(/quantize 5\/5 steps/);
    expect(layout(r.q)).toEqual({
      'layer1.bias': 'F32 [64]', steps: 'I32 [1]', 'odd.weight.q': 'U8 [8,32]', 'odd.weight.scale': 'F32 [8,2]',
      'layer1.weight.q': 'U8 [64,48]', 'layer1.weight.scale': 'F32 [64,3]',
      'layer2.weight.q': 'U8 [32,32]', 'layer2.weight.scale': 'F32 [32,2]',
    });
    expect(JSON.parse(r.quantized.metadata['intquant.tensor:layer1.weight']!)).toMatchObject({
      qtype: 'int4', axis: 1, block_size: 32, packing: 'onnx-int4', dtype: 'F32', shape: [64, 96],
    });
    // ONNX order by hand: element 2i in the low nibble of byte i, two's complement
    const packed = r.quantized.tensors['layer1.weight.q']!.data as Uint8Array;
    const scale = r.quantized.tensors['layer1.weight.scale']!.data as Float32Array;
    const nib = (v: number) => (v & 8 ? v - 16 : v);
    // min-max int4 (eq. 60): the value of largest magnitude is exactly −8·scale (the scale carries
    // its sign); others round to the nearest step, and only the far side's top can clip at 7·scale
    let big = 0;
    for (let k = 0; k < 32; k++) if (Math.abs(W1[k]!) > Math.abs(big)) big = W1[k]!;
    expect(scale[0]).toBe(Math.fround(big / -8));
    const step = Math.abs(scale[0]!);
    for (let i = 0; i < 16; i++) {
      for (const [code, v] of [[nib(packed[i]! & 15), W1[2 * i]!], [nib(packed[i]! >> 4), W1[2 * i + 1]!]] as const) {
        expect(Math.abs(code * scale[0]! - v)).toBeLessThanOrEqual((code === 7 ? step : step / 2) * (1 + 1e-6));
      }
    }
    expect(Array.from(unpackInt4(packed.subarray(0, 4), 8, true)).map((v) => v)).toEqual(
      Array.from(packed.subarray(0, 4)).flatMap((b) => [nib(b & 15), nib(b >> 4)]));
    // the padding (columns 40..63 of each odd.weight row) holds quantized zeros
    const odd = r.quantized.tensors['odd.weight.q']!.data as Uint8Array;
    for (let n = 0; n < 8; n++) expect(Array.from(odd.subarray(n * 32 + 20, n * 32 + 32))).toEqual(new Array(12).fill(0));
    // …so each row is blocked quantization of the 40 columns with ⌈40/32⌉ = 2 groups (32 + a short 8):
    // the stored scales and the first 40 codes are PackedInt4Matrix.quantize's on the unpadded matrix
    using ref = PackedInt4Matrix.quantize(ODD, 8, 40, { groupSize: 32, method: 'minmax' });
    const want = ref.toInt4Values();
    expect(r.quantized.tensors['odd.weight.scale']!.data).toEqual(want.scales);
    const codes = unpackInt4(odd, 8 * 64, true);
    for (let n = 0; n < 8; n++) expect(Array.from(codes.subarray(n * 64, n * 64 + 40))).toEqual(Array.from(want.q.subarray(n * 40, (n + 1) * 40)));
    const dq = readSafetensors(r.dq).tensors['odd.weight']!.data as Float32Array;
    for (let i = 0; i < 8 * 40; i++) expect(dq[i]).toBe(Math.fround(want.q[i]! * want.scales[2 * Math.floor(i / 40) + ((i % 40) >= 32 ? 1 : 0)]!));
    for (const name of ['layer1.weight', 'layer2.weight', 'odd.weight']) {
      expect(r.db(name)).toBeGreaterThan(15);
      expect(r.db(name)).toBeCloseTo(sq(name, 'int4 group-32 symmetric min-max').sqnrDb!, 9);
    }
  });

  it('int4 --method mse matches the report\'s MSE column', async () => {
    const r = await roundTrip('int4mse', '--weights', 'int4', '--method', 'mse', '--quiet');
    expect(r.err).toBe('');
    expect(JSON.parse(r.quantized.metadata['intquant.tensor:layer2.weight']!)).toMatchObject({ method: 'mse', qtype: 'int4' });
    for (const name of ['layer1.weight', 'layer2.weight', 'odd.weight']) {
      expect(r.db(name)).toBeCloseTo(sq(name, 'int4 group-32 symmetric MSE').sqnrDb!, 9);
    }
  });

  it('--asymmetric writes uint8 / uint4 values with U8 zero points', async () => {
    const a = await roundTrip('uint8', '--weights', 'int8', '--asymmetric');
    expect(layout(a.q)['layer1.weight.zero_point']).toBe('U8 [64]');
    expect(layout(a.q)['layer1.weight.q']).toBe('U8 [64,96]');
    expect(JSON.parse(a.quantized.metadata['intquant.tensor:layer1.weight']!)).toMatchObject({ qtype: 'uint8', symmetric: false, zero_point: 'layer1.weight.zero_point' });
    expect(a.db('layer1.weight')).toBeGreaterThan(35);
    const b = await roundTrip('uint4', '--weights', 'int4', '--group', '64', '--asymmetric', '--quiet');
    expect(layout(b.q)).toMatchObject({
      'layer1.weight.q': 'U8 [64,64]', 'layer1.weight.scale': 'F32 [64,2]', 'layer1.weight.zero_point': 'U8 [64,2]', // 96 → 128 columns
      'layer2.weight.q': 'U8 [32,32]', 'layer2.weight.scale': 'F32 [32,1]', 'layer2.weight.zero_point': 'U8 [32,1]',
    });
    expect(b.db('layer2.weight')).toBeGreaterThan(15);
    expect(b.db('layer1.weight')).toBeGreaterThan(15);
  });

  it('--method hqq (int4) and --method gptq --calibration (int4 and int8) write their codes; GPTQ lowers the output error on the calibration inputs', async () => {
    const hqq = await roundTrip('int4hqq', '--weights', 'int4', '--method', 'hqq', '--quiet');
    expect(JSON.parse(hqq.quantized.metadata['intquant.tensor:layer1.weight']!)).toMatchObject({ method: 'hqq', qtype: 'int4' });
    expect(hqq.db('layer1.weight')).toBeGreaterThan(15);
    // correlated inputs for each weight, under the weight's own name
    const acts = at('acts.safetensors');
    const rng = new Rng(8);
    const inputs = (M: number, K: number) => {
      const X = new Float32Array(M * K);
      for (let m = 0; m < M; m++) { let v = rng.gaussian(); for (let k = 0; k < K; k++) { v = 0.9 * v + 0.45 * rng.gaussian(); X[m * K + k] = v; } }
      return X;
    };
    const X1 = inputs(200, 96), X2 = inputs(150, 64), X3 = inputs(60, 40);
    writeSafetensors(acts, {
      'layer1.weight': { dtype: 'F32', shape: [200, 96], data: X1 },
      'layer2.weight': { dtype: 'F16', shape: [150, 64], data: float32ToFloat16Bits(X2) },
      'odd.weight': { dtype: 'F32', shape: [60, 40], data: X3 },
    });
    const outErr = (W: Float32Array, Wq: Float32Array, X: Float32Array, N: number, K: number) => {
      let s = 0, e = 0;
      for (let m = 0; m < X.length / K; m++) for (let n = 0; n < N; n++) {
        let a = 0, b = 0;
        for (let k = 0; k < K; k++) { a += W[n * K + k]! * X[m * K + k]!; b += Wq[n * K + k]! * X[m * K + k]!; }
        s += a * a; e += (a - b) ** 2;
      }
      return 10 * Math.log10(s / e);
    };
    for (const weights of ['int4', 'int8']) {
      const g = await roundTrip(`gptq-${weights}`, '--weights', weights, '--method', 'gptq', '--calibration', acts, '--quiet');
      const base = await roundTrip(`base-${weights}`, '--weights', weights, '--quiet');
      expect(JSON.parse(g.quantized.metadata['intquant.tensor:layer1.weight']!)).toMatchObject({ method: 'gptq', qtype: weights });
      const deq = (r: typeof g, name: string) => readSafetensors(r.dq).tensors[name]!.data as Float32Array;
      expect(outErr(W1, deq(g, 'layer1.weight'), X1, 64, 96), weights).toBeGreaterThan(outErr(W1, deq(base, 'layer1.weight'), X1, 64, 96) + 2);
      expect(outErr(ODD, deq(g, 'odd.weight'), X3, 8, 40), weights).toBeGreaterThan(outErr(ODD, deq(base, 'odd.weight'), X3, 8, 40));
    }
    // the calibration file must hold each weight's inputs, [M, K]
    const partial = at('acts-partial.safetensors');
    writeSafetensors(partial, { 'layer1.weight': { dtype: 'F32', shape: [200, 96], data: X1 }, 'layer2.weight': { dtype: 'F32', shape: [150, 32], data: X2.subarray(0, 150 * 32) } });
    await fails(['quantize', MODEL, at('p.safetensors'), '--weights', 'int4', '--method', 'gptq', '--calibration', partial, '--quiet'],
      /tensor 'layer2\.weight': .*'layer2\.weight' is F32 \[150, 32\], but the inputs of a weight with K = 64 must be a 2-D float tensor \[M, 64\]/);
    writeSafetensors(partial, { 'layer1.weight': { dtype: 'F32', shape: [200, 96], data: X1 } });
    await fails(['quantize', MODEL, at('p.safetensors'), '--weights', 'int4', '--method', 'gptq', '--calibration', partial, '--quiet'],
      /has no tensor 'layer2\.weight': GPTQ needs this weight's layer inputs there/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int4', '--method', 'gptq'], /--method gptq needs --calibration/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int4', '--calibration', acts], /--calibration applies to --method gptq only/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int8', '--method', 'hqq'], /--method hqq applies to --weights int4 only/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int8', '--method', 'gptq', '--calibration', acts, '--asymmetric'], /--method gptq with --weights int8 is symmetric only/);
  });

  it('is deterministic and streams into a temporary file (no partial output on failure)', async () => {
    const a = at('det-a.safetensors'), b = at('det-b.safetensors');
    expect((await cli('quantize', MODEL, a, '--weights', 'int4', '--quiet')).code).toBe(0);
    expect((await cli('quantize', MODEL, b, '--weights', 'int4', '--quiet')).code).toBe(0);
    expect(readFileSync(a).equals(readFileSync(b))).toBe(true);

    const nan = at('nan.safetensors'), out = at('nan.q.safetensors');
    const bad = W1.slice(); bad[100] = NaN;
    writeSafetensors(nan, { a: { dtype: 'F32', shape: [1, 4], data: new Float32Array(4) }, w: { dtype: 'F32', shape: [64, 96], data: bad } });
    await fails(['quantize', nan, out, '--weights', 'int8', '--quiet'], /tensor 'w': .*NaN/);
    expect(existsSync(out)).toBe(false);
    // report notes the tensor instead of failing
    const r = await cli('report', nan, '--json', '--quiet');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as FileReport).tensors.find((t) => t.name === 'w')!.error).toMatch(/NaN/);
  });
});

describe('CLI errors and help', () => {
  it('--help lists every command; each command has --help', async () => {
    const top = await cli('--help');
    expect(top.code).toBe(0);
    for (const c of ['report', 'quantize', 'dequantize', 'bench']) {
      expect(top.out).toMatch(new RegExp(`^  ${c} `, 'm'));
      const h = await cli(c, '--help');
      expect(h.code).toBe(0);
      expect(h.out).toMatch(new RegExp(`^usage: intquant ${c}`));
      expect((await cli('help', c)).out).toBe(h.out);
    }
    expect((await cli('--version')).out).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lists and dispatches demo (owned by src/demo/; a clear failure when it is absent)', async () => {
    expect((await cli('--help')).out).toMatch(/^  demo +MNIST end to end/m);
    const h = await cli('demo', '--help');
    if (h.code === 0) expect(h.out).toMatch(/intquant demo.*--quick/s);
    else {
      expect(h.code).toBe(1);
      expect(h.err).toMatch(/^intquant: the demo is not part of this build/);
    }
  });

  it('usage errors exit 2', async () => {
    await usage(['quantize', MODEL, at('x.safetensors')], /--weights is required/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int3'], /--weights must be 'int8' or 'int4', got 'int3'/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int4', '--group', '48'], /--group must be one of 32, 64, 128, 256/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int8', '--group', '32'], /--group applies to --weights int4 only/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights', 'int4', '--method', 'kl'], /--method must be 'minmax' or 'mse'/);
    await usage(['quantize', MODEL, '--weights', 'int4'], /missing <out\.safetensors>/);
    await usage(['quantize', MODEL, at('x.safetensors'), 'extra', '--weights', 'int4'], /unexpected argument 'extra'/);
    await usage(['quantize', MODEL, at('x.safetensors'), '--weights'], /option '--weights' needs a value/);
    await usage(['dequantize', MODEL], /missing <out\.safetensors>/);
    await usage(['report', MODEL, '--bogus'], /unknown option '--bogus'/);
    await usage(['report', MODEL, 'other'], /unexpected argument 'other'/);
    await usage(['frobnicate'], /unknown command 'frobnicate'/);
    await usage(['bench', 'extra'], /unexpected argument 'extra'/);
    await usage(['bench', '--suite', 'nope'], /unknown suite 'nope'/);
    expect(existsSync(at('x.safetensors'))).toBe(false);
  });

  describe('malformed files exit 1 with a one-line reason, for every command', () => {
    const good = '{"w":{"dtype":"F32","shape":[2,32],"data_offsets":[0,256]}}';
    const file = (name: string, header: string, data: number, len?: bigint) => {
      const h = Buffer.from(header);
      const b = Buffer.alloc(8 + h.length + data);
      b.writeBigUInt64LE(len ?? BigInt(h.length));
      h.copy(b, 8);
      const p = at(name);
      writeFileSync(p, b);
      return p;
    };
    it.each([
      ['truncated', () => { const p = at('trunc.safetensors'); writeFileSync(p, Buffer.from([5, 0, 0])); return p; }, /too short for the 8-byte header length/],
      ['header length past EOF', () => file('eof.safetensors', good, 256, 1000n), /header length 1000 runs past the end/],
      ['absurd header length', () => file('huge.safetensors', good, 256, 1n << 50n), /exceeds the 104857600-byte limit/],
      ['bad JSON', () => file('json.safetensors', '{"w":', 0), /header is not valid JSON/],
      ['offsets out of range', () => file('range.safetensors', good, 100), /lie outside the data section/],
      ['overlapping', () => file('overlap.safetensors', good.replace('}}', '},"v":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}'), 256), /overlap/],
      ['size mismatch', () => file('size.safetensors', good.replace('[2,32]', '[3,32]'), 256), /needs 384/],
      ['unsupported dtype', () => file('dtype.safetensors', good.replace('F32', 'F4'), 256), /unsupported dtype "F4"/],
      ['missing file', () => at('missing.safetensors'), /cannot open: no such file/],
    ] as const)('%s', async (_what, make, message) => {
      const p = make();
      const out = at('never.safetensors');
      await fails(['report', p, '--quiet'], message);
      await fails(['quantize', p, out, '--weights', 'int8', '--quiet'], message);
      await fails(['dequantize', p, out, '--quiet'], message);
      expect(existsSync(out)).toBe(false);
    });
  });

  it('refuses files that are not what the command expects', async () => {
    const q = at('int8.q.safetensors'); // written by the int8 round trip above
    await fails(['dequantize', MODEL, at('n.safetensors'), '--quiet'], /not written by `intquant quantize`/);
    await fails(['quantize', q, at('n.safetensors'), '--weights', 'int8', '--quiet'], /already quantized by intquant/);
    // a quantized file whose stored tensor has the wrong shape
    const f = readSafetensors(q);
    const broken = at('broken.safetensors');
    writeSafetensors(broken, {
      ...Object.fromEntries(Object.entries(f.tensors).map(([k, t]) => [k, { ...t }])),
      'layer1.weight.scale': { dtype: 'F32', shape: [63], data: new Float32Array(63) },
    }, f.metadata);
    await fails(['dequantize', broken, at('n.safetensors'), '--quiet'], /'layer1\.weight\.scale' is F32 \[63\], expected F32 \[64\]/);
    const badMeta = at('badmeta.safetensors');
    writeSafetensors(badMeta, { 'w.q': { dtype: 'I8', shape: [1], data: new Int8Array(1) } },
      { 'intquant.format': 'intquant-safetensors/1', 'intquant.tensor:w': '{"qtype":"int3"}' });
    await fails(['dequantize', badMeta, at('n.safetensors'), '--quiet'], /metadata for 'w' has unsupported qtype "int3"/);
    // output names that would collide with an input tensor
    const clash = at('clash.safetensors');
    writeSafetensors(clash, {
      W: { dtype: 'F32', shape: [2, 32], data: new Float32Array(64).fill(1) },
      'W.scale': { dtype: 'F32', shape: [2], data: new Float32Array(2) },
    });
    await fails(['quantize', clash, at('n.safetensors'), '--weights', 'int8', '--quiet'], /output tensor 'W\.scale' for 'W' collides with an input tensor/);
    expect(existsSync(at('n.safetensors'))).toBe(false);
  });
});

describe('progress helper', () => {
  it('redraws one bar on a TTY and prints plain lines otherwise', () => {
    const tty: string[] = [], plain: string[] = [];
    const p1 = createProgress('quantize', 4, { isTTY: true, columns: 80, write: (s: string) => tty.push(s) });
    p1.update(1, 'a'); p1.update(4, 'b'); p1.done('ok');
    expect(tty[0]).toMatch(/^\r\x1b\[2Kquantize \[█+░+\] 1\/4 a$/);
    expect(tty[1]).toMatch(/\[█+\] 4\/4 b$/);
    expect(tty.slice(2)).toEqual(['\r\x1b[2K', 'ok\n']);
    const p2 = createProgress('report', 2, { write: (s: string) => plain.push(s) });
    p2.update(1, 'x'); p2.update(2); p2.done();
    expect(plain).toEqual(['report 1/2 x\n', 'report 2/2\n']);
    const quiet: string[] = [];
    createProgress('q', 1, { write: (s: string) => quiet.push(s) }, { quiet: true }).update(1);
    expect(quiet).toEqual([]);
  });
});
