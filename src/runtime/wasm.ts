/**
 * Loading the kernels: each wasm binary is compiled once per process and instantiated with the
 * host-owned memory (the modules import `env.memory`; they have no allocator of their own).
 *
 * Two builds of the same kernels exist: `build/intquant.wasm` (baseline SIMD128, the reference,
 * runs everywhere) and `build/intquant-relaxed.wasm` (adds relaxed SIMD for the int4 kernels;
 * Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd). With backend 'auto' the relaxed
 * build is used only when the engine validates it AND it passes a start-up self-test against the
 * baseline build (src/runtime/selftest.ts); both instances share one memory.
 *
 * The memory is a shared WebAssembly.Memory (the builds are compiled with threads and
 * sharedMemory): pool workers instantiate the selected build's module on it (docs/threads.md).
 */
import { readFileSync, existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IntquantError, InvalidArgumentError, NotInitializedError } from '../errors.js';
import { WasmMemory } from './memory.js';
import type { KernelExports } from './abi.js';
import { relaxedSelfTest } from './selftest.js';
import { kernelImports } from './imports.js';
import { requestedThreads, ThreadPool } from './pool.js';

export type Backend = 'simd128' | 'relaxed-simd';

export interface Runtime {
  /** The kernels of the build in use. */
  readonly kernels: KernelExports;
  /** The baseline SIMD128 build's kernels (the reference; same memory). */
  readonly baseline: KernelExports;
  readonly mem: WasmMemory;
  /** Which build runs. */
  readonly backend: Backend;
  /** Why the relaxed build is not in use, when it is not. */
  readonly relaxedUnavailable?: string;
  /** The compiled module of the build in use (pool workers instantiate it on the same memory). */
  readonly module: WebAssembly.Module;
  /** The worker pool (src/runtime/pool.ts); with 1 thread it has no workers. */
  readonly pool: ThreadPool;
}

let runtime: Runtime | undefined;
let pending: Promise<Runtime> | undefined;

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

export interface InitOptions {
  /** Cap on bytes in use in wasm memory (default: no cap). */
  maxBytes?: number;
  /**
   * 'auto' (default; or the INTQUANT_BACKEND environment variable): relaxed SIMD when available
   * and self-tested, else SIMD128. 'simd128' forces the baseline; 'relaxed-simd' requires it.
   */
  backend?: 'auto' | Backend;
  /**
   * Node 20 has relaxed SIMD only behind V8's `--experimental-wasm-relaxed-simd`. With `true` (or
   * INTQUANT_EXPERIMENTAL_RELAXED_SIMD=1), init() turns that flag on for this process when the
   * engine does not validate the relaxed build, then validates again; the build must still pass
   * its self-test. Off by default: it changes an engine setting for the whole process (every
   * module compiled afterwards may use relaxed SIMD). Ignored with backend 'simd128'.
   */
  experimentalRelaxedSimd?: boolean;
  /**
   * Threads the kernels may use, the calling thread included (default: INTQUANT_THREADS, else
   * os.availableParallelism()); 1 runs everything on the calling thread. A later init() with
   * `threads` changes the count as setThreads() does. docs/threads.md.
   */
  threads?: number;
}

/** Instantiate a compiled build on `memory` (the main thread here; every pool worker the same way). */
export function instantiateBuild(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  return new WebAssembly.Instance(module, kernelImports(memory)).exports as unknown as KernelExports;
}

/** Whether to turn on V8's relaxed-SIMD flag: the option, else INTQUANT_EXPERIMENTAL_RELAXED_SIMD (1/0). */
function flagRequested(options: InitOptions): boolean {
  if (options.experimentalRelaxedSimd !== undefined) {
    if (typeof options.experimentalRelaxedSimd !== 'boolean') {
      throw new InvalidArgumentError('experimentalRelaxedSimd', `must be true or false, got ${String(options.experimentalRelaxedSimd)}`);
    }
    return options.experimentalRelaxedSimd;
  }
  const env = process.env.INTQUANT_EXPERIMENTAL_RELAXED_SIMD;
  if (env === undefined || env === '' || env === '0') return false;
  if (env === '1') return true;
  throw new InvalidArgumentError('INTQUANT_EXPERIMENTAL_RELAXED_SIMD', `must be 1 or 0, got '${env}'`);
}

/**
 * Validate the relaxed build; if the engine refuses it and the caller allowed it, turn on V8's
 * experimental relaxed-SIMD flag (Node 20) and validate once more.
 */
function validateRelaxed(bytes: Uint8Array<ArrayBuffer>, allowFlag: boolean): string | undefined {
  if (WebAssembly.validate(bytes)) return undefined;
  const missing = 'this engine does not support relaxed SIMD (Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd or init({ experimentalRelaxedSimd: true }))';
  if (!allowFlag) return missing;
  try {
    setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch (e) {
    return `${missing}; setting the V8 flag failed: ${(e as Error).message}`;
  }
  return WebAssembly.validate(bytes) ? undefined : `${missing}; the V8 flag --experimental-wasm-relaxed-simd was set but did not enable it`;
}

function requestedBackend(options: InitOptions): 'auto' | Backend {
  const b = options.backend ?? (process.env.INTQUANT_BACKEND || 'auto');
  if (b !== 'auto' && b !== 'simd128' && b !== 'relaxed-simd') {
    throw new InvalidArgumentError(options.backend !== undefined ? 'backend' : 'INTQUANT_BACKEND', `must be 'auto', 'simd128' or 'relaxed-simd', got '${String(b)}'`);
  }
  return b;
}

/**
 * The optional builds, best first. Each names its file, how the engine is checked for it and the
 * self-test it must pass against the baseline before 'auto' picks it. The baseline SIMD128 build
 * (BASELINE_FILE) is always loaded and is the fallback. Every build imports the same shared
 * memory, so the one selected is instantiated again in each pool worker (src/runtime/pool.ts).
 */
interface OptionalBuild {
  readonly backend: Exclude<Backend, 'simd128'>;
  readonly file: string;
  /** undefined when the engine can run the bytes, else why not. */
  validate(bytes: Uint8Array<ArrayBuffer>, options: { allowFlag: boolean }): string | undefined;
  /** undefined when the build reproduces the baseline, else what differed. */
  selfTest(candidate: KernelExports, baseline: KernelExports, mem: WasmMemory): string | undefined;
}

const BASELINE_FILE = 'intquant.wasm';
const OPTIONAL_BUILDS: readonly OptionalBuild[] = [
  { backend: 'relaxed-simd', file: 'intquant-relaxed.wasm', validate: (b, o) => validateRelaxed(b, o.allowFlag), selfTest: relaxedSelfTest },
];

/** Pages: one to start; the wasm32 limit as maximum (a shared memory must declare one; V8 reserves it as address space only). */
const INITIAL_PAGES = 1;
const MAXIMUM_PAGES = 65536;

type Loaded = Omit<Runtime, 'pool'>;

async function load(want: 'auto' | Backend, allowFlag: boolean, threads: number): Promise<Runtime> {
  const loaded = await loadBuilds(want, allowFlag);
  const pool = new ThreadPool(loaded.module, loaded.mem, loaded.kernels, threads);
  try {
    await pool.ready();
  } catch (e) {
    await pool.close();
    throw e;
  }
  return { ...loaded, pool };
}

async function loadBuilds(want: 'auto' | Backend, allowFlag: boolean): Promise<Loaded> {
  const basePath = findBuild(BASELINE_FILE);
  if (!basePath) {
    throw new IntquantError('IQ_WASM_MISSING', `build/${BASELINE_FILE} not found: run \`npm run asbuild\` (npm install does it for you)`);
  }
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
  const mem = new WasmMemory(memory);
  const baseModule = await WebAssembly.compile(readFileSync(basePath));
  const baseline = instantiateBuild(baseModule, memory);
  const base: Loaded = { kernels: baseline, baseline, mem, backend: 'simd128', module: baseModule };
  if (want === 'simd128') return { ...base, relaxedUnavailable: 'not requested' };
  const reasons: string[] = [];
  for (const build of OPTIONAL_BUILDS) {
    if (want !== 'auto' && want !== build.backend) continue;
    const path = findBuild(build.file);
    let why: string;
    if (!path) why = `build/${build.file} not found`;
    else {
      const bytes = readFileSync(path);
      const invalid = build.validate(bytes, { allowFlag });
      if (invalid !== undefined) why = invalid;
      else {
        const module = await WebAssembly.compile(bytes);
        const kernels = instantiateBuild(module, memory);
        const failure = build.selfTest(kernels, baseline, mem);
        if (failure === undefined) return { kernels, baseline, mem, backend: build.backend, module };
        why = `the ${build.backend} build failed its self-test (${failure})`;
      }
    }
    if (want === build.backend) throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `backend '${build.backend}' requested but ${why}`);
    reasons.push(why);
  }
  return { ...base, relaxedUnavailable: reasons.join('; ') };
}

/** Load and instantiate the kernels. Idempotent: later calls return the same runtime. */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  const want = requestedBackend(options);
  const allowFlag = flagRequested(options);
  const threads = requestedThreads(options.threads);
  const first = pending === undefined;
  pending ??= load(want, allowFlag, threads).then((r) => (runtime = r));
  let rt: Runtime;
  try {
    rt = await pending;
  } catch (e) {
    pending = undefined;
    throw e;
  }
  if (options.backend !== undefined && options.backend !== 'auto' && options.backend !== rt.backend) {
    throw new IntquantError('IQ_BACKEND_FIXED', `intquant is already initialised with backend '${rt.backend}'; the backend is chosen by the first init() of the process`);
  }
  if (options.maxBytes !== undefined) rt.mem.setBudget(options.maxBytes);
  if (!first && options.threads !== undefined) await rt.pool.setThreads(threads);
  return rt;
}

/** The loaded runtime; throws NotInitializedError before `await init()`. */
export function rt(): Runtime {
  if (!runtime) throw new NotInitializedError();
  return runtime;
}

export function isInitialized(): boolean {
  return runtime !== undefined;
}

/** The backend in use: 'simd128' or 'relaxed-simd'. */
export function backend(): Backend {
  return rt().backend;
}
