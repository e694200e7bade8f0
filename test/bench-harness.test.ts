// The benchmark harness's ratio rules: speedups pair rounds only within one interleaved
// measurement, and the pairing really cancels drift that a ratio of medians keeps.
import { beforeAll, describe, expect, it } from 'vitest';
import { init, threads } from '../src/index.js';
import { parseBenchArgs } from '../bench/run.js';
import { makeRow, measureInterleaved, scaled, type Timing } from '../bench/harness.js';

beforeAll(async () => { await init(); });

const fields = { suite: 't', kernel: 'k', m: 1, n: 1, k: 1, macs: 1e6, weightBytes: 1e6, baseline: 'b' };
const timing = (rounds: number[], group: number): Timing => {
  const s = [...rounds].sort((a, b) => a - b);
  return { medianUs: s[(s.length - 1) >> 1]!, spreadPct: 0, samples: rounds.length, rounds, group };
};

describe('makeRow', () => {
  it('rows carry the thread count: the run\'s, or the contender\'s in the threads suite', () => {
    const t = timing([10], 1);
    expect(makeRow(fields, t, t).threads).toBe(threads());
    expect(makeRow({ ...fields, threads: 1 }, t, t).threads).toBe(1);
  });

  it('--threads n is parsed and checked', () => {
    expect(parseBenchArgs(['--threads', '2', '--suite', 'threads']).threads).toBe(2);
    expect(parseBenchArgs([]).threads).toBeUndefined();
    for (const bad of ['0', 'x', '1.5']) expect(() => parseBenchArgs(['--threads', bad])).toThrow(/--threads/);
  });

  it('pairs the rounds of one measurement: drift cancels', () => {
    // the machine slows down 3× over the run; the baseline is always exactly 2× our time
    const ours = timing([10, 20, 30, 15, 25], 1);
    const base = timing([20, 40, 60, 30, 50], 1);
    const row = makeRow(fields, ours, base);
    expect(row.ratio).toBe('paired-rounds');
    expect(row.rounds).toBe(5);
    expect(row.speedup).toBe(2);
  });

  it('uses the median of the per-round ratios, not the ratio of medians', () => {
    const ours = timing([10, 10, 40], 1);
    const base = timing([30, 30, 40], 1); // per round 3, 3, 1 → median 3; medians 30 / 10 = 3 too
    expect(makeRow(fields, ours, base).speedup).toBe(3);
    const base2 = timing([10, 30, 120], 1); // per round 1, 3, 3 → 3; ratio of medians 30 / 10 = 3
    expect(makeRow(fields, ours, base2).speedup).toBe(3);
    const base3 = timing([40, 10, 80], 1); // per round 4, 1, 2 → 2; ratio of medians 40 / 10 = 4
    expect(makeRow(fields, ours, base3).speedup).toBe(2);
  });

  it('falls back to the ratio of medians across measurements', () => {
    const row = makeRow(fields, timing([10, 10, 10], 1), timing([40, 10, 80], 2));
    expect(row.ratio).toBe('medians');
    expect(row.speedup).toBe(4);
    expect(row.rounds).toBeUndefined();
  });

  it('scaled() multiplies the median and every round (k GEMVs as one baseline)', () => {
    const t = scaled(timing([1, 2, 3], 7), 8);
    expect(t.medianUs).toBe(16);
    expect(t.rounds).toEqual([8, 16, 24]);
    expect(t.group).toBe(7);
  });
});

describe('measureInterleaved', () => {
  it('times every contender in every round and tags one group', async () => {
    let a = 0, b = 0;
    const spin = (us: number) => { const t = performance.now() + us / 1000; while (performance.now() < t); };
    const [ta, tb] = await measureInterleaved([
      { name: 'fast', fn: () => { a++; spin(200); } },
      { name: 'slow', fn: async () => { b++; spin(600); } , async: true },
    ], { maxTime: 0.15, rounds: 3, sizes: [] });
    expect(a).toBeGreaterThan(3);
    expect(b).toBeGreaterThan(3 * 3);
    expect(ta!.rounds).toHaveLength(3);
    expect(tb!.rounds).toHaveLength(3);
    expect(ta!.group).toBe(tb!.group);
    // no timing assertion (speed lives in benchmarks): only that the two are paired
    const row = makeRow(fields, ta!, tb!);
    expect(row.ratio).toBe('paired-rounds');
    expect(row.rounds).toBe(3);
    expect(ta!.rounds!.every((v) => v > 0) && tb!.rounds!.every((v) => v > 0)).toBe(true);
  });

  it('reverses the order every other round (position cancels in the paired ratios)', async () => {
    const seen: string[] = [];
    const mark = (name: string) => () => { if (seen.at(-1) !== name) seen.push(name); };
    await measureInterleaved([
      { name: 'a', fn: mark('a') }, { name: 'b', fn: mark('b') }, { name: 'c', fn: mark('c') },
    ], { maxTime: 0.03, rounds: 4, sizes: [] });
    // warm-up a b c, then rounds a b c | c b a | a b c | c b a (repeats within a round collapse)
    expect(seen.join('')).toBe('abc' + 'abc' + 'ba' + 'bc' + 'ba');
  });
});
