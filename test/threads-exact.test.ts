/**
 * Results do not depend on the thread count: every parallel kernel, run with 1, 2, 3 and 4
 * threads (more than this machine's cores too) over the edge-size sweeps, gives bit-identical
 * outputs (int32 exact against the scalar reference as well; float outputs identical because
 * each output row or element is computed by one thread). The size threshold is turned off
 * (setMinShareBytes(0)) so even the smallest problems are split over every thread; the
 * element-wise and calibration tests also check how many shares each call used, so a path that
 * quietly stayed on one thread fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  dequantize, dequantizeTensor, dynamicQuantize, dynamicQuantizeTensor, EntropyObserver, fakeQuantize, fakeQuantizeTensor, init, MinMaxObserver, MseObserver, PackedInt4Matrix,
  PackedInt8Matrix, PercentileObserver, quantize, quantizeTensor, QuantizedLinear, QTYPES, setThreads, Tensor, threads, type QParams, type QType,
} from '../src/index.js';
import { setMinShareBytes, sharesUsedBy, splitRange } from '../src/runtime/parallel.js';
import { storageArray } from '../src/quant/qtypes.js';
import { resolveParams } from '../src/quant/params.js';
import { shareElements } from '../src/quant/kernels.js';
import { groupLayout } from '../src/calibrate/layout.js';
import { accumulateHistogram, batchRange, qdqSquaredError, releaseBatch, stageBatch } from '../src/calibrate/kernels.js';
import { refGemmInt8 } from '../src/reference/gemv.js';
import { dynamicQuantizeRef } from '../src/reference/quant.js';
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

describe('DynamicQuantizeLinear (min/max and quantize passes split by elements)', () => {
  const rng = new Rng(17);
  // the extreme values sit in different shares, so the range must be combined across threads
  const lens = [1, 15, 16, 17, 33, 1000, 4099, 100_003];
  const xs = lens.map((n) => Float32Array.from({ length: n }, (_, i) => (i === n - 1 ? 40 : i === (n >> 1) ? -25 : rng.gaussian())));

  it('equals the reference on 1–4 threads, bit for bit, each pass over min(threads, steps) shares', async () => {
    for (const n of THREADS) {
      await setThreads(n);
      for (const x of xs) {
        let got: ReturnType<typeof dynamicQuantize> | undefined;
        const shares = sharesUsedBy(() => { got = dynamicQuantize(x); });
        const want = dynamicQuantizeRef(x);
        expect(got!.scale).toBe(want.scale);
        expect(got!.zeroPoint).toBe(want.zeroPoint);
        expect(Buffer.from(got!.q).equals(Buffer.from(want.q)), `${n} threads, length ${x.length}`).toBe(true);
        const expected = Math.min(n, Math.ceil(x.length / 16));
        expect(shares).toEqual([expected, expected]);
      }
    }
    await sameForEveryThreadCount(() => xs.flatMap((x) => {
      const t = Tensor.from(x, [x.length]) as Tensor<'float32'>;
      try {
        const r = dynamicQuantizeTensor(t);
        const q = r.q.toArray();
        r.q.dispose();
        return [q, new Float32Array([r.scale, r.zeroPoint])];
      } finally {
        t.dispose();
      }
    }));
  });

  it('reports the first NaN of the whole tensor and an infinite range whichever share finds them', async () => {
    const x = Float32Array.from({ length: 5000 }, () => rng.gaussian());
    x[3777] = NaN; x[4900] = NaN;
    const inf = Float32Array.from({ length: 5000 }, () => rng.gaussian());
    inf[4321] = -Infinity;
    for (const n of THREADS) {
      await setThreads(n);
      expect(() => dynamicQuantize(x)).toThrow(/first at index 3777/);
      expect(() => dynamicQuantize(inf)).toThrow(/-Infinity/);
    }
    expect(dynamicQuantize(new Float32Array(0))).toEqual({ q: new Uint8Array(0), scale: 1, zeroPoint: 0 });
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

describe('element-wise with ragged blocks and per-axis scale cycles: shares cut slices anywhere', () => {
  const rng = new Rng(18);
  const QT: QType[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];
  interface Case { shape: number[]; p: QParams; units: number; what: string }
  const cases: Case[] = [];
  const params = (qtype: QType, count: number): { qtype: QType; scale: Float32Array; zeroPoint: Int32Array } => {
    const info = QTYPES[qtype];
    return {
      qtype,
      scale: Float32Array.from({ length: count }, () => Math.fround(0.01 + 0.05 * rng.next())),
      zeroPoint: Int32Array.from({ length: count }, () => rng.int(info.qmin, Math.min(info.qmax, info.qmin + 200))),
    };
  };
  // blocked: D a multiple of B or not (a ragged last block), the blocked axis first, in the middle and last;
  // inner = 20 gives the cols kernel a SIMD body and a tail
  const blockedShapes: [(D: number) => number[], number][] = [[(D) => [D, 5], 0], [(D) => [3, D, 4], 1], [(D) => [2, D, 20], 1], [(D) => [5, D], -1]];
  for (const D of [5, 7, 33, 100]) for (const B of [2, 3, 32]) for (const [shapeOf, axis] of blockedShapes) {
    const shape = shapeOf(D), ax = axis < 0 ? axis + shape.length : axis;
    const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1), inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    const nb = Math.ceil(D / B), qtype = QT[cases.length % QT.length]!;
    cases.push({ shape, p: { ...params(qtype, outer * nb * inner), axis, blockSize: B }, units: outer * nb, what: `${qtype} [${shape}] axis ${axis} B ${B}` });
  }
  // per axis: the axis first (one slice), in the middle (the scale cycle restarts every slice) and last
  for (const [shape, axis] of [[[7, 9], 0], [[4, 7, 9], 1], [[3, 5, 33], 1], [[9, 37], 1], [[13, 3], -1]] as [number[], number][]) {
    const ax = axis < 0 ? axis + shape.length : axis;
    const outer = shape.slice(0, ax).reduce((a, b) => a * b, 1), inner = shape.slice(ax + 1).reduce((a, b) => a * b, 1);
    const qtype = QT[cases.length % QT.length]!;
    cases.push({ shape, p: { ...params(qtype, shape[ax]!), axis }, units: inner > 1 ? outer * shape[ax]! : outer, what: `${qtype} [${shape}] axis ${axis}` });
  }
  const inputs = cases.map(({ shape, p }) => {
    const n = shape.reduce((a, b) => a * b, 1), info = QTYPES[p.qtype];
    const x = Float32Array.from({ length: n }, (_, i) => (i % 37 === 0 ? Infinity * (i % 2 ? 1 : -1) : rng.gaussian() * 4));
    const codes = storageArray(info, n);
    for (let i = 0; i < n; i++) codes[i] = rng.int(info.qmin, info.qmax);
    return { x, codes };
  });

  it('quantize / dequantize / fakeQuantize, array and tensor form: bit-identical on 1–4 threads, each call over min(threads, units) shares', async () => {
    await sameForEveryThreadCount(() => cases.flatMap(({ shape, p, units, what }, i) => {
      const { x, codes } = inputs[i]!;
      const out: ArrayBufferView[] = [];
      const shares = sharesUsedBy(() => {
        out.push(quantize(x, shape, p), dequantize(codes, shape, p), fakeQuantize(x, shape, p));
        using xt = Tensor.from(x, shape) as Tensor<'float32'>;
        using qt = quantizeTensor(xt, p);
        using ct = Tensor.from(codes, shape);
        using dt = dequantizeTensor(ct, p);
        using ft = fakeQuantizeTensor(xt, p);
        out.push(qt.toArray(), dt.toArray(), ft.toArray());
      });
      expect(shares, what).toEqual(new Array(6).fill(Math.min(threads(), units)));
      return out;
    }));
  });

  it('the shares tile the tensor: every element in exactly one call, in order; at most three calls per share', () => {
    const sweep: [number[], Partial<QParams>, number][] = [];
    for (const D of [1, 2, 3, 5, 7, 16, 31, 33, 100]) {
      for (const B of [1, 2, 3, 16, 32, 200]) {
        for (const [shape, axis] of [[[D, 3], 0], [[2, D, 3], 1], [[3, D], -1], [[4, D, 20], 1]] as [number[], number][]) {
          const ax = axis < 0 ? axis + shape.length : axis;
          sweep.push([shape, { axis, blockSize: B }, shape.reduce((a, b, k) => a * (k === ax ? Math.ceil(b / B) : b), 1)]);
        }
      }
      for (const [shape, axis] of [[[D, 3], 0], [[2, D, 3], 1], [[3, D], -1]] as [number[], number][]) sweep.push([shape, { axis }, D]);
      sweep.push([[D * 17], {}, 1]);
    }
    for (const [shape, extra, count] of sweep) {
      const rp = resolveParams({ qtype: 'int8', scale: count === 1 && extra.axis === undefined ? 0.1 : new Float32Array(count).fill(0.1), ...extra } as QParams, shape);
      for (let shares = 1; shares <= 7; shares++) {
        const split = shareElements(rp, shares);
        const what = `[${shape}] ${JSON.stringify(extra)} ${shares} shares`;
        expect(split.length, what).toBeLessThanOrEqual(shares);
        let next = 0;
        for (const calls of split) {
          expect(calls.length, what).toBeGreaterThanOrEqual(1);
          expect(calls.length, what).toBeLessThanOrEqual(3);
          for (const { start, count: n } of calls) {
            expect(start, what).toBe(next);
            expect(n, what).toBeGreaterThan(0);
            if (rp.granularity === 'tensor') expect(start % 16, what).toBe(0);
            next += n;
          }
        }
        expect(next, what).toBe(rp.size);
      }
    }
  });

  it('the first NaN in the tensor, whichever share and which of its calls finds it, equals one thread\'s', async () => {
    const layouts: [number[], Omit<QParams, 'qtype' | 'scale' | 'zeroPoint'>, number][] = [
      [[6, 37], { axis: -1, blockSize: 8 }, 6 * 5], // blocks, ragged last block of 5
      [[3, 37, 20], { axis: 1, blockSize: 8 }, 3 * 5 * 20], // cols, ragged last group of rows
      [[4, 7, 9], { axis: 1 }, 7], // blocks, the scale cycle restarting in a share
      [[9, 37], { axis: 1 }, 37], // cols, one scale row
      [[5000], {}, 1], // per tensor
    ];
    for (const [shape, extra, count] of layouts) {
      const n = shape.reduce((a, b) => a * b, 1);
      const p = { ...params('int8', count), ...extra } as QParams;
      const x = Float32Array.from({ length: n }, () => rng.gaussian());
      // NaNs in the last shares' ranges: one in a slice's tail and a later one
      const first = Math.floor(0.55 * n) + 3, second = Math.floor(0.9 * n);
      x[second] = NaN; x[first] = NaN;
      for (const t of THREADS) {
        await setThreads(t);
        const what = `[${shape}] ${JSON.stringify(extra)} ${t} threads`;
        expect(() => quantize(x, shape, p), what).toThrow(new RegExp(`first at index ${first}\\)`));
        expect(() => fakeQuantize(x, shape, p), what).toThrow(new RegExp(`first at index ${first}\\)`));
        using xt = Tensor.from(x, shape) as Tensor<'float32'>;
        expect(() => quantizeTensor(xt, p), what).toThrow(new RegExp(`first at index ${first}\\)`));
      }
    }
  });
});

describe('calibration scans with ragged groups: the host wrappers', () => {
  const rng = new Rng(19);
  // per tensor (1 group: cut into pieces), per axis first / middle / last (few or many groups; gathered when the axis is not first), blocked with ragged blocks
  const layouts: [number[], number | undefined, number | undefined][] = [
    [[3001], undefined, undefined], [[3, 700], 0, undefined], [[2, 3, 150], 1, undefined], [[40, 37], 1, undefined],
    [[1000, 3], 0, 32], [[3, 100, 4], 1, 33], [[7, 250], -1, 16], [[2, 50], -1, 64],
  ];
  it('min/max, histogram counts and Q/DQ squared error per group: bit-identical on 1–4 threads, split over every thread', async () => {
    const data = layouts.map(([shape, axis, B]) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const xs = [0, 1, 2].map(() => Float32Array.from({ length: n }, (_, i) => (i % 53 === 0 ? (i % 2 ? -0 : 0) : rng.laplace() * 3)));
      return { layout: groupLayout(n, shape, axis, B), xs };
    });
    await sameForEveryThreadCount(() => data.flatMap(({ layout, xs }) => {
      const G = layout.groups, nbins = 64, info = QTYPES.int8;
      const what = `[${layout.shape}] axis ${layout.axis} B ${layout.blockSize}`;
      const batches = xs.map((x) => stageBatch(x, layout));
      try {
        const out: ArrayBufferView[] = [];
        let ranges: { min: Float32Array; max: Float32Array }[] = [];
        const rangeShares = sharesUsedBy(() => { ranges = batches.map((b) => batchRange(b, layout)); });
        // min/max and histograms are order-free: a few groups are cut into pieces, so every thread works
        expect(rangeShares, what).toEqual([threads(), threads(), threads()]);
        const lo = Float32Array.from(ranges[0]!.min), invw = Float32Array.from(ranges[0]!.max, (h, g) => Math.fround(nbins / (h - lo[g]!)));
        // fractional counts (as after re-binning): each cell's shares must be added once, as on one thread
        const seed = new Rng(G);
        const counts = Float64Array.from({ length: G * nbins }, () => seed.next() / 3), zeros = new Float64Array(G); // every mantissa bit set
        const histShares = sharesUsedBy(() => { for (const b of batches) accumulateHistogram(b, lo, invw, nbins, false, counts, zeros); });
        expect(histShares, what).toEqual([threads(), threads(), threads()]);
        const scales = Float32Array.from(ranges[0]!.min, (l, g) => Math.fround((ranges[0]!.max[g]! - l) / 255));
        const zps = Float32Array.from(ranges[0]!.min, (l, g) => Math.max(-128, Math.min(127, Math.round(-128 - l / scales[g]!))));
        const err = new Float64Array(G);
        const errShares = sharesUsedBy(() => qdqSquaredError(batches, scales, zps, info.qmin, info.qmax, err));
        expect(errShares, what).toEqual([Math.min(threads(), G)]); // whole groups: each sum keeps its order
        for (const r of ranges) out.push(r.min, r.max);
        out.push(counts, zeros, err);
        return out;
      } finally {
        for (const b of batches) releaseBatch(b);
      }
    }));
  });

  it('observers with ragged blocks (every observer, the blocked axis first, middle, last): bit-identical qparams on 1–4 threads', async () => {
    const cases: [number[], number | undefined, number | undefined][] = [[[100, 6], 0, 32], [[3, 77, 5], 1, 16], [[4, 300], -1, 64], [[3, 1000], 0, undefined]];
    const xs = cases.map(([shape]) => Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.laplace()));
    await sameForEveryThreadCount(() => cases.flatMap(([shape, axis, blockSize], i) => {
      const out: Float32Array[] = [];
      for (const O of [MinMaxObserver, PercentileObserver, EntropyObserver, MseObserver]) {
        const o = new O({ qtype: 'int8', symmetric: false, axis, ...(blockSize === undefined ? {} : { blockSize }), ...(O === EntropyObserver ? { symmetric: true } : {}) });
        o.observe(xs[i]!, shape);
        o.observe(xs[i]!.map((v) => 1.25 * v), shape);
        const p = o.qparams();
        out.push(Float32Array.from([p.scale].flat() as number[]), Float32Array.from([p.zeroPoint ?? 0].flat() as number[]));
        o.dispose();
      }
      return out;
    }));
  });

  it('a NaN is reported at the index one thread reports (the first in group-major order), whichever share scans it', async () => {
    // per axis on a non-first axis is gathered into group-major order, which differs from the caller's
    const shape = [64, 257];
    const x = Float32Array.from({ length: 64 * 257 }, () => rng.gaussian());
    x[10 * 257 + 3] = NaN; x[200] = NaN; x[50 * 257 + 250] = NaN;
    const cases: [number | undefined, number | undefined, number][] = [
      [1, undefined, 10 * 257 + 3], [0, undefined, 200], [undefined, undefined, 200], [1, 100, 200], [-1, 48, 200], [0, 5, 200],
    ];
    for (const [axis, blockSize, first] of cases) {
      for (const n of THREADS) {
        await setThreads(n);
        const o = new MinMaxObserver({ qtype: 'int8', axis, ...(blockSize === undefined ? {} : { blockSize }) });
        expect(() => o.observe(x, shape), `axis ${axis} B ${blockSize} ${n} threads`).toThrow(new RegExp(`first at index ${first}\\)`));
        o.dispose();
      }
    }
  });
});

describe('the size threshold (element-wise and calibration)', () => {
  it('a call below 2 × the least share stays on the calling thread at the default threshold; a large one uses every thread', async () => {
    await setThreads(2);
    setMinShareBytes(undefined);
    try {
      const p: QParams = { qtype: 'int8', scale: 0.1, zeroPoint: 0 };
      const small = new Float32Array(1000), large = Float32Array.from({ length: 1 << 20 }, (_, i) => Math.sin(i));
      expect(sharesUsedBy(() => quantize(small, [small.length], p))).toEqual([1]);
      expect(sharesUsedBy(() => quantize(large, [large.length], p))).toEqual([2]); // 5 MiB in and out
      const o = new MinMaxObserver({ qtype: 'int8' });
      expect(sharesUsedBy(() => o.observe(small, [small.length]))).toEqual([1]);
      expect(sharesUsedBy(() => o.observe(large, [large.length]))).toEqual([2]); // 4 MiB scanned
      o.dispose();
    } finally {
      setMinShareBytes(0);
    }
  });
});
