/**
 * The end-to-end demo (`intquant demo`, `npm start`): train a float MLP on real MNIST digits,
 * quantize it after training (W8A8 and W4A8, min-max and MSE range setting; W4A8 with GPTQ on the
 * calibration images), fine-tune W4A8 with quantization-aware training, and run the test set
 * through the integer kernels.
 */
import { init, sqnr } from '../index.js';
import { rt } from '../runtime/wasm.js';
import { Rng } from '../data/random.js';
import { loadMnist, CLASSES, PIXELS } from './mnist.js';
import { accuracy, argmaxRows, createMlp, forwardMlp, layerInputs, reluInPlace, train, weightsNK, type Mlp } from './mlp.js';
import {
  calibrateActivation, floatGemv, int4WeightParams, w4a8, w4a8Gptq, w8a8Dynamic, w8a8Static,
  type IntLayer, type RangeMethod,
} from './schemes.js';
import { qatW4A8 } from './qat.js';
import { silentProgress, streamProgress, type ProgressSink } from './progress.js';

export interface DemoOptions {
  /** Reduced run (fewer images and epochs) for tests and a fast look. */
  quick?: boolean;
  /** Seed for initialisation and shuffling (default 1). */
  seed?: number;
  /** Training images per digit (default all: 8,000 in total; quick 300). */
  trainPerDigit?: number;
  /** Test images per digit (default all 200). */
  testPerDigit?: number;
  /** Float training epochs (default 5; quick 4). */
  epochs?: number;
  /** QAT epochs (default 2; quick 1). */
  qatEpochs?: number;
  /** Training images used for activation calibration (default 512; quick 256). */
  calibImages?: number;
  /** GEMV timing: interleaved rounds per layer and scheme (median taken; default 31; quick 11). */
  timingSamples?: number;
  /** Progress reporting: true = stderr (bar on a TTY), false = none, or a sink. */
  progress?: boolean | ProgressSink;
}

export interface DemoRow {
  scheme: string;
  /** What ran the test set. */
  kernel: string;
  /** Test accuracy in [0, 1]. */
  accuracy: number;
  /** Accuracy difference to float32, in percentage points. */
  deltaPoints: number;
  /** Weight storage: integer codes + float32 scales (float32 row: 4 bytes per weight); biases not counted. */
  weightBytes: number;
  /** float32 weight bytes / weightBytes. */
  compression: number;
  /** Median µs of one GEMV (one input vector, whole layer op incl. activation quantization) per layer. */
  gemvUs: number[];
  /** Σ float32 JS GEMV µs / Σ this row's µs. */
  speedup: number;
  /** SQNR (dB) of the dequantized weights against the float weights they were quantized from (QAT: its fine-tuned master weights). */
  weightSqnrDb: number | null;
  /** SQNR (dB) of the test-set logits against the float32 model's logits. */
  logitSqnrDb: number | null;
  /** Fraction of test predictions where the integer kernels agree with the float fake-quant simulation (1 for float). */
  simAgreement: number;
}

export interface DemoResult {
  backend: string;
  /** Threads the kernels used (the calling thread included). */
  threads: number;
  data: string;
  trainImages: number;
  testImages: number;
  calibImages: number;
  layers: string;
  epochs: number;
  qatEpochs: number;
  seed: number;
  quick: boolean;
  /** Activation parameters per layer input (W8A8 static rows). */
  activationParams: Record<RangeMethod, Array<{ scale: number; zeroPoint: number }>>;
  rows: DemoRow[];
  timingsMs: { load: number; train: number; ptq: number; qat: number; evaluate: number; gemv: number; total: number };
}

/**
 * Median µs per call of each function. Each is first sized to blocks of ≥ ~0.5 ms of calls; then
 * `rounds` rounds time one block of every function in turn (the order rotated every round), so
 * load from other processes falls on all of them alike; the median block over the rounds, divided by its calls, is reported.
 */
export function medianMicros(fns: Array<() => void>, rounds: number, onRound?: (done: number, total: number) => void): number[] {
  const reps = fns.map((fn) => {
    for (let i = 0; i < 10; i++) fn();
    let n = 1;
    for (;;) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < n; i++) fn();
      if (Number(process.hrtime.bigint() - t) >= 500_000 || n >= 1 << 14) return n;
      n *= 2;
    }
  });
  const times = fns.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    fns.forEach((_, i) => {
      const j = (i + r) % fns.length; // rotate the order every round
      const fn = fns[j]!, n = reps[j]!;
      const t = process.hrtime.bigint();
      for (let c = 0; c < n; c++) fn();
      times[j]!.push(Number(process.hrtime.bigint() - t) / 1000 / n);
    });
    onRound?.(r + 1, rounds);
  }
  return times.map((t) => t.sort((a, b) => a - b)[t.length >> 1]!);
}

/** Run a stack of layers (ReLU between) over a set, in chunks; returns the logits (count × 10). */
function logitsOf(layers: IntLayer[], images: Float32Array, count: number, how: 'int' | 'sim', chunk = 500): Float32Array {
  const out = new Float32Array(count * CLASSES);
  for (let s = 0; s < count; s += chunk) {
    const M = Math.min(chunk, count - s);
    let X = images.subarray(s * PIXELS, (s + M) * PIXELS);
    for (let i = 0; i < layers.length; i++) {
      const l = layers[i]!;
      const Y = how === 'int' ? l.forwardBatch(X, M) : l.simulate(X, M);
      if (i + 1 < layers.length) reluInPlace(Y);
      X = Y;
    }
    out.set(X, s * CLASSES);
  }
  return out;
}

export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const t0 = performance.now();
  const quick = options.quick ?? false;
  const seed = options.seed ?? 1;
  const epochs = options.epochs ?? (quick ? 4 : 5);
  const qatEpochs = options.qatEpochs ?? (quick ? 1 : 2);
  const samples = options.timingSamples ?? (quick ? 11 : 31);
  const out: ProgressSink = options.progress === undefined || options.progress === true
    ? streamProgress() : options.progress === false ? silentProgress() : options.progress;
  const lap = (() => { let t = performance.now(); return () => { const n = performance.now(); const d = n - t; t = n; return d; }; })();

  await init();
  const backend = rt().backend;
  const threadCount = rt().pool.threads;
  const data = loadMnist({ trainPerDigit: options.trainPerDigit ?? (quick ? 300 : undefined), testPerDigit: options.testPerDigit });
  const { train: tr, test } = data;
  const calibImages = Math.min(options.calibImages ?? (quick ? 256 : 512), tr.count);
  out.line(`intquant demo — ${data.description}; backend ${backend}, ${threadCount} thread${threadCount === 1 ? '' : 's'}`);
  const tLoad = lap();

  // 1. float training
  const rng = new Rng(seed);
  const model: Mlp = createMlp([PIXELS, 256, 128, CLASSES], rng);
  const layersDesc = [PIXELS, ...model.layers.map((l) => l.N)].join('-');
  const tTrain0 = performance.now();
  train(model, tr.images, tr.labels, tr.count, {
    epochs, batchSize: 128, lr: 3e-3, lrDecay: 0.7, rng,
    onStep: (e, s, n, loss) => out.update(`float training ${e + 1}/${epochs}`, s, n, `loss ${loss.toFixed(3)}`),
    onEpoch: (e, loss, acc) => out.line(`float epoch ${e + 1}/${epochs}: loss ${loss.toFixed(4)}, train accuracy ${(100 * acc).toFixed(2)} % (${((performance.now() - tTrain0) / 1000).toFixed(1)} s)`),
  });
  const tTrain = lap();
  const floatLogits = forwardMlp(model, test.images, test.count);
  const floatAcc = accuracy(argmaxRows(floatLogits, test.count, CLASSES), test.labels);
  out.line(`float32 test accuracy ${(100 * floatAcc).toFixed(2)} %`);
  const wNK = model.layers.map(weightsNK);

  const schemes: Array<{ scheme: string; kernel: string; layers: IntLayer[]; reference?: Float32Array[] }> = [];
  try {
    // 2. post-training quantization: calibrate activations on training images spread over all digits
    const stride = tr.count / calibImages;
    const calib = new Float32Array(calibImages * PIXELS);
    for (let i = 0; i < calibImages; i++) calib.set(tr.images.subarray(Math.floor(i * stride) * PIXELS, (Math.floor(i * stride) + 1) * PIXELS), i * PIXELS);
    const inputs = layerInputs(model, calib, calibImages);
    const CB = 128;
    const actParams = {} as DemoResult['activationParams'];
    for (const method of ['minmax', 'mse'] as const) {
      const ps = model.layers.map((l, i) => {
        out.update(`calibrating (${method})`, i, model.layers.length);
        const batches = [];
        for (let s = 0; s < calibImages; s += CB) {
          const M = Math.min(CB, calibImages - s);
          batches.push({ x: inputs[i]!.subarray(s * l.K, (s + M) * l.K), M, K: l.K });
        }
        return calibrateActivation(method, batches);
      });
      actParams[method] = ps.map((p) => ({ scale: p.scale as number, zeroPoint: (p.zeroPoint ?? 0) as number }));
      out.line(`activations calibrated (${method}, ${calibImages} images): ${actParams[method].map((a, i) => `x${i} scale ${a.scale.toPrecision(4)} zp ${a.zeroPoint}`).join(', ')}`);
    }
    const methodName = { minmax: 'min-max', mse: 'MSE' } as const;
    for (const method of ['minmax', 'mse'] as const) {
      const ps = actParams[method].map((a) => ({ qtype: 'uint8' as const, scale: a.scale, zeroPoint: a.zeroPoint }));
      schemes.push({
        scheme: `W8A8 ${methodName[method]}`, kernel: 'QuantizedLinear int8, static uint8 acts',
        layers: model.layers.map((l, i) => w8a8Static(wNK[i]!, l.b, l.N, l.K, method, ps[i]!)),
      });
    }
    schemes.push({
      scheme: 'W8A8 dynamic', kernel: 'QuantizedLinear int8, dynamic acts',
      layers: model.layers.map((l, i) => w8a8Dynamic(wNK[i]!, l.b, l.N, l.K)),
    });
    for (const method of ['minmax', 'mse'] as const) {
      out.update(`int4 weights (${method})`, 0, 1);
      schemes.push({
        scheme: `W4A8 ${methodName[method]}`, kernel: 'QuantizedLinear int4 (W4A8)',
        layers: model.layers.map((l, i) => w4a8(wNK[i]!, l.b, l.N, l.K, int4WeightParams(wNK[i]!, l.N, l.K, method))),
      });
    }
    out.update('int4 weights (GPTQ)', 0, 1);
    schemes.push({
      scheme: 'W4A8 GPTQ', kernel: 'QuantizedLinear int4 (W4A8), GPTQ weights',
      layers: model.layers.map((l, i) => w4a8Gptq(wNK[i]!, l.b, l.N, l.K, inputs[i]!)),
    });
    const tPtq = lap();

    // 3. quantization-aware training of W4A8 (fine-tunes a copy of the float model)
    const tQat0 = performance.now();
    const qat = qatW4A8(model, tr.images, tr.labels, tr.count, {
      epochs: qatEpochs, batchSize: 128, lr: 5e-4, scaleLr: 2e-3, rng,
      onStep: (e, s, n, loss) => out.update(`QAT W4A8 ${e + 1}/${qatEpochs}`, s, n, `loss ${loss.toFixed(3)}`),
      onEpoch: (e, loss, acc) => out.line(`QAT epoch ${e + 1}/${qatEpochs}: loss ${loss.toFixed(4)}, train accuracy ${(100 * acc).toFixed(2)} % (${((performance.now() - tQat0) / 1000).toFixed(1)} s)`),
    });
    schemes.push({
      scheme: 'W4A8 QAT (LSQ)', kernel: 'QuantizedLinear int4 (W4A8)',
      layers: qat.model.layers.map((l, i) => w4a8(weightsNK(l), l.b, l.N, l.K, qat.params[i]!)),
      reference: qat.model.layers.map(weightsNK),
    });
    const tQat = lap();

    // 4. the test set through the integer kernels (and the fake-quant simulation, for agreement)
    const floatBytes = wNK.reduce((a, w) => a + 4 * w.length, 0);
    const rows: DemoRow[] = [];
    const evaluated = schemes.map((s, i) => {
      out.update('evaluating test set', i, schemes.length, s.scheme);
      const logits = logitsOf(s.layers, test.images, test.count, 'int');
      const pred = argmaxRows(logits, test.count, CLASSES);
      const sim = argmaxRows(logitsOf(s.layers, test.images, test.count, 'sim'), test.count, CLASSES);
      let agree = 0;
      for (let j = 0; j < test.count; j++) if (pred[j] === sim[j]) agree++;
      const acc = accuracy(pred, test.labels);
      const db = sqnr(floatLogits, logits);
      const ref = s.reference ?? wNK;
      const wDb = sqnr(concat(ref), concat(s.layers.map((l) => l.dequantizedWeights)));
      out.line(`${s.scheme.padEnd(15)} test accuracy ${(100 * acc).toFixed(2)} %, weight SQNR ${wDb.toFixed(1)} dB, logit SQNR ${db.toFixed(1)} dB, integer = simulation on ${(100 * agree / test.count).toFixed(2)} %`);
      return { acc, agreement: agree / test.count, logitSqnrDb: db, weightSqnrDb: wDb };
    });
    const tEval = lap();

    // 5. GEMV timing: each layer on one vector (the float model's input of that layer for test image 0)
    const x0 = layerInputs(model, test.images.subarray(0, PIXELS), 1);
    out.update('timing GEMV', 0, 1);
    const yF = model.layers.map((l) => new Float32Array(l.N));
    const fns: Array<() => void> = model.layers.map((l, i) => () => { floatGemv(wNK[i]!, x0[i]!, l.b, l.N, l.K, yF[i]!); });
    for (const s of schemes) s.layers.forEach((l, i) => fns.push(() => { l.forward(x0[i]!); }));
    const us = medianMicros(fns, samples, (d, n) => out.update('timing GEMV', d, n));
    const L = model.layers.length;
    const floatUs = us.slice(0, L);
    const floatSum = floatUs.reduce((a, b) => a + b, 0);
    rows.push({
      scheme: 'float32', kernel: 'JS Float32Array', accuracy: floatAcc, deltaPoints: 0, weightBytes: floatBytes, compression: 1,
      gemvUs: floatUs, speedup: 1, simAgreement: 1, logitSqnrDb: null, weightSqnrDb: null,
    });
    schemes.forEach((s, i) => {
      const mine = us.slice(L * (i + 1), L * (i + 2));
      const bytes = s.layers.reduce((a, l) => a + l.weightBytes, 0);
      const e = evaluated[i]!;
      rows.push({
        scheme: s.scheme, kernel: s.kernel, accuracy: e.acc, deltaPoints: 100 * (e.acc - floatAcc),
        weightBytes: bytes, compression: floatBytes / bytes, gemvUs: mine, speedup: floatSum / mine.reduce((a, b) => a + b, 0),
        simAgreement: e.agreement, logitSqnrDb: e.logitSqnrDb, weightSqnrDb: e.weightSqnrDb,
      });
    });
    out.line(`GEMV timed (${samples} interleaved rounds, median)`);
    const tGemv = lap();
    return {
      backend, threads: threadCount, data: data.description, trainImages: tr.count, testImages: test.count, calibImages,
      layers: layersDesc, epochs, qatEpochs, seed, quick, activationParams: actParams, rows,
      timingsMs: {
        load: tLoad, train: tTrain, ptq: tPtq, qat: tQat, evaluate: tEval, gemv: tGemv, total: performance.now() - t0,
      },
    };
  } finally {
    for (const s of schemes) for (const l of s.layers) l.dispose();
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** The result as a text table. */
export function formatDemo(r: DemoResult): string {
  const head = ['scheme', 'test accuracy', 'Δ vs float', 'logit SQNR', 'weight bytes', 'compression', 'GEMV µs/layer (L1 / L2 / L3)', 'speedup vs float JS', 'int = sim'];
  const body = r.rows.map((row) => [
    row.scheme,
    `${(100 * row.accuracy).toFixed(2)} %`,
    row.scheme === 'float32' ? '—' : `${row.deltaPoints >= 0 ? '+' : '−'}${Math.abs(row.deltaPoints).toFixed(2)} pt`,
    row.logitSqnrDb === null ? '—' : `${row.logitSqnrDb.toFixed(1)} dB`,
    row.weightBytes.toLocaleString('en-US'),
    `${row.compression.toFixed(2)}×`,
    row.gemvUs.map((u) => u.toFixed(u < 10 ? 2 : 1)).join(' / '),
    `${row.speedup.toFixed(2)}×`,
    row.scheme === 'float32' ? '—' : `${(100 * row.simAgreement).toFixed(1)} %`,
  ]);
  const widths = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const fmt = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  const lines = [
    `intquant demo — MLP ${r.layers} on MNIST (${r.trainImages} train / ${r.testImages} test images${r.quick ? ', --quick' : ''}), backend ${r.backend}, ${r.threads} thread${r.threads === 1 ? '' : 's'}`,
    '',
    fmt(head),
    widths.map((w) => '─'.repeat(w)).join('  '),
    ...body.map(fmt),
    '',
    'Every integer row is one QuantizedLinear per layer (float in, float out, float bias included).',
    'W8A8: per-channel symmetric int8 weights; per-tensor asymmetric uint8 activations calibrated on',
    `  ${r.calibImages} training images (static: weightParams + inputParams → quantize x → int8 GEMM with`,
    '  the zero point folded → float output stage), or dynamic per-row int8 (the default layer).',
    "W4A8: symmetric int4 weights in groups of 32 along K (weightType 'int4', weightParams from the",
    '  observer or QAT; PackedInt4Matrix); the kernel quantizes activations per group of 32 to int8',
    `  on the fly. GPTQ: method 'gptq' with each layer's inputs on the ${r.calibImages} calibration images.`,
    '  QAT: STE + learned group scales (LSQ, public lsqGradients), initialised from MSE;',
    '  logit SQNR is against the original float model, which QAT moves away from by design.',
    'GEMV: one input vector, whole layer (activation quantization + integer GEMV + output stage),',
    '  median; speedup = Σ float32 JS GEMV µs / Σ µs. int = sim: test predictions equal to a float',
    '  fake-quant simulation of the same model. Weight bytes: codes + float32 scales (no biases).',
    'Logit SQNR: 10·log10(Σ z² / Σ (z − ẑ)²) of the test-set logits against the float32 model.',
    `Times: load ${(r.timingsMs.load / 1000).toFixed(1)} s, train ${(r.timingsMs.train / 1000).toFixed(1)} s, PTQ ${(r.timingsMs.ptq / 1000).toFixed(1)} s, QAT ${(r.timingsMs.qat / 1000).toFixed(1)} s, evaluate ${(r.timingsMs.evaluate / 1000).toFixed(1)} s, GEMV timing ${(r.timingsMs.gemv / 1000).toFixed(1)} s; total ${(r.timingsMs.total / 1000).toFixed(1)} s.`,
  ];
  return lines.join('\n');
}
