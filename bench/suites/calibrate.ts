/**
 * calibrate suite (issue 5): calibration throughput in MB/s of float32 input, our wasm kernels vs
 * the scalar JS twins (src/reference/calibrate.ts) measured in the same run.
 *   histogram   one pass of the 2048-bin |x| histogram kernel over data resident in wasm memory
 *               vs histogramRowsRef on a plain Float32Array;
 *   qdq-sqerr   one pass of the fused Q/DQ squared-error kernel (one MSE-search candidate, int4)
 *               vs qdqSqerrRowsRef;
 *   percentile  PercentileObserver.observe end to end (copy into wasm, range kernel, histogram)
 *               vs the same steps in scalar JS;
 *   mse-search  MseObserver observe + qparams (the whole int4 asymmetric range search, ~120
 *               kernel passes) vs the same search scored by the scalar twin.
 * Results are checked against the reference before timing (histograms exactly, squared error to
 * 2e-6 relative, MSE search to 0.01 dB SQNR). gmacs = input elements / s / 1e9, weightGBs = input
 * bytes / s / 1e9 (×1000 = MB/s). `--sizes 256K,1M,4M` picks element counts.
 */
import { MseObserver, PercentileObserver, sqnr, fakeQuantize, type QParams } from '../../src/index.js';
import { Rng } from '../../src/data/random.js';
import { accumulateHistogram, qdqSquaredError, releaseBatch, stageBatch } from '../../src/calibrate/kernels.js';
import { groupLayout } from '../../src/calibrate/layout.js';
import { mseSearch, rangesToParams } from '../../src/calibrate/mse-search.js';
import { QTYPES } from '../../src/quant/qtypes.js';
import { histogramRowsRef, minmaxRowsRef, qdqSqerrRowsRef } from '../../src/reference/calibrate.js';
import { makeRow, measureInterleaved, type BenchRow, type Suite, type SuiteOptions } from '../harness.js';

const DEFAULT_SIZES = ['1M', '4M'];
const BINS = 2048;

function parseCount(s: string): number {
  const m = /^(\d+)([KM]?)$/i.exec(s);
  if (!m) throw new Error(`size '${s}' is not an element count like 1M or 65536`);
  const u = m[2]!.toUpperCase();
  return Number(m[1]) * (u === 'M' ? 1 << 20 : u === 'K' ? 1 << 10 : 1);
}

async function run(opts: SuiteOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sizes = (opts.sizes.length ? opts.sizes : DEFAULT_SIZES).filter((s) => /^\d+[KM]?$/i.test(s));
  const int4 = QTYPES.int4;
  for (const size of sizes) {
    const n = parseCount(size);
    const rng = new Rng(n);
    const x = Float32Array.from({ length: n }, () => rng.laplace());
    const field = (kernel: string, k: number, baseline: string) => ({ suite: 'calibrate', kernel, m: 1, n, k, macs: n, weightBytes: 4 * n, baseline });
    const batch = stageBatch(x, groupLayout(n, [n], undefined, undefined));
    const whole = Int32Array.of(0, n); // the start table of one group of n (what the JS twins take)
    try {
      let M = 0;
      for (const v of x) M = Math.max(M, Math.abs(v));
      const lo = Float32Array.of(0), invw = Float32Array.of(Math.fround(BINS / M));

      // histogram
      {
        const ours = new Float64Array(BINS), zeros = new Float64Array(1);
        accumulateHistogram(batch, lo, invw, BINS, true, ours, zeros);
        const ref = new Int32Array(BINS * 4), rz = new Int32Array(1);
        histogramRowsRef(x, 1, whole, lo, invw, BINS, true, ref, rz);
        for (let b = 0; b < BINS; b++) {
          const r = ref[4 * b]! + ref[4 * b + 1]! + ref[4 * b + 2]! + ref[4 * b + 3]!;
          if (r !== ours[b]) throw new Error(`histogram: bin ${b} differs (${ours[b]} vs ${r})`);
        }
        const [tOurs, tRef] = await measureInterleaved([
          { name: 'histogram wasm', fn: () => accumulateHistogram(batch, lo, invw, BINS, true, ours, zeros) },
          { name: 'histogram js', fn: () => { ref.fill(0); histogramRowsRef(x, 1, whole, lo, invw, BINS, true, ref, rz); } },
        ], opts);
        rows.push(makeRow(field('histogram-2048', BINS, 'scalar JS'), tOurs!, tRef!));
      }

      // one MSE-search candidate: fused Q/DQ squared error
      {
        const p = rangesToParams([-0.4 * M], [0.4 * M], int4, true, false);
        const zf = Float32Array.from(p.zeroPoint);
        const ours = new Float64Array(1), ref = new Float64Array(1);
        qdqSquaredError([batch], p.scale, zf, int4.qmin, int4.qmax, ours);
        qdqSqerrRowsRef(x, 1, whole, p.scale, zf, int4.qmin, int4.qmax, ref);
        if (Math.abs(ours[0]! - ref[0]!) > 2e-6 * ref[0]!) throw new Error(`qdq-sqerr: ${ours[0]} vs ${ref[0]}`);
        const [tOurs, tRef] = await measureInterleaved([
          { name: 'sqerr wasm', fn: () => qdqSquaredError([batch], p.scale, zf, int4.qmin, int4.qmax, ours) },
          { name: 'sqerr js', fn: () => { ref[0] = 0; qdqSqerrRowsRef(x, 1, whole, p.scale, zf, int4.qmin, int4.qmax, ref); } },
        ], opts);
        rows.push(makeRow(field('qdq-sqerr-int4', 1, 'scalar JS'), tOurs!, tRef!));
      }

      // percentile observer end to end vs the same steps in JS
      {
        const obs = () => { const o = new PercentileObserver({ qtype: 'int8', symmetric: true }); o.observe(x, [n]); return o.clippingRange().max[0]!; };
        const js = () => {
          const mm = Float32Array.of(Infinity, -Infinity);
          minmaxRowsRef(x, 1, whole, mm);
          const m = Math.max(-mm[0]!, mm[1]!);
          const c = new Int32Array(BINS * 4), z = new Int32Array(1);
          histogramRowsRef(x, 1, whole, lo, Float32Array.of(Math.fround(BINS / m)), BINS, true, c, z);
          return c;
        };
        obs(); js();
        const [tOurs, tRef] = await measureInterleaved([
          { name: 'percentile wasm', fn: obs },
          { name: 'percentile js', fn: js },
        ], opts);
        rows.push(makeRow(field('percentile-observer', BINS, 'scalar JS'), tOurs!, tRef!));
      }

      // the whole MSE search (int4 asymmetric) vs the same search scored in JS; only at ≤ 1M (the JS side is slow)
      if (n <= 1 << 20) {
        let passes = 0;
        const ours = (): QParams => {
          const o = new MseObserver({ qtype: 'int4', onProgress: (e) => { if (e.stage === 'search') passes = e.done; } });
          o.observe(x, [n]);
          const p = o.qparams();
          o.dispose();
          return p;
        };
        const js = () => {
          const mm = Float32Array.of(Infinity, -Infinity);
          minmaxRowsRef(x, 1, whole, mm);
          const r = mseSearch({
            batches: [], lo: Float64Array.of(Math.min(mm[0]!, 0)), hi: Float64Array.of(Math.max(mm[1]!, 0)), info: int4, symmetric: false, narrow: false,
            scorer: (s, z, qmin, qmax, err) => { err[0] = 0; qdqSqerrRowsRef(x, 1, whole, s, z, qmin, qmax, err); },
          });
          return rangesToParams(r.lo, r.hi, int4, false, false);
        };
        const pOurs = ours(), pJs = js();
        const a = sqnr(x, fakeQuantize(x, [n], pOurs));
        const b = sqnr(x, fakeQuantize(x, [n], { qtype: 'int4', scale: pJs.scale[0]!, zeroPoint: pJs.zeroPoint[0]! }));
        if (Math.abs(a - b) > 0.01) throw new Error(`mse-search: ${a} dB vs reference ${b} dB`);
        const [tOurs, tRef] = await measureInterleaved([
          { name: 'mse wasm', fn: ours },
          { name: 'mse js', fn: js, maxTime: Math.min(opts.maxTime, 0.25) },
        ], opts);
        rows.push(makeRow(field('mse-search-int4', passes, 'scalar JS'), tOurs!, tRef!));
      }
    } finally {
      releaseBatch(batch);
    }
  }
  return rows;
}

export const calibrateSuite: Suite = {
  name: 'calibrate',
  description: 'calibration throughput (histogram, fused Q/DQ error, percentile observer, MSE search) vs scalar JS',
  run,
};
