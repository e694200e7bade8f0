/**
 * Results do not depend on the thread count: every parallel kernel, run with 1, 2, 3 and 4
 * threads (more than this machine's cores too) over the edge-size sweeps, gives bit-identical
 * outputs (int32 exact against the scalar reference as well; float outputs identical because
 * each output row or element is computed by one thread). The size threshold is turned off
 * (setMinShareBytes(0)) so even the smallest problems are split over every thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dequantize, fakeQuantize, init, MinMaxObserver, MseObserver, PackedInt4Matrix, PackedInt8Matrix, PercentileObserver,
  quantize, QuantizedLinear, setThreads, threads, type QParams,
} from '../src/index.js';
import { setMinShareBytes, splitRange } from '../src/runtime/parallel.js';
import { refGemmInt8 } from '../src/reference/gemv.js';
import { Rng } from '../src/data/random.js';

const THREADS = [1, 2, 3, 4];

beforeAll(async () => {
  await init();
  setMinShareBytes(0);
});
afterAll(async () => {
  setMinShareBytes(undefined);
  await setThreads(2);
});

/** Run `fn` under each thread count; every result must equal the one-thread result bit for bit. */
async function sameForEveryThreadCount(fn: () => ArrayBufferView | ArrayBufferView[]): Promise<ArrayBufferView[]> {
  let want: Uint8Array[] | undefined;
  let first: ArrayBufferView[] = [];
  for (const n of THREADS) {
    await setThreads(n);
    expect(threads()).toBe(n);
    const got = [fn()].flat();
    const bytes = got.map((v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength).slice());
    if (want === undefined) { want = bytes; first = got; continue; }
    expect(bytes.length).toBe(want.length);
    for (let i = 0; i < bytes.length; i++) {
      const a = bytes[i]!, b = want[i]!;
      expect(a.length).toBe(b.length);
      let diff = -1;
      for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) { diff = j; break; }
      expect(diff, `${n} threads: output ${i} differs from one thread at byte ${diff}`).toBe(-1);
    }
  }
  return first;
}

describe('splitRange', () => {
  it('covers the range with aligned, contiguous, balanced shares', () => {
    for (const count of [1, 3, 4, 5, 17, 64, 1001]) for (const shares of [1, 2, 3, 4, 7]) for (const align of [1, 4, 16]) {
      const r = splitRange(count, shares, align);
      expect(r[0]!.start).toBe(0);
      for (let i = 1; i < r.length; i++) expect(r[i]!.start).toBe(r[i - 1]!.start + r[i - 1]!.count);
      expect(r[r.length - 1]!.start + r[r.length - 1]!.count).toBe(count);
      for (const s of r) { expect(s.start % align).toBe(0); expect(s.count).toBeGreaterThan(0); }
      expect(r.length).toBe(Math.min(shares, Math.ceil(count / align)));
      const units = r.map((s) => Math.ceil(s.count / align));
      expect(Math.max(...units) - Math.min(...units)).toBeLessThanOrEqual(1);
    }
  });
});

describe('int8 GEMV / GEMM', () => {
  const NS = [1, 3, 4, 5, 8, 13, 16, 17, 33, 65, 129];
  const KS = [1, 16, 33, 127, 4099];
  it('GEMV over every N × K, int8 and uint8, with zero points and bias: exact and thread-independent', async () => {
    const rng = new Rng(11);
    const cases = NS.flatMap((N) => KS.map((K) => ({ N, K })));
    const mats = cases.map(({ N, K }, i) => {
      const unsigned = i % 2 === 1;
      const w = unsigned ? rng.uint8Array(N * K) : rng.int8Array(N * K);
      const bias = Int32Array.from({ length: N }, () => rng.int(-1e6, 1e6));
      const zw = unsigned ? 131 : -3, zx = 7;
      const x = rng.uint8Array(K);
      return { N, K, w, x, bias, zw, zx, m: PackedInt8Matrix.from(w, N, K, { zeroPoint: zw, xZeroPoint: zx, bias }) };
    });
    const got = await sameForEveryThreadCount(() => mats.map(({ m, x }) => m.gemv(x)));
    mats.forEach(({ N, K, w, x, bias, zw, zx, m }, i) => {
      expect(got[i]).toEqual(refGemmInt8(w, N, K, x, 1, { wZeroPoint: zw, xZeroPoint: zx, bias }));
      m.dispose();
    });
  });

  it('GEMM for M = 2, 3, 5, 8 (every token tile tail), signed and unsigned activations', async () => {
    const rng = new Rng(12);
    const mats = [5, 17, 64, 131].flatMap((N) => [33, 300].flatMap((K) => [2, 3, 5, 8].map((M) => {
      const w = rng.int8Array(N * K);
      const X = M % 2 ? rng.int8Array(M * K) : rng.uint8Array(M * K);
      return { N, K, M, w, X, m: PackedInt8Matrix.from(w, N, K, { zeroPoint: 5 }) };
    })));
    const got = await sameForEveryThreadCount(() => mats.map(({ m, X, M }) => m.gemm(X, M)));
    mats.forEach(({ N, K, M, w, X, m }, i) => {
      expect(got[i]).toEqual(refGemmInt8(w, N, K, X, M, { wZeroPoint: 5 }));
      m.dispose();
    });
  });
});

describe('int4 GEMV / GEMM (W4A8 and W4A32)', () => {
  const rng = new Rng(13);
  const shapes: [number, number, number][] = [];
  for (const N of [1, 4, 5, 7, 16, 17, 33, 129]) for (const [K, G] of [[67, 32], [200, 64], [300, 128], [513, 256]] as const) shapes.push([N, K, G]);
  let mats: { N: number; K: number; m: PackedInt4Matrix }[] = [];
  beforeAll(() => {
    mats = shapes.flatMap(([N, K, G]) => [true, false].map((symmetric) => {
      const w = Float32Array.from({ length: N * K }, () => rng.gaussian());
      return { N, K, m: PackedInt4Matrix.quantize(w, N, K, { groupSize: G, symmetric }) };
    }));
  });
  afterAll(() => { for (const { m } of mats) m.dispose(); });

  it('GEMV, int8 and float32 activations', async () => {
    const xs = mats.map(({ K }) => Float32Array.from({ length: K }, () => rng.gaussian()));
    await sameForEveryThreadCount(() => mats.flatMap(({ m }, i) => [m.gemv(xs[i]!), m.gemv(xs[i]!, undefined, { activations: 'float32' })]));
  });

  it('GEMM for M = 2, 3, 5, 8, 17 (pair kernel, per-token blocks), int8 and float32 activations', async () => {
    const Ms = [2, 3, 5, 8, 17];
    const Xs = mats.map(({ K }, i) => { const M = Ms[i % Ms.length]!; return { M, X: Float32Array.from({ length: M * K }, () => rng.gaussian()) }; });
    await sameForEveryThreadCount(() => mats.flatMap(({ m }, i) => {
      const { M, X } = Xs[i]!;
      return [m.gemm(X, M), m.gemm(X, M, undefined, { activations: 'float32' })];
    }));
  });
});

describe('QuantizedLinear', () => {
  it('int8 (dynamic, static, per-row zero points) and int4 layers, M = 1 and 6', async () => {
    const rng = new Rng(14);
    const N = 37, K = 129;
    const w = Float32Array.from({ length: N * K }, () => rng.gaussian());
    const bias = Float32Array.from({ length: N }, () => rng.gaussian());
    const zps = Float32Array.from({ length: N }, (_, n) => 100 + (n % 50));
    const wScales = Float32Array.from({ length: N }, () => 0.02);
    const layers = [
      QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', bias }),
      QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', inputParams: { qtype: 'uint8', scale: 0.03, zeroPoint: 128 } }),
      QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int8', weightParams: { qtype: 'uint8', scale: wScales, zeroPoint: zps, axis: 0 } as QParams }),
      QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', bias, groupSize: 32 }),
    ];
    const X = Float32Array.from({ length: 6 * K }, () => rng.gaussian());
    await sameForEveryThreadCount(() => layers.flatMap((l) => [l.forward(X.subarray(0, K)), l.forwardBatch(X, 6)]));
    for (const l of layers) l.dispose();
  });
});

describe('element-wise quantize / dequantize / fake-quantize', () => {
  const rng = new Rng(15);
  it('per tensor over lengths at and around the 16-element SIMD step, every storage type', async () => {
    const lens = [1, 15, 16, 17, 33, 100, 1000, 4099];
    const xs = lens.map((n) => Float32Array.from({ length: n }, (_, i) => (i % 29 === 0 ? 0.5 * (i % 3) : rng.gaussian() * 3)));
    const params: QParams[] = [
      { qtype: 'int8', scale: 0.05, zeroPoint: 0 }, { qtype: 'uint8', scale: 0.03, zeroPoint: 128 },
      { qtype: 'int16', scale: 0.001, zeroPoint: 3 }, { qtype: 'uint16', scale: 0.002, zeroPoint: 30000 }, { qtype: 'int4', scale: 0.5, zeroPoint: 0 },
    ];
    await sameForEveryThreadCount(() => xs.flatMap((x) => params.flatMap((p) => {
      const q = quantize(x, [x.length], p);
      return [q, dequantize(q, [x.length], p), fakeQuantize(x, [x.length], p)];
    })));
  });

  it('per axis (inner > 1 and last axis) and blocked (last axis and inner > 1)', async () => {
    const shape = [6, 10, 12];
    const n = 720;
    const x = Float32Array.from({ length: n }, () => rng.gaussian());
    const params: [number[], QParams][] = [
      [shape, { qtype: 'int8', scale: Float32Array.from({ length: 10 }, (_, i) => 0.01 * (i + 1)), zeroPoint: new Float32Array(10), axis: 1 }],
      [shape, { qtype: 'uint8', scale: Float32Array.from({ length: 12 }, (_, i) => 0.02 * (i + 1)), zeroPoint: new Float32Array(12).fill(100), axis: 2 }],
      [shape, { qtype: 'int8', scale: Float32Array.from({ length: 6 * 10 * 3 }, (_, i) => 0.01 + 0.001 * i), zeroPoint: new Float32Array(180), axis: 2, blockSize: 4 }],
      [shape, { qtype: 'int8', scale: Float32Array.from({ length: 6 * 5 * 12 }, (_, i) => 0.01 + 0.001 * (i % 17)), zeroPoint: new Float32Array(360), axis: 1, blockSize: 2 }],
    ];
    await sameForEveryThreadCount(() => params.flatMap(([s, p]) => {
      const q = quantize(x, s, p);
      return [q, dequantize(q, s, p), fakeQuantize(x, s, p)];
    }));
  });

  it('reports the first NaN of the whole tensor whichever share finds it', async () => {
    const x = Float32Array.from({ length: 5000 }, () => rng.gaussian());
    x[3777] = NaN; x[4900] = NaN;
    for (const n of THREADS) {
      await setThreads(n);
      expect(() => quantize(x, [x.length], { qtype: 'int8', scale: 0.1, zeroPoint: 0 })).toThrow(/first at index 3777/);
      expect(() => fakeQuantize(x, [50, 100], { qtype: 'int8', scale: new Float32Array(100).fill(0.1), zeroPoint: new Float32Array(100), axis: 1 })).toThrow(/first at index 3777/);
    }
  });
});

describe('calibration scans', () => {
  const rng = new Rng(16);
  const x = Float32Array.from({ length: 64 * 257 }, (_, i) => (i % 101 === 0 ? (i % 2 ? -0 : 0) : rng.laplace()));
  const x2 = x.slice().reverse().map((v) => 1.5 * v);
  it('min/max, percentile histogram and MSE search, per tensor and per channel', async () => {
    await sameForEveryThreadCount(() => {
      const out: Float32Array[] = [];
      for (const axis of [undefined, 0, 1]) {
        const opts = { qtype: 'int8' as const, symmetric: false, ...(axis === undefined ? {} : { axis }) };
        for (const O of [MinMaxObserver, PercentileObserver, MseObserver]) {
          const o = new O(opts);
          o.observe(x, [64, 257]);
          o.observe(x2, [64, 257]);
          const p = o.qparams();
          out.push(Float32Array.from([p.scale].flat() as number[]), Float32Array.from([p.zeroPoint ?? 0].flat() as number[]));
          o.dispose();
        }
      }
      return out;
    });
  });

  it('a NaN is reported at its index whichever share scans it', async () => {
    const y = x.slice();
    y[9000] = NaN;
    for (const n of THREADS) {
      await setThreads(n);
      for (const axis of [undefined, 0]) {
        const o = new MinMaxObserver({ qtype: 'int8', ...(axis === undefined ? {} : { axis }) });
        expect(() => o.observe(y, [64, 257])).toThrow(/first at index 9000/);
        o.dispose();
      }
    }
  });
});
