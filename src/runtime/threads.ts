/** The public thread controls (docs/threads.md). */
import { rt } from './wasm.js';
import { threadCount } from './pool.js';

/**
 * Use `n` threads (the calling thread included) from the next call on; 1 = the calling thread
 * only. Up to the pool's size this starts nothing; beyond it, workers are started and join as
 * soon as they are ready (the promise resolves then). Results do not depend on the count.
 */
export function setThreads(n: number): Promise<void> {
  return rt().pool.setThreads(threadCount(n, 'n'));
}

/** Threads the next calls may use, the calling thread included. */
export function threads(): number {
  return rt().pool.threads;
}
