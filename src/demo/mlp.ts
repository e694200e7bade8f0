/**
 * A small float32 MLP (784-256-128-10, ReLU, softmax cross-entropy) trained with Adam on
 * mini-batches, in plain typed-array loops.
 *
 * Layout: each layer keeps its weights input-major, W[k, n] at w[k·N + n] (K inputs × N outputs),
 * so every inner loop runs over a contiguous row of N outputs, and rows whose input is 0 are
 * skipped (MNIST pixels are ~80 % zero, ReLU outputs ~50 %). The quantization code takes the
 * usual output-major N×K matrix from `weightsNK()`.
 */
import { Rng } from '../data/random.js';

export interface Layer {
  K: number;
  N: number;
  /** K×N, input-major. */
  w: Float32Array;
  b: Float32Array;
}

export interface Mlp {
  layers: Layer[];
}

export const DEFAULT_SIZES = [784, 256, 128, 10] as const;

/** He-uniform init, seeded. */
export function createMlp(sizes: readonly number[], rng: Rng): Mlp {
  const layers: Layer[] = [];
  for (let l = 0; l + 1 < sizes.length; l++) {
    const K = sizes[l]!, N = sizes[l + 1]!;
    const w = new Float32Array(K * N);
    const a = Math.sqrt(6 / K);
    for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * a;
    layers.push({ K, N, w, b: new Float32Array(N) });
  }
  return { layers };
}

export function cloneMlp(m: Mlp): Mlp {
  return { layers: m.layers.map((l) => ({ K: l.K, N: l.N, w: l.w.slice(), b: l.b.slice() })) };
}

/** The layer's weights as a row-major N×K matrix (rows = output channels). */
export function weightsNK(l: Layer): Float32Array {
  const { K, N, w } = l;
  const out = new Float32Array(N * K);
  for (let k = 0; k < K; k++) {
    const o = k * N;
    for (let n = 0; n < N; n++) out[n * K + k] = w[o + n]!;
  }
  return out;
}

let nzBuf = new Int32Array(1024);

/**
 * C[m, :] += Σ_k A[m, k]·B[k, :] for m < M, with A read as A[m·sm + k·sk] (so a transposed A is
 * just other strides), B row-major K×N, C row-major M×N. Zero entries of A are skipped; the
 * non-zero k are taken four at a time so every C row is loaded and stored once per four B rows.
 */
export function sparseGemmAcc(A: Float32Array, M: number, K: number, sm: number, sk: number, B: Float32Array, N: number, C: Float32Array): void {
  if (nzBuf.length < K) nzBuf = new Int32Array(K);
  const nz = nzBuf;
  for (let m = 0; m < M; m++) {
    const co = m * N, ao = m * sm;
    let c = 0;
    for (let k = 0; k < K; k++) if (A[ao + k * sk] !== 0) nz[c++] = k;
    let i = 0;
    for (; i + 4 <= c; i += 4) {
      const k0 = nz[i]!, k1 = nz[i + 1]!, k2 = nz[i + 2]!, k3 = nz[i + 3]!;
      const a0 = A[ao + k0 * sk]!, a1 = A[ao + k1 * sk]!, a2 = A[ao + k2 * sk]!, a3 = A[ao + k3 * sk]!;
      const o0 = k0 * N, o1 = k1 * N, o2 = k2 * N, o3 = k3 * N;
      for (let n = 0; n < N; n++) C[co + n] += a0 * B[o0 + n]! + a1 * B[o1 + n]! + a2 * B[o2 + n]! + a3 * B[o3 + n]!;
    }
    for (; i < c; i++) {
      const k = nz[i]!, a = A[ao + k * sk]!, o = k * N;
      for (let n = 0; n < N; n++) C[co + n] += a * B[o + n]!;
    }
  }
}

/**
 * D[m, k] = Σ_n G[m, n]·W[k, n] where H[m, k] ≠ 0, else 0 (the gradient through a ReLU whose
 * output is H): four k rows of W per pass over the G row.
 */
export function maskedGemmT(G: Float32Array, M: number, N: number, W: Float32Array, K: number, H: Float32Array, D: Float32Array): void {
  if (nzBuf.length < K) nzBuf = new Int32Array(K);
  const nz = nzBuf;
  for (let m = 0; m < M; m++) {
    const go = m * N, ho = m * K;
    let c = 0;
    for (let k = 0; k < K; k++) {
      if (H[ho + k] !== 0) nz[c++] = k;
      else D[ho + k] = 0;
    }
    let i = 0;
    for (; i + 4 <= c; i += 4) {
      const k0 = nz[i]!, k1 = nz[i + 1]!, k2 = nz[i + 2]!, k3 = nz[i + 3]!;
      const o0 = k0 * N, o1 = k1 * N, o2 = k2 * N, o3 = k3 * N;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (let n = 0; n < N; n++) {
        const g = G[go + n]!;
        s0 += g * W[o0 + n]!;
        s1 += g * W[o1 + n]!;
        s2 += g * W[o2 + n]!;
        s3 += g * W[o3 + n]!;
      }
      D[ho + k0] = s0; D[ho + k1] = s1; D[ho + k2] = s2; D[ho + k3] = s3;
    }
    for (; i < c; i++) {
      const k = nz[i]!, o = k * N;
      let s = 0;
      for (let n = 0; n < N; n++) s += G[go + n]! * W[o + n]!;
      D[ho + k] = s;
    }
  }
}

/** Y[M×N] = X[M×K]·W + b (W K×N input-major); zero inputs are skipped. */
export function linearForward(X: Float32Array, M: number, K: number, w: Float32Array, b: Float32Array, N: number, Y: Float32Array): void {
  for (let m = 0; m < M; m++) Y.set(b, m * N);
  sparseGemmAcc(X, M, K, K, 1, w, N, Y);
}

export function reluInPlace(a: Float32Array): void {
  for (let i = 0; i < a.length; i++) if (!(a[i]! > 0)) a[i] = 0;
}

export function argmaxRows(Y: Float32Array, M: number, N: number): Uint8Array {
  const out = new Uint8Array(M);
  for (let m = 0; m < M; m++) {
    let best = 0, bv = -Infinity;
    for (let n = 0; n < N; n++) {
      const v = Y[m * N + n]!;
      if (v > bv) { bv = v; best = n; }
    }
    out[m] = best;
  }
  return out;
}

export function accuracy(pred: Uint8Array, labels: Uint8Array): number {
  let c = 0;
  for (let i = 0; i < pred.length; i++) if (pred[i] === labels[i]) c++;
  return c / pred.length;
}

/**
 * Hooks that turn the float training step into quantization-aware training: the weights and
 * layer inputs the forward pass uses, and where the gradients of those go.
 */
export interface TrainHooks {
  /** Called once per step before the forward pass: the (fake-quantized) K×N weights layer l uses. */
  weights(l: number): Float32Array;
  /** Transform layer l's input in place (e.g. fake-quantize activations); gradients pass straight through. */
  input?(l: number, X: Float32Array, M: number, K: number): void;
  /** Receives dL/d(weights used) for layer l (K×N) and returns dL/dw for the float master weights (may be the same array). */
  weightGrad?(l: number, g: Float32Array): Float32Array;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
}

/** Adam over a list of parameter arrays. */
export class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  lr: number;
  private readonly b1: number;
  private readonly b2: number;
  private readonly eps: number;
  constructor(readonly params: Float32Array[], o: AdamOptions) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
    this.lr = o.lr;
    this.b1 = o.beta1 ?? 0.9;
    this.b2 = o.beta2 ?? 0.999;
    this.eps = o.eps ?? 1e-8;
  }
  step(grads: Float32Array[]): void {
    this.t++;
    const { b1, b2, eps } = this;
    const a = this.lr * Math.sqrt(1 - b2 ** this.t) / (1 - b1 ** this.t);
    for (let i = 0; i < this.params.length; i++) {
      const p = this.params[i]!, g = grads[i]!, m = this.m[i]!, v = this.v[i]!;
      for (let j = 0; j < p.length; j++) {
        const gj = g[j]!;
        const mj = (m[j] = b1 * m[j]! + (1 - b1) * gj);
        const vj = (v[j] = b2 * v[j]! + (1 - b2) * gj * gj);
        p[j] -= (a * mj) / (Math.sqrt(vj) + eps);
      }
    }
  }
}

/** Workspace for training steps on batches of up to B images. */
export class Trainer {
  readonly acts: Float32Array[]; // layer inputs h_0 … h_{L-1} (after hooks.input) and logits
  readonly dz: Float32Array[];
  readonly gw: Float32Array[];
  readonly gb: Float32Array[];
  constructor(readonly model: Mlp, readonly B: number) {
    const L = model.layers;
    this.acts = [new Float32Array(B * L[0]!.K), ...L.map((l) => new Float32Array(B * l.N))];
    this.dz = L.map((l) => new Float32Array(B * l.N));
    this.gw = L.map((l) => new Float32Array(l.K * l.N));
    this.gb = L.map((l) => new Float32Array(l.N));
  }

  /**
   * One forward/backward pass on images idx[0..M) of `images`; fills gw/gb (mean over the batch).
   * Returns the summed cross-entropy loss and the number of correct predictions.
   */
  step(images: Float32Array, labels: Uint8Array, idx: ArrayLike<number>, M: number, hooks?: TrainHooks): { loss: number; correct: number } {
    const L = this.model.layers;
    const K0 = L[0]!.K;
    const x0 = this.acts[0]!;
    for (let m = 0; m < M; m++) x0.set(images.subarray(idx[m]! * K0, (idx[m]! + 1) * K0), m * K0);
    const W = L.map((l, i) => (hooks ? hooks.weights(i) : l.w));
    for (let i = 0; i < L.length; i++) {
      const l = L[i]!;
      const X = this.acts[i]!;
      if (hooks?.input) hooks.input(i, X, M, l.K);
      const Y = this.acts[i + 1]!;
      linearForward(X, M, l.K, W[i]!, l.b, l.N, Y);
      if (i + 1 < L.length) reluInPlace(Y.subarray(0, M * l.N));
    }
    // softmax cross-entropy
    const last = L[L.length - 1]!;
    const C = last.N;
    const logits = this.acts[L.length]!;
    const dzL = this.dz[L.length - 1]!;
    let loss = 0, correct = 0;
    for (let m = 0; m < M; m++) {
      const o = m * C;
      let mx = -Infinity, am = 0;
      for (let c = 0; c < C; c++) if (logits[o + c]! > mx) { mx = logits[o + c]!; am = c; }
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(logits[o + c]! - mx);
      const y = labels[idx[m]!]!;
      if (am === y) correct++;
      loss += Math.log(s) - (logits[o + y]! - mx);
      for (let c = 0; c < C; c++) dzL[o + c] = (Math.exp(logits[o + c]! - mx) / s - (c === y ? 1 : 0)) / M;
    }
    // backward
    for (let i = L.length - 1; i >= 0; i--) {
      const l = L[i]!;
      const { K, N } = l;
      const X = this.acts[i]!, dZ = this.dz[i]!, gw = this.gw[i]!, gb = this.gb[i]!;
      gw.fill(0);
      gb.fill(0);
      for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) gb[n] += dZ[m * N + n]!;
      sparseGemmAcc(X, K, M, 1, K, dZ, N, gw); // gw = Xᵀ·dZ
      if (hooks?.weightGrad) {
        const g = hooks.weightGrad(i, gw);
        if (g !== gw) gw.set(g);
      }
      if (i === 0) break;
      // dL/dz_{i-1} = (dZ·Wᵀ) ⊙ relu'(z_{i-1}); the layer input is relu(z_{i-1}) (fake-quant passes straight through)
      maskedGemmT(dZ, M, N, W[i]!, K, this.acts[i]!, this.dz[i - 1]!);
    }
    return { loss, correct };
  }
}

/** Float inference on a whole set, in chunks; returns the logits (count × 10). */
export function forwardMlp(model: Mlp, images: Float32Array, count: number, chunk = 256): Float32Array {
  const L = model.layers;
  const C = L[L.length - 1]!.N;
  const out = new Float32Array(count * C);
  const bufs = L.map((l) => new Float32Array(chunk * l.N));
  for (let s = 0; s < count; s += chunk) {
    const M = Math.min(chunk, count - s);
    let X = images.subarray(s * L[0]!.K, (s + M) * L[0]!.K);
    for (let i = 0; i < L.length; i++) {
      const l = L[i]!;
      const Y = bufs[i]!.subarray(0, M * l.N);
      linearForward(X, M, l.K, l.w, l.b, l.N, Y);
      if (i + 1 < L.length) reluInPlace(Y);
      X = Y;
    }
    out.set(X, s * C);
  }
  return out;
}

/** Layer inputs (h_0 … h_{L-1}) for a batch of images: what activation observers see. */
export function layerInputs(model: Mlp, images: Float32Array, count: number): Float32Array[] {
  const L = model.layers;
  const ins: Float32Array[] = [images.slice(0, count * L[0]!.K)];
  let X = ins[0]!;
  for (let i = 0; i + 1 < L.length; i++) {
    const l = L[i]!;
    const Y = new Float32Array(count * l.N);
    linearForward(X, count, l.K, l.w, l.b, l.N, Y);
    reluInPlace(Y);
    ins.push(Y);
    X = Y;
  }
  return ins;
}

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Multiply the learning rate by this after every epoch. */
  lrDecay?: number;
  rng: Rng;
  hooks?: TrainHooks;
  /** Extra parameters (and their gradient arrays, filled by the hooks) for the optimizer. */
  extraParams?: { params: Float32Array[]; grads: Float32Array[]; lr?: number };
  /** Steps per epoch cap (default: the whole set). */
  maxSteps?: number;
  onStep?: (epoch: number, step: number, steps: number, loss: number) => void;
  onEpoch?: (epoch: number, loss: number, trainAcc: number) => void;
}

/** Mini-batch Adam on `images`; returns the last epoch's mean loss and training accuracy. */
export function train(model: Mlp, images: Float32Array, labels: Uint8Array, count: number, o: TrainOptions): { loss: number; trainAcc: number } {
  const trainer = new Trainer(model, o.batchSize);
  const L = model.layers;
  const params = L.flatMap((l) => [l.w, l.b]);
  const grads = L.flatMap((_, i) => [trainer.gw[i]!, trainer.gb[i]!]);
  const opt = new Adam(params, { lr: o.lr });
  const extra = o.extraParams ? new Adam(o.extraParams.params, { lr: o.extraParams.lr ?? o.lr }) : undefined;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  let loss = 0, trainAcc = 0;
  for (let e = 0; e < o.epochs; e++) {
    for (let i = count - 1; i > 0; i--) {
      const j = o.rng.int(0, i);
      const t = order[i]!; order[i] = order[j]!; order[j] = t;
    }
    let steps = Math.ceil(count / o.batchSize);
    if (o.maxSteps !== undefined) steps = Math.min(steps, o.maxSteps);
    let sum = 0, correct = 0, seen = 0;
    for (let s = 0; s < steps; s++) {
      const M = Math.min(o.batchSize, count - s * o.batchSize);
      const r = trainer.step(images, labels, order.subarray(s * o.batchSize, s * o.batchSize + M), M, o.hooks);
      opt.step(grads);
      if (extra) extra.step(o.extraParams!.grads);
      sum += r.loss; correct += r.correct; seen += M;
      o.onStep?.(e, s + 1, steps, sum / seen);
    }
    loss = sum / seen;
    trainAcc = correct / seen;
    o.onEpoch?.(e, loss, trainAcc);
    opt.lr *= o.lrDecay ?? 1;
    if (extra) extra.lr *= o.lrDecay ?? 1;
  }
  return { loss, trainAcc };
}
