import { defineConfig } from 'vitest/config';

// Every test on the baseline SIMD128 build (the reference); the kernel tests again on each
// relaxed-SIMD build the engine can run. Node 20 has relaxed SIMD only behind a V8 flag, and
// there the dot-add build fails its start-up self-test (V8 11.3 miscompiles the fused dot-add),
// so its project runs on Node ≥ 22 only. Node ≥ 22 ships relaxed SIMD and rejects the flag.
const node20 = Number(process.versions.node.split('.')[0]) < 22;
const kernelTests = ['test/int4.test.ts', 'test/backend.test.ts', 'test/quantized-linear.test.ts', 'test/threads-exact.test.ts'];
const int8Tests = ['test/gemv-exact.test.ts', 'test/gemv-linear.test.ts', 'test/gemv-onnx.test.ts', 'test/gemv-memory-errors.test.ts'];
// The exact sweeps again on an unshared memory, one thread: what a page without cross-origin
// isolation runs (growth detaches the buffer there, so a view kept across an allocation shows).
const unsharedTests = ['test/gemv-exact.test.ts', 'test/int4.test.ts', 'test/quant-kernels.test.ts', 'test/calibrate-kernels.test.ts', 'test/quantized-linear.test.ts'];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    setupFiles: ['test/setup-node-host.ts'],
    // CI also writes a JSON report, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: process.env.CI ? ['default', 'json'] : ['default'],
    outputFile: process.env.CI ? { json: 'test-results/vitest.json' } : undefined,
    projects: [
      {
        extends: true,
        test: { name: 'simd128', include: ['test/**/*.test.ts'], env: { INTQUANT_BACKEND: 'simd128' } },
      },
      {
        extends: true,
        test: {
          name: 'relaxed-simd',
          include: kernelTests,
          execArgv: node20 ? ['--experimental-wasm-relaxed-simd'] : [],
          env: { INTQUANT_BACKEND: 'relaxed-simd' },
        },
      },
      {
        extends: true,
        test: { name: 'unshared', include: unsharedTests, env: { INTQUANT_BACKEND: 'simd128', INTQUANT_SHARED_MEMORY: '0' } },
      },
      ...(node20 ? [] : [{
        extends: true as const,
        test: { name: 'relaxed-dotadd', include: [...kernelTests, ...int8Tests], env: { INTQUANT_BACKEND: 'relaxed-dotadd' } },
      }]),
    ],
  },
});
