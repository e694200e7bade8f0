/**
 * Blocked quantization with a ragged last block, exactly as ONNX QuantizeLinear / DequantizeLinear
 * (opset 21+): ⌈D/B⌉ scales along the axis, element d using scale ⌊d/B⌋ (docs/quantization.md
 * eq. 4, 50–52).
 *   - intquant's own conformance cases (test/fixtures/onnx/intquant_ragged_blocks.json, derived
 *     outside intquant from the ONNX definition);
 *   - the element-wise kernels through quantize / dequantize / fakeQuantize (array and tensor form)
 *     against the eq.-(4)-indexed scalar reference, swept over D × B × every qtype × the blocked
 *     axis first, middle and last;
 *   - the calibration kernels (gather, min/max, histogram, Q/DQ error) on the same sweep against
 *     their scalar twins fed with each group's elements gathered by eq. (4);
 *   - every observer with a ragged blockSize.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, quantize, dequantize, fakeQuantize, quantizeTensor, dequantizeTensor, fakeQuantizeTensor, qparamsFromRange, Tensor,
  MinMaxObserver, MovingAverageMinMaxObserver, PercentileObserver, MseObserver, EntropyObserver,
  QTYPES, QTYPE_NAMES, memoryStats, type Observer, type ObserverOptions, type QParams, type QType,
} from '../src/index.js';
import { Rng } from '../src/data/random.js';
import { rt } from '../src/runtime/wasm.js';
import { storageArray, type QStorageArray } from '../src/quant/qtypes.js';
import * as ref from '../src/reference/quant.js';
import { histogramRowsRef, minmaxRowsRef, qdqSqerrRowsExactRef } from '../src/reference/calibrate.js';
import { groupLayout } from '../src/calibrate/layout.js';
import { accumulateHistogram, batchRange, qdqSquaredError, releaseBatch, stageBatch } from '../src/calibrate/kernels.js';

beforeAll(async () => { await init(); });

const DIMS = [1, 2, 3, 5, 7, 31, 32, 33, 97, 1000];
const BLOCKS = [1, 2, 3, 16, 32, 33, 64, 128];
/** The blocked axis first, in the middle and last. */
const LAYOUTS: [string, (D: number) => number[], number][] = [
  ['first', (D) => [D, 3], 0],
  ['middle', (D) => [2, D, 3], 1],
  ['last', (D) => [3, D], -1],
];

const prod = (a: readonly number[]) => a.reduce((x, y) => x * y, 1);
/** Number of scales of blocked parameters: x's shape with shape[axis] → ⌈shape[axis]/B⌉. */
const blockedCount = (shape: readonly number[], axis: number, B: number) =>
  prod(shape.map((d, k) => (k === (axis < 0 ? axis + shape.length : axis) ? Math.ceil(d / B) : d)));

function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) expect.fail(`${what}: element ${i}: got ${actual[i]}, expected ${expected[i]}`);
  }
}

// ---- intquant's own conformance cases --------------------------------------------------------

interface Value { name: string; dtype: string; dims: number[]; values: number[] }
interface Case { test: string; op: string; attributes: { axis: number; block_size: number }; inputs: Value[]; outputs: Value[]; derivation: string[] }
const FIXTURE = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'onnx', 'intquant_ragged_blocks.json'), 'utf8')) as { note: string; cases: Case[] };

describe('ragged blocks: intquant conformance cases beside the ONNX vectors', () => {
  it('cover D = 5 with B = 2 and D = 7 with B = 3 for int4, uint8 and int8, axis first, middle and last, with a derivation per element', () => {
    const seen = new Set<string>();
    for (const c of FIXTURE.cases) {
      const x = c.inputs[0]!, s = c.inputs[1]!;
      const ax = c.attributes.axis < 0 ? c.attributes.axis + x.dims.length : c.attributes.axis;
      const D = x.dims[ax]!, B = c.attributes.block_size;
      expect(s.dims[ax]).toBe(Math.ceil(D / B));
      expect(D % B).not.toBe(0); // ragged
      expect(c.derivation.length).toBe(x.values.length);
      seen.add(`${c.op === 'QuantizeLinear' ? c.outputs[0]!.dtype : x.dtype} D${D} B${B}`);
      seen.add(`axis ${ax === 0 ? 'first' : ax === x.dims.length - 1 ? 'last' : 'middle'}`);
    }
    for (const t of ['int4', 'uint8', 'int8']) for (const db of ['D5 B2', 'D7 B3']) expect(seen).toContain(`${t} ${db}`);
    for (const a of ['first', 'middle', 'last']) expect(seen).toContain(`axis ${a}`);
    expect(FIXTURE.note).toMatch(/derived outside intquant/);
  });

  for (const c of FIXTURE.cases) {
    it(`${c.test}: array API, tensor API and the scalar reference give the fixture's values`, () => {
      const [x, sc, zp] = c.inputs as [Value, Value, Value];
      const y = c.outputs[0]!;
      const qtype = (c.op === 'QuantizeLinear' ? y.dtype : x.dtype) as QType;
      const info = QTYPES[qtype];
      const p: QParams = { qtype, scale: Float32Array.from(sc.values), zeroPoint: zp.values, axis: c.attributes.axis, blockSize: c.attributes.block_size };
      const rp: ref.RefParams = {
        qmin: info.qmin, qmax: info.qmax, scale: sc.values, zeroPoint: zp.values,
        axis: c.attributes.axis < 0 ? c.attributes.axis + x.dims.length : c.attributes.axis, blockSize: c.attributes.block_size,
      };
      if (c.op === 'QuantizeLinear') {
        const xs = Float32Array.from(x.values);
        expectExact(quantize(xs, x.dims, p), y.values, 'quantize');
        using xt = Tensor.from(xs, x.dims) as Tensor<'float32'>;
        using qt = quantizeTensor(xt, p);
        expectExact(qt.toArray(), y.values, 'quantizeTensor');
        expectExact(ref.quantizeTensorRef(xs, x.dims, rp, storageArray(info, xs.length)), y.values, 'reference');
        // fake quantization is dequantize(quantize(x)) with the same blocks
        const want = Float32Array.from(y.values, (q, i) => Math.fround((q - zp.values[ref.scaleIndex(i, x.dims, rp)]!) * Math.fround(sc.values[ref.scaleIndex(i, x.dims, rp)]!)));
        expectExact(fakeQuantize(xs, x.dims, p), want, 'fakeQuantize');
        using ft = fakeQuantizeTensor(xt, p);
        expectExact(ft.toArray(), want, 'fakeQuantizeTensor');
      } else {
        const q = storageArray(info, x.values.length);
        q.set(x.values);
        expectExact(dequantize(q, x.dims, p), y.values, 'dequantize');
        using qt = Tensor.from(q, x.dims);
        using yt = dequantizeTensor(qt, p);
        expectExact(yt.toArray(), y.values, 'dequantizeTensor');
        expectExact(ref.dequantizeTensorRef(q, x.dims, rp), y.values, 'reference');
      }
    });
  }
});

// ---- the element-wise kernels: D × B × qtype × layout --------------------------------------------

/** Floats around a grid of scale s: in range, past both ends, exact ties, grid points, ±Inf, ±0. */
function floats(rng: Rng, n: number, s: number, span: number): Float32Array {
  const x = new Float32Array(n);
  const sp = [Infinity, -Infinity, 0, -0, 1e-42, 3.4e38, -3.4e38];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    x[i] = r < 0.05 ? sp[rng.int(0, sp.length - 1)]! : r < 0.3 ? (rng.int(-span, span) + 0.5) * s : (rng.next() * 2.6 - 1.3) * span * s;
  }
  return x;
}

describe.each(QTYPE_NAMES.map((n) => [n]))('ragged blocks: quantize / dequantize / fakeQuantize vs the eq. (4) reference — %s', (qtype: QType) => {
  const info = QTYPES[qtype];
  for (const [where, shapeOf, axis] of LAYOUTS) {
    it(`every D in {${DIMS.join(', ')}} × B in {${BLOCKS.join(', ')}}, blocked axis ${where}, array and tensor form, bit for bit`, () => {
      const rng = new Rng(0x7a66 + info.bits * 17 + (info.signed ? 1 : 0) + axis * 5);
      for (const D of DIMS) {
        for (const B of BLOCKS) {
          const shape = shapeOf(D), n = prod(shape), count = blockedCount(shape, axis, B);
          const scale = Float32Array.from({ length: count }, () => Math.fround(Math.exp(rng.next() * 8 - 6)));
          const zeroPoint = Int32Array.from({ length: count }, () => rng.int(info.qmin, info.qmax));
          const p: QParams = { qtype, scale, zeroPoint, axis, blockSize: B };
          const rp: ref.RefParams = { qmin: info.qmin, qmax: info.qmax, scale, zeroPoint, axis: axis < 0 ? axis + shape.length : axis, blockSize: B };
          const what = `${qtype} [${shape.join(', ')}] axis ${axis} B ${B}`;
          const x = floats(rng, n, scale[0]!, (info.qmax - info.qmin) >> 1);
          const wantQ = ref.quantizeTensorRef(x, shape, rp, storageArray(info, n));
          const wantF = ref.fakeQuantizeTensorRef(x, shape, rp);
          const codes = storageArray(info, n);
          for (let i = 0; i < n; i++) codes[i] = rng.int(info.qmin, info.qmax);
          const wantD = ref.dequantizeTensorRef(codes, shape, rp);
          expectExact(quantize(x, shape, p), wantQ, `quantize ${what}`);
          expectExact(fakeQuantize(x, shape, p), wantF, `fakeQuantize ${what}`);
          expectExact(dequantize(codes, shape, p), wantD, `dequantize ${what}`);
          using xt = Tensor.from(x, shape) as Tensor<'float32'>;
          using qt = quantizeTensor(xt, p);
          expectExact(qt.toArray(), wantQ, `quantizeTensor ${what}`);
          using ft = fakeQuantizeTensor(xt, p);
          expectExact(ft.toArray(), wantF, `fakeQuantizeTensor ${what}`);
          using ct = Tensor.from(codes as QStorageArray, shape);
          using dt = dequantizeTensor(ct, p);
          expectExact(dt.toArray(), wantD, `dequantizeTensor ${what}`);
        }
      }
    });
  }

  it('the scale count must be ⌈D/B⌉ along the axis: one too few or too many names p.scale and the count', () => {
    const x = new Float32Array(2 * 7);
    for (const extra of [-1, 1]) {
      const scale = new Float32Array(2 * 3 + extra).fill(0.5);
      expect(() => quantize(x, [2, 7], { qtype, scale, axis: 1, blockSize: 3 })).toThrow(/^p\.scale: .*⌈7\/3⌉ = 3 blocks along the axis, 6 values\), got (5|7)/);
    }
    expect(() => dequantize(storageArray(info, 14), [2, 7], { qtype, scale: new Float32Array(4).fill(1), axis: 1, blockSize: 3 })).toThrow(/^p\.scale: /);
  });
});

// ---- the calibration kernels on the same sweep ---------------------------------------------------

/** Each group's elements in the caller's order, gathered by eq. (4) from flat indices (not by the kernels' layout code). */
function gatherByScaleIndex(x: Float32Array, shape: number[], axis: number, B: number, groups: number): { data: Float32Array; starts: Int32Array } {
  const rp: ref.RefParams = { qmin: 0, qmax: 0, scale: new Float32Array(groups), zeroPoint: [], axis: axis < 0 ? axis + shape.length : axis, blockSize: B };
  const lists: number[][] = Array.from({ length: groups }, () => []);
  for (let i = 0; i < x.length; i++) lists[ref.scaleIndex(i, shape, rp)]!.push(x[i]!);
  const starts = new Int32Array(groups + 1);
  lists.forEach((l, g) => { starts[g + 1] = starts[g]! + l.length; });
  return { data: Float32Array.from(lists.flat()), starts };
}

describe('ragged blocks: calibration kernels (gather, min/max, histogram, Q/DQ error) vs their scalar twins', () => {
  for (const [where, shapeOf, axis] of LAYOUTS) {
    it(`every D × B, blocked axis ${where}, every qtype's Q/DQ error; exact`, () => {
      const rng = new Rng(0xca1 + axis);
      const NB = 16;
      for (const D of DIMS) {
        for (const B of BLOCKS) {
          const shape = shapeOf(D), n = prod(shape);
          const x = Float32Array.from({ length: n }, () => rng.laplace() * 2);
          for (let i = 0; i < n; i += 5) x[i] = 0;
          const layout = groupLayout(n, shape, axis, B);
          const groups = layout.groups;
          expect(groups).toBe(blockedCount(shape, axis, B));
          const { data, starts } = gatherByScaleIndex(x, shape, axis, B, groups);
          expect(layout.starts).toEqual(starts);
          const batch = stageBatch(x, layout);
          try {
            const what = `[${shape.join(', ')}] axis ${axis} B ${B}`;
            // the gathered batch itself
            expect(rt().mem.f32(batch.offset, n).slice(), `gather ${what}`).toEqual(data);
            // min/max
            const mm = new Float32Array(2 * groups);
            for (let g = 0; g < groups; g++) { mm[2 * g] = Infinity; mm[2 * g + 1] = -Infinity; }
            expect(minmaxRowsRef(data, groups, starts, mm)).toBe(-1);
            const r = batchRange(batch, layout);
            expectExact(r.min, mm.filter((_, k) => k % 2 === 0), `min ${what}`);
            expectExact(r.max, mm.filter((_, k) => k % 2 === 1), `max ${what}`);
            // histogram (|x| and signed), per-group ranges
            const lo = new Float32Array(groups), invw = new Float32Array(groups);
            for (let g = 0; g < groups; g++) { lo[g] = Math.min(0, r.min[g]!); invw[g] = Math.fround(NB / Math.max(1e-3, r.max[g]! - lo[g]!)); }
            for (const absolute of [false, true]) {
              const c4 = new Int32Array(groups * NB * 4), z = new Int32Array(groups);
              histogramRowsRef(data, groups, starts, lo, invw, NB, absolute, c4, z);
              const counts = new Float64Array(groups * NB), zeros = new Float64Array(groups);
              accumulateHistogram(batch, lo, invw, NB, absolute, counts, zeros);
              expectExact(counts, Float64Array.from({ length: groups * NB }, (_, k) => c4[4 * k]! + c4[4 * k + 1]! + c4[4 * k + 2]! + c4[4 * k + 3]!), `histogram ${what}`);
              expectExact(zeros, Float64Array.from(z), `zeros ${what}`);
            }
            // Q/DQ squared error, every qtype, bit for bit with the order-faithful twin
            for (const name of QTYPE_NAMES) {
              const info = QTYPES[name];
              const scales = Float32Array.from({ length: groups }, () => Math.fround((8 / (info.qmax - info.qmin)) * (0.5 + rng.next())));
              const zps = Float32Array.from({ length: groups }, () => (info.signed ? 0 : rng.int(info.qmin, info.qmax)));
              const want = new Float64Array(groups);
              qdqSqerrRowsExactRef(data, groups, starts, scales, zps, info.qmin, info.qmax, want);
              const got = new Float64Array(groups);
              qdqSquaredError([batch], scales, zps, info.qmin, info.qmax, got);
              expectExact(got, want, `Q/DQ error ${name} ${what}`);
            }
          } finally {
            releaseBatch(batch);
          }
        }
      }
    });
  }
});

// ---- observers ---------------------------------------------------------------------------------------

type ObserverClass = new (options: ObserverOptions) => Observer;
const OBSERVERS: [string, ObserverClass][] = [
  ['MinMaxObserver', MinMaxObserver], ['MovingAverageMinMaxObserver', MovingAverageMinMaxObserver],
  ['PercentileObserver', PercentileObserver], ['MseObserver', MseObserver], ['EntropyObserver', EntropyObserver],
];
/** Shapes with ragged blocks along the first, a middle and the last axis. */
const OBS_CASES: [number[], number, number][] = [[[97, 5], 0, 33], [[2, 33, 3], 1, 16], [[3, 97], -1, 32], [[2, 7], 1, 3]];

describe('ragged blocks: every observer', () => {
  for (const [name, O] of OBSERVERS) {
    for (const symmetric of [true, false]) {
      it(`${name} (${symmetric ? 'symmetric' : 'asymmetric'}): ⌈D/B⌉ parameters along the axis, each block's equal to a per-tensor observer fed that block's elements`, () => {
        const rng = new Rng(0x0b5 + name.length + (symmetric ? 1 : 0));
        const before = memoryStats().bytesInUse;
        for (const [shape, axis, B] of OBS_CASES) {
          const n = prod(shape), groups = blockedCount(shape, axis, B);
          const batches = [0, 1, 2].map((t) => Float32Array.from({ length: n }, () => rng.laplace() * (1 + t)));
          const opts = { qtype: 'int4' as QType, symmetric };
          const obs = new O({ ...opts, axis, blockSize: B });
          for (const b of batches) obs.observe(b, shape);
          const p = obs.qparams();
          expect(p.blockSize).toBe(B);
          expect(p.axis).toBe(axis < 0 ? axis + shape.length : axis); // observers report the normalised axis
          expect((p.scale as Float32Array).length).toBe(groups);
          const range = obs.clippingRange();
          const parts = batches.map((b) => gatherByScaleIndex(b, shape, axis, B, groups));
          for (let g = 0; g < groups; g++) {
            const one = new O(opts);
            for (const part of parts) one.observe(part.data.subarray(part.starts[g]!, part.starts[g + 1]!), [part.starts[g + 1]! - part.starts[g]!]);
            const r1 = one.clippingRange(), p1 = one.qparams();
            expect(range.min[g], `group ${g} min`).toBe(r1.min[0]);
            expect(range.max[g], `group ${g} max`).toBe(r1.max[0]);
            expect((p.scale as Float32Array)[g]).toBe(p1.scale);
            expect((p.zeroPoint as ArrayLike<number>)[g]).toBe(p1.zeroPoint);
            one.dispose();
          }
          // and quantize() takes the observer's parameters for the same ragged shape
          expect(fakeQuantize(batches[0]!, shape, p).length).toBe(n);
          obs.dispose();
        }
        expect(memoryStats().bytesInUse).toBe(before);
      });
    }
  }

  it('MinMaxObserver and MovingAverageMinMaxObserver equal qparamsFromRange on the eq. (4) block ranges', () => {
    const rng = new Rng(99);
    for (const [shape, axisIn, B] of OBS_CASES) {
      const n = prod(shape), groups = blockedCount(shape, axisIn, B), axis = axisIn < 0 ? axisIn + shape.length : axisIn;
      const b1 = Float32Array.from({ length: n }, () => rng.gaussian()), b2 = Float32Array.from({ length: n }, () => rng.gaussian() * 3);
      const r1 = gatherByScaleIndex(b1, shape, axis, B, groups), r2 = gatherByScaleIndex(b2, shape, axis, B, groups);
      const lo1 = new Float32Array(groups), hi1 = new Float32Array(groups), lo2 = new Float32Array(groups), hi2 = new Float32Array(groups);
      for (let g = 0; g < groups; g++) {
        const a = r1.data.subarray(r1.starts[g]!, r1.starts[g + 1]!), c = r2.data.subarray(r2.starts[g]!, r2.starts[g + 1]!);
        lo1[g] = Math.min(...a); hi1[g] = Math.max(...a); lo2[g] = Math.min(...c); hi2[g] = Math.max(...c);
      }
      using mm = new MinMaxObserver({ qtype: 'uint8', axis, blockSize: B });
      mm.observe(b1, shape).observe(b2, shape);
      const want = qparamsFromRange(lo1.map((v, g) => Math.min(v, lo2[g]!)), hi1.map((v, g) => Math.max(v, hi2[g]!)), { qtype: 'uint8', axis, blockSize: B });
      expect(mm.qparams()).toEqual(want);
      using ma = new MovingAverageMinMaxObserver({ qtype: 'uint8', axis, blockSize: B, averagingConstant: 0.25 });
      ma.observe(b1, shape).observe(b2, shape);
      const avg = (a: number, b: number) => a + 0.25 * (b - a);
      expect(ma.qparams()).toEqual(qparamsFromRange(lo1.map((v, g) => avg(v, lo2[g]!)), hi1.map((v, g) => avg(v, hi2[g]!)), { qtype: 'uint8', axis, blockSize: B }));
    }
  });

  it('EntropyObserver runs the KL search on ragged blocks large enough for it and keeps min-max on the short last one', () => {
    const rng = new Rng(5150);
    const shape = [2, 1300], B = 600; // blocks of 600, 600 and 100 per row; 2 batches → 1200, 1200, 200 samples
    using ent = new EntropyObserver({ qtype: 'int4', symmetric: true, axis: 1, blockSize: B });
    using mm = new MinMaxObserver({ qtype: 'int4', symmetric: true, axis: 1, blockSize: B });
    for (let t = 0; t < 2; t++) {
      const x = Float32Array.from({ length: 2600 }, () => rng.laplace());
      ent.observe(x, shape); mm.observe(x, shape);
    }
    const e = ent.clippingRange(), m = mm.clippingRange();
    for (const g of [0, 1, 3, 4]) expect(e.max[g]!, `block ${g} clipped by KL`).toBeLessThan(m.max[g]!);
    for (const g of [2, 5]) expect(e.max[g], `short block ${g} keeps min-max`).toBe(m.max[g]);
  });
});

