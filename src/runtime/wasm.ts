/**
 * Loading the kernels: each wasm binary is compiled once per realm and instantiated with the
 * host-owned memory (the modules import `env.memory`; they have no allocator of their own).
 *
 * Three builds of the kernels exist:
 *   `build/intquant.wasm`          simd128: baseline SIMD128, the reference, runs everywhere;
 *   `build/intquant-relaxed.wasm`  relaxed-simd: relaxed SIMD's 16-lane dot product in the int4
 *                                  kernels (Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd);
 *   `build/intquant-dotadd.wasm`   relaxed-dotadd: relaxed SIMD's fused dot-add (vpdpbusd on
 *                                  AVX-VNNI CPUs with Node ≥ 24) in the int8 and int4 kernels,
 *                                  with rows-in-lanes layouts of their own.
 * With backend 'auto' the first of relaxed-dotadd, relaxed-simd that the engine validates AND
 * that passes a start-up self-test against the baseline build (src/runtime/selftest.ts) is
 * used (relaxed-dotadd only where the engine's dot-add is native), else simd128; the instances
 * share one memory. Results are bit-identical whichever runs.
 *
 * The bytes come from the host (src/runtime/host.ts: the package's build/ folder in Node, a
 * fetch next to the package in a browser) or from `init({ wasm })`. The memory is a shared
 * WebAssembly.Memory where the host can share one with workers (the builds are compiled with
 * threads and sharedMemory; pool workers instantiate the selected build's module on it,
 * docs/threads.md); elsewhere (a page that is not cross-origin isolated) it is an unshared
 * memory, the builds are loaded in their unshared form (src/runtime/unshared.ts) and one thread runs.
 */
import { IntquantError, InvalidArgumentError, NotInitializedError } from '../errors.js';
import { WasmMemory } from './memory.js';
import type { KernelExports } from './abi.js';
import { buildSelfTest, dotAddUnsignedProbe } from './selftest.js';
import { kernelImports } from './imports.js';
import { requestedThreads, ThreadPool } from './pool.js';
import { host } from './host.js';
import { unsharedMemoryBuild } from './unshared.js';
import { assertKnownOptions } from '../ops/validate.js';

export type Backend = 'simd128' | 'relaxed-simd' | 'relaxed-dotadd';
const BACKENDS: readonly Backend[] = ['simd128', 'relaxed-simd', 'relaxed-dotadd'];

/** One instantiated kernel build: which backend, and its exports (all builds share one memory). */
export interface Build {
  readonly backend: Backend;
  readonly kernels: KernelExports;
  /**
   * relaxed-dotadd only: the engine computes the dot-add's second operand as unsigned 8-bit
   * (vpdpbusd), shown by the self-test, so the int8 kernels use their one-dot-add unsigned form.
   */
  readonly dotAddUnsigned?: boolean;
}

export interface Runtime {
  /** The kernels of the build in use. */
  readonly kernels: KernelExports;
  /** The build in use as one object (what new packed matrices bind to). */
  readonly build: Build;
  /** The baseline SIMD128 build's kernels (the reference; same memory). */
  readonly baseline: KernelExports;
  readonly mem: WasmMemory;
  /** Which build runs. */
  readonly backend: Backend;
  /** Why the relaxed-simd build is not in use, when it is not. */
  readonly relaxedUnavailable?: string;
  /** Why the relaxed-dotadd build is not in use, when it is not. */
  readonly dotAddUnavailable?: string;
  /** The compiled module of the build in use (pool workers instantiate it on the same memory). */
  readonly module: WebAssembly.Module;
  /** Why the memory is not shared (and so one thread runs), when it is not. */
  readonly sharedMemoryUnavailable?: string;
  /** The worker pool (src/runtime/pool.ts); with 1 thread it has no workers. */
  readonly pool: ThreadPool;
}

let runtime: Runtime | undefined;
let pending: Promise<Runtime> | undefined;

/** Where a build comes from in `init({ wasm })`: bytes, a compiled module, or a URL (fetched; a file: URL is read in Node). */
export type WasmSource = ArrayBuffer | ArrayBufferView | WebAssembly.Module | URL;

export interface InitOptions {
  /** Cap on bytes in use in wasm memory (default: no cap). */
  maxBytes?: number;
  /**
   * 'auto' (default; or the INTQUANT_BACKEND environment variable): the relaxed-SIMD dot-add
   * build where the engine lowers the dot-add to a native instruction (its self-test shows
   * unsigned 8-bit operands: vpdpbusd), else the relaxed-SIMD build, when the engine has relaxed
   * SIMD and the build passes its self-test; else SIMD128. 'simd128' forces the baseline;
   * 'relaxed-simd' and 'relaxed-dotadd' require that build.
   */
  backend?: 'auto' | Backend;
  /**
   * Node 20 has relaxed SIMD only behind V8's `--experimental-wasm-relaxed-simd`. With `true` (or
   * INTQUANT_EXPERIMENTAL_RELAXED_SIMD=1), init() turns that flag on for this process when the
   * engine does not validate the relaxed build, then validates again; the build must still pass
   * its self-test. Off by default: it changes an engine setting for the whole process (every
   * module compiled afterwards may use relaxed SIMD). Ignored with backend 'simd128'. Node only
   * (a browser has no such switch: there the reason is reported instead).
   */
  experimentalRelaxedSimd?: boolean;
  /**
   * Threads the kernels may use, the calling thread included (default: INTQUANT_THREADS, else
   * os.availableParallelism() in Node and navigator.hardwareConcurrency on a cross-origin
   * isolated page; 1 where memory cannot be shared, and more is an error saying why); 1 runs
   * everything on the calling thread. A later init() with `threads` changes the count as
   * setThreads() does. docs/threads.md.
   */
  threads?: number;
  /**
   * The kernel builds to load instead of the package's build/ files, by backend (a page that
   * serves or caches them elsewhere): bytes, a compiled WebAssembly.Module, or a URL. Must name
   * 'simd128'; only the builds named are candidates. Without shared memory pass bytes or URLs:
   * a module compiled from the shared build cannot link to an unshared memory.
   */
  wasm?: Partial<Record<Backend, WasmSource>>;
}

const OPTION_NAMES: readonly string[] = ['maxBytes', 'backend', 'experimentalRelaxedSimd', 'threads', 'wasm'];

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
  const env = host().env('INTQUANT_EXPERIMENTAL_RELAXED_SIMD');
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
  const missing = host().name === 'node'
    ? 'this engine does not support relaxed SIMD (Node ≥ 22, or Node 20 with --experimental-wasm-relaxed-simd or init({ experimentalRelaxedSimd: true }))'
    : 'this engine does not support relaxed SIMD';
  if (!allowFlag) return missing;
  const failed = host().enableRelaxedSimdFlag();
  if (failed !== undefined) return `${missing}; ${failed}`;
  return WebAssembly.validate(bytes) ? undefined : `${missing}; the V8 flag --experimental-wasm-relaxed-simd was set but did not enable it`;
}

function requestedBackend(options: InitOptions): 'auto' | Backend {
  const b = options.backend ?? (host().env('INTQUANT_BACKEND') || 'auto');
  if (b !== 'auto' && !BACKENDS.includes(b as Backend)) {
    throw new InvalidArgumentError(options.backend !== undefined ? 'backend' : 'INTQUANT_BACKEND', `must be 'auto', ${BACKENDS.map((x) => `'${x}'`).join(', ')}, got '${String(b)}'`);
  }
  return b as 'auto' | Backend;
}

/** Validate `init({ wasm })`: known backends only, simd128 named, each a bytes / module / URL. */
function requestedSources(wasm: unknown): Partial<Record<Backend, WasmSource>> | undefined {
  if (wasm === undefined) return undefined;
  if (wasm === null || typeof wasm !== 'object' || Array.isArray(wasm)) {
    throw new InvalidArgumentError('wasm', `must be an object of builds by backend, e.g. { simd128: bytes }, got ${String(wasm)}`);
  }
  const sources = wasm as Record<string, unknown>;
  for (const [key, value] of Object.entries(sources)) {
    if (!BACKENDS.includes(key as Backend)) {
      throw new InvalidArgumentError(`wasm.${key}`, `is not a backend; the builds are ${BACKENDS.map((x) => `'${x}'`).join(', ')}`);
    }
    const ok = value instanceof ArrayBuffer || ArrayBuffer.isView(value) || value instanceof WebAssembly.Module || value instanceof URL;
    if (!ok) throw new InvalidArgumentError(`wasm.${key}`, `must be an ArrayBuffer, a typed array, a WebAssembly.Module or a URL, got ${typeof value}`);
  }
  if (sources.simd128 === undefined) throw new InvalidArgumentError('wasm.simd128', 'is required: the baseline build is the reference every other build is tested against');
  return sources as Partial<Record<Backend, WasmSource>>;
}

/**
 * The optional builds, best first. Each names its file, how the engine is checked for it and the
 * self-test it must pass against the baseline before 'auto' picks it. The baseline SIMD128 build
 * (BASELINE_FILE) is always loaded and is the fallback. Every build imports the same memory, so
 * the one selected is instantiated again in each pool worker (src/runtime/pool.ts).
 */
interface OptionalBuild {
  readonly backend: Exclude<Backend, 'simd128'>;
  readonly file: string;
  /** undefined when the engine can run the bytes, else why not. */
  validate(bytes: Uint8Array<ArrayBuffer>, options: { allowFlag: boolean }): string | undefined;
}

const BASELINE_FILE = 'intquant.wasm';
const OPTIONAL_BUILDS: readonly OptionalBuild[] = [
  { backend: 'relaxed-dotadd', file: 'intquant-dotadd.wasm', validate: (b, o) => validateRelaxed(b, o.allowFlag) },
  { backend: 'relaxed-simd', file: 'intquant-relaxed.wasm', validate: (b, o) => validateRelaxed(b, o.allowFlag) },
];

/**
 * Why 'auto' passes over a dot-add build that self-tests correct but whose engine does not treat
 * the operand as unsigned 8-bit: that is an engine without a native dot-add instruction (V8 then
 * emulates it with vpmaddubsw + vpmaddwd + vpaddd), where the build measured 0.5–0.8× the
 * relaxed-simd build (Node 22, AMD EPYC Zen 5; docs/kernels.md). `backend: 'relaxed-dotadd'`
 * still selects it.
 */
const EMULATED_DOT_ADD = 'this engine emulates the fused dot-add (no unsigned 8-bit operands: no VNNI lowering), where the relaxed-dotadd build is slower than relaxed-simd; request it with backend \'relaxed-dotadd\'';

/** A self-tested build, with the capability the dot-add build probes for. */
function buildOf(backend: Backend, kernels: KernelExports, baseline: KernelExports, mem: WasmMemory): Build {
  return backend === 'relaxed-dotadd' ? { backend, kernels, dotAddUnsigned: dotAddUnsignedProbe(kernels, baseline, mem) } : { backend, kernels };
}

/** Pages: one to start; the wasm32 limit as maximum (a shared memory must declare one; V8 reserves it as address space only). */
const INITIAL_PAGES = 1;
const MAXIMUM_PAGES = 65536;

/** A build's wasm as the loader needs it: bytes to validate (none for a module passed in), or the compiled module. */
type Loadable = { bytes: Uint8Array<ArrayBuffer>; module?: undefined } | { bytes?: undefined; module: WebAssembly.Module };

/** Where build `file` of `backend` comes from: `init({ wasm })`, else the package; undefined when there is none. */
async function fetchBuild(backend: Backend, file: string, sources: Partial<Record<Backend, WasmSource>> | undefined, shared: boolean): Promise<Loadable | undefined> {
  let bytes: Uint8Array<ArrayBuffer> | undefined;
  if (sources) {
    const src = sources[backend];
    if (src === undefined) return undefined;
    if (src instanceof WebAssembly.Module) {
      if (!shared) {
        throw new InvalidArgumentError(`wasm.${backend}`, 'is a compiled module of the shared-memory build, which cannot link to the unshared memory used here (memory cannot be shared: see sharedMemoryUnavailable); pass its bytes or URL instead');
      }
      return { module: src };
    }
    bytes = src instanceof URL ? await host().fetchWasm(src)
      : src instanceof ArrayBuffer ? new Uint8Array(src)
      : new Uint8Array(src.buffer as ArrayBuffer, src.byteOffset, src.byteLength);
  } else {
    bytes = await host().packageWasm(file);
    if (bytes === undefined) return undefined;
  }
  return { bytes: shared ? bytes : unsharedMemoryBuild(bytes) };
}

type Loaded = Omit<Runtime, 'pool'>;

async function load(want: 'auto' | Backend, allowFlag: boolean, threads: number | undefined, sources: Partial<Record<Backend, WasmSource>> | undefined): Promise<Runtime> {
  const loaded = await loadBuilds(want, allowFlag, sources);
  const pool = new ThreadPool(loaded.module, loaded.mem, loaded.kernels, requestedThreads(threads, loaded.sharedMemoryUnavailable), loaded.sharedMemoryUnavailable);
  try {
    await pool.ready();
  } catch (e) {
    await pool.close();
    throw e;
  }
  return { ...loaded, pool };
}

async function loadBuilds(want: 'auto' | Backend, allowFlag: boolean, sources: Partial<Record<Backend, WasmSource>> | undefined): Promise<Loaded> {
  const unshared = host().sharedMemoryUnavailable();
  const shared = unshared === undefined;
  const base = await fetchBuild('simd128', BASELINE_FILE, sources, shared);
  if (!base) {
    throw new IntquantError('IQ_WASM_MISSING', `build/${BASELINE_FILE} not found: run \`npm run asbuild\` (npm install does it for you)`);
  }
  const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared });
  const mem = new WasmMemory(memory);
  const baseModule = base.module ?? await WebAssembly.compile(base.bytes);
  const baseline = instantiateBuild(baseModule, memory);
  const why: Partial<Record<Backend, string>> = {};
  const simd128 = (): Loaded => ({ kernels: baseline, build: { backend: 'simd128', kernels: baseline }, baseline, mem, backend: 'simd128', module: baseModule,
    relaxedUnavailable: why['relaxed-simd'] ?? 'not requested', dotAddUnavailable: why['relaxed-dotadd'] ?? 'not requested', sharedMemoryUnavailable: unshared });
  if (want === 'simd128') return simd128();
  for (const build of OPTIONAL_BUILDS) {
    if (want !== 'auto' && want !== build.backend) continue;
    const found = await fetchBuild(build.backend, build.file, sources, shared);
    if (!found) { why[build.backend] = sources ? `init({ wasm }) names no ${build.backend} build` : `build/${build.file} not found`; continue; }
    const invalid = found.bytes ? build.validate(found.bytes, { allowFlag }) : undefined;
    if (invalid !== undefined) { why[build.backend] = invalid; continue; }
    const module = found.module ?? await WebAssembly.compile(found.bytes);
    const kernels = instantiateBuild(module, memory);
    const failure = buildSelfTest(kernels, baseline, mem, build.backend);
    if (failure !== undefined) { why[build.backend] = `the ${build.backend} build failed its self-test (${failure})`; continue; }
    const chosen = buildOf(build.backend, kernels, baseline, mem);
    if (want === 'auto' && chosen.backend === 'relaxed-dotadd' && !chosen.dotAddUnsigned) {
      why[build.backend] = EMULATED_DOT_ADD;
      continue;
    }
    const preferred = `the ${build.backend} build is preferred`;
    return { kernels, build: chosen, baseline, mem, backend: build.backend, module,
      relaxedUnavailable: build.backend === 'relaxed-simd' ? undefined : preferred, dotAddUnavailable: why['relaxed-dotadd'], sharedMemoryUnavailable: unshared };
  }
  if (want !== 'auto') throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `backend '${want}' requested but ${why[want]}`);
  return simd128();
}

/** Load and instantiate the kernels. Idempotent: later calls return the same runtime. */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  if (options === null || typeof options !== 'object') throw new InvalidArgumentError('options', `must be an object of init options, got ${String(options)}`);
  assertKnownOptions('init', options, OPTION_NAMES);
  const want = requestedBackend(options);
  const allowFlag = flagRequested(options);
  const sources = requestedSources(options.wasm);
  requestedThreads(options.threads, undefined); // a bad count (option or INTQUANT_THREADS) fails before anything loads
  const first = pending === undefined;
  if (!first && sources !== undefined) {
    throw new IntquantError('IQ_BACKEND_FIXED', 'intquant is already initialised: init({ wasm }) takes effect only in the first init() of the page or process');
  }
  pending ??= load(want, allowFlag, options.threads, sources).then((r) => (runtime = r));
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
  if (!first && options.threads !== undefined) await rt.pool.setThreads(requestedThreads(options.threads, rt.sharedMemoryUnavailable));
  return rt;
}

let boundBuild: Build | undefined;
const extraBuilds = new Map<Backend, Promise<Build>>();

/** @internal The build new packed matrices bind to: the runtime's, or the one `withBuild` sets. */
export function currentBuild(): Build {
  return boundBuild ?? rt().build;
}

/**
 * @internal Run `fn` with new packed matrices bound to `build` (benchmarks and tests compare builds
 * in one process). A matrix bound to a build other than the runtime's runs on the calling thread.
 */
export function withBuild<T>(build: Build, fn: () => T): T {
  const previous = boundBuild;
  boundBuild = build;
  try {
    return fn();
  } finally {
    boundBuild = previous;
  }
}

/**
 * @internal Another build on the runtime's memory, beside the one in use (validated and
 * self-tested like the one init() picks; the V8 flag is never set here). Throws
 * IQ_BACKEND_UNAVAILABLE with the reason when this engine cannot run it.
 */
export function loadBuild(backend: Backend): Promise<Build> {
  const r = rt();
  if (backend === r.backend) return Promise.resolve(r.build);
  if (backend === 'simd128') return Promise.resolve({ backend, kernels: r.baseline });
  let p = extraBuilds.get(backend);
  if (!p) {
    p = (async () => {
      const file = OPTIONAL_BUILDS.find((b) => b.backend === backend)!.file;
      const found = await fetchBuild(backend, file, undefined, r.sharedMemoryUnavailable === undefined);
      if (!found?.bytes) throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `build/${file} not found`);
      const bytes = found.bytes;
      const invalid = validateRelaxed(bytes, false);
      if (invalid !== undefined) throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `backend '${backend}': ${invalid}`);
      const kernels = instantiateBuild(await WebAssembly.compile(bytes), r.mem.memory);
      const failure = buildSelfTest(kernels, r.baseline, r.mem, backend);
      if (failure !== undefined) throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `the ${backend} build failed its self-test (${failure})`);
      return buildOf(backend, kernels, r.baseline, r.mem);
    })();
    extraBuilds.set(backend, p);
  }
  return p;
}

/** The loaded runtime; throws NotInitializedError before `await init()`. */
export function rt(): Runtime {
  if (!runtime) throw new NotInitializedError();
  return runtime;
}

export function isInitialized(): boolean {
  return runtime !== undefined;
}

/** The backend in use: 'simd128', 'relaxed-simd' or 'relaxed-dotadd'. */
export function backend(): Backend {
  return rt().backend;
}
