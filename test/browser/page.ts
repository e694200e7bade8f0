/**
 * The browser test's page script: init intquant as the query string says, run the workload
 * (./scenario.ts), resolve `window.intquantReport` with what ran and every result as base64.
 *   ?backend=auto|simd128|relaxed-simd|relaxed-dotadd  &threads=n  &tryThreads=n (init with n
 *   threads first and report the error, if any — what a page without isolation must refuse)
 */
import type * as Intquant from '../../src/index.browser.js';
import { runScenario, toBase64, type Report } from './scenario.js';

const errorOf = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message ?? String(e) });

async function main(): Promise<Report> {
  // Both specifiers are resolved by the page's import map / URL, not by TypeScript.
  const entry: string = 'intquant';
  const internals: string = '../dist/src/runtime/wasm.js';
  const iq = (await import(entry)) as typeof Intquant;
  const q = new URLSearchParams(location.search);
  const report: Report = { crossOriginIsolated: globalThis.crossOriginIsolated, userAgent: navigator.userAgent };
  if (q.has('tryThreads')) {
    try {
      await iq.init({ threads: Number(q.get('tryThreads')) });
      report.tryThreads = 'ok';
    } catch (e) {
      report.tryThreads = errorOf(e);
    }
  }
  if (report.tryThreads !== 'ok') {
    try {
      const backend = (q.get('backend') ?? 'auto') as Intquant.InitOptions['backend'];
      await iq.init({ backend, ...(q.has('threads') ? { threads: Number(q.get('threads')) } : {}) });
    } catch (e) {
      report.initError = errorOf(e);
      return report;
    }
  }
  const { rt } = (await import(internals)) as typeof import('../../src/runtime/wasm.js');
  report.backend = iq.backend();
  report.threads = iq.threads();
  report.memory = Object.prototype.toString.call(rt().mem.memory.buffer);
  const t0 = performance.now();
  const results = runScenario(iq);
  report.scenarioMs = Math.round(performance.now() - t0);
  report.growCount = iq.memoryStats().growCount;
  report.sharesDispatched = rt().pool.sharesDispatched;
  report.results = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, toBase64(v)]));
  return report;
}

(window as unknown as { intquantReport: Promise<Report> }).intquantReport = main();
