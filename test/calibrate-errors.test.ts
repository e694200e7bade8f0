// Observers reject bad input with typed errors naming the argument, and leave no memory behind.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  init, memoryStats, IntquantError, InvalidArgumentError, NaNInputError,
  MinMaxObserver, MovingAverageMinMaxObserver, PercentileObserver, MseObserver, EntropyObserver,
} from '../src/index.js';

beforeAll(async () => { await init(); });

const ALL = [MinMaxObserver, MovingAverageMinMaxObserver, PercentileObserver, MseObserver, EntropyObserver];
const catchErr = (f: () => unknown): unknown => { try { f(); } catch (e) { return e; } throw new Error('did not throw'); };

describe('observer errors', () => {
  for (const O of ALL) {
    it(`${O.name}: NaN, ±Inf, empty, shape mismatch, bad axis / blockSize, shape change, qparams before observe`, () => {
      const before = memoryStats().bytesInUse;
      const o = new O({ qtype: 'int8' });
      let e = catchErr(() => o.qparams());
      expect(e).toBeInstanceOf(IntquantError);
      expect((e as IntquantError).code).toBe('IQ_NO_OBSERVATIONS');
      e = catchErr(() => o.observe(Float32Array.of(1, 2, NaN, 4, NaN), [5]));
      expect(e).toBeInstanceOf(NaNInputError);
      expect((e as NaNInputError).index).toBe(2);
      expect((e as NaNInputError).argument).toBe('x');
      expect(() => o.observe(Float32Array.of(1, -Infinity), [2])).toThrow(/Infinity \(first at index 1\)/);
      expect(() => o.observe(new Float32Array(0), [0])).toThrow(/empty/);
      expect(catchErr(() => o.observe(new Float32Array(6), [2, 4]))).toMatchObject({ argument: 'shape' });
      // a rejected batch changes nothing
      expect(() => o.qparams()).toThrow(IntquantError);

      const a = new O({ qtype: 'int8', axis: 1 });
      expect(catchErr(() => a.observe(new Float32Array(6), [6]))).toMatchObject({ argument: 'axis' });
      a.observe(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
      a.observe(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), [3, 3]); // batch dimension may change
      expect(catchErr(() => a.observe(new Float32Array(8), [2, 4]))).toMatchObject({ argument: 'shape' });
      expect((a.qparams().scale as Float32Array).length).toBe(3);

      // blocks that do not divide the axis are ONNX's ragged last block: ⌈4/3⌉ = 2 per row
      const b = new O({ qtype: 'int4', axis: -1, blockSize: 3 });
      b.observe(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), [2, 4]);
      expect((b.qparams().scale as Float32Array).length).toBe(4);
      expect(catchErr(() => b.observe(new Float32Array(10), [2, 5]))).toMatchObject({ argument: 'shape' });
      // blocked, NaN reports the caller's index too: gathered per block (axis 0, inner 3), and in place (last axis)
      const d = new O({ qtype: 'int8', axis: 0, blockSize: 2 }), f = new O({ qtype: 'int8', axis: 1, blockSize: 2 });
      for (const at of [1, 10, 14]) {
        const y = Float32Array.from({ length: 15 }, (_, i) => i); y[at] = NaN;
        expect(catchErr(() => d.observe(y, [5, 3]))).toMatchObject({ index: at });
        expect(catchErr(() => f.observe(y, [3, 5]))).toMatchObject({ index: at });
      }
      // per axis, NaN reports the caller's index even though the batch was gathered channel-major
      const c = new O({ qtype: 'int8', axis: 1 });
      const x = new Float32Array(12); x[7] = NaN;
      expect(catchErr(() => c.observe(x, [4, 3]))).toMatchObject({ index: 7 });
      o.dispose(); a.dispose(); b.dispose(); c.dispose(); d.dispose(); f.dispose();
      expect(memoryStats().bytesInUse).toBe(before);
    });
  }

  it('bad options name the option', () => {
    expect(catchErr(() => new MinMaxObserver({ qtype: 'int3' as 'int8' }))).toMatchObject({ argument: 'options.qtype' });
    expect(catchErr(() => new MinMaxObserver({ qtype: 'int8', blockSize: 32 }))).toMatchObject({ argument: 'options.axis' });
    expect(catchErr(() => new MinMaxObserver({ qtype: 'int8', axis: 0, blockSize: 0 }))).toMatchObject({ argument: 'options.blockSize' });
    expect(catchErr(() => new MinMaxObserver({ qtype: 'int8', axis: 0, blockSize: 2.5 }))).toMatchObject({ argument: 'options.blockSize' });
    expect(catchErr(() => new MinMaxObserver({ qtype: 'int8', axis: 1.5 }))).toMatchObject({ argument: 'options.axis' });
    expect(catchErr(() => new MovingAverageMinMaxObserver({ qtype: 'int8', averagingConstant: 0 }))).toMatchObject({ argument: 'options.averagingConstant' });
    expect(catchErr(() => new PercentileObserver({ qtype: 'int8', percentile: 101 }))).toMatchObject({ argument: 'options.percentile' });
    expect(catchErr(() => new PercentileObserver({ qtype: 'int8', bins: 8 }))).toMatchObject({ argument: 'options.bins' });
    expect(catchErr(() => new EntropyObserver({ qtype: 'int16' }))).toMatchObject({ argument: 'options.bins' });
    expect(catchErr(() => new MseObserver({ qtype: 'int8', symmetric: 'yes' as unknown as boolean }))).toMatchObject({ argument: 'options.symmetric' });
    const big = new PercentileObserver({ qtype: 'int8', axis: 0, bins: 1 << 20 });
    expect(catchErr(() => big.observe(new Float32Array(64), [32, 2]))).toMatchObject({ argument: 'options.bins' });
    expect(catchErr(() => big.qparams())).toBeInstanceOf(IntquantError);
    expect(new InvalidArgumentError('x', 'y')).toBeInstanceOf(IntquantError);
  });
});
