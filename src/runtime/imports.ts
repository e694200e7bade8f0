/** The imports every kernel build takes: the one shared memory (and an abort hook, unused with noAssert). */
import { IntquantError } from '../errors.js';

export function kernelImports(memory: WebAssembly.Memory): WebAssembly.Imports {
  return {
    env: {
      memory,
      abort(_msg: number, _file: number, line: number, column: number) {
        throw new IntquantError('IQ_KERNEL_ABORT', `kernel aborted at line ${line}:${column}`);
      },
    },
  };
}
