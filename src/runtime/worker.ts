/**
 * A pool worker in Node (node:worker_threads): the job loop of src/runtime/worker-loop.ts on the
 * workerData the pool started it with. An exit the thread sees itself (process.exit in it) is
 * flagged at once; a terminate() is not, and the caller's deadlines catch it.
 */
import { workerData } from 'node:worker_threads';
import { markExited, serveJobs } from './worker-loop.js';
import type { WorkerInit } from './pool-protocol.js';

const init = workerData as WorkerInit;
process.once('exit', () => markExited(init));
serveJobs(init, () => process.exit(1));
