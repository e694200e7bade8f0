/**
 * init({ wasm }): the kernel builds from bytes, a compiled module or a URL instead of the
 * package's build/ files — a page that serves or caches them elsewhere. Only the builds named are
 * candidates; each optional one is still validated and self-tested; bad values are errors naming
 * the key; a module of the shared build is refused where the memory cannot be shared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { backend, init, InvalidArgumentError } from '../src/index.js';
import { startStaticServer, type StaticServer } from '../tools/browser/static-server.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const baseline = () => readFileSync(`${root}/build/intquant.wasm`);
let server: StaticServer;

beforeAll(async () => { server = await startStaticServer({ mounts: [{ prefix: '/', dir: `${root}/build` }] }); });
afterAll(async () => { await server.close(); });

describe('init({ wasm }) in this process', () => {
  it('rejects what it cannot use, naming the key, before loading anything', async () => {
    await expect(init({ wasm: { avx512: baseline() } as never })).rejects.toMatchObject({ argument: 'wasm.avx512' });
    await expect(init({ wasm: {} })).rejects.toMatchObject({ argument: 'wasm.simd128', message: expect.stringMatching(/is required/) });
    await expect(init({ wasm: { simd128: 'build/intquant.wasm' as never } })).rejects.toMatchObject({ argument: 'wasm.simd128', message: expect.stringMatching(/ArrayBuffer, a typed array, a WebAssembly.Module or a URL/) });
    await expect(init({ wasm: [baseline()] as never })).rejects.toThrow(InvalidArgumentError);
    await expect(init({ wasmBuilds: {} } as never)).rejects.toMatchObject({ argument: 'options.wasmBuilds', message: expect.stringMatching(/is not an option of init/) });
  });

  it('a URL that answers 404 is an error naming it; a served one loads over HTTP', async () => {
    await expect(init({ wasm: { simd128: new URL(`${server.url}/missing.wasm`) } })).rejects.toMatchObject({ code: 'IQ_WASM_MISSING', message: expect.stringMatching(/missing\.wasm: HTTP 404/) });
    const r = await init({ wasm: { simd128: new URL(`${server.url}/intquant.wasm`) } });
    expect(backend()).toBe('simd128');
    expect(WebAssembly.Module.exports(r.module).length).toBeGreaterThan(50);
  });

  it('takes effect in the first init() only: a later one with wasm is an error', async () => {
    await expect(init({ wasm: { simd128: baseline() } })).rejects.toMatchObject({ code: 'IQ_BACKEND_FIXED' });
    await expect(init()).resolves.toBeDefined();
  });
});

describe('init({ wasm }) in a fresh process', () => {
  const child = (code: string, env: Record<string, string> = {}) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `
    import { init, backend } from './src/index.ts';
    import { readFileSync } from 'node:fs';
    const file = (f) => readFileSync('build/' + f);
    try { ${code} } catch (e) { console.log(JSON.stringify({ error: e.code, argument: e.argument ?? null, message: e.message })); }
  `], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, INTQUANT_BACKEND: '', INTQUANT_THREADS: '1', ...env } }).trim().split('\n').pop()!);

  it('only the builds named are candidates; each optional one still has to validate and pass its self-test', () => {
    const onlyBase = child(`const r = await init({ wasm: { simd128: file('intquant.wasm') } });
      console.log(JSON.stringify({ backend: backend(), relaxed: r.relaxedUnavailable, dotadd: r.dotAddUnavailable }));`);
    expect(onlyBase).toEqual({ backend: 'simd128', relaxed: 'init({ wasm }) names no relaxed-simd build', dotadd: 'init({ wasm }) names no relaxed-dotadd build' });
    const relaxed = child(`const has = WebAssembly.validate(file('intquant-relaxed.wasm'));
      const r = await init({ wasm: { simd128: new Uint8Array(file('intquant.wasm')).buffer, 'relaxed-simd': new URL('${pathToFileURL(`${root}/build/intquant-relaxed.wasm`).href}') } });
      console.log(JSON.stringify({ has, backend: backend(), relaxed: r.relaxedUnavailable ?? null }));`);
    // Node ≥ 22 runs the relaxed build; Node 20 cannot validate it without the V8 flag, and says so
    if (relaxed.has) expect(relaxed).toEqual({ has: true, backend: 'relaxed-simd', relaxed: null });
    else expect(relaxed).toMatchObject({ has: false, backend: 'simd128', relaxed: expect.stringMatching(/does not support relaxed SIMD/) });
  });

  it('a compiled module works on shared memory and is refused, saying why, where memory cannot be shared', () => {
    const code = `const module = await WebAssembly.compile(file('intquant.wasm'));
      await init({ wasm: { simd128: module } }); console.log(JSON.stringify({ backend: backend() }));`;
    expect(child(code)).toEqual({ backend: 'simd128' });
    const refused = child(code, { INTQUANT_SHARED_MEMORY: '0' });
    expect(refused).toMatchObject({ error: 'IQ_INVALID_ARGUMENT', argument: 'wasm.simd128' });
    expect(refused.message).toMatch(/cannot link to the unshared memory.*pass its bytes or URL instead/);
    expect(child(`await init({ wasm: { simd128: file('intquant.wasm') } }); console.log(JSON.stringify({ backend: backend() }));`, { INTQUANT_SHARED_MEMORY: '0' }))
      .toEqual({ backend: 'simd128' });
  });
});
