import type { MemoryStats } from './memory.js';
import { rt } from './wasm.js';

/** Bytes in use, peak, live allocations and wasm memory size. */
export function memoryStats(): MemoryStats {
  return rt().mem.stats();
}

/** Cap bytes in use in wasm memory; an allocation past it throws MemoryBudgetError and changes nothing. */
export function setMemoryBudget(maxBytes: number): void {
  rt().mem.setBudget(maxBytes);
}
