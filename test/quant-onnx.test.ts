/**
 * ONNX conformance: every QuantizeLinear / DequantizeLinear / DynamicQuantizeLinear vector in
 * test/fixtures/onnx/ (the ONNX project's own node tests), through the array API, the tensor API
 * and the scalar reference, compared bit for bit.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, quantize, dequantize, dynamicQuantize, quantizeTensor, dequantizeTensor, dynamicQuantizeTensor,
  packInt4, unpackInt4, packInt2, unpackInt2, Tensor, QTYPES, type QParams, type QType,
} from '../src/index.js';
import { dequantizeTensorRef, dynamicQuantizeRef, quantizeTensorRef, type RefParams } from '../src/reference/quant.js';
import { storageArray } from '../src/quant/qtypes.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'onnx');

interface Value { name: string; dtype: string; dims: number[]; values: (number | string)[]; packed_bytes?: number[] }
interface Fixture {
  test: string; op: string; expanded: boolean; attributes: Record<string, number | string>;
  node_inputs: string[]; inputs: Value[]; outputs: Value[];
}

const num = (v: number | string): number => (v === '-0' ? -0 : typeof v === 'string' ? Number(v) : v);
const nums = (v: Value): number[] => v.values.map(num);

const fixtures: Fixture[] = readdirSync(DIR)
  .filter((f) => /^test_(de)?quantizelinear|^test_dynamicquantizelinear/.test(f) && f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Fixture);

/** ONNX inputs → QParams (and the plain form the reference takes). */
function paramsOf(fx: Fixture, qtype: QType, x: Value): { p: QParams; ref: RefParams } {
  const [, scaleName, zpName] = fx.node_inputs;
  const scale = fx.inputs.find((v) => v.name === scaleName)!;
  const zp = zpName ? fx.inputs.find((v) => v.name === zpName) : undefined;
  const s = nums(scale);
  const z = zp ? nums(zp) : s.map(() => 0);
  const info = QTYPES[qtype];
  const perTensor = s.length === 1;
  const axisAttr = fx.attributes['axis'];
  const blockSize = fx.attributes['block_size'] as number | undefined;
  const p: QParams = perTensor
    ? { qtype, scale: s[0]!, zeroPoint: z[0]! }
    : { qtype, scale: Float32Array.from(s), zeroPoint: z, axis: axisAttr as number | undefined };
  if (blockSize) p.blockSize = blockSize;
  const rank = x.dims.length;
  const axis = typeof axisAttr === 'number' ? (axisAttr < 0 ? axisAttr + rank : axisAttr) : 1;
  return { p, ref: { qmin: info.qmin, qmax: info.qmax, scale: s, zeroPoint: perTensor ? [z[0]!] : z, axis, blockSize: blockSize ?? 0 } };
}

/** Exact comparison, −0 distinct from +0. */
function expectExact(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  const a = Array.from(actual), e = Array.from(expected);
  for (let i = 0; i < e.length; i++) {
    if (!Object.is(a[i], e[i])) expect.fail(`element ${i}: got ${Object.is(a[i], -0) ? '-0' : a[i]}, expected ${Object.is(e[i], -0) ? '-0' : e[i]}`);
  }
}

beforeAll(async () => { await init(); });

describe('ONNX conformance vectors (test/fixtures/onnx)', () => {
  it('the fixture folder holds every Q / DQ / DynamicQuantizeLinear vector listed in issue 2', () => {
    const names = fixtures.map((f) => f.test);
    for (const t of ['', '_axis', '_blocked_asymmetric', '_blocked_symmetric', '_int16', '_uint16', '_int4', '_uint4', '_int2', '_uint2']) {
      expect(names).toContain(`test_quantizelinear${t}`);
    }
    for (const t of ['', '_axis', '_blocked', '_int16', '_uint16', '_int4', '_uint4', '_int2', '_uint2']) {
      expect(names).toContain(`test_dequantizelinear${t}`);
    }
    for (const t of ['', '_max_adjusted', '_min_adjusted']) {
      expect(names).toContain(`test_dynamicquantizelinear${t}`);
      expect(names).toContain(`test_dynamicquantizelinear${t}_expanded`);
    }
    expect(fixtures.length).toBe(25);
  });

  for (const fx of fixtures) {
    if (fx.op === 'QuantizeLinear') {
      it(`${fx.test}: QuantizeLinear`, () => {
        const x = fx.inputs.find((v) => v.name === fx.node_inputs[0])!;
        const y = fx.outputs[0]!;
        const qtype = y.dtype as QType;
        const { p, ref } = paramsOf(fx, qtype, x);
        const xs = Float32Array.from(nums(x));
        const expected = nums(y);
        // array API
        const q = quantize(xs, x.dims, p);
        expect(q).toBeInstanceOf(storageArray(QTYPES[qtype], 0).constructor);
        expectExact(q, expected);
        // tensor API (zero-copy)
        using xt = Tensor.from(xs, x.dims) as Tensor<'float32'>;
        using qt = quantizeTensor(xt, p);
        expect(qt.dtype).toBe(QTYPES[qtype].storage);
        expect(qt.shape).toEqual(x.dims);
        expectExact(qt.toArray(), expected);
        // the oracle agrees too
        expectExact(quantizeTensorRef(xs, x.dims, ref, storageArray(QTYPES[qtype], xs.length)), expected);
        // sub-byte outputs: the packed bytes are ONNX's
        if (y.packed_bytes) {
          const pack = QTYPES[qtype].bits === 4 ? packInt4 : packInt2;
          expect(Array.from(pack(q as Int8Array | Uint8Array))).toEqual(y.packed_bytes);
        }
      });
    } else if (fx.op === 'DequantizeLinear') {
      it(`${fx.test}: DequantizeLinear`, () => {
        const x = fx.inputs.find((v) => v.name === fx.node_inputs[0])!;
        const y = fx.outputs[0]!;
        const qtype = x.dtype as QType;
        const info = QTYPES[qtype];
        const { p, ref } = paramsOf(fx, qtype, x);
        let q = storageArray(info, x.values.length);
        q.set(nums(x));
        if (x.packed_bytes) { // start from ONNX's packed bytes, as a user would
          const unpack = info.bits === 4 ? unpackInt4 : unpackInt2;
          const u = unpack(Uint8Array.from(x.packed_bytes), x.values.length, info.signed);
          expectExact(u, nums(x));
          q = u;
        }
        const expected = nums(y);
        expectExact(dequantize(q, x.dims, p), expected);
        using qt = Tensor.from(q, x.dims);
        using yt = dequantizeTensor(qt, p);
        expectExact(yt.toArray(), expected);
        expectExact(dequantizeTensorRef(q, x.dims, ref), expected);
      });
    } else if (fx.op === 'DynamicQuantizeLinear') {
      it(`${fx.test}: DynamicQuantizeLinear${fx.expanded ? ' (expanded form)' : ''}`, () => {
        const x = Float32Array.from(nums(fx.inputs[0]!));
        const [y, ys, yz] = fx.outputs;
        const r = dynamicQuantize(x);
        expectExact(r.q, nums(y!));
        expect(r.scale).toBe(nums(ys!)[0]);
        expect(r.zeroPoint).toBe(nums(yz!)[0]);
        using xt = Tensor.from(x, fx.inputs[0]!.dims) as Tensor<'float32'>;
        const rt = dynamicQuantizeTensor(xt);
        try {
          expectExact(rt.q.toArray(), nums(y!));
          expect([rt.scale, rt.zeroPoint]).toEqual([r.scale, r.zeroPoint]);
        } finally { rt.q.dispose(); }
        const rr = dynamicQuantizeRef(x);
        expectExact(rr.q, nums(y!));
        expect([rr.scale, rr.zeroPoint]).toEqual([r.scale, r.zeroPoint]);
      });
    } else {
      it(`${fx.test}: has an op this runner knows`, () => { expect.fail(`unexpected op ${fx.op}`); });
    }
  }
});
