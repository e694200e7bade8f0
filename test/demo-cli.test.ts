import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DemoOptions, DemoResult } from '../src/demo/run.js';

// The CLI layer only: runDemo is replaced by a canned result (the real run is test/demo.test.ts).
const calls: DemoOptions[] = [];
const canned: DemoResult = {
  backend: 'simd128', threads: 2, data: 'canned', trainImages: 3000, testImages: 2000, calibImages: 256, layers: '784-256-128-10',
  epochs: 4, qatEpochs: 1, seed: 1, quick: true,
  activationParams: { minmax: [{ scale: 1 / 255, zeroPoint: 0 }], mse: [{ scale: 1 / 255, zeroPoint: 0 }] },
  rows: [
    { scheme: 'float32', kernel: 'JS Float32Array', accuracy: 0.9, deltaPoints: 0, weightBytes: 939008, compression: 1, gemvUs: [400, 60, 3], speedup: 1, simAgreement: 1, logitSqnrDb: null, weightSqnrDb: null },
    { scheme: 'W4A8 MSE', kernel: 'PackedInt4Matrix W4A8', accuracy: 0.8975, deltaPoints: -0.25, weightBytes: 147232, compression: 939008 / 147232, gemvUs: [40, 15, 10], speedup: 463 / 65, simAgreement: 0.9995, logitSqnrDb: 23.5, weightSqnrDb: 22.9 },
  ],
  timingsMs: { load: 1, train: 2, ptq: 3, qat: 4, evaluate: 5, gemv: 6, total: 21 },
};
vi.mock('../src/demo/run.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/demo/run.js')>();
  return { ...real, runDemo: async (o: DemoOptions) => { calls.push(o); return canned; } };
});
const { demoCommand } = await import('../src/demo/cli.js');
const { formatDemo } = await import('../src/demo/run.js');

afterEach(() => { calls.length = 0; vi.restoreAllMocks(); });

function capture() {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  const err = vi.spyOn(console, 'error').mockImplementation(() => {});
  return { out: () => log.mock.calls.map((c) => String(c[0])).join('\n'), err: () => err.mock.calls.map((c) => String(c[0])).join('\n') };
}

describe('intquant demo (CLI layer)', () => {
  it('prints the table; passes --quick and --seed through', async () => {
    const c = capture();
    expect(await demoCommand(['--quick', '--seed', '7', '--no-progress'])).toBe(0);
    expect(calls).toEqual([{ quick: true, seed: 7, progress: false }]);
    expect(c.out()).toMatch(/scheme\s+test accuracy\s+Δ vs float/);
    expect(c.out()).toMatch(/W4A8 MSE\s+89\.75 %\s+−0\.25 pt/);
    expect(c.out()).toMatch(/backend simd128, 2 threads/);
  });

  it('--json prints exactly the result as JSON; --out writes it to a file', async () => {
    let c = capture();
    expect(await demoCommand(['--json'])).toBe(0);
    expect(JSON.parse(c.out())).toEqual(canned);
    vi.restoreAllMocks();
    const dir = mkdtempSync(join(tmpdir(), 'intquant-demo-'));
    try {
      c = capture();
      const file = join(dir, 'demo.json');
      expect(await demoCommand(['--json', '--out', file])).toBe(0);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(canned);
      expect(c.out()).toBe(''); // --json with --out: nothing else on stdout
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('usage errors exit 2 without running; --help exits 0', async () => {
    const c = capture();
    expect(await demoCommand(['--bogus'])).toBe(2);
    expect(await demoCommand(['--seed'])).toBe(2);
    expect(await demoCommand(['--seed', 'x'])).toBe(2);
    expect(await demoCommand(['--out'])).toBe(2);
    expect(calls).toHaveLength(0);
    expect(c.err()).toMatch(/unknown argument '--bogus'/);
    expect(await demoCommand(['--help'])).toBe(0);
    expect(c.out()).toMatch(/usage:\s+intquant demo/);
  });

  it('formats the float row without Δ, SQNR or agreement', () => {
    const t = formatDemo(canned).split('\n');
    const floatRow = t.find((l) => l.startsWith('float32'))!;
    expect(floatRow).toMatch(/90\.00 %\s+—\s+—\s+939,008\s+1\.00×\s+400\.0 \/ 60\.0 \/ 3\.00\s+1\.00×\s+—/);
  });
});
