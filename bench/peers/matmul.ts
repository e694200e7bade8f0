/**
 * Peers for the GEMV suites: ONNX Runtime's MatMulInteger (every activation × weight type
 * combination), float MatMul and MatMulNBits on the same weights, each verified against our
 * reference before it may be timed. A combination that answers wrongly is reported and not timed.
 * Each verified peer comes back as a ready-to-call `run` that the suite times interleaved with
 * our kernels (harness.measureInterleaved), so the ratios see the same machine conditions.
 */
import { loadPeers } from './ort.js';
import { matMulFloatModel, matMulIntegerModel, matMulNBitsModel } from './onnx-model.js';

export interface PeerRunner {
  /** e.g. "onnxruntime-node MatMulInteger u8×s8" */
  label: string;
  /** One inference on the prepared session and inputs (verified correct); absent when wrong. */
  run?: () => Promise<unknown>;
  /** Set when the peer's answer differed from the exact reference (then it is not timed). */
  wrong?: string;
}

/** Transpose row-major N×K to ONNX's K×N. */
function toKN<T extends Int8Array | Uint8Array | Float32Array>(w: T, N: number, K: number, make: (n: number) => T): T {
  const t = make(N * K);
  for (let n = 0; n < N; n++) for (let k = 0; k < K; k++) t[k * N + n] = w[n * K + k]!;
  return t;
}

/**
 * MatMulInteger for activations × weights ∈ {s8,u8}² on every installed peer.
 * `w` is N×K int8 (row-major, as our packed matrices take it); `x` is M×K int8; the uint8
 * variants use w+128 / x+128 with zero points 128, so every variant computes the same product,
 * and each is checked against `expected` (int32 M×N = x·wᵀ).
 */
export async function matMulIntegerPeers(
  w: Int8Array, x: Int8Array, N: number, K: number, M: number, expected: Int32Array,
): Promise<PeerRunner[]> {
  const out: PeerRunner[] = [];
  const peers = await loadPeers();
  if (!peers.length) return out;
  const wKN = toKN(w, N, K, (n) => new Int8Array(n));
  const wU = wKN.map((v) => v + 128);
  const wKNu = new Uint8Array(wU.buffer, wU.byteOffset, wU.length);
  const xU = new Uint8Array(x.length); for (let i = 0; i < x.length; i++) xU[i] = x[i]! + 128;
  for (const p of peers) {
    for (const [a, b] of [['s8', 's8'], ['u8', 's8'], ['u8', 'u8']] as const) {
      const label = `${p.name} MatMulInteger ${a}×${b}`;
      try {
        const B = b === 's8' ? wKN : wKNu;
        const zp: { a?: number; b?: number } = {};
        if (a === 'u8') zp.a = 128;
        if (b === 'u8') { zp.b = 128; zp.a ??= 0; }
        const model = matMulIntegerModel(B, K, N, M, a === 's8' ? 'int8' : 'uint8', zp);
        const session = await p.createSession(model);
        const feed = { A: p.tensor(a === 's8' ? 'int8' : 'uint8', a === 's8' ? x : xU, [M, K]) };
        const y = (await session.run(feed)).Y!.data as Int32Array;
        let bad = 0;
        for (let i = 0; i < expected.length; i++) if (y[i] !== expected[i]) bad++;
        if (bad) { out.push({ label, wrong: `${bad} of ${expected.length} outputs differ from the exact product` }); continue; }
        out.push({ label, run: () => session.run(feed) });
      } catch (e) {
        out.push({ label, wrong: `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
      }
    }
  }
  return out;
}

/** Float MatMul (the float path a user would otherwise run) on every installed peer. */
export async function matMulFloatPeers(w: Float32Array, x: Float32Array, N: number, K: number, M: number): Promise<PeerRunner[]> {
  const out: PeerRunner[] = [];
  for (const p of await loadPeers()) {
    const label = `${p.name} MatMul f32`;
    try {
      const session = await p.createSession(matMulFloatModel(toKN(w, N, K, (n) => new Float32Array(n)), K, N, M));
      const feed = { A: p.tensor('float32', x, [M, K]) };
      await session.run(feed);
      out.push({ label, run: () => session.run(feed) });
    } catch (e) {
      out.push({ label, wrong: `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
    }
  }
  return out;
}

/**
 * com.microsoft MatMulNBits (4-bit, block = groupSize) at accuracy levels 0 (float compute)
 * and 4 (int8 compute) on every installed peer, each checked against `expected` (the exact float
 * product of the dequantized weights) within `relTol` of its largest magnitude before timing.
 */
export async function matMulNBitsPeers(
  nbits: { B: Uint8Array; scales: Float32Array; zeroPoints?: Uint8Array }, x: Float32Array,
  N: number, K: number, M: number, blockSize: number, expected: ArrayLike<number>, relTol: number,
): Promise<PeerRunner[]> {
  const out: PeerRunner[] = [];
  let peak = 0;
  for (let i = 0; i < expected.length; i++) peak = Math.max(peak, Math.abs(expected[i]!));
  for (const p of await loadPeers()) {
    for (const level of [0, 4]) {
      const label = `${p.name} MatMulNBits acc${level}`;
      try {
        const opts: { zeroPoints?: Uint8Array; accuracyLevel: number } = { accuracyLevel: level };
        if (nbits.zeroPoints) opts.zeroPoints = nbits.zeroPoints;
        const session = await p.createSession(matMulNBitsModel(nbits.B, nbits.scales, K, N, M, blockSize, opts));
        const feed = { A: p.tensor('float32', x, [M, K]) };
        const y = (await session.run(feed)).Y!.data as Float32Array;
        let worst = 0;
        for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(y[i]! - expected[i]!));
        if (!(worst <= relTol * peak)) { out.push({ label, wrong: `max error ${worst.toExponential(2)} exceeds ${relTol}·max|y|` }); continue; }
        out.push({ label, run: () => session.run(feed) });
      } catch (e) {
        out.push({ label, wrong: `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` });
      }
    }
  }
  return out;
}
