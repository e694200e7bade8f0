/**
 * Loading the kernels: the wasm binary is compiled once per process and instantiated with the
 * host-owned memory (the module imports `env.memory`; it has no allocator of its own).
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { instantiate } from '@assemblyscript/loader';
import { IntquantError, NotInitializedError } from '../errors.js';
import { WasmMemory } from './memory.js';
import type { KernelExports } from './abi.js';

export interface Runtime {
  readonly kernels: KernelExports;
  readonly mem: WasmMemory;
  /** Which build runs: 'simd128' (baseline SIMD). */
  readonly backend: 'simd128';
}

let runtime: Runtime | undefined;
let pending: Promise<Runtime> | undefined;

/** Locate build/intquant.wasm from the package root (works from src/ and from dist/src/). */
function findWasm(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'build', 'intquant.wasm');
    if (existsSync(join(dir, 'package.json')) && existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new IntquantError('IQ_WASM_MISSING',
    'build/intquant.wasm not found: run `npm run asbuild` (npm install does it for you)');
}

export interface InitOptions {
  /** Cap on bytes in use in wasm memory (default: no cap). */
  maxBytes?: number;
}

/** Load and instantiate the kernels. Idempotent: later calls return the same runtime. */
export async function init(options: InitOptions = {}): Promise<Runtime> {
  if (runtime) {
    if (options.maxBytes !== undefined) runtime.mem.setBudget(options.maxBytes);
    return runtime;
  }
  pending ??= (async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
    const bytes = readFileSync(findWasm());
    const { exports } = await instantiate<Record<string, unknown>>(bytes, {
      env: {
        memory,
        abort(_msg: number, _file: number, line: number, column: number) {
          throw new IntquantError('IQ_KERNEL_ABORT', `kernel aborted at line ${line}:${column}`);
        },
      },
    });
    const rt: Runtime = { kernels: exports as unknown as KernelExports, mem: new WasmMemory(memory), backend: 'simd128' };
    runtime = rt;
    return rt;
  })();
  const rt = await pending;
  if (options.maxBytes !== undefined) rt.mem.setBudget(options.maxBytes);
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
