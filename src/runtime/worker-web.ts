/**
 * A pool worker in a browser (a module Web Worker started by src/runtime/host-web.ts): its first
 * message is the WorkerInit (the build's module, the shared memory, its control block); then the
 * job loop of src/runtime/worker-loop.ts, which blocks in Atomics.wait as Web Workers may.
 */
import { markExited, serveJobs, WorkerExit } from './worker-loop.js';
import type { WorkerInit } from './pool-protocol.js';

interface WorkerScope { onmessage: ((e: MessageEvent<WorkerInit>) => void) | null; close(): void }
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = (e) => {
  scope.onmessage = null;
  const init = e.data;
  serveJobs(init, () => {
    markExited(init);
    scope.close();
    throw new WorkerExit('the worker was asked to end');
  });
};
