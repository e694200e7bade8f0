/**
 * threads suite: the same kernels with n threads (`--threads n`, default every core) against
 * one thread, in interleaved rounds of one run (harness.measureInterleaved), so the ratio is the
 * median of per-round ratios on the same machine state. Rows: int8 GEMV and int4 W4A8 GEMV at
 * 11008×4096 (weights far beyond the caches), the GEMMs at M = 8 there, 1024² int8 GEMV (below
 * or near the size threshold: threads must not make it slower), quantize f32 → int8 per
 * tensor and DynamicQuantizeLinear (its min/max pass, then quantize) over 16M elements (tensor
 * API, data resident). Each result is checked equal to the
 * one-thread result before it is timed, and every row but 1024² must have used all n threads (a
 * path that quietly stayed on one thread fails the run). `--sizes` picks rows by label: gemv,
 * gemv1024, int4, gemm, int4gemm, quant, dynamic.
 */
import { dynamicQuantizeTensor, PackedInt4Matrix, PackedInt8Matrix, quantizeTensor, Tensor, threads } from '../../src/index.js';
import { rt } from '../../src/runtime/wasm.js';
import { sharesUsedBy } from '../../src/runtime/parallel.js';
import { Rng } from '../../src/data/random.js';
import { makeRow, measureInterleaved, type BenchRow, type Suite, type SuiteOptions } from '../harness.js';

const DEFAULT_SIZES = ['gemv', 'gemv1024', 'int4', 'gemm', 'int4gemm', 'quant', 'dynamic'];

/** Run fn with the pool switched to n threads (synchronous; the workers already exist). */
function withThreads<T>(n: number, fn: () => T): T {
  const pool = rt().pool;
  const saved = pool.threads;
  pool.useThreads(n);
  try { return fn(); } finally { pool.useThreads(saved); }
}

function sameBytes(a: ArrayBufferView, b: ArrayBufferView, what: string): void {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) throw new Error(`${what}: ${threads()} threads differ from one thread at byte ${i}`);
}

interface Case { label: string; kernel: string; m: number; n: number; k: number; macs: number; weightBytes: number; run: () => ArrayBufferView; dispose: () => void }

/** Rows below the size threshold, which stay on the calling thread by design. */
const ONE_THREAD = new Set(['gemv1024']);

function makeCase(label: string, rng: Rng): Case {
  if (label === 'gemv' || label === 'gemv1024' || label === 'gemm') {
    const [N, K, M] = label === 'gemv1024' ? [1024, 1024, 1] : [11008, 4096, label === 'gemm' ? 8 : 1];
    const W = PackedInt8Matrix.from(rng.int8Array(N * K), N, K);
    const X = rng.int8Array(M * K), y = new Int32Array(M * N);
    return {
      label, kernel: M === 1 ? 'i8 gemv' : 'i8 gemm', m: M, n: N, k: K, macs: M * N * K, weightBytes: W.byteLength,
      run: () => (M === 1 ? W.gemv(X, y) : W.gemm(X, M, y)), dispose: () => W.dispose(),
    };
  }
  if (label === 'int4' || label === 'int4gemm') {
    const N = 11008, K = 4096, M = label === 'int4' ? 1 : 8;
    const W = PackedInt4Matrix.quantize(Float32Array.from({ length: N * K }, () => rng.gaussian()), N, K, { groupSize: 32 });
    const X = Float32Array.from({ length: M * K }, () => rng.gaussian()), y = new Float32Array(M * N);
    return {
      label, kernel: M === 1 ? 'int4 W4A8 gemv' : 'int4 W4A8 gemm', m: M, n: N, k: K, macs: M * N * K, weightBytes: W.byteLength,
      run: () => (M === 1 ? W.gemv(X, y) : W.gemm(X, M, y)), dispose: () => W.dispose(),
    };
  }
  if (label === 'quant') {
    const n = 16 << 20;
    const x = Tensor.from(Float32Array.from({ length: n }, () => rng.gaussian())) as Tensor<'float32'>;
    const q = Tensor.empty('int8', [n]);
    const p = { qtype: 'int8' as const, scale: Math.fround(8 / 255) };
    return {
      label, kernel: 'quantize f32→i8', m: 1, n, k: 1, macs: n, weightBytes: 4 * n,
      run: () => { quantizeTensor(x, p, q); return q.view().array; }, dispose: () => { x.dispose(); q.dispose(); },
    };
  }
  if (label === 'dynamic') {
    const n = 16 << 20;
    const x = Tensor.from(Float32Array.from({ length: n }, () => rng.gaussian())) as Tensor<'float32'>;
    const q = Tensor.empty('uint8', [n]);
    return {
      label, kernel: 'DynamicQuantizeLinear f32→u8', m: 1, n, k: 1, macs: n, weightBytes: 4 * n,
      run: () => { dynamicQuantizeTensor(x, q); return q.view().array; }, dispose: () => { x.dispose(); q.dispose(); },
    };
  }
  throw new Error(`size '${label}' is not one of ${DEFAULT_SIZES.join(', ')}`);
}

async function runThreads(opts: SuiteOptions): Promise<BenchRow[]> {
  const n = threads();
  if (n === 1) throw new Error('the threads suite compares n threads with 1: run it with --threads n, n ≥ 2');
  const rows: BenchRow[] = [];
  const rng = new Rng(7);
  for (const label of opts.sizes.length ? opts.sizes.filter((s) => DEFAULT_SIZES.includes(s)) : DEFAULT_SIZES) {
    const c = makeCase(label, rng);
    try {
      const one = withThreads(1, () => { const v = c.run(); return new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice(); });
      let many: ArrayBufferView | undefined;
      const shares = sharesUsedBy(() => { many = withThreads(n, c.run); });
      sameBytes(many!, one, `${c.kernel} ${c.n}×${c.k}`);
      if (!ONE_THREAD.has(label) && !(shares.length > 0 && shares.every((s) => s === n))) {
        throw new Error(`${c.kernel} ${c.n}×${c.k}: expected every pool call on ${n} threads, got shares [${shares.join(', ')}]`);
      }
      const [tMany, tOne] = await measureInterleaved([
        { name: `${c.kernel} ${n} threads`, fn: () => withThreads(n, c.run) },
        { name: `${c.kernel} 1 thread`, fn: () => withThreads(1, c.run) },
      ], opts);
      const base = { suite: 'threads', kernel: c.kernel, m: c.m, n: c.n, k: c.k, macs: c.macs, weightBytes: c.weightBytes };
      rows.push(makeRow({ ...base, baseline: '1 thread', threads: n }, tMany!, tOne!));
      rows.push(makeRow({ ...base, baseline: '1 thread', threads: 1 }, tOne!, tOne!));
    } finally {
      c.dispose();
    }
  }
  return rows;
}

export const threadsSuite: Suite = {
  name: 'threads',
  description: 'n threads vs 1 on the same kernels (11008×4096 GEMV/GEMM int8 and int4, 1024² GEMV, quantize and DynamicQuantizeLinear 16M)',
  run: runThreads,
};
