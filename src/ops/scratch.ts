/**
 * One shared scratch block in wasm memory for the ops' per-call buffers (activations in,
 * accumulators out). Calls are synchronous, so one block serves every matrix; it only grows.
 * Taking it may allocate (and so grow memory): derive views only after `scratch()` returns.
 */
import { rt } from '../runtime/wasm.js';
import type { WasmMemory } from '../runtime/memory.js';

let owner: WasmMemory | undefined;
let watched: unknown;
let offset = 0;
let capacity = 0;

/** Round a part size up so consecutive parts stay 64-byte aligned with ≥ 16 B between them. */
export const part = (bytes: number): number => Math.ceil((bytes + 16) / 64) * 64;

/** A scratch block of at least `bytes` bytes; its offset (valid until the next scratch() call). */
export function scratch(bytes: number): number {
  const { mem, pool } = rt();
  if (owner !== mem) { owner = mem; offset = 0; capacity = 0; }
  // A pool thread given up on may still write into this block: drop it (the memory manager keeps
  // it from reuse until that thread has exited) and take a fresh one next time.
  if (watched !== pool) { watched = pool; pool.onLost(releaseScratch); }
  if (bytes > capacity) {
    const want = Math.max(bytes, Math.ceil(capacity * 1.5), 4096);
    if (offset !== 0) { mem.release(offset); offset = 0; capacity = 0; }
    offset = mem.alloc(want);
    capacity = want;
  }
  return offset;
}

/** Give the scratch block back (e.g. before measuring memory). */
export function releaseScratch(): void {
  if (owner && offset !== 0 && owner.isLive(offset)) owner.release(offset);
  offset = 0;
  capacity = 0;
}
