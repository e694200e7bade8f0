/**
 * Every element-wise kernel against its scalar JS twin (src/reference/quant.ts), bit for bit, on
 * seeded random data salted with the awkward values (±Inf, ±0, subnormals, exact .5 ties, huge
 * values), over lengths 0 … 4099 and odd shapes, for every qtype in the registry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { init, QTYPES, QTYPE_NAMES, type QType } from '../src/index.js';
import { rt } from '../src/runtime/wasm.js';
import { Rng } from '../src/data/random.js';
import * as ref from '../src/reference/quant.js';
import { storageArray, type QStorageArray, type QTypeInfo } from '../src/quant/qtypes.js';
import { dequantizeFamily, fakeQuantizeFamily, quantizeFamily } from '../src/quant/kernels.js';

const LENGTHS = [0, 1, 15, 16, 17, 31, 33, 1000, 4099];
/** rows × cols for the *_cols kernels and blocks × blockLen for the *_blocks kernels. */
const SHAPES: [number, number][] = [[1, 1], [3, 17], [5, 33], [7, 1], [1, 4099], [13, 16], [2, 31], [64, 48], [9, 15]];

beforeAll(async () => { await init(); });

// ---- data ---------------------------------------------------------------------------------------

const bitsBuf = new Float32Array(1), bitsInt = new Int32Array(bitsBuf.buffer);
/** The float32 `steps` ulps away from v (towards +∞ for positive v). */
function ulpStep(v: number, steps: number): number {
  bitsBuf[0] = v; bitsInt[0] = bitsInt[0]! + steps; return bitsBuf[0]!;
}
const rhe = ref.roundHalfEven;

/**
 * Inputs near ties where the shortcuts give a different integer: multiplying by f32(1/s) instead
 * of dividing, or dividing in double instead of float32. Only a true float32 division passes.
 */
function divisionSensitive(rng: Rng, s: number, lo: number, hi: number, want: number): number[] {
  const out: number[] = [];
  const inv = Math.fround(1 / s);
  for (let t = 0; t < 4000 && out.length < want; t++) {
    const base = Math.fround((rng.int(lo, hi) + 0.5) * s);
    if (!Number.isFinite(base) || base === 0) continue;
    for (let d = -3; d <= 3; d++) {
      const x = ulpStep(base, d);
      const right = rhe(Math.fround(x / s));
      if (right !== rhe(Math.fround(x * inv)) || right !== rhe(x / s)) out.push(x);
    }
  }
  return out;
}

/** Floats for quantizing with (s, z): mostly around the grid, salted with special values. */
function floats(rng: Rng, n: number, s: number, info: QTypeInfo, z: number): Float32Array {
  const x = new Float32Array(n);
  const span = (info.qmax - info.qmin) * s;
  const tricky = n > 0 ? divisionSensitive(rng, s, info.qmin - z - 1, info.qmax - z, 64) : [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.1 && tricky.length > 0) x[i] = tricky[rng.int(0, tricky.length - 1)]!;     // float32 division matters
    else if (r < 0.5) x[i] = (rng.next() * 1.4 - 0.7) * span;                           // in range and past both ends
    else if (r < 0.7) x[i] = (rng.int(info.qmin - z - 3, info.qmax - z + 3) + 0.5) * s;  // exact ties (when s·(k+½) is exact)
    else if (r < 0.8) x[i] = rng.int(info.qmin - z - 2, info.qmax - z + 2) * s;          // exact grid points
    else {
      const specials = [Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 1.2e-38, -3e-42, 3.4e38, -3.4e38, 1e30, -1e30,
        0.5 * s, -0.5 * s, 1.5 * s, -1.5 * s, 2.5 * s, -2.5 * s];
      x[i] = specials[rng.int(0, specials.length - 1)]!;
    }
  }
  return x;
}

/** Integer codes in the type's range (and for sub-byte types only valid codes). */
function codes(rng: Rng, n: number, info: QTypeInfo): QStorageArray {
  const q = storageArray(info, n);
  for (let i = 0; i < n; i++) q[i] = rng.int(info.qmin, info.qmax);
  return q;
}

function randomScale(rng: Rng): number {
  const r = rng.next();
  if (r < 0.1) return Math.fround(2 ** -140 * (1 + rng.next()));  // subnormal-ish scales: not flushed
  if (r < 0.2) return Math.fround(2 ** rng.int(-10, 10));           // powers of two: ties are exact
  return Math.fround(Math.exp(rng.next() * 12 - 8));
}

const f32 = (a: ArrayLike<number>) => Float32Array.from(a);

/** Compare bit patterns (−0 ≠ +0, every NaN payload visible). */
function expectSameBits(actual: ArrayLike<number> & ArrayBufferView, expected: ArrayLike<number> & ArrayBufferView, what: string): void {
  const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
  expect(a.length, what).toBe(e.length);
  for (let i = 0; i < e.length; i++) {
    if (a[i] !== e[i]) {
      const bpe = (actual as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
      const k = Math.floor(i / bpe);
      expect.fail(`${what}: element ${k} differs: kernel ${String(actual[k])} (${Object.is(actual[k], -0) ? '-0' : ''}), reference ${String(expected[k])}`);
    }
  }
}

// ---- wasm staging ------------------------------------------------------------------------------

/** Copy arrays into wasm memory, run `fn(offsets)`, read back, free. */
function inWasm<T>(arrays: ArrayBufferView[], fn: (offs: number[]) => T): T {
  const mem = rt().mem;
  const offs = arrays.map((a) => mem.alloc(a.byteLength));
  try {
    arrays.forEach((a, i) => mem.bytes(offs[i]!, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)));
    return fn(offs);
  } finally {
    offs.forEach((o) => mem.release(o));
  }
}

function readBack<A extends ArrayBufferView>(off: number, like: A): A {
  const out = new (like.constructor as new (n: number) => A)((like as unknown as { length: number }).length);
  new Uint8Array(out.buffer).set(rt().mem.bytes(off, out.byteLength));
  return out;
}

// ---- the sweeps --------------------------------------------------------------------------------

describe.each(QTYPE_NAMES.map((n) => [n]))('kernels vs reference — %s', (name: QType) => {
  const info = QTYPES[name];

  it('quantize run: every length, special values, exact ties', () => {
    const rng = new Rng(0x5eed + info.bits * 7 + (info.signed ? 1 : 0));
    for (const n of LENGTHS) {
      for (let trial = 0; trial < 3; trial++) {
        const s = randomScale(rng), z = rng.int(info.qmin, info.qmax);
        const x = floats(rng, n, s, info, z);
        const want = storageArray(info, n);
        expect(ref.quantizeRun(x, 0, want, 0, n, s, z, info.qmin, info.qmax)).toBe(-1);
        const got = inWasm([x, storageArray(info, n)], ([xo, qo]) => {
          expect(quantizeFamily(rt().kernels, info).run(xo!, qo!, n, s, z, info.qmin, info.qmax)).toBe(-1);
          return readBack(qo!, want);
        });
        expectSameBits(got, want, `n=${n} s=${s} z=${z}`);
      }
    }
  });

  it('fake-quantize run equals dequantize(quantize) and the reference', () => {
    const rng = new Rng(0xfa4e + info.bits);
    const k = rt().kernels;
    for (const n of LENGTHS) {
      const s = randomScale(rng), z = rng.int(info.qmin, info.qmax);
      const x = floats(rng, n, s, info, z);
      const want = new Float32Array(n);
      expect(ref.fakeQuantizeRun(x, 0, want, 0, n, s, z, info.qmin, info.qmax)).toBe(-1);
      const [fq, dq] = inWasm([x, new Float32Array(n), storageArray(info, n), new Float32Array(n)], ([xo, yo, qo, zo]) => {
        expect(k.fake_quantize_f32(xo!, yo!, n, s, z, info.qmin, info.qmax)).toBe(-1);
        quantizeFamily(k, info).run(xo!, qo!, n, s, z, info.qmin, info.qmax);
        dequantizeFamily(k, info).run(qo!, zo!, n, s, z);
        return [readBack(yo!, want), readBack(zo!, want)];
      });
      expectSameBits(fq!, want, `fake n=${n}`);
      expectSameBits(dq!, want, `dq∘q n=${n}`);
      // in place (y = x) gives the same
      const inPlace = inWasm([x], ([xo]) => { k.fake_quantize_f32(xo!, xo!, n, s, z, info.qmin, info.qmax); return readBack(xo!, want); });
      expectSameBits(inPlace, want, `in place n=${n}`);
    }
  });

  it('dequantize run: every length, the whole code range', () => {
    const rng = new Rng(0xde9 + info.bits);
    for (const n of LENGTHS) {
      const s = randomScale(rng), z = rng.int(info.qmin, info.qmax);
      const q = codes(rng, n, info);
      if (n >= 2) { q[0] = info.qmin; q[n - 1] = info.qmax; }
      const want = new Float32Array(n);
      ref.dequantizeRun(q, 0, want, 0, n, s, z);
      const got = inWasm([q, new Float32Array(n)], ([qo, yo]) => { dequantizeFamily(rt().kernels, info).run(qo!, yo!, n, s, z); return readBack(yo!, want); });
      expectSameBits(got, want, `n=${n}`);
    }
  });

  it('blocks and cols variants (per-axis / blocked indexing, ragged last blocks) on odd shapes', () => {
    const rng = new Rng(0xb10c + info.bits);
    const k = rt().kernels;
    const qf = quantizeFamily(k, info), df = dequantizeFamily(k, info), ff = fakeQuantizeFamily(k);
    const params = (n: number) => ({
      scales: f32(Array.from({ length: n }, () => randomScale(rng))),
      zps: f32(Array.from({ length: n }, () => rng.int(info.qmin, info.qmax))),
    });
    const run = (what: string, n: number, scales: Float32Array, zps: Float32Array,
      refs: (x: Float32Array, q: QStorageArray, f: Float32Array, d: Float32Array) => void,
      kern: (xo: number, qo: number, fo: number, qin: number, dout: number, so: number, zo: number) => void) => {
      const x = floats(rng, n, scales[0]!, info, zps[0]!);
      const wantQ = storageArray(info, n), wantF = new Float32Array(n), wantD = new Float32Array(n);
      refs(x, wantQ, wantF, wantD);
      const [gq, gf, gd] = inWasm([x, scales, zps, wantQ, storageArray(info, n), new Float32Array(n), new Float32Array(n)],
        ([xo, so, zo, qin, qo, fo, dout]) => {
          kern(xo!, qo!, fo!, qin!, dout!, so!, zo!);
          return [readBack(qo!, wantQ), readBack(fo!, wantF), readBack(dout!, wantD)] as const;
        });
      expectSameBits(gq, wantQ, `quantize ${what}`);
      expectSameBits(gf, wantF, `fake ${what}`);
      expectSameBits(gd, wantD, `dequantize ${what}`);
    };
    for (const [rows, cols] of SHAPES) {
      const n = rows * cols;
      // blocks: `rows` rows of `cols`, cut into blocks of blockLen (the last one of a row may be short), scales cycling over nScales
      for (const blockLen of new Set([cols, 1, Math.max(1, cols >> 1), Math.max(1, cols - 1), Math.max(1, Math.ceil(cols / 3))])) {
        const perRow = Math.ceil(cols / blockLen);
        for (const nScales of new Set([1, Math.max(1, rows >> 1) * perRow, rows * perRow])) {
          const { scales, zps } = params(nScales);
          run(`blocks ${rows}×${cols}/b${blockLen}/${nScales}`, n, scales, zps, (x, q, f, d) => {
            expect(ref.quantizeBlocks(x, q, rows, cols, blockLen, scales, zps, nScales, info.qmin, info.qmax)).toBe(-1);
            expect(ref.fakeQuantizeBlocks(x, f, rows, cols, blockLen, scales, zps, nScales, info.qmin, info.qmax)).toBe(-1);
            ref.dequantizeBlocks(q, d, rows, cols, blockLen, scales, zps, nScales);
          }, (xo, qo, fo, qin, dout, so, zo) => {
            expect(qf.blocks(xo, qo, rows, cols, blockLen, so, zo, nScales, info.qmin, info.qmax)).toBe(-1);
            expect(ff.blocks(xo, fo, rows, cols, blockLen, so, zo, nScales, info.qmin, info.qmax)).toBe(-1);
            df.blocks(qin, dout, rows, cols, blockLen, so, zo, nScales);
          });
        }
      }
      // cols: a scale row of `cols` values per group of groupRows rows, restarting every sliceRows rows
      for (const sliceRows of new Set([rows, 1, Math.max(1, Math.floor(rows / 3))].filter((v) => rows % v === 0))) {
        for (const groupRows of new Set([sliceRows, 1, 2, 3, Math.max(1, sliceRows - 1), sliceRows + 5])) {
          const nRows = (rows / sliceRows) * Math.ceil(sliceRows / groupRows);
          const { scales, zps } = params(nRows * cols);
          run(`cols ${rows}×${cols}/g${groupRows}/s${sliceRows}`, n, scales, zps, (x, q, f, d) => {
            expect(ref.quantizeCols(x, q, rows, cols, scales, zps, groupRows, sliceRows, info.qmin, info.qmax)).toBe(-1);
            expect(ref.fakeQuantizeCols(x, f, rows, cols, scales, zps, groupRows, sliceRows, info.qmin, info.qmax)).toBe(-1);
            ref.dequantizeCols(q, d, rows, cols, scales, zps, groupRows, sliceRows);
          }, (xo, qo, fo, qin, dout, so, zo) => {
            expect(qf.cols(xo, qo, rows, cols, so, zo, groupRows, sliceRows, info.qmin, info.qmax)).toBe(-1);
            expect(ff.cols(xo, fo, rows, cols, so, zo, groupRows, sliceRows, info.qmin, info.qmax)).toBe(-1);
            df.cols(qin, dout, rows, cols, so, zo, groupRows, sliceRows);
          });
        }
      }
    }
  });

  it('the reference indexing is eq. (4) with ⌈D/B⌉ blocks: a scale used by exactly the elements ONNX assigns it', () => {
    // 2 slices of 5 rows in groups of 2: scale rows 0,0,1,1,2 | 3,3,4,4,5 (the last group of each slice has one row)
    expect(Array.from({ length: 10 }, (_, r) => ref.colsScaleRow(r, 2, 5))).toEqual([0, 0, 1, 1, 2, 3, 3, 4, 4, 5]);
    // rows of 7 in blocks of 3: blocks [0,3) [3,6) [6,7) per row, scales 0 1 2 | 3 4 5
    const x = f32(Array.from({ length: 14 }, (_, i) => i + 0.25)), q = new Int16Array(14);
    const s = f32([1, 2, 4, 8, 16, 32]);
    ref.quantizeBlocks(x, q, 2, 7, 3, s, new Float32Array(6), 6, -32768, 32767);
    // by hand: 0.25/1, 1.25/1, 2.25/1 | 3.25/2, 4.25/2, 5.25/2 | 6.25/4 || 7.25/8 … 9.25/8 | 10.25/16 … 12.25/16 | 13.25/32
    expect(Array.from(q)).toEqual([0, 1, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1, 1, 0]);
  });
});

describe('division-sensitive inputs', () => {
  it('exist for ordinary scales, and the kernel sides with float32 division on all of them', () => {
    const rng = new Rng(123);
    const k = rt().kernels;
    let found = 0;
    for (const s of [0.1, 0.3, 0.007, 1.7, 3.3, 0.0123].map(Math.fround)) {
      const xs = f32(divisionSensitive(rng, s, -128, 127, 200));
      found += xs.length;
      const want = new Int16Array(xs.length);
      ref.quantizeRun(xs, 0, want, 0, xs.length, s, 0, -32768, 32767);
      const got = inWasm([xs, new Int16Array(xs.length)], ([xo, qo]) => {
        k.quantize_f32_i16(xo!, qo!, xs.length, s, 0, -32768, 32767);
        return readBack(qo!, want);
      });
      expectSameBits(got, want, `s=${s}`);
    }
    expect(found).toBeGreaterThan(100);
  });
});

describe('NaN detection', () => {
  it('every quantize-like kernel reports the first NaN, in the SIMD body and in the tail', () => {
    const k = rt().kernels;
    const info = QTYPES.int8;
    const rng = new Rng(77);
    for (const n of [1, 16, 17, 33, 1000, 4099]) {
      for (const pos of new Set([0, n - 1, Math.floor(n / 2), Math.min(n - 1, 15), Math.min(n - 1, 16)])) {
        const x = floats(rng, n, 0.1, info, 0);
        x[pos] = NaN;
        if (pos + 3 < n) x[pos + 3] = NaN; // a later NaN must not win
        expect(ref.quantizeRun(x, 0, new Int8Array(n), 0, n, 0.1, 0, -128, 127)).toBe(pos);
        inWasm([x, new Float32Array(n), f32([0.1, 0.2]), f32([0, 1])], ([xo, yo, so, zo]) => {
          expect(k.quantize_f32_i8(xo!, yo!, n, 0.1, 0, -128, 127)).toBe(pos);
          expect(k.quantize_f32_u16(xo!, yo!, n, 0.1, 0, 0, 65535)).toBe(pos);
          expect(k.fake_quantize_f32(xo!, yo!, n, 0.1, 0, -128, 127)).toBe(pos);
          expect(k.quantize_f32_i8_blocks(xo!, yo!, 1, n, n, so!, zo!, 1, -128, 127)).toBe(pos);
          expect(k.fake_quantize_f32_blocks(xo!, yo!, 1, n, n, so!, zo!, 1, -128, 127)).toBe(pos);
          // ragged blocks of 7: the index is still the flat one
          expect(k.quantize_f32_i8_blocks(xo!, yo!, 1, n, Math.min(7, n), so!, zo!, 2, -128, 127)).toBe(pos);
          expect(k.fake_quantize_f32_blocks(xo!, yo!, 1, n, Math.min(7, n), so!, zo!, 2, -128, 127)).toBe(pos);
          const outMm = rt().mem.alloc(8);
          try { expect(k.minmax_f32(xo!, n, outMm)).toBe(pos); } finally { rt().mem.release(outMm); }
          if (n % 2 === 0 || n === 33) {
            const rows = n === 33 ? 3 : 2, cols = n / rows;
            const s = f32(Array.from({ length: cols }, () => 0.1)), z = new Float32Array(cols);
            inWasm([s, z], ([so2, zo2]) => {
              expect(k.quantize_f32_i8_cols(xo!, yo!, rows, cols, so2!, zo2!, rows, rows, -128, 127)).toBe(pos);
              expect(k.fake_quantize_f32_cols(xo!, yo!, rows, cols, so2!, zo2!, rows, rows, -128, 127)).toBe(pos);
            });
          }
        });
      }
    }
  });

  it('cols kernels report an earlier SIMD-body NaN before a later tail NaN', () => {
    const k = rt().kernels;
    const rows = 3, cols = 17; // each row: 16 in the SIMD body, 1 in the tail
    const x = new Float32Array(rows * cols).fill(1);
    x[5] = NaN;               // row 0, SIMD body
    x[cols + 16] = NaN;       // row 1, tail
    const s = new Float32Array(cols).fill(1), z = new Float32Array(cols);
    expect(ref.quantizeCols(x, new Int8Array(x.length), rows, cols, s, z, rows, rows, -128, 127)).toBe(5);
    inWasm([x, new Int8Array(x.length), s, z], ([xo, qo, so, zo]) => {
      expect(k.quantize_f32_i8_cols(xo!, qo!, rows, cols, so!, zo!, rows, rows, -128, 127)).toBe(5);
      expect(k.fake_quantize_f32_cols(xo!, qo!, rows, cols, so!, zo!, rows, rows, -128, 127)).toBe(5);
    });
  });
});

describe('minmax, range check and packing kernels', () => {
  it('minmax_f32 matches the reference, −0/+0 and ±Inf included', () => {
    const rng = new Rng(91);
    for (const n of LENGTHS) {
      for (let t = 0; t < 4; t++) {
        const x = floats(rng, n, 0.01, QTYPES.int8, 0);
        if (t === 1) x.fill(0).forEach((_, i) => { if (i % 3 === 0) x[i] = -0; });
        if (t === 2 && n > 0) { x.fill(-0); }
        if (t === 3 && n >= 16) { x.fill(0); x[12] = -0; x[n - 1] = 0; } // −0 after +0 in the same lane
        const want = ref.minMax(x);
        const got = inWasm([x, new Float32Array(2)], ([xo, oo]) => {
          expect(rt().kernels.minmax_f32(xo!, n, oo!)).toBe(-1);
          return readBack(oo!, new Float32Array(2));
        });
        expectSameBits(got, f32([want.min, want.max]), `minmax n=${n} t=${t}`);
      }
    }
  });

  it('first_outside_i8 / _u8 find the first byte outside [lo, hi]', () => {
    const rng = new Rng(5);
    for (const n of LENGTHS) {
      for (const [signed, lo, hi] of [[true, -8, 7], [false, 0, 15], [true, -2, 1], [false, 0, 3]] as const) {
        const q = signed ? new Int8Array(n) : new Uint8Array(n);
        for (let i = 0; i < n; i++) q[i] = rng.int(lo, hi);
        const bad = n > 0 ? rng.int(0, n - 1) : -1;
        if (bad >= 0) q[bad] = signed ? (rng.next() < 0.5 ? lo - 1 : -128) : hi + 1;
        const want = ref.firstOutside(q, lo, hi);
        expect(want).toBe(bad);
        const got = inWasm([q], ([qo]) => (signed ? rt().kernels.first_outside_i8 : rt().kernels.first_outside_u8)(qo!, n, lo, hi));
        expect(got, `n=${n} ${signed ? 's' : 'u'}[${lo},${hi}]`).toBe(want);
      }
    }
  });

  it('pack/unpack int4 and int2 match the reference at every length, both signednesses', () => {
    const rng = new Rng(44);
    const k = rt().kernels;
    for (const n of [...LENGTHS, 2, 3, 32, 63, 64, 65]) {
      for (const [bits, signed] of [[4, true], [4, false], [2, true], [2, false]] as const) {
        const lo = signed ? -(1 << (bits - 1)) : 0, hi = signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1;
        const q = signed ? new Int8Array(n) : new Uint8Array(n);
        for (let i = 0; i < n; i++) q[i] = rng.int(lo, hi);
        const wantPacked = bits === 4 ? ref.packInt4(q) : ref.packInt2(q);
        const bytes = wantPacked.length;
        const [packed, unpacked] = inWasm([q, new Uint8Array(bytes), new Uint8Array(n)], ([qo, po, uo]) => {
          if (bits === 4) { k.pack_int4(qo!, po!, n); (signed ? k.unpack_int4_s : k.unpack_int4_u)(po!, uo!, n); }
          else { k.pack_int2(qo!, po!, n); (signed ? k.unpack_int2_s : k.unpack_int2_u)(po!, uo!, n); }
          return [readBack(po!, new Uint8Array(bytes)), readBack(uo!, new Uint8Array(n))];
        });
        expectSameBits(packed!, wantPacked, `pack int${bits} n=${n}`);
        const wantUnpacked = bits === 4 ? ref.unpackInt4(wantPacked, n, signed) : ref.unpackInt2(wantPacked, n, signed);
        expectSameBits(new Uint8Array(unpacked!.buffer), new Uint8Array(wantUnpacked.buffer), `unpack int${bits} n=${n}`);
        expect(Array.from(wantUnpacked)).toEqual(Array.from(q)); // round trip
      }
    }
  });
});
