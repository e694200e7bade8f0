// Tests import runtime modules directly (src/runtime/wasm.ts …), not only the entry point that
// installs the Node host (src/index.ts); install it for every test file.
import '../src/runtime/host-node.js';
