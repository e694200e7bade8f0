/**
 * The safetensors format without files (docs/safetensors.md): the dtypes, exact float16 /
 * bfloat16 conversion, header parsing and validation, and the writer's deterministic header
 * layout. Works on bytes in any host; the file reader and writer (src/io/safetensors.ts) use it.
 *
 * Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 *   { "<name>": { "dtype": "F32", "shape": [r, c], "data_offsets": [begin, end] }, …,
 *     "__metadata__"?: { "<key>": "<string value>" } }
 * then the raw little-endian tensor data; offsets are relative to the start of the data section.
 */
import { IntquantError } from '../errors.js';

/** Every dtype of the safetensors spec, with its element size in bytes. */
export const SAFETENSORS_DTYPES = Object.freeze({
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
} as const);
export type SafetensorsDType = keyof typeof SAFETENSORS_DTYPES;

/** dtypes `read()` / `readFloat32()` decode; the others are carried as raw bytes only. */
export const DECODABLE_DTYPES: readonly SafetensorsDType[] = Object.freeze(['F32', 'F16', 'BF16', 'I8', 'U8', 'I16', 'U16', 'I32', 'U32']);
/** Floating-point dtypes `readFloat32()` converts exactly. */
export const FLOAT_DTYPES: readonly SafetensorsDType[] = Object.freeze(['F32', 'F16', 'BF16']);

/** Headers larger than this are refused (real checkpoints have headers of a few MB at most). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export type TensorData = Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

/** One header entry, validated. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDType;
  readonly shape: readonly number[];
  /** [begin, end) relative to the data section. */
  readonly dataOffsets: readonly [number, number];
  /** Element count (1 for a scalar). */
  readonly size: number;
  readonly byteLength: number;
}

/**
 * A malformed, truncated or unsupported safetensors file. `code` is one of IQ_SAFETENSORS_IO,
 * IQ_SAFETENSORS_HEADER, IQ_SAFETENSORS_OFFSETS, IQ_SAFETENSORS_DTYPE, IQ_SAFETENSORS_NAME.
 */
export class SafetensorsError extends IntquantError {
  readonly path: string;
  constructor(code: string, path: string, message: string) {
    super(code, `${path}: ${message}`);
    this.path = path;
  }
}

export function isSafetensorsDType(d: unknown): d is SafetensorsDType {
  return typeof d === 'string' && Object.prototype.hasOwnProperty.call(SAFETENSORS_DTYPES, d);
}

// ---- float16 / bfloat16 ------------------------------------------------------------------------

let HALF_TABLE: Uint32Array | undefined;
/** float32 bit pattern of every float16 bit pattern (exact; NaN payloads kept). */
function halfTable(): Uint32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const t = new Uint32Array(65536);
  const f = new Float32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    if (e === 0) {
      f[h] = m * 2 ** -24;          // zero or subnormal: exact in float32
      t[h] = (t[h]! | sign) >>> 0;  // keeps −0 and the sign of subnormals
    } else if (e === 31) {
      t[h] = (sign | 0x7f800000 | (m << 13)) >>> 0; // ±Inf, NaN with its payload
    } else {
      t[h] = (sign | ((e + 112) << 23) | (m << 13)) >>> 0;
    }
  }
  return (HALF_TABLE = t);
}

/** float16 bit patterns → float32, exactly. */
export function float16BitsToFloat32(bits: Uint16Array): Float32Array {
  const t = halfTable();
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return new Float32Array(out.buffer);
}

/** bfloat16 bit patterns → float32, exactly (bfloat16 is the top half of a float32). */
export function bfloat16BitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = bits[i]! << 16 >>> 0;
  return new Float32Array(out.buffer);
}

/** float32 → float16 bit patterns, round to nearest even; overflow → ±Inf; NaN stays NaN. */
export function float32ToFloat16Bits(x: Float32Array | readonly number[]): Uint16Array {
  const src = x instanceof Float32Array ? x : Float32Array.from(x);
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const b = u[i]!;
    const sign = (b >>> 16) & 0x8000, exp = (b >>> 23) & 0xff, mant = b & 0x7fffff;
    if (exp === 0xff) { out[i] = sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0); continue; }
    const e = exp - 112; // rebias 127 → 15
    if (e >= 31) { out[i] = sign | 0x7c00; continue; }
    if (e <= 0) {
      if (e < -10) { out[i] = sign; continue; } // below half the smallest subnormal
      const m = mant | 0x800000, shift = 14 - e;
      let q = m >>> shift;
      const rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
      if (rem > half || (rem === half && (q & 1))) q++;
      out[i] = sign | q;
      continue;
    }
    let q = mant >>> 13;
    const rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (q & 1))) q++;
    out[i] = sign | ((e << 10) + q); // a mantissa carry rounds up into the exponent (→ Inf at the top)
  }
  return out;
}

/** float32 → bfloat16 bit patterns, round to nearest even; NaN stays NaN. */
export function float32ToBfloat16Bits(x: Float32Array | readonly number[]): Uint16Array {
  const src = x instanceof Float32Array ? x : Float32Array.from(x);
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const b = u[i]!;
    if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) out[i] = (b >>> 16) | 0x40;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

// ---- header parsing ----------------------------------------------------------------------------

/** The top-level keys of an already-validated JSON object text, in order (JSON.parse keeps only the last duplicate). */
function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) { keys.push(JSON.parse(text.slice(i, j + 1)) as string); expectKey = false; }
      i = j;
    } else if (c === '{' || c === '[') {
      depth++;
      if (depth === 1 && c === '{') expectKey = true;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
  }
  return keys;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parse and validate a header against the size of the data section. */
export function parseSafetensorsHeader(header: Uint8Array, dataBytes: number, path = '<buffer>'):
  { tensors: TensorInfo[]; metadata: Record<string, string> } {
  const fail = (code: string, msg: string): never => { throw new SafetensorsError(code, path, msg); };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(header);
  } catch {
    return fail('IQ_SAFETENSORS_HEADER', 'header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail('IQ_SAFETENSORS_HEADER', `header is not valid JSON (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
  if (!isPlainObject(json)) return fail('IQ_SAFETENSORS_HEADER', 'header JSON must be an object of tensor entries');
  const keys = topLevelKeys(text);
  const seen = new Set<string>();
  for (const k of keys) {
    if (seen.has(k)) fail('IQ_SAFETENSORS_NAME', `duplicate tensor name '${k}' in the header`);
    seen.add(k);
  }

  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isPlainObject(entry)) fail('IQ_SAFETENSORS_HEADER', '__metadata__ must be an object of string values');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail('IQ_SAFETENSORS_HEADER', `__metadata__['${k}'] must be a string, got ${JSON.stringify(v)}`);
        metadata[k] = v as string;
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (!isPlainObject(entry)) return fail('IQ_SAFETENSORS_HEADER', `${where}: entry must be an object { dtype, shape, data_offsets }`);
    const { dtype, shape, data_offsets: offsets } = entry;
    if (!isSafetensorsDType(dtype)) {
      return fail('IQ_SAFETENSORS_DTYPE', `${where}: unsupported dtype ${JSON.stringify(dtype)} (supported: ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
      return fail('IQ_SAFETENSORS_HEADER', `${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)) {
      return fail('IQ_SAFETENSORS_OFFSETS', `${where}: data_offsets must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) fail('IQ_SAFETENSORS_OFFSETS', `${where}: data_offsets [${begin}, ${end}] end before they begin`);
    if (end > dataBytes) {
      fail('IQ_SAFETENSORS_OFFSETS', `${where}: data_offsets [${begin}, ${end}] lie outside the data section (${dataBytes} bytes; the file is truncated or the header is wrong)`);
    }
    let size = 1;
    for (const d of shape as number[]) size *= d;
    const byteLength = size * SAFETENSORS_DTYPES[dtype];
    if (!Number.isSafeInteger(byteLength) || byteLength !== end - begin) {
      fail('IQ_SAFETENSORS_OFFSETS',
        `${where}: data_offsets [${begin}, ${end}] span ${end - begin} bytes but ${dtype} × [${(shape as number[]).join(', ')}] needs ${byteLength}`);
    }
    tensors.push({ name, dtype, shape: Object.freeze([...(shape as number[])]), dataOffsets: Object.freeze([begin, end] as [number, number]), size, byteLength });
  }
  const byOffset = [...tensors].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  for (let i = 1; i < byOffset.length; i++) {
    const a = byOffset[i - 1]!, b = byOffset[i]!;
    if (b.dataOffsets[0] < a.dataOffsets[1]) {
      fail('IQ_SAFETENSORS_OFFSETS',
        `tensors '${a.name}' [${a.dataOffsets.join(', ')}] and '${b.name}' [${b.dataOffsets.join(', ')}] overlap`);
    }
  }
  tensors.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { tensors, metadata };
}

// ---- writer's header layout ------------------------------------------------------------------------------------

export interface TensorSpec { name: string; dtype: SafetensorsDType; shape: readonly number[] }
export interface TensorEntry { dtype: SafetensorsDType; shape: readonly number[]; data: ArrayBufferView }

const cmpName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The header bytes (space-padded so the data section starts 8-byte aligned) and each tensor's offsets. */
export function layoutSafetensors(specs: readonly TensorSpec[], metadata?: Readonly<Record<string, string>>, path = '<buffer>'):
  { header: Uint8Array; offsets: Map<string, [number, number]>; dataBytes: number } {
  const fail = (code: string, msg: string): never => { throw new SafetensorsError(code, path, msg); };
  const names = new Set<string>();
  for (const s of specs) {
    if (typeof s.name !== 'string' || s.name.length === 0) fail('IQ_SAFETENSORS_NAME', 'tensor names must be non-empty strings');
    if (s.name === '__metadata__') fail('IQ_SAFETENSORS_NAME', "'__metadata__' is reserved and cannot name a tensor");
    if (names.has(s.name)) fail('IQ_SAFETENSORS_NAME', `duplicate tensor name '${s.name}'`);
    names.add(s.name);
    if (!isSafetensorsDType(s.dtype)) fail('IQ_SAFETENSORS_DTYPE', `tensor '${s.name}': unsupported dtype ${JSON.stringify(s.dtype)}`);
    if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail('IQ_SAFETENSORS_HEADER', `tensor '${s.name}': shape must be an array of non-negative integers, got ${JSON.stringify(s.shape)}`);
    }
  }
  // Data order: wider elements first, then by name. Tensors are contiguous (the reference
  // implementation rejects gaps), so this keeps every tensor aligned to its element size while
  // the data section itself starts 8-byte aligned.
  const order = [...specs].sort((a, b) => SAFETENSORS_DTYPES[b.dtype] - SAFETENSORS_DTYPES[a.dtype] || cmpName(a.name, b.name));
  const offsets = new Map<string, [number, number]>();
  let pos = 0;
  for (const s of order) {
    const bytes = s.shape.reduce((p, d) => p * d, 1) * SAFETENSORS_DTYPES[s.dtype];
    offsets.set(s.name, [pos, pos + bytes]);
    pos += bytes;
  }
  // Deterministic header: __metadata__ first (keys sorted), then tensors sorted by name. Built by
  // hand because JS objects put integer-like keys first whatever the insertion order.
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length) {
    const m = Object.keys(metadata).sort(cmpName).map((k) => {
      const v = metadata[k];
      if (typeof v !== 'string') fail('IQ_SAFETENSORS_HEADER', `__metadata__['${k}'] must be a string`);
      return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
    });
    parts.push(`"__metadata__":{${m.join(',')}}`);
  }
  for (const s of [...specs].sort((a, b) => cmpName(a.name, b.name))) {
    parts.push(`${JSON.stringify(s.name)}:{"dtype":${JSON.stringify(s.dtype)},"shape":[${s.shape.join(',')}],"data_offsets":[${offsets.get(s.name)!.join(',')}]}`);
  }
  let text = `{${parts.join(',')}}`;
  const raw = new TextEncoder().encode(text);
  const pad = (8 - (raw.length % 8)) % 8;
  if (pad) text += ' '.repeat(pad);
  return { header: new TextEncoder().encode(text), offsets, dataBytes: pos };
}

