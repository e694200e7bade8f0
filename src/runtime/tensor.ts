/**
 * Tensors resident in wasm memory: a dtype, a shape and a byte offset owned by the memory manager.
 *
 * Ownership is explicit: `dispose()` (or `using t = …`) frees the block; a FinalizationRegistry
 * frees forgotten tensors as a backstop. Reads copy out by default (`toArray()`); `view()` gives a
 * live view that re-derives its typed array whenever wasm memory has grown (the memory is shared,
 * so old arrays are never detached, but they sit on the pre-growth buffer). A raw typed array
 * from `view().array` is meant for use until the next allocation: take it, use it, drop it.
 */
import { DisposedError, InvalidArgumentError } from '../errors.js';
import type { WasmMemory } from './memory.js';
import { rt } from './wasm.js';

export type DType = 'float32' | 'int32' | 'int8' | 'uint8' | 'int16' | 'uint16';

export interface DTypeArrayMap {
  float32: Float32Array; int32: Int32Array; int8: Int8Array; uint8: Uint8Array; int16: Int16Array; uint16: Uint16Array;
}
export type TypedArrayOf<D extends DType> = DTypeArrayMap[D];

const CTORS = {
  float32: Float32Array, int32: Int32Array, int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
} as const;

export function bytesPerElement(dtype: DType): number {
  return CTORS[dtype].BYTES_PER_ELEMENT;
}

export function dtypeOf(a: ArrayBufferView): DType | undefined {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  return undefined;
}

/** Validate a shape and return its element count. */
export function shapeSize(shape: readonly number[], argument = 'shape'): number {
  if (!Array.isArray(shape)) throw new InvalidArgumentError(argument, 'must be an array of non-negative integers');
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new InvalidArgumentError(argument, `dimensions must be non-negative integers, got [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

const registry = new FinalizationRegistry<{ mem: WasmMemory; offset: number }>(({ mem, offset }) => {
  if (mem.isLive(offset)) mem.release(offset);
});

/** A live view on a tensor's data that survives memory growth. */
export class TensorView<D extends DType> {
  private cached: TypedArrayOf<D> | undefined;
  constructor(private readonly tensor: Tensor<D>) {}
  /** The current typed array over the tensor's bytes (re-derived after growth). */
  get array(): TypedArrayOf<D> {
    const t = this.tensor;
    const off = t.byteOffset; // throws if disposed
    const buf = t.mem.memory.buffer;
    if (this.cached === undefined || this.cached.buffer !== buf) {
      this.cached = new CTORS[t.dtype](buf, off, t.size) as TypedArrayOf<D>;
    }
    return this.cached;
  }
  get(i: number): number { return this.array[i]!; }
  set(i: number, v: number): void { this.array[i] = v; }
}

export class Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly size: number;
  readonly byteLength: number;
  /** @internal */
  readonly mem: WasmMemory;
  private offset: number;
  private readonly token = {};

  private constructor(mem: WasmMemory, dtype: D, shape: readonly number[]) {
    this.mem = mem;
    this.dtype = dtype;
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    this.byteLength = this.size * bytesPerElement(dtype);
    this.offset = mem.alloc(this.byteLength);
    registry.register(this, { mem, offset: this.offset }, this.token);
  }

  /** A new zero-filled tensor in wasm memory. */
  static empty<D extends DType>(dtype: D, shape: readonly number[]): Tensor<D> {
    if (!(dtype in CTORS)) throw new InvalidArgumentError('dtype', `unknown dtype '${String(dtype)}'; use one of ${Object.keys(CTORS).join(', ')}`);
    const t = new Tensor(rt().mem, dtype, shape);
    t.mem.bytes(t.offset, t.byteLength).fill(0);
    return t;
  }

  /** Copy a typed array into a new tensor (the dtype follows the array type). */
  static from<A extends TypedArrayOf<DType>>(data: A, shape: readonly number[] = [data.length]): Tensor<DType> {
    const dtype = dtypeOf(data);
    if (!dtype) throw new InvalidArgumentError('data', 'must be a Float32Array, Int32Array, Int8Array, Uint8Array, Int16Array or Uint16Array');
    const n = shapeSize(shape);
    if (n !== data.length) throw new InvalidArgumentError('shape', `[${shape.join(', ')}] holds ${n} elements but data has ${data.length}`);
    const t = new Tensor(rt().mem, dtype, shape);
    t.write(data);
    return t;
  }

  get disposed(): boolean { return this.offset === 0; }

  /** Byte offset in wasm memory (for kernels). Throws after dispose. */
  get byteOffset(): number {
    if (this.offset === 0) throw new DisposedError(`Tensor(${this.dtype} [${this.shape.join(', ')}])`);
    return this.offset;
  }

  /** Copy of the data (safe to keep forever). */
  toArray(): TypedArrayOf<D> {
    const off = this.byteOffset;
    return new CTORS[this.dtype](this.mem.memory.buffer.slice(off, off + this.byteLength)) as TypedArrayOf<D>;
  }

  /** A live view (re-derived after memory growth). */
  view(): TensorView<D> {
    void this.byteOffset;
    return new TensorView(this);
  }

  /** Copy `data` (same length and dtype) into the tensor. */
  write(data: ArrayLike<number> & ArrayBufferView): void {
    const off = this.byteOffset;
    if (dtypeOf(data) !== this.dtype) throw new InvalidArgumentError('data', `must be a ${CTORS[this.dtype].name} for a ${this.dtype} tensor`);
    if (data.length !== this.size) throw new InvalidArgumentError('data', `has ${data.length} elements, tensor has ${this.size}`);
    new Uint8Array(this.mem.memory.buffer, off, this.byteLength).set(new Uint8Array(data.buffer, data.byteOffset, this.byteLength));
  }

  dispose(): void {
    if (this.offset === 0) throw new DisposedError(`Tensor(${this.dtype} [${this.shape.join(', ')}])`);
    this.mem.release(this.offset); // first: refused (BusyError) while a parallel call runs
    registry.unregister(this.token);
    this.offset = 0;
  }

  [Symbol.dispose](): void {
    if (this.offset !== 0) this.dispose();
  }
}
