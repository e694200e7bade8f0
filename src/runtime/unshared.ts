/**
 * The unshared form of a build. The kernels are compiled with `sharedMemory` (asconfig.json):
 * each build imports `env.memory` as a shared memory, which links only to a shared
 * WebAssembly.Memory — and a browser makes those only on a cross-origin isolated page. The
 * kernels use no atomic instruction, so the same code runs on an unshared memory once the
 * import's type says so: this rewrites one byte, the `shared` bit of the memory import's limits
 * (binary format: limits flags 0x03 = max present + shared → 0x01 = max present). Sizes and
 * offsets do not change; nothing else in the module is touched.
 */
import { IntquantError } from '../errors.js';

const SECTION_IMPORT = 2;
const KIND_FUNC = 0, KIND_TABLE = 1, KIND_MEMORY = 2, KIND_GLOBAL = 3, KIND_TAG = 4;
const LIMITS_SHARED = 0x02;

function fail(why: string): never {
  throw new IntquantError('IQ_WASM_INVALID', `cannot make an unshared form of this wasm build: ${why}`);
}

/** A copy of `bytes` whose memory import is unshared (the input is not changed). */
export function unsharedMemoryBuild(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  let p = 8;
  const byte = (): number => {
    if (p >= bytes.length) fail('the module ends early');
    return bytes[p++]!;
  };
  const leb = (): number => {
    let result = 0, shift = 0, b: number;
    do { b = byte(); result += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
    return result;
  };
  const limits = (): void => { const flags = byte(); leb(); if (flags & 0x01) leb(); };
  if (bytes.length < 8 || bytes[0] !== 0x00 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) fail('not a wasm module');
  while (p < bytes.length) {
    const id = byte(), size = leb(), end = p + size;
    if (id !== SECTION_IMPORT) { p = end; continue; }
    for (let n = leb(); n > 0; n--) {
      const moduleName = leb();
      p += moduleName;
      const fieldName = leb();
      p += fieldName;
      const kind = byte();
      if (kind === KIND_FUNC) leb();
      else if (kind === KIND_TABLE) { byte(); limits(); }
      else if (kind === KIND_GLOBAL) { byte(); byte(); }
      else if (kind === KIND_TAG) { byte(); leb(); }
      else if (kind === KIND_MEMORY) {
        const at = p, flags = byte();
        if (!(flags & LIMITS_SHARED)) fail('its memory import is not shared');
        const out = bytes.slice();
        out[at] = flags & ~LIMITS_SHARED;
        return out;
      } else fail(`unknown import kind ${kind}`);
    }
    fail('it imports no memory');
  }
  return fail('it imports no memory');
}
