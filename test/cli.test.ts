import { beforeAll, describe, expect, it, vi } from 'vitest';
import { init } from '../src/index.js';
import { main, UsageError } from '../src/cli/main.js';
import { quantReport } from '../src/cli/quant-report.js';
import { heavyTailedMatrix } from '../src/data/heavy-tailed.js';

beforeAll(async () => { await init(); });

describe('quantization report (npm start)', () => {
  it('orders schemes as the maths predicts on the embedded matrix', () => {
    const m = heavyTailedMatrix();
    const rows = Object.fromEntries(quantReport(m.data, m.rows, m.cols).map((r) => [r.scheme, r]));
    const db = (s: string) => rows[s]!.sqnrDb;
    // finer granularity never hurts; 8 bits beat 4 bits beat 2 bits
    expect(db('int8 per-channel symmetric')).toBeGreaterThan(db('int8 per-tensor symmetric') + 5);
    expect(db('int4 per-channel symmetric')).toBeGreaterThan(db('int4 per-tensor symmetric') + 5);
    expect(db('int4 group-32 symmetric')).toBeGreaterThan(db('int4 per-channel symmetric'));
    expect(db('int8 per-tensor symmetric')).toBeGreaterThan(db('int4 group-32 symmetric'));
    expect(db('int4 group-32 symmetric')).toBeGreaterThan(db('int2 group-32 symmetric'));
    // per-tensor int8 on heavy tails sits far below the 6.02·8 dB of a uniform signal
    expect(db('int8 per-tensor symmetric')).toBeLessThan(40);
    // bytes: int8 = N·K + one scale; int4 group-32 = N·K/2 + N·K/32 scales
    expect(rows['int8 per-tensor symmetric']!.bytes).toBe(m.rows * m.cols + 4);
    expect(rows['int4 group-32 symmetric']!.bytes).toBe((m.rows * m.cols) / 2 + (m.rows * m.cols / 32) * 4);
    for (const r of Object.values(rows)) {
      expect(r.cosine).toBeGreaterThan(0.5);
      expect(r.cosine).toBeLessThanOrEqual(1);
    }
  });

  it('prints the table and JSON; rejects unknown arguments with a usage error', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['report'])).toBe(0);
      expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/int4 group-32 symmetric/);
      log.mockClear();
      expect(await main(['report', '--json'])).toBe(0);
      const parsed = JSON.parse(String(log.mock.calls[0]![0]));
      expect(parsed.rows).toHaveLength(8);
      log.mockClear();
      expect(await main(['--help'])).toBe(0);
      // the help names the environment variables that choose the kernel build
      expect(String(log.mock.calls[0]![0])).toMatch(/INTQUANT_BACKEND=auto\|simd128\|relaxed-simd[\s\S]*INTQUANT_EXPERIMENTAL_RELAXED_SIMD=1[\s\S]*INTQUANT_THREADS=n/);
    } finally {
      log.mockRestore();
    }
    await expect(main(['report', '--bogus'])).rejects.toThrow(UsageError);
    await expect(main(['frobnicate'])).rejects.toThrow(UsageError);
  });
});
