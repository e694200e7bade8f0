/**
 * The browser test inside a module Web Worker: intquant imported by URL (import maps do not
 * reach workers), its pool's Web Workers started from this one, and the caller blocking in
 * Atomics.wait as a worker may. The first message is the page's query string; the report goes back.
 */
import { runReport } from './run.js';

interface WorkerScope { onmessage: ((e: MessageEvent<string>) => void) | null; postMessage(v: unknown): void }
const scope = globalThis as unknown as WorkerScope;

scope.onmessage = async (e) => {
  const entry = new URL('../dist/src/index.browser.js', import.meta.url).href;
  const internals = new URL('../dist/src/runtime/wasm.js', import.meta.url).href;
  scope.postMessage(await runReport('worker', entry, internals, new URLSearchParams(e.data)));
};
