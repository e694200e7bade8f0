/**
 * Loading the kernels: each wasm binary is compiled once per process and instantiated with the
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
 * used, else simd128; the instances share one memory. Results are bit-identical whichever runs.
 */
import { readFileSync, existsSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate } from '@assemblyscript/loader';
import { IntquantError, InvalidArgumentError, NotInitializedError } from '../errors.js';
import { WasmMemory } from './memory.js';
import type { KernelExports } from './abi.js';
import { buildSelfTest, dotAddUnsignedProbe } from './selftest.js';

export type Backend = 'simd128' | 'relaxed-simd' | 'relaxed-dotadd';

/** The builds beyond the baseline, in the order 'auto' tries them. */
const RELAXED_BUILDS: readonly { backend: Exclude<Backend, 'simd128'>; file: string }[] = [
  { backend: 'relaxed-dotadd', file: 'intquant-dotadd.wasm' },
  { backend: 'relaxed-simd', file: 'intquant-relaxed.wasm' },
];
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
   * 'auto' (default; or the INTQUANT_BACKEND environment variable): the relaxed-SIMD dot-add
   * build, else the relaxed-SIMD build, when the engine has relaxed SIMD and the build passes
   * its self-test; else SIMD128. 'simd128' forces the baseline; 'relaxed-simd' and
   * 'relaxed-dotadd' require that build.
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
}

async function instantiateBuild(bytes: Uint8Array, memory: WebAssembly.Memory): Promise<KernelExports> {
  const { exports } = await instantiate<Record<string, unknown>>(bytes, {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, column: number) {
        throw new IntquantError('IQ_KERNEL_ABORT', `kernel aborted at line ${line}:${column}`);
      },
    },
  });
  return exports as unknown as KernelExports;
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
  if (b !== 'auto' && !BACKENDS.includes(b as Backend)) {
    throw new InvalidArgumentError(options.backend !== undefined ? 'backend' : 'INTQUANT_BACKEND', `must be 'auto', ${BACKENDS.map((x) => `'${x}'`).join(', ')}, got '${String(b)}'`);
  }
  return b as 'auto' | Backend;
}

async function load(want: 'auto' | Backend, allowFlag: boolean): Promise<Runtime> {
  const basePath = findBuild('intquant.wasm');
  if (!basePath) {
    throw new IntquantError('IQ_WASM_MISSING', 'build/intquant.wasm not found: run `npm run asbuild` (npm install does it for you)');
  }
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  const mem = new WasmMemory(memory);
  const baseline = await instantiateBuild(readFileSync(basePath), memory);
  const why: Partial<Record<Backend, string>> = {};
  const simd128 = () => ({ kernels: baseline, build: { backend: 'simd128' as const, kernels: baseline }, baseline, mem, backend: 'simd128' as const,
    relaxedUnavailable: why['relaxed-simd'] ?? 'not requested', dotAddUnavailable: why['relaxed-dotadd'] ?? 'not requested' });
  if (want === 'simd128') return simd128();
  for (const build of RELAXED_BUILDS) {
    if (want !== 'auto' && want !== build.backend) continue;
    const path = findBuild(build.file);
    if (!path) { why[build.backend] = `build/${build.file} not found`; continue; }
    const bytes = readFileSync(path);
    const invalid = validateRelaxed(bytes, allowFlag);
    if (invalid !== undefined) { why[build.backend] = invalid; continue; }
    const kernels = await instantiateBuild(bytes, memory);
    const failure = buildSelfTest(kernels, baseline, mem, build.backend);
    if (failure === undefined) {
      const preferred = `the ${build.backend} build is preferred`;
      return { kernels, build: buildOf(build.backend, kernels, baseline, mem), baseline, mem, backend: build.backend,
        relaxedUnavailable: build.backend === 'relaxed-simd' ? undefined : preferred, dotAddUnavailable: why['relaxed-dotadd'] };
    }
    why[build.backend] = `the ${build.backend} build failed its self-test (${failure})`;
  }
  if (want !== 'auto') throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `backend '${want}' requested but ${why[want]}`);
  return simd128();
}

/** Load and instantiate the kernels. Idempotent: later calls return the same runtime. */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  const want = requestedBackend(options);
  const allowFlag = flagRequested(options);
  pending ??= load(want, allowFlag).then((r) => (runtime = r));
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
  return rt;
}

/** A self-tested build, with the capability the dot-add build probes for. */
function buildOf(backend: Backend, kernels: KernelExports, baseline: KernelExports, mem: WasmMemory): Build {
  return backend === 'relaxed-dotadd' ? { backend, kernels, dotAddUnsigned: dotAddUnsignedProbe(kernels, baseline, mem) } : { backend, kernels };
}

let boundBuild: Build | undefined;
const extraBuilds = new Map<Backend, Promise<Build>>();

/** @internal The build new packed matrices bind to: the runtime's, or the one `withBuild` sets. */
export function currentBuild(): Build {
  return boundBuild ?? rt().build;
}

/** @internal Run `fn` with new packed matrices bound to `build` (benchmarks and tests compare builds in one process). */
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
      const file = RELAXED_BUILDS.find((b) => b.backend === backend)!.file;
      const path = findBuild(file);
      if (!path) throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `build/${file} not found`);
      const bytes = readFileSync(path);
      const invalid = validateRelaxed(bytes, false);
      if (invalid !== undefined) throw new IntquantError('IQ_BACKEND_UNAVAILABLE', `backend '${backend}': ${invalid}`);
      const kernels = await instantiateBuild(bytes, r.mem.memory);
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
