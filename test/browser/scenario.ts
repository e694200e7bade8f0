/**
 * The browser test's workload, run the same way in Node (test/browser.test.ts) and in
 * Chromium (the test's page imports this file, transpiled by the test server): seeded data
 * only, every result returned as its raw bytes so the two runs compare bit for bit. The sizes
 * put each call above the thread threshold (2 MiB of work), so an isolated page splits them
 * over its Web Workers. The argument is the intquant module (Node: src/index.ts; page: the
 * browser entry from dist/).
 */
import type * as Intquant from '../../src/index.browser.js';

/** What the test's page reports: how intquant came up in the page, and every result as base64. */
export interface Report {
  context: 'page' | 'worker';
  crossOriginIsolated: boolean;
  userAgent: string;
  tryThreads?: { code?: string; message: string } | 'ok';
  initError?: { code?: string; message: string };
  backend?: string;
  threads?: number;
  memory?: string;
  growCount?: number;
  sharesDispatched?: number;
  scenarioMs?: number;
  results?: Record<string, string>;
}

/** Deterministic floats in [−1, 1) with heavy-ish tails (an LCG; the same in every engine). */
export function seeded(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 2 ** 32;
    out[i] = (2 * u - 1) * (i % 61 === 0 ? 6 : 1);
  }
  return out;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
const f32 = (x: number | ArrayLike<number>): Uint8Array => bytesOf(Float32Array.from(typeof x === 'number' ? [x] : Array.from(x)));
const i32 = (x: number | ArrayLike<number> | undefined): Uint8Array => bytesOf(Int32Array.from(x === undefined ? [] : typeof x === 'number' ? [x] : Array.from(x)));

/** The int4 GEMVs' matrix and activations (the test bounds the weight-only outputs with them). */
export const INT4_PROBLEM = { N: 2048, K: 2560, wSeed: 6, xSeed: 7 } as const;

/**
 * Results that are not bit-identical across builds by design: the dot-add build's weight-only
 * int4 GEMV sums its float32 products in another order (its kernel contract; eq. 44, bounded by
 * 1e-5 of Σ|w·x| per row). Every other result is the same bytes whichever build runs.
 */
export const WEIGHT_ONLY = /^int4 W4A32 /;

/** Every result of the workload, by name, as bytes. */
export function runScenario(iq: typeof Intquant): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};

  // quantize: per tensor over 512Ki elements (threaded), per channel to uint8, blocked int4
  const big = seeded(512 * 1024, 1);
  const pt = iq.qparamsFromRange(-4, 4, { qtype: 'int8' });
  out['quantize int8 per tensor'] = bytesOf(iq.quantize(big, [big.length], pt));
  const rows = 256, cols = 2048, m = seeded(rows * cols, 2);
  const pc = iq.qparamsFromRange(Float32Array.from({ length: rows }, (_, r) => -1 - r / rows), Float32Array.from({ length: rows }, (_, r) => 1 + r / 64),
    { qtype: 'uint8', axis: 0 });
  out['quantize uint8 per channel'] = bytesOf(iq.quantize(m, [rows, cols], pc));
  const pb = { qtype: 'int4' as const, axis: 1, blockSize: 32, scale: Float32Array.from({ length: rows * (cols / 32) }, (_, i) => 0.05 + (i % 7) / 64) };
  out['quantize int4 blocked'] = bytesOf(iq.quantize(m, [rows, cols], pb));
  out['dequantize int8 per tensor'] = bytesOf(iq.dequantize(iq.quantize(big, [big.length], pt), [big.length], pt));

  // observers: per-channel MSE search, per-tensor percentile and entropy
  const N = 1024, K = 2304, w = seeded(N * K, 3);
  const mse = new iq.MseObserver({ qtype: 'int8', symmetric: true, axis: 0 });
  const pw = mse.observe(w, [N, K]).qparams();
  mse.dispose();
  out['MseObserver scales'] = f32(pw.scale);
  out['MseObserver zero points'] = i32(pw.zeroPoint as ArrayLike<number> | number | undefined);
  const pct = new iq.PercentileObserver({ qtype: 'uint8', percentile: 99.9 });
  const pp = pct.observe(big, [big.length]).qparams();
  pct.dispose();
  out['PercentileObserver'] = new Uint8Array([...f32(pp.scale), ...i32(pp.zeroPoint as number)]);
  const ent = new iq.EntropyObserver({ qtype: 'int8', symmetric: true });
  const pe = ent.observe(big, [big.length]).qparams();
  ent.dispose();
  out['EntropyObserver'] = f32(pe.scale);

  // int8 GEMV: exact int32 accumulators from the bias, int8 and uint8 activations
  const wq = iq.quantize(w, [N, K], pw) as Int8Array;
  const bias = Int32Array.from({ length: N }, (_, n) => (n * 7919) % 2001 - 1000);
  const W8 = iq.PackedInt8Matrix.from(wq, N, K, { bias });
  const xs = seeded(K, 4);
  const px = iq.qparamsFromRange(-1, 1, { qtype: 'int8', symmetric: true });
  const xq = iq.quantize(xs, [K], px) as Int8Array;
  out['int8 GEMV int8 x'] = bytesOf(W8.gemv(xq));
  const X = iq.quantize(seeded(4 * K, 5), [4 * K], px) as Int8Array;
  out['int8 GEMM M=4'] = bytesOf(W8.gemm(X, 4));
  W8.dispose();
  const W8u = iq.PackedInt8Matrix.from(wq, N, K, { bias, xZeroPoint: 128 });
  out['int8 GEMV uint8 x'] = bytesOf(W8u.gemv(Uint8Array.from(xq, (v) => v + 128)));
  W8u.dispose();

  // int4 W4A8 GEMV (and weight-only W4A32): groups of 32 and 128, symmetric and asymmetric
  const { N: N4, K: K4 } = INT4_PROBLEM, w4 = seeded(N4 * K4, INT4_PROBLEM.wSeed), x4 = seeded(K4, INT4_PROBLEM.xSeed);
  for (const [groupSize, symmetric] of [[32, true], [128, false]] as const) {
    const W4 = iq.PackedInt4Matrix.quantize(w4, N4, K4, { groupSize, symmetric, method: 'minmax' });
    out[`int4 W4A8 GEMV G=${groupSize}${symmetric ? '' : ' asymmetric'}`] = bytesOf(W4.gemv(x4, undefined, { activations: 'int8' }));
    out[`int4 W4A32 GEMV G=${groupSize}${symmetric ? '' : ' asymmetric'}`] = bytesOf(W4.gemv(x4, undefined, { activations: 'float32' }));
    W4.dispose();
  }
  return out;
}

/** Bytes as base64 (the same text in Node and in a page; CDP carries it as a string). */
export function toBase64(bytes: Uint8Array): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let s = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const v = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    s += abc[v >> 18]! + abc[(v >> 12) & 63]! + abc[(v >> 6) & 63]! + abc[v & 63]!;
  }
  if (i < bytes.length) {
    const v = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8);
    s += abc[v >> 18]! + abc[(v >> 12) & 63]! + (i + 1 < bytes.length ? abc[(v >> 6) & 63]! : '=') + '=';
  }
  return s;
}
