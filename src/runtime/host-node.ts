/**
 * The Node.js host (src/runtime/host.ts): build files read from the package's build/ folder,
 * INTQUANT_* from process.env, V8's relaxed-SIMD flag through node:v8, node:worker_threads
 * workers (unref()ed, so an idle pool never keeps a process alive). The memory is shared unless
 * INTQUANT_SHARED_MEMORY=0 asks for the unshared one a page without isolation gets (one thread;
 * the test suite runs the exact kernel sweeps that way too). Importing this module installs it;
 * the Node entry point (src/index.ts) does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { IntquantError, InvalidArgumentError } from '../errors.js';
import { installHost, type Host, type HostWorker } from './host.js';
import type { WorkerInit } from './pool-protocol.js';

/** Locate a build output from the package root (works from src/ and from dist/src/). */
function findBuild(file: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'build', file);
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

const asBytes = (b: Buffer): Uint8Array<ArrayBuffer> => new Uint8Array(b.buffer as ArrayBuffer, b.byteOffset, b.byteLength);

/** The compiled worker module, or the source through tsx (tests, `npm start`). */
function spawn(data: WorkerInit): Worker {
  const here = import.meta.url;
  const fromSource = here.endsWith('.ts');
  const url = new URL(fromSource ? './worker.ts' : './worker.js', here);
  if (!fromSource) return new Worker(url, { workerData: data });
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

export const nodeHost: Host = {
  name: 'node',
  async packageWasm(file) {
    const path = findBuild(file);
    return path === undefined ? undefined : asBytes(readFileSync(path));
  },
  async fetchWasm(url) {
    if (url.protocol === 'file:') return asBytes(await readFile(url));
    const res = await fetch(url);
    if (!res.ok) throw new IntquantError('IQ_WASM_MISSING', `${url.href}: HTTP ${res.status} ${res.statusText}`);
    return new Uint8Array(await res.arrayBuffer());
  },
  env: (name) => process.env[name],
  enableRelaxedSimdFlag() {
    try {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
      return undefined;
    } catch (e) {
      return `setting the V8 flag failed: ${(e as Error).message}`;
    }
  },
  cores: () => availableParallelism(),
  sharedMemoryUnavailable() {
    const env = process.env.INTQUANT_SHARED_MEMORY;
    if (env === undefined || env === '' || env === '1') return undefined;
    if (env === '0') return 'INTQUANT_SHARED_MEMORY=0 asks for an unshared memory';
    throw new InvalidArgumentError('INTQUANT_SHARED_MEMORY', `must be 1 or 0, got '${env}'`);
  },
  startWorker(data): HostWorker {
    const worker = spawn(data);
    worker.unref();
    worker.on('error', () => undefined); // reported through onError; never an unhandled 'error'
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    return {
      terminate: async () => { await worker.terminate(); },
      exited,
      onError: (listener) => worker.once('error', (e: Error) => listener(e.message)),
      onExit: (listener) => worker.once('exit', () => listener()),
    };
  },
};

installHost(nodeHost);
