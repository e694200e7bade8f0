/**
 * intquant for browsers and Web Workers — the public API (./api.ts) with the web host: wasm
 * fetched next to the package (or passed to `init({ wasm })`), Web Worker threads on a
 * cross-origin isolated page, one thread elsewhere. Imports no Node built-in and no package.
 * File paths have no meaning here, so the safetensors *file* reader and writer are Node-only;
 * the format helpers (header parsing, float16 / bfloat16 conversion) are in the API.
 */
import './runtime/host-web.js';

export * from './api.js';
