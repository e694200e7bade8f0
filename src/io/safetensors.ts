/**
 * safetensors files: the reader and writer (docs/safetensors.md), Node only (node:fs); the format
 * itself — dtypes, F16/BF16 conversion, header parsing and layout — is src/io/safetensors-format.ts,
 * re-exported here.
 *
 * The reader never holds the whole file: `SafetensorsReader.open` reads the 8-byte prefix and the
 * header, validates every entry against the file size, and each `read*()` call reads one tensor's
 * bytes with a positioned read. The writer lays the header out first (offsets follow from the
 * shapes) and streams each tensor to its place, so `quantize` holds one tensor at a time.
 */
import { closeSync, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import {
  DECODABLE_DTYPES, MAX_HEADER_BYTES, SafetensorsError, bfloat16BitsToFloat32, float16BitsToFloat32, layoutSafetensors, parseSafetensorsHeader,
  type SafetensorsDType, type TensorData, type TensorEntry, type TensorInfo, type TensorSpec,
} from './safetensors-format.js';

export * from './safetensors-format.js';

const LE = endianness() === 'LE';
function requireLittleEndian(path: string): void {
  if (!LE) throw new SafetensorsError('IQ_SAFETENSORS_IO', path, 'intquant reads and writes safetensors on little-endian hosts only');
}

// ---- reader ------------------------------------------------------------------------------------

function ioError(path: string, what: string, e: unknown): SafetensorsError {
  const err = e as NodeJS.ErrnoException;
  const reason = err?.code === 'ENOENT' ? 'no such file'
    : err?.code === 'EISDIR' ? 'is a directory'
    : err?.code === 'EACCES' ? 'permission denied'
    : err instanceof Error ? err.message.split('\n')[0] : String(e);
  return new SafetensorsError('IQ_SAFETENSORS_IO', path, `cannot ${what}: ${reason}`);
}

function readFully(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    const n = readSync(fd, into, done, into.length - done, position + done);
    if (n === 0) throw new SafetensorsError('IQ_SAFETENSORS_IO', path, `unexpected end of file at byte ${position + done}`);
    done += n;
  }
}

/** An open safetensors file: header in memory, tensor data read on demand. Close it (or `using`). */
export class SafetensorsReader implements Disposable {
  readonly path: string;
  readonly fileSize: number;
  readonly headerLength: number;
  /** File offset of the data section (8 + headerLength). */
  readonly dataStart: number;
  /** Entries sorted by name. */
  readonly tensors: readonly TensorInfo[];
  readonly metadata: Readonly<Record<string, string>>;
  private fd: number | undefined;
  private readonly byName: Map<string, TensorInfo>;

  private constructor(path: string, fd: number, fileSize: number, headerLength: number, parsed: ReturnType<typeof parseSafetensorsHeader>) {
    this.path = path;
    this.fd = fd;
    this.fileSize = fileSize;
    this.headerLength = headerLength;
    this.dataStart = 8 + headerLength;
    this.tensors = Object.freeze(parsed.tensors);
    this.metadata = Object.freeze(parsed.metadata);
    this.byName = new Map(parsed.tensors.map((t) => [t.name, t]));
  }

  static open(path: string): SafetensorsReader {
    requireLittleEndian(path);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw ioError(path, 'open', e);
    }
    try {
      let size: number;
      try {
        const st = fstatSync(fd);
        if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
        size = st.size;
      } catch (e) {
        throw ioError(path, 'read', e);
      }
      if (size < 8) {
        throw new SafetensorsError('IQ_SAFETENSORS_HEADER', path, `file is ${size} bytes, too short for the 8-byte header length (truncated or not a safetensors file)`);
      }
      const prefix = new Uint8Array(8);
      readFully(fd, prefix, 0, path);
      const n = new DataView(prefix.buffer).getBigUint64(0, true);
      if (n > BigInt(MAX_HEADER_BYTES)) {
        throw new SafetensorsError('IQ_SAFETENSORS_HEADER', path,
          `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt file or not a safetensors file)`);
      }
      const headerLength = Number(n);
      if (8 + headerLength > size) {
        throw new SafetensorsError('IQ_SAFETENSORS_HEADER', path,
          `header length ${headerLength} runs past the end of the ${size}-byte file (truncated or not a safetensors file)`);
      }
      if (headerLength < 2) throw new SafetensorsError('IQ_SAFETENSORS_HEADER', path, `header length ${headerLength} is too short for a JSON object`);
      const header = new Uint8Array(headerLength);
      readFully(fd, header, 8, path);
      const parsed = parseSafetensorsHeader(header, size - 8 - headerLength, path);
      return new SafetensorsReader(path, fd, size, headerLength, parsed);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  get names(): string[] { return this.tensors.map((t) => t.name); }

  has(name: string): boolean { return this.byName.has(name); }

  info(name: string): TensorInfo {
    const t = this.byName.get(name);
    if (!t) throw new SafetensorsError('IQ_SAFETENSORS_NAME', this.path, `no tensor named '${name}'`);
    return t;
  }

  /** A fresh copy of the tensor's raw little-endian bytes. */
  readBytes(name: string): Uint8Array {
    const t = this.info(name);
    if (this.fd === undefined) throw new SafetensorsError('IQ_SAFETENSORS_IO', this.path, 'reader is closed');
    const out = new Uint8Array(t.byteLength);
    readFully(this.fd, out, this.dataStart + t.dataOffsets[0], this.path);
    return out;
  }

  /** The tensor decoded to its natural typed array (F16/BF16 as Uint16Array bit patterns). */
  read(name: string): TensorData {
    const t = this.info(name);
    const b = this.readBytes(name).buffer;
    switch (t.dtype) {
      case 'F32': return new Float32Array(b);
      case 'I32': return new Int32Array(b);
      case 'U32': return new Uint32Array(b);
      case 'I16': return new Int16Array(b);
      case 'U16': case 'F16': case 'BF16': return new Uint16Array(b);
      case 'I8': return new Int8Array(b);
      case 'U8': return new Uint8Array(b);
      default:
        throw new SafetensorsError('IQ_SAFETENSORS_DTYPE', this.path,
          `tensor '${name}': dtype ${t.dtype} cannot be decoded (decodable: ${DECODABLE_DTYPES.join(', ')}); it can only be copied as raw bytes`);
    }
  }

  /** The tensor as float32: F32 as is, F16/BF16 converted exactly, integer dtypes converted by value. */
  readFloat32(name: string): Float32Array {
    const t = this.info(name);
    const a = this.read(name);
    if (t.dtype === 'F32') return a as Float32Array;
    if (t.dtype === 'F16') return float16BitsToFloat32(a as Uint16Array);
    if (t.dtype === 'BF16') return bfloat16BitsToFloat32(a as Uint16Array);
    return Float32Array.from(a as ArrayLike<number>);
  }

  close(): void {
    if (this.fd !== undefined) { closeSync(this.fd); this.fd = undefined; }
  }

  [Symbol.dispose](): void { this.close(); }
}

// ---- writer ------------------------------------------------------------------------------------

/**
 * Streams a safetensors file: the header is written on construction, then each tensor with
 * `write(name, data)` in any order; `close()` checks every tensor was written and moves the file
 * into place (it is written to a temporary name first, so a failed run leaves no partial file).
 */
export class SafetensorsWriter implements Disposable {
  readonly path: string;
  private readonly tmp: string;
  private fd: number | undefined;
  private readonly dataStart: number;
  private readonly specs: Map<string, TensorSpec & { offsets: [number, number] }>;
  private readonly pending: Set<string>;

  constructor(path: string, specs: readonly TensorSpec[], metadata?: Readonly<Record<string, string>>) {
    requireLittleEndian(path);
    this.path = path;
    const { header, offsets } = layoutSafetensors(specs, metadata, path);
    this.specs = new Map(specs.map((s) => [s.name, { ...s, offsets: offsets.get(s.name)! }]));
    this.pending = new Set(this.specs.keys());
    this.dataStart = 8 + header.length;
    this.tmp = `${path}.${process.pid}.tmp`;
    try {
      this.fd = openSync(this.tmp, 'w');
    } catch (e) {
      throw ioError(path, 'create', e);
    }
    const prefix = new Uint8Array(8);
    new DataView(prefix.buffer).setBigUint64(0, BigInt(header.length), true);
    this.writeAt(prefix, 0);
    this.writeAt(header, 8);
  }

  private writeAt(bytes: Uint8Array, position: number): void {
    let done = 0;
    try {
      while (done < bytes.length) done += writeSync(this.fd!, bytes, done, bytes.length - done, position + done);
    } catch (e) {
      this.abort();
      throw ioError(this.path, 'write', e);
    }
  }

  /** Write one tensor's data (a typed array whose byte length matches dtype × shape). */
  write(name: string, data: ArrayBufferView): void {
    if (this.fd === undefined) throw new SafetensorsError('IQ_SAFETENSORS_IO', this.path, 'writer is closed');
    const s = this.specs.get(name);
    if (!s) throw new SafetensorsError('IQ_SAFETENSORS_NAME', this.path, `tensor '${name}' was not declared when the writer was created`);
    if (!this.pending.has(name)) throw new SafetensorsError('IQ_SAFETENSORS_NAME', this.path, `tensor '${name}' was already written`);
    const want = s.offsets[1] - s.offsets[0];
    if (!ArrayBuffer.isView(data) || data.byteLength !== want) {
      throw new SafetensorsError('IQ_SAFETENSORS_OFFSETS', this.path,
        `tensor '${name}': ${s.dtype} × [${s.shape.join(', ')}] needs ${want} bytes, got ${ArrayBuffer.isView(data) ? data.byteLength : typeof data}`);
    }
    this.writeAt(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), this.dataStart + s.offsets[0]);
    this.pending.delete(name);
  }

  /** Finish the file; throws if a declared tensor was never written. */
  close(): void {
    if (this.fd === undefined) return;
    if (this.pending.size) {
      const missing = [...this.pending].slice(0, 3).join("', '");
      this.abort();
      throw new SafetensorsError('IQ_SAFETENSORS_IO', this.path, `closed before tensor${this.pending.size > 1 ? 's' : ''} '${missing}' ${this.pending.size > 3 ? '…' : ''}were written`);
    }
    try {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
      renameSync(this.tmp, this.path);
    } catch (e) {
      this.abort();
      throw ioError(this.path, 'write', e);
    }
  }

  /** Drop the partial file. */
  abort(): void {
    if (this.fd !== undefined) {
      try { closeSync(this.fd); } catch { /* already failing */ }
      this.fd = undefined;
    }
    try { unlinkSync(this.tmp); } catch { /* not there */ }
  }

  [Symbol.dispose](): void {
    if (this.fd !== undefined) this.abort();
  }
}

/** Write a whole file from in-memory tensors. */
export function writeSafetensors(path: string, tensors: Readonly<Record<string, TensorEntry>>, metadata?: Readonly<Record<string, string>>): void {
  const specs = Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape }));
  const w = new SafetensorsWriter(path, specs, metadata);
  try {
    for (const [name, t] of Object.entries(tensors)) w.write(name, t.data);
    w.close();
  } catch (e) {
    w.abort();
    throw e;
  }
}

/** Read a whole (small) file into memory: every decodable tensor and the metadata. */
export function readSafetensors(path: string): { tensors: Record<string, { dtype: SafetensorsDType; shape: number[]; data: TensorData }>; metadata: Record<string, string> } {
  const r = SafetensorsReader.open(path);
  try {
    const tensors: Record<string, { dtype: SafetensorsDType; shape: number[]; data: TensorData }> = {};
    for (const t of r.tensors) {
      tensors[t.name] = { dtype: t.dtype, shape: [...t.shape], data: DECODABLE_DTYPES.includes(t.dtype) ? r.read(t.name) : r.readBytes(t.name) };
    }
    return { tensors, metadata: { ...r.metadata } };
  } finally {
    r.close();
  }
}
