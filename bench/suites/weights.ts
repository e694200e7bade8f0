/**
 * weights suite: how long choosing int4 weights takes, per matrix size.
 *   int4 minmax / mse / hqq   PackedInt4Matrix.quantize at group 32 (data-free, eq. 60–68), each
 *                             against the ggml Q4_0-style 'minmax' grid as the baseline;
 *   gemm-f64                  the GPTQ rank-update kernel cal_gemm_acc_f64 on one lazy-block
 *                             shape (N × 128 · 128 × K) vs its scalar twin (bit-identical results,
 *                             checked first); gmacs = multiply-adds / s / 1e9;
 *   gptq int4                 QuantizedLinear.fromFloat32({ method: 'gptq' }) with M = 256
 *                             calibration rows, against 'mse' on the same matrix.
 * Calls this long are sampled one by one, a few times each (no interleaving: the figures are
 * seconds, and the machine's drift matters little at that scale). `--sizes 1024x1024,4096x4096`.
 */
import { PackedInt4Matrix, QuantizedLinear } from '../../src/index.js';
import { Rng } from '../../src/data/random.js';
import { rt } from '../../src/runtime/wasm.js';
import { refGemmAccF64 } from '../../src/reference/gemm-f64.js';
import { makeRow, measureAsync, measureInterleaved, type BenchRow, type Suite, type SuiteOptions } from '../harness.js';

const DEFAULT_SIZES = ['1024x1024', '4096x4096'];

async function run(opts: SuiteOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sizes = (opts.sizes.length ? opts.sizes : DEFAULT_SIZES).filter((s) => /^\d+x\d+$/.test(s));
  for (const size of sizes) {
    const [N, K] = size.split('x').map(Number) as [number, number];
    const rng = new Rng(N + K);
    const w = rng.gaussianArray(N * K, 0.02);
    const field = (kernel: string, baseline: string, macs = N * K) => ({ suite: 'weights', kernel, m: 1, n: N, k: K, macs, weightBytes: 4 * N * K, baseline });
    const time = (fn: () => unknown) => measureAsync(async () => { fn(); }, opts.maxTime, 3);
    const quant = (method: 'minmax' | 'mse' | 'hqq') => () => PackedInt4Matrix.quantize(w, N, K, { groupSize: 32, method }).dispose();
    const tMinmax = await time(quant('minmax'));
    for (const method of ['minmax', 'mse', 'hqq'] as const) {
      const t = method === 'minmax' ? tMinmax : await time(quant(method));
      rows.push(makeRow(field(`int4 quantize ${method}`, 'int4 minmax'), t, tMinmax));
    }
    // the lazy block update's shape, C (K × N) += A (K × 128) · B (128 × N)
    {
      const Bk = 128, rowsC = Math.min(K, 1024);
      const mem = rt().mem;
      const a = mem.alloc(8 * rowsC * Bk), b = mem.alloc(8 * Bk * N), c = mem.alloc(8 * rowsC * N);
      try {
        const A = Float64Array.from({ length: rowsC * Bk }, () => rng.gaussian()), B = Float64Array.from({ length: Bk * N }, () => rng.gaussian());
        mem.f64(a, A.length).set(A); mem.f64(b, B.length).set(B); mem.f64(c, rowsC * N).fill(0);
        const C = new Float64Array(rowsC * N);
        rt().kernels.cal_gemm_acc_f64(c, N, a, Bk, b, N, rowsC, N, Bk, 1);
        refGemmAccF64(C, N, A, Bk, B, N, rowsC, N, Bk, 1);
        const got = mem.f64(c, rowsC * N);
        for (let i = 0; i < C.length; i++) if (got[i] !== C[i]) throw new Error(`gemm-f64: element ${i} differs from the scalar twin`);
        const [tOurs, tRef] = await measureInterleaved([
          { name: 'gemm-f64 wasm', fn: () => rt().kernels.cal_gemm_acc_f64(c, N, a, Bk, b, N, rowsC, N, Bk, 1) },
          { name: 'gemm-f64 js', fn: () => refGemmAccF64(C, N, A, Bk, B, N, rowsC, N, Bk, 1), maxTime: Math.min(opts.maxTime, 0.5) },
        ], { ...opts, rounds: 2 });
        rows.push(makeRow({ suite: 'weights', kernel: `gemm-f64 ${rowsC}x${Bk}x${N}`, m: rowsC, n: N, k: Bk, macs: rowsC * Bk * N, weightBytes: 8 * Bk * N, baseline: 'scalar JS' }, tOurs!, tRef!));
      } finally {
        for (const o of [a, b, c]) mem.release(o);
      }
    }
    {
      const X = rng.gaussianArray(256 * K);
      const tG = await measureAsync(async () => { QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', method: 'gptq', calibration: X }).dispose(); }, opts.maxTime, 1);
      const tMse = await time(quant('mse'));
      rows.push(makeRow(field('gptq int4 (M = 256)', 'int4 quantize mse'), tG, tMse));
    }
  }
  return rows;
}

export const weightsSuite: Suite = {
  name: 'weights',
  description: 'time to choose int4 weights: data-free minmax / mse / hqq, the GPTQ rank-update kernel, GPTQ end to end',
  run,
};
