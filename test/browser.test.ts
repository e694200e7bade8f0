/**
 * intquant in a real browser: Debian's Chromium, headless, loads pages that the test serves from
 * 127.0.0.1 — the package's browser entry and wasm from dist/ and build/ exactly as packed, and
 * the workload of test/browser/scenario.ts — and every result must equal the same workload run
 * here in Node with the same kernel build, bit for bit (where this Node cannot run that build:
 * with the baseline's run, bit for bit but for the dot-add build's weight-only GEMVs, which its
 * contract bounds). Pages served with COOP/COEP (cross-origin isolated) run on shared memory with
 * 2 threads, once per kernel build Chromium can run, and once inside a Web Worker; a page without
 * them runs one thread on unshared memory and refuses more with a clear error. The README's
 * browser example runs as printed. Chromium missing or failing to start
 * fails the test, saying so. Runs in every Node pass of CI (~20 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as iq from '../src/index.js';
import { loadBuild, withBuild, type Backend } from '../src/runtime/wasm.js';
import { INT4_PROBLEM, runScenario, seeded, toBase64, WEIGHT_ONLY, type Report } from './browser/scenario.js';
import { startStaticServer, type StaticServer } from '../tools/browser/static-server.js';
import { Browser, BrowserError } from '../tools/browser/chromium.js';

const root = resolve(import.meta.dirname, '..');

/** Newest modification time of the .ts files under src/ (dist/ must be at least as new). */
function newest(dir: string, pick: (f: string) => boolean): number {
  let t = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const f = join(dir, name);
    if (pick(f) && statSync(f).isFile()) t = Math.max(t, statSync(f).mtimeMs);
  }
  return t;
}

function assertBuilt(): void {
  const entry = join(root, 'dist/src/index.browser.js');
  if (!existsSync(entry)) throw new Error('dist/src/index.browser.js is missing: run `npm run build` (npm test does it)');
  const src = newest(join(root, 'src'), (f) => f.endsWith('.ts'));
  const dist = newest(join(root, 'dist/src'), (f) => f.endsWith('.js'));
  if (dist < src) throw new Error('dist/ is older than src/: run `npm run build` (npm test does it) so the browser test runs the current code');
}

/** Which results differ, with the first differing byte of each; `except` names results left to another check. */
function differences(page: Record<string, string>, node: Record<string, string>, except?: RegExp): string[] {
  const out: string[] = [];
  for (const key of new Set([...Object.keys(page), ...Object.keys(node)])) {
    const a = page[key], b = node[key];
    if (a === b || except?.test(key)) continue;
    if (a === undefined || b === undefined) { out.push(`${key}: only in ${a === undefined ? 'Node' : 'the page'}`); continue; }
    const x = Buffer.from(a, 'base64'), y = Buffer.from(b, 'base64');
    let i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    out.push(`${key}: ${x.length} vs ${y.length} bytes, first difference at byte ${i}`);
  }
  return out;
}

const floats = (b64: string) => { const b = Buffer.from(b64, 'base64'); return new Float32Array(b.buffer, b.byteOffset, b.length / 4); };

/** Σ_k |w[n,k]·x[k]| per row of the int4 problem: the scale of the weight-only kernels' float32 error bound. */
function absProductSums(): Float64Array {
  const { N, K, wSeed, xSeed } = INT4_PROBLEM;
  const w = seeded(N * K, wSeed), x = seeded(K, xSeed), out = new Float64Array(N);
  for (let n = 0; n < N; n++) { let s = 0; for (let k = 0; k < K; k++) s += Math.abs(w[n * K + k]! * x[k]!); out[n] = s; }
  return out;
}

/**
 * The page's results against Node's: bit for bit with Node's run of the same build where this
 * Node can run it; else with the baseline's, every result bit for bit except the dot-add build's
 * weight-only GEMVs, which its contract bounds instead (≤ 1e-5 of Σ|w·x| per row). Returns what
 * differs, and how the weight-only results were judged.
 */
function compare(r: Report): { differs: string[]; how: string } {
  const backend = r.backend as Backend;
  const same = node.get(backend);
  if (same) return { differs: differences(r.results!, same), how: `bit for bit with Node's ${backend} run` };
  const base = node.get('simd128')!;
  const dotAdd = backend === 'relaxed-dotadd';
  const differs = differences(r.results!, base, dotAdd ? WEIGHT_ONLY : undefined);
  if (!dotAdd) return { differs, how: "bit for bit with Node's simd128 run" };
  let worst = 0;
  for (const key of Object.keys(base).filter((k) => WEIGHT_ONLY.test(k))) {
    const a = floats(r.results![key]!), b = floats(base[key]!);
    let here = a.length === b.length ? 0 : Infinity;
    for (let n = 0; n < b.length; n++) here = Math.max(here, Math.abs(a[n]! - b[n]!) / bound[n]!);
    if (!(here <= 1e-5)) differs.push(`${key}: ${here.toExponential(2)} of Σ|w·x| from the baseline, above 1e-5`);
    worst = Math.max(worst, here);
  }
  return { differs, how: `bit for bit with Node's simd128 run, weight-only GEMVs within ${worst.toExponential(1)} of Σ|w·x|` };
}

let server: StaticServer;
let browser: Browser;
/** Node's results by the build that ran them (every build this Node can run). */
const node = new Map<Backend, Record<string, string>>();
const whyNot = new Map<Backend, string>();
let bound: Float64Array;
const summary: string[] = [];
let autoPicked: string | undefined;
let readmeDir: string | undefined;

/** The README's "In the browser" example: its html block, which must stay within ten lines. */
function readmeExample(): string {
  const section = readFileSync(join(root, 'README.md'), 'utf8').split('## In the browser')[1] ?? '';
  const html = /```html\n([\s\S]*?)```/.exec(section)?.[1];
  if (!html) throw new Error('README.md has no html block under "## In the browser"');
  return html;
}
const asBase64 = (results: Record<string, Uint8Array>) => Object.fromEntries(Object.entries(results).map(([k, v]) => [k, toBase64(v)]));

beforeAll(async () => {
  assertBuilt();
  await iq.init({ backend: 'simd128' });
  node.set('simd128', asBase64(runScenario(iq)));
  for (const backend of ['relaxed-simd', 'relaxed-dotadd'] as const) {
    try {
      const build = await loadBuild(backend);
      node.set(backend, asBase64(withBuild(build, () => runScenario(iq))));
    } catch (e) {
      whyNot.set(backend, (e as Error).message);
    }
  }
  bound = absProductSums();
  summary.push(`Node ${process.version} runs ${[...node.keys()].join(', ')}${[...whyNot].map(([b, why]) => `; not ${b}: ${why.replace(/^backend '[^']+': /, '')}`).join('')}`);
  const mounts = (prefix: string) => [
    { prefix: `${prefix}dist/`, dir: join(root, 'dist') },
    { prefix: `${prefix}build/`, dir: join(root, 'build') },
    { prefix: `${prefix}test/`, dir: join(root, 'test/browser') },
  ];
  // the README's browser example as a page, with the package where its import map looks for it
  readmeDir = mkdtempSync(join(tmpdir(), 'intquant-readme-page-'));
  writeFileSync(join(readmeDir, 'index.html'), `<!doctype html><meta charset="utf-8"><body>\n${readmeExample()}\n</body>`);
  server = await startStaticServer({
    mounts: [...mounts('/coi/'), ...mounts('/plain/'), { prefix: '/readme/', dir: readmeDir },
      { prefix: '/node_modules/intquant/dist/', dir: join(root, 'dist') }, { prefix: '/node_modules/intquant/build/', dir: join(root, 'build') }],
    isolated: (p) => !p.startsWith('/plain/'),
  });
  browser = await Browser.launch();
  summary.unshift(await browser.version());
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (readmeDir) rmSync(readmeDir, { recursive: true, force: true });
  if (summary.length) console.log(`browser test:\n  ${summary.join('\n  ')}`);
});

async function report(path: string): Promise<Report> {
  const page = await browser.open(`${server.url}${path}`);
  try {
    return await page.evaluate<Report>(`new Promise((resolve) => { const poll = () => window.intquantReport ? resolve(window.intquantReport) : setTimeout(poll, 20); poll(); })`);
  } catch (e) {
    throw new BrowserError(`${path}: ${(e as Error).message}${page.errors.length ? `; page errors: ${page.errors.join(' | ')}` : ''}`);
  } finally {
    await page.close();
  }
}

describe('in Chromium', () => {
  it('an isolated page picks a build itself, runs 2 threads on shared memory, and matches Node bit for bit', async () => {
    const r = await report('/coi/test/index.html?threads=2');
    expect(r.initError).toBeUndefined();
    expect(r.crossOriginIsolated).toBe(true);
    expect(['simd128', 'relaxed-simd', 'relaxed-dotadd']).toContain(r.backend);
    expect(r.threads).toBe(2);
    expect(r.memory).toBe('[object SharedArrayBuffer]');
    expect(r.sharesDispatched).toBeGreaterThan(0); // work went to a Web Worker
    autoPicked = r.backend;
    const { differs, how } = compare(r);
    expect(differs).toEqual([]);
    expect(Object.keys(r.results!)).toHaveLength(Object.keys(node.get('simd128')!).length);
    summary.push(`isolated page: auto picked ${r.backend}, ${r.sharesDispatched} shares on a Web Worker, ${r.scenarioMs} ms, ${how}`);
  });

  for (const backend of ['simd128', 'relaxed-simd', 'relaxed-dotadd']) {
    it(`backend ${backend}: matches Node bit for bit, or says why Chromium cannot run it`, async () => {
      if (backend === autoPicked) { summary.push(`${backend}: the isolated page's own pick, checked above`); return; }
      const r = await report(`/coi/test/index.html?threads=2&backend=${backend}`);
      if (r.initError) {
        expect(backend).not.toBe('simd128');
        expect(r.initError.code).toBe('IQ_BACKEND_UNAVAILABLE');
        summary.push(`${backend} unavailable: ${r.initError.message}`);
        return;
      }
      expect(r.backend).toBe(backend);
      const { differs, how } = compare(r);
      expect(differs).toEqual([]);
      summary.push(`${backend}: ${how}`);
    });
  }

  it('inside a Web Worker of an isolated page: its own pool of 2 Web Workers, the same results', async () => {
    const r = await report('/coi/test/index.html?threads=2&worker=1');
    expect(r.initError).toBeUndefined();
    expect(r.context).toBe('worker');
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.threads).toBe(2);
    expect(r.sharesDispatched).toBeGreaterThan(0);
    const { differs, how } = compare(r);
    expect(differs).toEqual([]);
    summary.push(`Web Worker: ${r.backend}, 2 threads, ${r.sharesDispatched} shares, ${how}`);
  });

  it('a page without isolation: one thread on unshared memory, the same results; more threads is a clear error', async () => {
    const r = await report('/plain/test/index.html?tryThreads=2');
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.tryThreads).toMatchObject({ code: 'IQ_THREADS_UNAVAILABLE' });
    expect((r.tryThreads as { message: string }).message).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
    expect(r.initError).toBeUndefined();
    expect(r.threads).toBe(1);
    expect(r.memory).toBe('[object ArrayBuffer]');
    expect(r.growCount).toBeGreaterThan(0); // the memory grew (and the unshared buffer detached) on the way
    const { differs, how } = compare(r);
    expect(differs).toEqual([]);
    summary.push(`page without isolation: ${r.backend}, 1 thread, unshared memory, ${how}`);
  });
});

describe("the README's browser example", () => {
  it('is at most ten lines and runs as printed, with the layer output Node computes', async () => {
    expect(readmeExample().trim().split('\n').length).toBeLessThanOrEqual(10);
    const page = await browser.open(`${server.url}/readme/index.html`);
    let text: string;
    try {
      text = await page.evaluate<string>(`new Promise((resolve) => { const poll = () => /^(simd128|relaxed)/.test(document.body.textContent.trim()) ? resolve(document.body.textContent.trim()) : setTimeout(poll, 20); poll(); })`, 60_000);
    } catch (e) {
      throw new BrowserError(`${(e as Error).message}${page.errors.length ? `; page errors: ${page.errors.join(' | ')}` : ''}`);
    } finally {
      await page.close();
    }
    // the same layer in Node
    const N = 256, K = 512, w = Float32Array.from({ length: N * K }, (_, i) => Math.sin(i) / 8);
    const layer = iq.QuantizedLinear.fromFloat32(w, N, K, { weightType: 'int4', groupSize: 32 });
    const y = layer.forward(Float32Array.from({ length: K }, (_, k) => Math.cos(k)));
    layer.dispose();
    expect(text).toMatch(new RegExp(`^(simd128|relaxed-simd|relaxed-dotadd), [1-9]\\d* thread\\(s\\): y\\[0\\] = ${y[0]!.toFixed(4).replace('.', '\\.')}$`));
    summary.push(`README example: ${text}`);
  });
});

describe('Chromium that cannot start', () => {
  it('fails with a message naming the browser and how to install it', async () => {
    await expect(Browser.launch({ executable: '/nonexistent/chromium' })).rejects.toThrow(
      /Chromium could not start \(\/nonexistent\/chromium\).*apt-get install chromium/);
  });
});

describe('the browser entry', () => {
  it('imports no Node built-in and no package, in its whole module graph', () => {
    const seen = new Set<string>();
    const bad: string[] = [];
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
      // tsc emits each import / re-export as a statement at the start of a line; dynamic imports anywhere
      for (const m of code.matchAll(/^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/gm)) {
        const spec = m[1] ?? m[2] ?? m[3]!;
        if (!spec.startsWith('.')) bad.push(`${relative(root, file)} imports '${spec}'`);
        else visit(resolve(dirname(file), spec));
      }
    };
    visit(join(root, 'dist/src/index.browser.js'));
    visit(join(root, 'dist/src/runtime/worker-web.js'));
    expect(bad).toEqual([]);
    expect(seen.size).toBeGreaterThan(20);
  });
});
