/**
 * Optional peers: onnxruntime-node (native) and onnxruntime-web (wasm), loaded from
 * bench/peers/node_modules when `npm run bench:peers` has installed them. Absent → no peer rows.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { threads } from '../../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));

export interface OrtTensorLike { data: ArrayBufferView & ArrayLike<number>; dims: readonly number[] }
export interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, OrtTensorLike>>;
  release?(): Promise<void>;
}
export interface Peer {
  name: 'onnxruntime-node' | 'onnxruntime-web';
  createSession(model: Uint8Array): Promise<OrtSession>;
  tensor(type: 'float32' | 'int8' | 'uint8', data: ArrayBufferView, dims: number[]): unknown;
}

async function load(name: Peer['name']): Promise<Peer | undefined> {
  if (!existsSync(join(here, 'node_modules', name))) return undefined;
  try {
    const ort = require(name) as {
      InferenceSession: { create(m: Uint8Array, o: object): Promise<OrtSession> };
      Tensor: new (t: string, d: ArrayBufferView, dims: number[]) => unknown;
      env: { wasm?: { numThreads?: number; simd?: boolean } };
    };
    if (name === 'onnxruntime-web' && ort.env.wasm) ort.env.wasm.numThreads = 1;
    const options = name === 'onnxruntime-node'
      ? { executionProviders: ['cpu'], intraOpNumThreads: threads(), interOpNumThreads: 1, graphOptimizationLevel: 'all' } // the same thread count as ours
      : { executionProviders: ['wasm'], graphOptimizationLevel: 'all' };
    return {
      name,
      createSession: (m) => ort.InferenceSession.create(m, options),
      tensor: (type, data, dims) => new ort.Tensor(type, data, dims),
    };
  } catch (e) {
    console.error(`peer ${name} present but failed to load: ${e instanceof Error ? e.message : e}`);
    return undefined;
  }
}

let cache: Promise<Peer[]> | undefined;
/** The peers installed here (possibly none). */
export function loadPeers(): Promise<Peer[]> {
  cache ??= Promise.all([load('onnxruntime-node'), load('onnxruntime-web')]).then((p) => p.filter((x): x is Peer => !!x));
  return cache;
}
