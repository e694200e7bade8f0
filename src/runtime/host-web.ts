/**
 * The web host (src/runtime/host.ts), for pages and Web Workers: build files fetched next to
 * the package (`new URL('../../../build/…', import.meta.url)`: dist/src/runtime → the package
 * root, a form bundlers recognise as an asset), no environment settings, no V8 flags,
 * `navigator.hardwareConcurrency` cores, module Web Workers for the pool.
 *
 * Threads need a shared WebAssembly.Memory, which a browser gives only to a cross-origin
 * isolated page (`crossOriginIsolated`: served with `Cross-Origin-Opener-Policy: same-origin`
 * and `Cross-Origin-Embedder-Policy: require-corp`). Elsewhere the runtime uses an unshared
 * memory and one thread (src/runtime/unshared.ts). A terminated Web Worker gives no signal when
 * it has stopped: the pool treats it as stopped TERMINATE_SETTLE_MS after terminate().
 * Importing this module installs it; the browser entry point (src/index.browser.ts) does.
 */
import { IntquantError } from '../errors.js';
import { installHost, type Host, type HostWorker } from './host.js';

/** A terminated worker is taken as stopped this long after terminate() (browsers stop it at its next interrupt check). */
export const TERMINATE_SETTLE_MS = 1000;

// One literal URL per build, so bundlers that rewrite `new URL('…', import.meta.url)` find each file.
const PACKAGE_WASM: Readonly<Record<string, () => URL>> = {
  'intquant.wasm': () => new URL('../../../build/intquant.wasm', import.meta.url),
  'intquant-relaxed.wasm': () => new URL('../../../build/intquant-relaxed.wasm', import.meta.url),
  'intquant-dotadd.wasm': () => new URL('../../../build/intquant-dotadd.wasm', import.meta.url),
};

async function fetchBytes(url: URL): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const res = await fetch(url);
  if (res.status === 404) return undefined;
  if (!res.ok) throw new IntquantError('IQ_WASM_MISSING', `${url.href}: HTTP ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}

interface WebScope { crossOriginIsolated?: boolean; navigator?: { hardwareConcurrency?: number } }
const scope = globalThis as unknown as WebScope;

export const webHost: Host = {
  name: 'web',
  packageWasm(file) {
    const url = PACKAGE_WASM[file];
    if (!url) throw new IntquantError('IQ_INTERNAL', `no package URL for build/${file}`);
    return fetchBytes(url());
  },
  async fetchWasm(url) {
    const bytes = await fetchBytes(url);
    if (!bytes) throw new IntquantError('IQ_WASM_MISSING', `${url.href}: HTTP 404 Not Found`);
    return bytes;
  },
  env: () => undefined,
  enableRelaxedSimdFlag: () => 'V8 flags can be set from inside the process only in Node.js',
  cores: () => Math.max(1, scope.navigator?.hardwareConcurrency ?? 1),
  sharedMemoryUnavailable: () => (scope.crossOriginIsolated === true ? undefined
    : 'this page is not cross-origin isolated (crossOriginIsolated is false): serve it with the headers '
      + '`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` to share memory with Web Workers'),
  startWorker(data): HostWorker {
    const worker = new Worker(new URL('./worker-web.js', import.meta.url), { type: 'module', name: 'intquant-pool' });
    let terminated: (() => void) | undefined;
    const exited = new Promise<void>((resolve) => { terminated = resolve; });
    worker.postMessage(data);
    return {
      async terminate() {
        worker.terminate();
        setTimeout(terminated!, TERMINATE_SETTLE_MS);
      },
      exited,
      onError: (listener) => worker.addEventListener('error', (e) => listener(e.message || 'the worker script failed to load'), { once: true }),
      onExit: () => undefined, // browsers never report a worker's end
    };
  },
};

installHost(webHost);
