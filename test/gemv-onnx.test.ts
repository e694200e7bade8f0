/** ONNX conformance: test_matmulinteger and every test_qlinearmatmul_* vector (test/fixtures/onnx/). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { init, matmulInteger, qlinearMatMul, requantize } from '../src/index.js';

beforeAll(async () => { await init(); });

const DIR = join(__dirname, 'fixtures', 'onnx');
interface T { name: string; dtype: string; dims: number[]; values: number[] }
interface Vec { op: string; inputs: T[]; outputs: T[] }
const load = (f: string): Vec => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as Vec;
const get = (v: Vec, name: string): T => {
  const t = v.inputs.find((i) => i.name === name);
  if (!t) throw new Error(`input ${name} missing`);
  return t;
};
const typed = (t: T): Int8Array | Uint8Array => (t.dtype === 'int8' ? Int8Array.from(t.values) : Uint8Array.from(t.values));

describe('ONNX MatMulInteger', () => {
  it('test_matmulinteger', () => {
    const v = load('test_matmulinteger.json');
    const A = get(v, 'A'), B = get(v, 'B');
    const [M, K] = A.dims as [number, number];
    const N = B.dims[1]!;
    const y = matmulInteger(typed(A), typed(B), M, K, N, { aZeroPoint: get(v, 'a_zero_point').values[0], bZeroPoint: get(v, 'b_zero_point').values[0] });
    expect(Array.from(y)).toEqual(v.outputs[0]!.values);
  });
});

const QL = readdirSync(DIR).filter((f) => f.startsWith('test_qlinearmatmul_'));

describe('ONNX QLinearMatMul', () => {
  it('finds all eight vectors (2D/3D × int8/uint8 × float32/float16 scales)', () => {
    expect(QL.length).toBe(8);
  });

  it.each(QL)('%s', (f) => {
    const v = load(f);
    const a = get(v, 'a'), b = get(v, 'b');
    const nd = a.dims.length;
    const M = a.dims[nd - 2]!, K = a.dims[nd - 1]!, N = b.dims[b.dims.length - 1]!;
    const batches = nd === 3 ? a.dims[0]! : 1;
    const A = typed(a), B = typed(b);
    const p = {
      aScale: get(v, 'a_scale').values[0]!, aZeroPoint: get(v, 'a_zero_point').values[0]!,
      bScale: get(v, 'b_scale').values[0]!, bZeroPoint: get(v, 'b_zero_point').values[0]!,
      yScale: get(v, 'y_scale').values[0]!, yZeroPoint: get(v, 'y_zero_point').values[0]!,
    };
    const got: number[] = [];
    for (let i = 0; i < batches; i++) {
      got.push(...qlinearMatMul(A.subarray(i * M * K, (i + 1) * M * K), B.subarray(i * K * N, (i + 1) * K * N), M, K, N, p));
    }
    expect(got).toEqual(v.outputs[0]!.values);
    // and the output stage alone can fail: a 1 % larger y_scale changes at least one value
    const acc = matmulInteger(A.subarray(0, M * K), B.subarray(0, K * N), M, K, N, { aZeroPoint: p.aZeroPoint, bZeroPoint: p.bZeroPoint });
    const off = requantize(acc, { aScale: p.aScale, bScale: p.bScale, yScale: p.yScale * 1.25, yZeroPoint: p.yZeroPoint, outType: a.dtype as 'int8' | 'uint8' });
    expect(Array.from(off)).not.toEqual(v.outputs[0]!.values.slice(0, M * N));
  });
});
