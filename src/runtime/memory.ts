/**
 * The one owner of wasm linear memory.
 *
 * Kernels allocate nothing: they receive byte offsets handed out here. Every block is
 * aligned to ALIGN bytes and followed by at least TAIL_PAD bytes that belong to nobody's data,
 * so a SIMD kernel may read (never write) up to 16 bytes past the end of its input.
 *
 * Growth: the memory is shared (pool workers run kernels on it, docs/threads.md), and a shared
 * memory never detaches: after `memory.grow` a view taken before still reads and writes its own
 * bytes, but it sits on the old, shorter SharedArrayBuffer and cannot reach anything allocated
 * past the old end; `memory.buffer` is a new, longer SharedArrayBuffer. Nothing here keeps a
 * view across an allocation; callers re-derive views from `memory.buffer` (`bytes()` / `f32()`
 * …) after any call that may allocate (Tensor.view() re-derives itself). Workers never grow the
 * memory and allocate nothing; the kernels they run see the grown memory at once. Where memory
 * cannot be shared (a page without cross-origin isolation; src/runtime/wasm.ts) it is an
 * unshared memory, whose growth detaches the old buffer: views taken before are empty, which is
 * why nothing here keeps one.
 */
import { BusyError, IntquantError, InvalidArgumentError, MemoryBudgetError } from '../errors.js';

export const ALIGN = 64;       // cache line: keeps weight panels and SIMD loads aligned
export const TAIL_PAD = 16;    // one v128 of slack after every block
const PAGE = 65536;
const MAX_PAGES = 65536;       // 4 GiB, the wasm32 limit
const HEAP_BASE = ALIGN;       // offset 0 is never handed out, so 0 can mean "none"; bytes 16–31 take
                               // the q4 GEMV kernels' dead scheduling stores (q4-gemv-4x32-simd.ts PIN)

export interface MemoryStats {
  /** Bytes requested by live allocations (what the data needs). */
  bytesInUse: number;
  /** Bytes reserved by live allocations including alignment and tail padding. */
  bytesReserved: number;
  /** Highest `bytesInUse` seen. */
  peakBytesInUse: number;
  /** Live allocations (tensors, packed matrices, scratch). */
  liveAllocations: number;
  /** Size of wasm linear memory in bytes. */
  wasmMemoryBytes: number;
  /** Memory budget in bytes, or Infinity. */
  budgetBytes: number;
  /** Number of times linear memory has grown. */
  growCount: number;
}

interface Block { offset: number; size: number }

const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;

export class WasmMemory {
  readonly memory: WebAssembly.Memory;
  private readonly live = new Map<number, { reserved: number; requested: number }>();
  /** Free blocks below `top`, sorted by offset, never adjacent (coalesced). */
  private free: Block[] = [];
  private top = HEAP_BASE;
  private inUse = 0;
  private reserved = 0;
  private peak = 0;
  private budget = Infinity;
  private grows = 0;
  private readonly growListeners = new Set<() => void>();
  /** > 0 while a parallel kernel call runs: releasing a block then is refused. */
  private parallel = 0;
  /** Blocks released while a lost pool worker may still write: kept off the free list until it has exited. */
  private held: { blocks: Block[]; pending: number } | undefined;

  constructor(memory: WebAssembly.Memory) {
    this.memory = memory;
  }

  /** Set a cap on bytes in use (requested bytes of live allocations); Infinity removes it. */
  setBudget(maxBytes: number): void {
    if (!(maxBytes > 0)) throw new InvalidArgumentError('maxBytes', `must be a positive number of bytes or Infinity, got ${maxBytes}`);
    this.budget = maxBytes;
  }

  /** Reserve `bytes` (aligned to 64, with 16 B tail padding). Returns the byte offset. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new InvalidArgumentError('bytes', `must be a non-negative integer, got ${bytes}`);
    if (this.inUse + bytes > this.budget) throw new MemoryBudgetError(bytes, this.inUse, this.budget);
    const size = roundUp(Math.max(bytes, 1) + TAIL_PAD, ALIGN);
    let offset = -1;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size >= size) {
        offset = b.offset;
        if (b.size === size) this.free.splice(i, 1);
        else { b.offset += size; b.size -= size; }
        break;
      }
    }
    if (offset < 0) {
      offset = this.top;
      this.ensureCapacity(offset + size);
      this.top = offset + size;
    }
    this.live.set(offset, { reserved: size, requested: bytes });
    this.inUse += bytes;
    this.reserved += size;
    if (this.inUse > this.peak) this.peak = this.inUse;
    return offset;
  }

  /** Return a block to the allocator. Throws on an offset that is not live (double free). */
  release(offset: number): void {
    const rec = this.live.get(offset);
    if (rec === undefined) throw new InvalidArgumentError('offset', `${offset} is not a live allocation (double free?)`);
    if (this.parallel > 0) {
      throw new BusyError('cannot free wasm memory while a parallel kernel call is running (pool threads may be reading it); dispose after the call returns');
    }
    this.live.delete(offset);
    this.inUse -= rec.requested;
    this.reserved -= rec.reserved;
    if (this.held) this.held.blocks.push({ offset, size: rec.reserved });
    else this.insertFree(offset, rec.reserved);
  }

  /** @internal The pool brackets every parallel call with these. */
  beginParallel(): void { this.parallel++; }
  /** @internal */
  endParallel(): void { this.parallel--; }

  /**
   * @internal Keep blocks released from now on out of reuse until `until` settles (a pool
   * worker that was given up on may still be writing into the blocks of the abandoned call).
   * They count as freed in stats() at once; they return to the free list afterwards.
   */
  holdReleasedUntil(until: Promise<unknown>): void {
    const held = (this.held ??= { blocks: [], pending: 0 });
    held.pending++;
    const lift = () => {
      if (--held.pending > 0 || this.held !== held) return;
      this.held = undefined;
      for (const b of held.blocks) this.insertFree(b.offset, b.size);
    };
    until.then(lift, lift);
  }

  /** @internal Are released blocks being held back (a lost worker has not exited yet)? */
  get holding(): boolean { return this.held !== undefined; }

  /** Is `offset` the start of a live block? */
  isLive(offset: number): boolean {
    return this.live.has(offset);
  }

  /** Called after every growth (views must be re-derived). */
  onGrow(listener: () => void): () => void {
    this.growListeners.add(listener);
    return () => this.growListeners.delete(listener);
  }

  stats(): MemoryStats {
    return {
      bytesInUse: this.inUse,
      bytesReserved: this.reserved,
      peakBytesInUse: this.peak,
      liveAllocations: this.live.size,
      wasmMemoryBytes: this.memory.buffer.byteLength,
      budgetBytes: this.budget,
      growCount: this.grows,
    };
  }

  /** Reset the peak to the current bytes in use (for measuring one phase). */
  resetPeak(): void {
    this.peak = this.inUse;
  }

  // Fresh views over the current buffer. Never cache them across anything that may allocate.
  bytes(offset: number, length: number): Uint8Array { return new Uint8Array(this.memory.buffer, offset, length); }
  i8(offset: number, length: number): Int8Array { return new Int8Array(this.memory.buffer, offset, length); }
  i16(offset: number, length: number): Int16Array { return new Int16Array(this.memory.buffer, offset, length); }
  u16(offset: number, length: number): Uint16Array { return new Uint16Array(this.memory.buffer, offset, length); }
  i32(offset: number, length: number): Int32Array { return new Int32Array(this.memory.buffer, offset, length); }
  f32(offset: number, length: number): Float32Array { return new Float32Array(this.memory.buffer, offset, length); }
  f64(offset: number, length: number): Float64Array { return new Float64Array(this.memory.buffer, offset, length); }

  private insertFree(offset: number, size: number): void {
    const free = this.free;
    // binary search for the insertion point
    let lo = 0, hi = free.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (free[mid]!.offset < offset) lo = mid + 1; else hi = mid; }
    const prev = lo > 0 ? free[lo - 1]! : undefined;
    const next = lo < free.length ? free[lo]! : undefined;
    if (prev && prev.offset + prev.size === offset) {
      prev.size += size;
      if (next && prev.offset + prev.size === next.offset) { prev.size += next.size; free.splice(lo, 1); }
    } else if (next && offset + size === next.offset) {
      next.offset = offset; next.size += size;
    } else {
      free.splice(lo, 0, { offset, size });
    }
    // A free block touching the top is returned to the bump region.
    const last = free[free.length - 1];
    if (last && last.offset + last.size === this.top) { this.top = last.offset; free.pop(); }
  }

  private ensureCapacity(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const havePages = have / PAGE;
    const needPages = Math.ceil(end / PAGE);
    if (needPages > MAX_PAGES) {
      throw new MemoryBudgetError(end - this.top, this.inUse, MAX_PAGES * PAGE);
    }
    // Grow geometrically (×1.25) to keep the number of growths (and stale views) small.
    const want = Math.min(MAX_PAGES, Math.max(needPages, Math.ceil(havePages * 1.25)));
    try {
      this.memory.grow(want - havePages);
    } catch {
      try {
        this.memory.grow(needPages - havePages);
      } catch {
        throw new IntquantError('IQ_OUT_OF_MEMORY',
          `the engine refused to grow wasm memory to ${needPages * PAGE} bytes; dispose tensors or use smaller ones`);
      }
    }
    this.grows++;
    for (const l of this.growListeners) l();
  }
}
