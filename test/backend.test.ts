/**
 * The two builds: the baseline SIMD128 build is the reference; the relaxed-SIMD build must give
 * bit-identical int4 results. Runs in both vitest projects: under 'simd128' the baseline is
 * forced; under 'relaxed-simd' (node --experimental-wasm-relaxed-simd) the relaxed build must be
 * the one chosen and must match the baseline instance sharing its memory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { init, backend, IntquantError, InvalidArgumentError, PackedInt4Matrix } from '../src/index.js';
import { rt } from '../src/runtime/wasm.js';
import { Rng } from '../src/data/random.js';
import { int4ActBytes, int4LayoutOf, relayoutInt4 } from '../src/ops/layouts.js';
import { buildSelfTest } from '../src/runtime/selftest.js';

beforeAll(async () => { await init(); });

describe('backend selection', () => {
  it('uses the backend the project asked for', () => {
    expect(backend()).toBe(process.env.INTQUANT_BACKEND);
    if (backend() === 'simd128') expect(rt().kernels).toBe(rt().baseline);
    else expect(rt().kernels).not.toBe(rt().baseline);
    if (backend() === 'relaxed-simd') expect(rt().relaxedUnavailable).toBeUndefined();
    if (backend() === 'relaxed-dotadd') expect(rt().dotAddUnavailable).toBeUndefined();
  });

  it('rejects an unknown backend and a change of backend after init', async () => {
    await expect(init({ backend: 'avx512' as never })).rejects.toThrow(InvalidArgumentError);
    const other = backend() === 'simd128' ? 'relaxed-simd' : 'simd128';
    await expect(init({ backend: other })).rejects.toThrow(IntquantError);
    await expect(init({ backend: other })).rejects.toThrow(/already initialised/);
    expect((await init({ backend: 'auto' })).backend).toBe(backend());
  });
});

describe('experimentalRelaxedSimd: turning on the V8 flag from init()', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  // a fresh process without --experimental-wasm-relaxed-simd: the flag is process-wide state
  const child = (code: string, env: Record<string, string> = {}) => JSON.parse(execFileSync(process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `import { init, backend } from './src/index.ts'; ${code}`],
    { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, INTQUANT_BACKEND: '', ...env } }).trim().split('\n').pop()!);

  it('selects a self-tested relaxed build only when the engine has relaxed SIMD or the flag is asked for', () => {
    // whether the child's engine has relaxed SIMD without the flag (Node ≥ 22), checked before init()
    const report = 'console.log(JSON.stringify([backend(), r.relaxedUnavailable ?? null, r.dotAddUnavailable ?? null]));';
    const off = child(`import { readFileSync } from 'node:fs'; const has = WebAssembly.validate(readFileSync('build/intquant-relaxed.wasm'));
      const r = await init(); console.log(JSON.stringify([has, backend(), r.relaxedUnavailable ?? null]));`);
    const on = child(`const r = await init({ experimentalRelaxedSimd: true }); ${report}`);
    const viaEnv = child(`const r = await init(); ${report}`, { INTQUANT_EXPERIMENTAL_RELAXED_SIMD: '1' });
    expect(viaEnv).toEqual(on);
    if (off[0]) {
      // Node ≥ 22: the fused dot-add compiles correctly; 'auto' takes the dot-add build only where
      // the engine's dot-add is native (the self-test shows unsigned operands: vpdpbusd)
      const native = child(`const r = await init({ backend: 'relaxed-dotadd' }); console.log(JSON.stringify([r.build.dotAddUnsigned === true]));`)[0];
      if (native) {
        expect(off).toEqual([true, 'relaxed-dotadd', 'the relaxed-dotadd build is preferred']);
        expect(on).toEqual(['relaxed-dotadd', 'the relaxed-dotadd build is preferred', null]);
      } else {
        expect(off).toEqual([true, 'relaxed-simd', null]);
        expect(on).toEqual(['relaxed-simd', null, expect.stringMatching(/emulates the fused dot-add/)]);
      }
    } else {
      // Node 20: V8 11.3's baseline tier miscompiles the fused dot-add, which the self-test catches
      expect(off).toEqual([false, 'simd128', expect.stringMatching(/experimentalRelaxedSimd: true/)]);
      expect(on).toEqual(['relaxed-simd', null, expect.stringMatching(/relaxed-dotadd build failed its self-test \(int4 GEMV G=32 output \d+ differs \(call 1\)\)/)]);
    }
  });

  it('rejects a bad option or environment value, naming it', () => {
    const bad = child(`try { await init({ experimentalRelaxedSimd: 'yes' }); console.log('null'); } catch (e) { console.log(JSON.stringify(e.message)); }`);
    expect(bad).toMatch(/experimentalRelaxedSimd.*true or false/);
    const badEnv = child(`try { await init(); console.log('null'); } catch (e) { console.log(JSON.stringify(e.message)); }`, { INTQUANT_EXPERIMENTAL_RELAXED_SIMD: 'on' });
    expect(badEnv).toMatch(/INTQUANT_EXPERIMENTAL_RELAXED_SIMD.*1 or 0/);
  });
});

describe('int4 kernels: active build = baseline build, bit for bit', () => {
  const cases: [number, number, number, boolean][] = [
    [1, 1, 32, true], [5, 33, 32, false], [17, 1000, 64, true], [9, 4099, 128, false], [4, 512, 256, true], [130, 300, 256, false],
  ];
  it.each(cases)('N=%i K=%i G=%i signed=%s: GEMV, GEMM and activation codes', (N, K, G, signed) => {
    const rng = new Rng(N * 31 + K);
    const groups = Math.ceil(K / G);
    const q = signed ? rng.int8Array(N * K, -8, 7) : rng.uint8Array(N * K, 0, 15);
    const scales = Float32Array.from({ length: N * groups }, () => 0.001 + 0.05 * rng.next());
    const zeroPoints = signed ? undefined : rng.uint8Array(N * groups, 0, 15);
    using m = PackedInt4Matrix.from(q, N, K, { groupSize: G, scales, zeroPoints, signed });
    const { kernels, baseline, mem } = rt();
    const M = 3, Kp = m.Kp, Np = Math.ceil(N / 4) * 4;
    const X = rng.gaussianArray(M * K);
    X[0] = 1e3; // an extreme code
    const blocks: number[] = [];
    const take = (n: number) => { const o = mem.alloc(n); blocks.push(o); return o; };
    try {
      const x = take(4 * Kp), outs = [take(4 * Np * M), take(4 * Np * M)], tmp = take((G / 32) * 256 + 16 * M);
      const A = [2 * Kp, int4ActBytes(int4LayoutOf(backend())) * Kp]; // one token's activation codes: baseline, active build
      const bufs = [0, 1].map((b) => ({ a: take(A[b]! * M), s: take(16 * groups * M), c: take(4 * groups * M), z: take(16 * groups * M) }));
      // the packed layout follows the backend: the baseline gets the same matrix in its own
      const packedB = take(m.byteLength);
      mem.bytes(packedB, m.byteLength).set(relayoutInt4(mem.bytes(m.byteOffset, m.byteLength), int4LayoutOf(backend()), 'simd128', G, m.asymmetric));
      [baseline, kernels].forEach((k, b) => {
        const { a, s, c, z } = bufs[b]!;
        for (let t = 0; t < M; t++) {
          mem.f32(x, Kp).fill(0);
          mem.f32(x, K).set(X.subarray(t * K, (t + 1) * K));
          expect(k.q4_act_quantize(x, Kp, G, a + A[b]! * t, s + 16 * groups * t, c + 4 * groups * t, z + 16 * groups * t)).toBe(-1);
        }
        if (b === 1 && int4LayoutOf(backend()) === 'dotadd') (m.asymmetric ? k.q4_gemm_4x8_dotadd__asym! : k.q4_gemm_4x8_dotadd__sym!)(m.byteOffset, a, s, c, z, outs[b]!, M, N, Kp, G);
        else (m.asymmetric ? k.q4_gemm_4x32__asym : k.q4_gemm_4x32__sym)(b === 0 ? packedB : m.byteOffset, a, s, c, z, outs[b]!, M, N, Kp, G, tmp);
      });
      const want = new Uint32Array(mem.memory.buffer, outs[0]!, N * M).slice();
      expect(new Uint32Array(mem.memory.buffer, outs[1]!, N * M)).toEqual(want);
      const y = m.gemm(X, M);
      expect(new Uint32Array(y.buffer)).toEqual(want);
      for (let t = 0; t < M; t++) expect(m.gemv(X.subarray(t * K, (t + 1) * K))).toEqual(y.subarray(t * N, (t + 1) * N));
      const xq = rng.int8Array(K, -127, 127);
      expect(m.groupSums(xq).length).toBe(N * groups);
    } finally {
      for (const o of blocks) mem.release(o);
    }
  });
});

// The dot-add build's self-test must refuse an engine that computes the fused dot-add wrong. Node
// 20's V8 drops the accumulator and doubles the sums (caught for real there, above); on an engine
// that computes it right, the same faults are injected into the kernels' outputs.
if (process.env.INTQUANT_BACKEND === 'relaxed-dotadd') describe('self-test of the dot-add build', () => {
  // a copy of the exports (the instance's own object is frozen) with the matching kernels wrapped
  const faulty = (fault: (out: Int32Array) => void, which: RegExp) => {
    const k: Record<string, unknown> = { ...(rt().kernels as unknown as Record<string, unknown>) };
    for (const name of Object.keys(k)) {
      const f = k[name];
      if (typeof f !== 'function' || !which.test(name)) continue;
      const q4 = /^q4/.test(name), gemm = /gemm/.test(name);
      k[name] = (...args: number[]) => {
        const r = (f as (...a: number[]) => unknown)(...args);
        const out = args[q4 ? 5 : 3]!; // the output pointer of the q4 / int8 kernels
        const n = q4 ? (gemm ? args[6]! * args[7]! : args[6]!) : (gemm ? args[4]! * args[5]! : args[4]!);
        fault(new Int32Array(rt().mem.memory.buffer, out, n));
        return r;
      };
    }
    return k as unknown as ReturnType<typeof rt>['kernels'];
  };
  it('passes the real kernels', () => {
    expect(buildSelfTest(rt().kernels, rt().baseline, rt().mem, 'relaxed-dotadd')).toBeUndefined();
  });
  it.each([
    ['doubled int4 sums', (o: Int32Array) => { const f = new Float32Array(o.buffer, o.byteOffset, o.length); for (let i = 0; i < f.length; i++) f[i] = f[i]! * 2; }, /^q4_gemv_4x8_dotadd/],
    ['an int8 accumulator dropped', (o: Int32Array) => { o[0] = 0; }, /^i8_gemv_4x4_dotadd__/],
    ['an int8 GEMM lane off by one', (o: Int32Array) => { o[o.length - 1]! += 1; }, /^i8_gemm_4x4_dotadd__/],
  ] as const)('refuses %s', (_name, fault, which) => {
    expect(buildSelfTest(faulty(fault, which), rt().baseline, rt().mem, 'relaxed-dotadd')).toMatch(/differs/);
  });
});
