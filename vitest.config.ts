import { defineConfig } from 'vitest/config';

// Two projects: every test on the baseline SIMD128 build (the reference), and the int4 tests plus
// the backend cross-check again on the relaxed-SIMD build (Node 20 needs the flag for it).
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
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
          include: ['test/int4.test.ts', 'test/backend.test.ts', 'test/quantized-linear.test.ts', 'test/threads-exact.test.ts'],
          execArgv: ['--experimental-wasm-relaxed-simd'],
          env: { INTQUANT_BACKEND: 'relaxed-simd' },
        },
      },
    ],
  },
});
