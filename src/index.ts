/**
 * intquant for Node.js — the public API (./api.ts) with the Node host (wasm from the package's
 * build/ folder, node:worker_threads threads) and the safetensors file reader and writer.
 * Everything else is internal. The browser entry is ./index.browser.ts.
 */
import './runtime/host-node.js';

export * from './api.js';
// safetensors files (docs/safetensors.md): streaming reader, deterministic writer.
export { SafetensorsReader, SafetensorsWriter, readSafetensors, writeSafetensors } from './io/safetensors.js';
