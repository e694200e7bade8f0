/**
 * What the runtime needs from the JavaScript host it runs on, in one interface: the wasm bytes
 * of a build, settings from the environment, the core count, whether threads can share memory,
 * how to start a pool worker. Node (src/runtime/host-node.ts: node:fs, node:v8, node:os,
 * node:worker_threads) and the web platform (src/runtime/host-web.ts: fetch, navigator, Web
 * Workers) each provide one; the package's entry points install theirs when they are imported
 * (`exports` conditions `node` / `browser`), so nothing else in the runtime imports a Node built-in.
 */
import { IntquantError } from '../errors.js';
import type { WorkerInit } from './pool-protocol.js';

/** A pool worker as the pool sees it, whatever starts it. */
export interface HostWorker {
  /** Stop the thread (a job it is running is abandoned); resolves once the host has done so. */
  terminate(): Promise<void>;
  /** Settles once the thread can no longer touch the memory (see each host for how it knows). */
  readonly exited: Promise<void>;
  /** `listener` runs once when the worker fails to load or start (with why). */
  onError(listener: (message: string) => void): void;
  /** `listener` runs once when the thread ends by itself (Node reports it; a browser never does). */
  onExit(listener: () => void): void;
}

export interface Host {
  readonly name: 'node' | 'web';
  /** The bytes of a package build file (`build/<file>`), or undefined when the package has none. */
  packageWasm(file: string): Promise<Uint8Array<ArrayBuffer> | undefined>;
  /** The bytes behind a URL given in `init({ wasm })`. */
  fetchWasm(url: URL): Promise<Uint8Array<ArrayBuffer>>;
  /** An environment setting (INTQUANT_*), or undefined where the host has none. */
  env(name: string): string | undefined;
  /** Turn on V8's relaxed-SIMD flag for this process: undefined on success, else why not. */
  enableRelaxedSimdFlag(): string | undefined;
  /** Logical cores (the default thread count where threads are available). */
  cores(): number;
  /** undefined when a shared WebAssembly.Memory can be made and handed to workers here, else why not. */
  sharedMemoryUnavailable(): string | undefined;
  /** Start a pool worker on `init` (the selected build's module, the memory, its control block). */
  startWorker(init: WorkerInit): HostWorker;
}

let installed: Host | undefined;

/** Make `h` the host of this realm (each entry point does it once, on import). */
export function installHost(h: Host): void {
  installed = h;
}

/** The installed host; an internal error when intquant was loaded other than through an entry point. */
export function host(): Host {
  if (!installed) {
    throw new IntquantError('IQ_NO_HOST', "no host is installed: import intquant through its entry point ('intquant'), which installs the one for Node or the browser");
  }
  return installed;
}
