/**
 * The browser test's run, the same in the page (./page.ts) and in a Web Worker (./worker.ts):
 * init intquant as the query string says, run the workload (./scenario.ts), report what ran and
 * every result as base64.
 *   ?backend=auto|simd128|relaxed-simd|relaxed-dotadd  &threads=n  &tryThreads=n (init with n
 *   threads first and report the error, if any — what a page without isolation must refuse)
 */
import type * as Intquant from '../../src/index.browser.js';
import { runScenario, toBase64, type Report } from './scenario.js';

const errorOf = (e: unknown) => ({ code: (e as { code?: string }).code, message: (e as Error).message ?? String(e) });

/** `entry`: how this context imports intquant; `internals`: the URL of the same graph's src/runtime/wasm.js. */
export async function runReport(context: 'page' | 'worker', entry: string, internals: string, q: URLSearchParams): Promise<Report> {
  const iq = (await import(entry)) as typeof Intquant;
  const report: Report = { context, crossOriginIsolated: globalThis.crossOriginIsolated, userAgent: navigator.userAgent };
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
