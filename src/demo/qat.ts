/**
 * Quantization-aware fine-tuning of the W4A8 model: the forward pass uses int4 group-32
 * fake-quantized weights (public `fakeQuantize`) and per-group dynamic int8 fake-quantized layer
 * inputs (what the W4A8 kernel does at run time); gradients reach the float master weights
 * through the straight-through estimator, and the group scales are learned with LSQ
 * (Esser et al. 2020), parametrised as s = exp(θ) so they stay positive.
 * Gradients come from the public `lsqGradients` (STE for the weights, LSQ for the scales, with
 * the 1/√(N·qmax) gradient scale).
 */
import { fakeQuantize, lsqGradients, type QParams } from '../index.js';
import { cloneMlp, train, type Mlp, type TrainHooks } from './mlp.js';
import { INT4_GROUP, int4WeightParams, transpose } from './schemes.js';
import type { Rng } from '../data/random.js';

export interface QatOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  /** Learning rate of θ = log s (Adam). */
  scaleLr: number;
  rng: Rng;
  /** Steps per epoch cap. */
  maxSteps?: number;
  onStep?: (epoch: number, step: number, steps: number, loss: number) => void;
  onEpoch?: (epoch: number, loss: number, trainAcc: number) => void;
}

export interface QatResult {
  /** Fine-tuned float master weights (the model to convert). */
  model: Mlp;
  /** Learned int4 parameters per layer (N × ceil(K/32) scales, axis 1, blockSize 32, zero points 0). */
  params: QParams[];
  loss: number;
  trainAcc: number;
}

/** Per-row, per-group-of-32 dynamic int8 fake quantization of a layer input in place (public fakeQuantize; the last group of a row may be short). */
function fakeQuantizeActivations(X: Float32Array, M: number, K: number): void {
  const groups = Math.ceil(K / INT4_GROUP);
  const scale = new Float32Array(M * groups);
  for (let m = 0; m < M; m++) {
    for (let g = 0; g < groups; g++) {
      let a = 0;
      for (let k = g * INT4_GROUP; k < Math.min(K, (g + 1) * INT4_GROUP); k++) a = Math.max(a, Math.abs(X[m * K + k]!));
      scale[m * groups + g] = a > 0 ? Math.fround(a / 127) : 1;
    }
  }
  X.set(fakeQuantize(X.subarray(0, M * K), [M, K], { qtype: 'int8', scale, zeroPoint: 0, axis: 1, blockSize: INT4_GROUP }));
}

/**
 * LSQ's gradient scale (eq. 32) with N = the group size for every group, the short last group of
 * a row included, so that every scale of a layer learns at the same rate.
 */
const LSQ_GRADIENT_SCALE = 1 / Math.sqrt(INT4_GROUP * 7);

export function qatW4A8(float: Mlp, images: Float32Array, labels: Uint8Array, count: number, o: QatOptions): QatResult {
  const model = cloneMlp(float);
  const L = model.layers;
  const groupsOf = L.map((l) => Math.ceil(l.K / INT4_GROUP));
  // LSQ init from the MSE range setting (the best PTQ starting point)
  const theta = L.map((l) => {
    const p = int4WeightParams(transpose(l.w, l.K, l.N), l.N, l.K, 'mse');
    return Float32Array.from(p.scale as Float32Array, Math.log);
  });
  const gTheta = L.map((_, i) => new Float32Array(theta[i]!.length));
  const pT: QParams[] = L.map((l, i) => ({ qtype: 'int4', scale: new Float32Array(groupsOf[i]! * l.N), zeroPoint: 0, axis: 0, blockSize: INT4_GROUP }));
  const hooks: TrainHooks = {
    weights(i) {
      const l = L[i]!, groups = groupsOf[i]!;
      // the master weights are input-major K×N: groups of 32 run along axis 0 (the last one may
      // be short), so the block scale tensor is [groups, N] row-major
      const sT = pT[i]!.scale as Float32Array, th = theta[i]!;
      for (let n = 0; n < l.N; n++) for (let g = 0; g < groups; g++) sT[g * l.N + n] = Math.exp(th[n * groups + g]!);
      return fakeQuantize(l.w, [l.K, l.N], pT[i]!);
    },
    input(_i, X, M, K) { fakeQuantizeActivations(X, M, K); },
    weightGrad(i, g) {
      const l = L[i]!, groups = groupsOf[i]!;
      const r = lsqGradients(l.w, g, pT[i]!, { shape: [l.K, l.N], gradientScale: LSQ_GRADIENT_SCALE });
      // chain rule through s = exp(θ), back to the [N, groups] layout of θ
      const gTh = gTheta[i]!, sT = pT[i]!.scale as Float32Array;
      for (let n = 0; n < l.N; n++) for (let gi = 0; gi < groups; gi++) gTh[n * groups + gi] = r.gradScale[gi * l.N + n]! * sT[gi * l.N + n]!;
      return r.gradX;
    },
  };
  const r = train(model, images, labels, count, {
    epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, rng: o.rng, hooks, maxSteps: o.maxSteps,
    extraParams: { params: theta, grads: gTheta, lr: o.scaleLr },
    onStep: o.onStep, onEpoch: o.onEpoch,
  });
  const params: QParams[] = L.map((_, i) => ({
    qtype: 'int4', scale: Float32Array.from(theta[i]!, Math.exp), zeroPoint: new Int32Array(L[i]!.N * groupsOf[i]!), axis: 1, blockSize: INT4_GROUP,
  }));
  return { model, params, ...r };
}
