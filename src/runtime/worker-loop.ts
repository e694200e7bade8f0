/**
 * A pool worker's job loop, the same in every host (src/runtime/worker.ts in Node,
 * src/runtime/worker-web.ts in a browser): instantiate the build the calling thread selected on
 * the shared memory, then loop on the control block (src/runtime/pool-protocol.ts): wait for a
 * job number, run the encoded kernel calls, store DONE and notify. It allocates nothing and never
 * grows the memory. A call that throws (a wasm trap, a kernel abort) is reported in the control
 * block, the instance is rebuilt, and the loop goes on. docs/threads.md has the rules.
 */
import { kernelImports } from './imports.js';
import {
  callables, CALL_AREA_F64, HEADER_WORDS, runEncoded, SEQ_STOP, W_DONE, W_EXITED, W_NCALLS, W_READY, W_SEQ, W_SPIN, W_STARTED, W_STATUS,
  writeFailure, type WorkerInit,
} from './pool-protocol.js';

/** Thrown by a host's `exit` where ending the thread does not stop the running code (a Web Worker's close()). */
export class WorkerExit extends Error {}

/** Flag the worker as gone (its caller stops waiting for it at once). */
export function markExited(init: WorkerInit): void {
  const ctrl = new Int32Array(init.control, 0, HEADER_WORDS);
  Atomics.store(ctrl, W_EXITED, 1);
  Atomics.notify(ctrl, W_DONE);
}

/** Serve jobs until the caller stores SEQ_STOP (or `exit` runs). `exit` ends the thread (the `__exit` test built-in). */
export function serveJobs(init: WorkerInit, exit: () => never): void {
  const ctrl = new Int32Array(init.control, 0, HEADER_WORDS);
  const calls = new Float64Array(init.control, HEADER_WORDS * 4, CALL_AREA_F64);
  const instantiate = () => callables(init.names, new WebAssembly.Instance(init.module, kernelImports(init.memory)).exports, exit);
  let fns = instantiate();
  Atomics.store(ctrl, W_READY, 1);
  Atomics.notify(ctrl, W_READY);
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
      if (e instanceof WorkerExit) return;
      status = 1;
      writeFailure(init.control, `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`);
      fns = instantiate();
    }
    seen = seq;
    Atomics.store(ctrl, W_STATUS, status);
    Atomics.store(ctrl, W_DONE, seq);
    Atomics.notify(ctrl, W_DONE);
  }
}
