import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, openSync, closeSync, ftruncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IntquantError } from '../src/errors.js';
import * as api from '../src/index.js';
import {
  SafetensorsReader, SafetensorsWriter, SafetensorsError, writeSafetensors, readSafetensors, parseSafetensorsHeader,
  float16BitsToFloat32, bfloat16BitsToFloat32, float32ToFloat16Bits, float32ToBfloat16Bits, MAX_HEADER_BYTES,
} from '../src/io/safetensors.js';

const dir = mkdtempSync(join(tmpdir(), 'intquant-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;
const tmp = (name = 'f') => join(dir, `${name}-${fileNo++}.safetensors`);

/** A file from a header text and a data section, with an optional forged header length. */
function rawFile(header: string | Uint8Array, data: Uint8Array | number = 0, lengthOverride?: bigint): string {
  const h = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  const p = tmp('raw');
  writeFileSync(p, out);
  return p;
}

function openError(path: string): SafetensorsError {
  try {
    SafetensorsReader.open(path).close();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect(e).toBeInstanceOf(IntquantError);
    expect((e as Error).message).not.toMatch(/\n/);
    expect((e as Error).message.startsWith(path)).toBe(true);
    return e as SafetensorsError;
  }
  throw new Error(`expected ${path} to be refused`);
}

const bits32 = (x: Float32Array) => Array.from(new Uint32Array(x.buffer, x.byteOffset, x.length));

describe('float16 / bfloat16 conversion', () => {
  it('is part of the public API', () => {
    expect(api.SafetensorsReader).toBe(SafetensorsReader);
    expect(api.writeSafetensors).toBe(writeSafetensors);
    expect(api.float16BitsToFloat32).toBe(float16BitsToFloat32);
    expect(new api.SafetensorsError('IQ_SAFETENSORS_IO', 'p', 'm')).toBeInstanceOf(api.IntquantError);
  });

  it('decodes hand-computed float16 bit patterns exactly', () => {
    const cases: [number, number][] = [
      [0x3c00, 1], [0xc000, -2], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14],
      [0x7bff, 65504], [0xfbff, -65504], [0x3555, 0.333251953125], [0x3800, 0.5], [0x0000, 0],
      [0x7c00, Infinity], [0xfc00, -Infinity], [0x8001, -(2 ** -24)],
    ];
    const f = float16BitsToFloat32(Uint16Array.from(cases.map((c) => c[0])));
    cases.forEach(([, v], i) => expect(f[i]).toBe(v));
    const z = float16BitsToFloat32(Uint16Array.of(0x8000, 0x7e00, 0xfe01, 0x7c01));
    expect(Object.is(z[0], -0)).toBe(true);
    expect(bits32(z.subarray(1))).toEqual([0x7fc00000, 0xffc02000, 0x7f802000]); // NaN payloads carried over
  });

  it('encodes float32 → float16 with round-to-nearest-even, overflow to Inf and subnormals', () => {
    const x = Float32Array.of(
      1, -2, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 65504, 65519.99, 65520, 1e9, -1e9,
      2 ** -24, 2 ** -25, 1.5 * 2 ** -25, 3 * 2 ** -25, 2 ** -30, -0, Infinity, -Infinity, NaN,
    );
    expect(Array.from(float32ToFloat16Bits(x))).toEqual([
      0x3c00, 0xc000, 0x3c00, 0x3c02, 0x7bff, 0x7bff, 0x7c00, 0x7c00, 0xfc00,
      0x0001, 0x0000, 0x0001, 0x0002, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00,
    ]);
  });

  it('float16 → float32 → float16 is the identity on all 65,536 patterns', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToFloat16Bits(float16BitsToFloat32(all));
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNaN) expect(back[h]! & 0x7c00, `0x${h.toString(16)}`).toBe(0x7c00);
      else if (back[h] !== h) expect(back[h], `0x${h.toString(16)}`).toBe(h);
    }
  });

  it('decodes and encodes bfloat16 exactly', () => {
    const f = bfloat16BitsToFloat32(Uint16Array.of(0x3f80, 0xc000, 0x7f80, 0xff80, 0x0001, 0x4049, 0x8000));
    expect(Array.from(f.subarray(0, 5))).toEqual([1, -2, Infinity, -Infinity, 2 ** -133]);
    expect(f[5]).toBe(3.140625);
    expect(Object.is(f[6], -0)).toBe(true);
    expect(Number.isNaN(bfloat16BitsToFloat32(Uint16Array.of(0x7fc0))[0])).toBe(true);
    expect(Array.from(float32ToBfloat16Bits(Float32Array.of(1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, Math.PI, -2, NaN, 3.4e38)))).toEqual(
      [0x3f80, 0x3f80, 0x3f82, 0x4049, 0xc000, 0x7fc0, 0x7f80]);
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = float32ToBfloat16Bits(bfloat16BitsToFloat32(all));
    for (let h = 0; h < 65536; h++) {
      const isNaN = (h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0;
      if (!isNaN && back[h] !== h) expect(back[h], `0x${h.toString(16)}`).toBe(h);
    }
  });
});

describe('safetensors writer and reader', () => {
  const tensors = {
    f32: { dtype: 'F32' as const, shape: [2, 3], data: Float32Array.of(1, -2.5, 3e-7, Infinity, -0, 6) },
    f16: { dtype: 'F16' as const, shape: [4], data: Uint16Array.of(0x3c00, 0xc000, 0x0001, 0x7c00) },
    bf16: { dtype: 'BF16' as const, shape: [1, 3], data: Uint16Array.of(0x3f80, 0xc000, 0xff80) },
    i8: { dtype: 'I8' as const, shape: [5], data: Int8Array.of(-128, -1, 0, 1, 127) },
    u8: { dtype: 'U8' as const, shape: [3], data: Uint8Array.of(0, 128, 255) },
    i16: { dtype: 'I16' as const, shape: [3], data: Int16Array.of(-32768, 7, 32767) },
    u16: { dtype: 'U16' as const, shape: [3], data: Uint16Array.of(0, 1234, 65535) },
    i32: { dtype: 'I32' as const, shape: [3], data: Int32Array.of(-(2 ** 31), 42, 2 ** 31 - 1) },
    u32: { dtype: 'U32' as const, shape: [2], data: Uint32Array.of(0, 2 ** 32 - 1) },
    f64raw: { dtype: 'F64' as const, shape: [1], data: new Uint8Array(new Float64Array([Math.PI]).buffer) },
    scalar: { dtype: 'F32' as const, shape: [], data: Float32Array.of(7) },
    empty: { dtype: 'I8' as const, shape: [0, 3], data: new Int8Array(0) },
    '10': { dtype: 'U8' as const, shape: [1], data: Uint8Array.of(10) },
    '2': { dtype: 'U8' as const, shape: [1], data: Uint8Array.of(2) },
  };
  const metadata = { format: 'pt', 'intquant.note': 'ünïcödé ✓' };

  it('round-trips every dtype, the metadata and scalars / empty tensors', () => {
    const p = tmp('all');
    writeSafetensors(p, tensors, metadata);
    const back = readSafetensors(p);
    expect(back.metadata).toEqual(metadata);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(tensors).sort());
    for (const [name, t] of Object.entries(tensors)) {
      const b = back.tensors[name]!;
      expect(b.dtype, name).toBe(t.dtype);
      expect(b.shape, name).toEqual(t.shape);
      expect(b.data.constructor, name).toBe(t.data.constructor);
      expect(new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength), name)
        .toEqual(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    }
    using r = SafetensorsReader.open(p);
    expect(Array.from(r.readFloat32('f16'))).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(Array.from(r.readFloat32('bf16'))).toEqual([1, -2, -Infinity]);
    expect(Array.from(r.readFloat32('i16'))).toEqual([-32768, 7, 32767]);
    expect(r.readFloat32('f32')).toEqual(tensors.f32.data);
    expect(() => r.read('f64raw')).toThrow(/F64 cannot be decoded/);
    expect(() => r.info('nope')).toThrow(/no tensor named 'nope'/);
    expect(r.info('f32')).toMatchObject({ dtype: 'F32', shape: [2, 3], size: 6, byteLength: 24 });
  });

  it('writes a deterministic, sorted, aligned, gap-free header', () => {
    const p1 = tmp('det'), p2 = tmp('det');
    writeSafetensors(p1, tensors, metadata);
    // same content, declared in reverse order
    writeSafetensors(p2, Object.fromEntries(Object.entries(tensors).reverse()), { 'intquant.note': metadata['intquant.note'], format: 'pt' });
    const b1 = readFileSync(p1), b2 = readFileSync(p2);
    expect(b1.equals(b2)).toBe(true);
    const n = Number(b1.readBigUInt64LE(0));
    expect((8 + n) % 8).toBe(0);
    const text = b1.subarray(8, 8 + n).toString('utf8');
    const keys = [...text.matchAll(/"([^"]+)":\{"dtype"/g)].map((m) => m[1]);
    expect(keys).toEqual([...Object.keys(tensors)].sort());
    expect(text.startsWith('{"__metadata__":{"format":"pt","intquant.note"')).toBe(true);
    using r = SafetensorsReader.open(p1);
    const spans = r.tensors.map((t) => ({ ...t, el: t.byteLength / Math.max(1, t.size) })).sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
    let pos = 0;
    for (const t of spans) {
      expect(t.dataOffsets[0], t.name).toBe(pos); // contiguous: the reference implementation rejects gaps
      if (t.size) expect((r.dataStart + t.dataOffsets[0]) % t.el, t.name).toBe(0); // naturally aligned
      pos = t.dataOffsets[1];
    }
    expect(8 + n + pos).toBe(b1.length);
  });

  it('matches a hand-built file byte for byte', () => {
    const p = tmp('hand');
    writeSafetensors(p, { w: { dtype: 'F32', shape: [2], data: Float32Array.of(1, -2) } });
    const header = '{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
    const padded = header + ' '.repeat((8 - (header.length % 8)) % 8);
    const expected = Buffer.alloc(8 + padded.length + 8);
    expected.writeBigUInt64LE(BigInt(padded.length), 0);
    expected.write(padded, 8, 'utf8');
    expected.writeFloatLE(1, 8 + padded.length);
    expected.writeFloatLE(-2, 12 + padded.length);
    expect(readFileSync(p).equals(expected)).toBe(true);
  });

  it('streams: writes tensors in any order and reads one tensor of a > 2 GiB (sparse) file', () => {
    const p = tmp('stream');
    const w = new SafetensorsWriter(p, [
      { name: 'a', dtype: 'F32', shape: [4] }, { name: 'b', dtype: 'U8', shape: [3] },
    ]);
    w.write('b', Uint8Array.of(1, 2, 3));
    expect(() => w.write('b', Uint8Array.of(1, 2, 3))).toThrow(/already written/);
    expect(() => w.write('a', new Float32Array(3))).toThrow(/needs 16 bytes, got 12/);
    expect(() => w.write('c', new Float32Array(3))).toThrow(/not declared/);
    expect(existsSync(p)).toBe(false); // written under a temporary name until close()
    w.write('a', Float32Array.of(1, 2, 3, 4));
    w.close();
    expect(Array.from(readSafetensors(p).tensors.a!.data)).toEqual([1, 2, 3, 4]);

    // A file bigger than readFileSync can hold: only the header and the requested tensor are read.
    const big = tmp('big');
    const size = 2 ** 31 + 4096; // past the 2 GiB readFileSync limit, sparse on disk
    const header = `{"huge":{"dtype":"U8","shape":[${size - 16}],"data_offsets":[0,${size - 16}]},"tail":{"dtype":"F32","shape":[4],"data_offsets":[${size - 16},${size}]}}`;
    const h = Buffer.from(header + ' '.repeat((8 - (header.length % 8)) % 8));
    const fd = openSync(big, 'w');
    try {
      const prefix = Buffer.alloc(8);
      prefix.writeBigUInt64LE(BigInt(h.length));
      writeSync(fd, prefix, 0, 8, 0);
      writeSync(fd, h, 0, h.length, 8);
      ftruncateSync(fd, 8 + h.length + size);
      writeSync(fd, Buffer.from(Float32Array.of(5, 6, 7, 8).buffer), 0, 16, 8 + h.length + size - 16);
    } finally {
      closeSync(fd);
    }
    using r = SafetensorsReader.open(big);
    expect(Array.from(r.readFloat32('tail'))).toEqual([5, 6, 7, 8]);
    expect(r.info('huge').byteLength).toBe(size - 16);
    rmSync(big);
  });

  it('refuses bad tensors and leaves no partial file', () => {
    const p = tmp('bad');
    expect(() => writeSafetensors(p, { x: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).toThrow(/needs 12 bytes/);
    expect(() => writeSafetensors(p, { x: { dtype: 'Q4' as 'F32', shape: [1], data: new Float32Array(1) } })).toThrow(/unsupported dtype/);
    expect(() => writeSafetensors(p, { x: { dtype: 'F32', shape: [-1], data: new Float32Array(1) } })).toThrow(/shape/);
    expect(() => writeSafetensors(p, { __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })).toThrow(/reserved/);
    const w = new SafetensorsWriter(p, [{ name: 'a', dtype: 'U8', shape: [1] }]);
    expect(() => w.close()).toThrow(/closed before tensor 'a'/);
    expect(existsSync(p)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('malformed safetensors files', () => {
  const ok = (extra = '') => `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}${extra}}`;

  it('accepts the baseline file the malformed cases start from', () => {
    using r = SafetensorsReader.open(rawFile(ok(), 8));
    expect(r.names).toEqual(['w']);
  });

  it.each([
    ['a file shorter than the 8-byte length', () => { const p = tmp('short'); writeFileSync(p, Uint8Array.of(1, 2, 3)); return p; }, 'IQ_SAFETENSORS_HEADER', /too short for the 8-byte header length/],
    ['an empty file', () => { const p = tmp('empty'); writeFileSync(p, ''); return p; }, 'IQ_SAFETENSORS_HEADER', /0 bytes/],
    ['a header length past EOF', () => rawFile(ok(), 8, 4096n), 'IQ_SAFETENSORS_HEADER', /header length 4096 runs past the end/],
    ['a truncated header', () => rawFile(ok().slice(0, 20), 0, BigInt(ok().length)), 'IQ_SAFETENSORS_HEADER', /runs past the end/],
    ['an absurd header length', () => rawFile(ok(), 8, 2n ** 40n), 'IQ_SAFETENSORS_HEADER', new RegExp(`exceeds the ${MAX_HEADER_BYTES}-byte limit`)],
    ['a header length of 2^64 − 1', () => rawFile(ok(), 8, 2n ** 64n - 1n), 'IQ_SAFETENSORS_HEADER', /exceeds/],
    ['bad JSON', () => rawFile('{"w":{"dtype":"F32",', 8), 'IQ_SAFETENSORS_HEADER', /not valid JSON/],
    ['JSON that is not an object', () => rawFile('[1,2,3]', 0), 'IQ_SAFETENSORS_HEADER', /must be an object/],
    ['invalid UTF-8', () => rawFile(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d), 0), 'IQ_SAFETENSORS_HEADER', /UTF-8/],
    ['offsets past the data section', () => rawFile(ok(), 4), 'IQ_SAFETENSORS_OFFSETS', /\[0, 8\] lie outside the data section \(4 bytes/],
    ['offsets that end before they begin', () => rawFile('{"w":{"dtype":"U8","shape":[0],"data_offsets":[8,0]}}', 8), 'IQ_SAFETENSORS_OFFSETS', /end before they begin/],
    ['non-integer offsets', () => rawFile('{"w":{"dtype":"U8","shape":[1],"data_offsets":[0.5,1.5]}}', 2), 'IQ_SAFETENSORS_OFFSETS', /non-negative integers/],
    ['overlapping tensors', () => rawFile(ok(',"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}'), 12), 'IQ_SAFETENSORS_OFFSETS', /'w' \[0, 8\] and 'v' \[4, 12\] overlap/],
    ['a size that does not match dtype × shape', () => rawFile('{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), 'IQ_SAFETENSORS_OFFSETS', /span 8 bytes but F32 × \[3\] needs 12/],
    ['an unsupported dtype', () => rawFile('{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,1]}}', 1), 'IQ_SAFETENSORS_DTYPE', /unsupported dtype "Q4"/],
    ['a negative shape', () => rawFile('{"w":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}', 0), 'IQ_SAFETENSORS_HEADER', /shape must be an array of non-negative integers/],
    ['a fractional shape', () => rawFile('{"w":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}', 1), 'IQ_SAFETENSORS_HEADER', /shape/],
    ['a missing shape', () => rawFile('{"w":{"dtype":"U8","data_offsets":[0,1]}}', 1), 'IQ_SAFETENSORS_HEADER', /shape/],
    ['duplicate names', () => rawFile(ok(',"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}'), 8), 'IQ_SAFETENSORS_NAME', /duplicate tensor name 'w'/],
    ['non-string metadata', () => rawFile(ok(',"__metadata__":{"a":1}'), 8), 'IQ_SAFETENSORS_HEADER', /__metadata__\['a'\] must be a string/],
    ['a missing file', () => join(dir, 'does-not-exist.safetensors'), 'IQ_SAFETENSORS_IO', /cannot open: no such file/],
    ['a directory', () => dir, 'IQ_SAFETENSORS_IO', /is a directory/],
  ] as const)('refuses %s', (_what, make, code, message) => {
    const e = openError(make());
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it('parses headers held in memory with the same checks', () => {
    const h = new TextEncoder().encode(ok());
    expect(parseSafetensorsHeader(h, 8).tensors.map((t) => t.name)).toEqual(['w']);
    expect(() => parseSafetensorsHeader(h, 7)).toThrow(/outside the data section/);
    // duplicate detection looks at top-level keys only, escapes included
    const nested = new TextEncoder().encode('{"a\\"b":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"a\\"b":"x","k":"a\\"b"}}');
    expect(parseSafetensorsHeader(nested, 1).tensors.map((t) => t.name)).toEqual(['a"b']);
  });
});
