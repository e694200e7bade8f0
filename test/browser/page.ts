/**
 * The browser test's page script: runs ./run.ts here (intquant through the page's import map),
 * or with `?worker=1` inside a module Web Worker (./worker.ts), and sets `window.intquantReport`.
 */
import { runReport } from './run.js';
import type { Report } from './scenario.js';

const q = new URLSearchParams(location.search);

function inWorker(): Promise<Report> {
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Report>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(`the test's Web Worker failed: ${e.message || 'its script did not load'}`));
    worker.postMessage(location.search);
  });
}

(window as unknown as { intquantReport: Promise<Report> }).intquantReport = q.has('worker')
  ? inWorker()
  : runReport('page', 'intquant', new URL('../dist/src/runtime/wasm.js', location.href).href, q);
