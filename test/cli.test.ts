import { beforeAll, describe, expect, it, vi } from 'vitest';
import { init, fakeQuantize, qparamsFromRange, sqnr } from '../src/index.js';
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

  it('group-32 rows take any number of columns: ⌈cols/32⌉ blocks per row, the last one short (ONNX blocked)', () => {
    const rows = 6, cols = 100; // blocks of 32, 32, 32, 4
    const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));
    const report = Object.fromEntries(quantReport(x, rows, cols).map((r) => [r.scheme, r]));
    const lo: number[] = [], hi: number[] = [];
    for (let r = 0; r < rows; r++) {
      for (const [a, b] of [[0, 32], [32, 64], [64, 96], [96, 100]]) {
        const block = Array.from(x.subarray(r * cols + a!, r * cols + b!));
        lo.push(Math.min(...block)); hi.push(Math.max(...block));
      }
    }
    for (const [scheme, qtype, symmetric] of [['int4 group-32 symmetric', 'int4', true], ['uint4 group-32 asymmetric', 'uint4', false]] as const) {
      const p = qparamsFromRange(lo, hi, { qtype, symmetric, axis: 1, blockSize: 32 });
      expect(report[scheme]!.sqnrDb).toBe(sqnr(x, fakeQuantize(x, [rows, cols], p)));
      expect(report[scheme]!.bytes).toBe((rows * cols) / 2 + rows * 4 * 4 + (symmetric ? 0 : rows * 4 / 2));
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
      expect(String(log.mock.calls[0]![0])).toMatch(/INTQUANT_BACKEND=auto\|simd128\|relaxed-simd[\s\S]*INTQUANT_EXPERIMENTAL_RELAXED_SIMD=1[\s\S]*INTQUANT_THREADS=n[\s\S]*INTQUANT_SHARED_MEMORY=0/);
    } finally {
      log.mockRestore();
    }
    await expect(main(['report', '--bogus'])).rejects.toThrow(UsageError);
    await expect(main(['frobnicate'])).rejects.toThrow(UsageError);
  });
});
