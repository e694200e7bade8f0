/**
 * A pool worker: instantiates the build the calling thread selected on the shared memory, then
 * loops on its control block (src/runtime/pool-protocol.ts): wait for a job number, run the
 * encoded kernel calls, store DONE and notify. It allocates nothing and never grows the memory.
 * A call that throws (a wasm trap, a kernel abort) is reported on the message port, the instance
 * is rebuilt, and the loop goes on. docs/threads.md has the rules.
 */
import { workerData } from 'node:worker_threads';
import { kernelImports } from './imports.js';
import {
  callables, HEADER_WORDS, runEncoded, SEQ_STOP, W_DONE, W_NCALLS, W_READY, W_EXITED, W_SEQ, W_SPIN, W_STARTED, W_STATUS,
  type WorkerFailure, type WorkerInit,
} from './pool-protocol.js';

const init = workerData as WorkerInit;
const ctrl = new Int32Array(init.control, 0, HEADER_WORDS);
const calls = new Float64Array(init.control, HEADER_WORDS * 4);
const exit = (): never => process.exit(1);
const instantiate = () => callables(init.names, new WebAssembly.Instance(init.module, kernelImports(init.memory)).exports, exit);
let fns = instantiate();

// An exit the thread sees itself (process.exit in it) is flagged at once; a terminate() is not,
// and the caller's deadlines catch it.
process.once('exit', () => { Atomics.store(ctrl, W_EXITED, 1); Atomics.notify(ctrl, W_DONE); });

Atomics.store(ctrl, W_READY, 1);
Atomics.notify(ctrl, W_READY);

/** The job loop (a function, so V8 optimises it; module top-level code is not). */
function serve(): void {
  let seen = 0; // a fresh control block starts at 0; the first job (1) may already be waiting once READY is set
  for (;;) {
    let seq = Atomics.load(ctrl, W_SEQ);
    // spin a little first (SPIN from the caller): back-to-back calls find the worker awake
    for (let i = 0, spin = Atomics.load(ctrl, W_SPIN); seq === seen && i < spin; i++) seq = Atomics.load(ctrl, W_SEQ);
    while (seq === seen) {
      Atomics.wait(ctrl, W_SEQ, seen);
      seq = Atomics.load(ctrl, W_SEQ);
    }
    if (seq === SEQ_STOP) break;
    Atomics.store(ctrl, W_STARTED, seq);
    let status = 0;
    try {
      runEncoded(calls, Atomics.load(ctrl, W_NCALLS), fns);
    } catch (e) {
      status = 1;
      const failure: WorkerFailure = { seq, name: (e as Error)?.name ?? 'Error', message: (e as Error)?.message ?? String(e) };
      init.port.postMessage(failure);
      fns = instantiate();
    }
    seen = seq;
    Atomics.store(ctrl, W_STATUS, status);
    Atomics.store(ctrl, W_DONE, seq);
    Atomics.notify(ctrl, W_DONE);
  }
}

serve();
