import { init, MinMaxObserver, MseObserver, PercentileObserver, setThreads } from '../src/index.ts';
import { setMinShareBytes } from '../src/runtime/parallel.ts';
await init({ threads: Number(process.argv[2]) });
setMinShareBytes(0);
const x = Float32Array.from({ length: 64 * 257 }, (_, i) => Math.sin(i));
for (const axis of [undefined, 0, 1]) for (const O of [MinMaxObserver, PercentileObserver, MseObserver]) {
  try { const o = new O({ qtype: 'int8', symmetric: false, ...(axis === undefined ? {} : { axis }) }); o.observe(x, [64, 257]); o.qparams(); console.log('ok', O.name, axis); }
  catch (e) { console.log('FAIL', O.name, axis, (e as Error).message); }
}
