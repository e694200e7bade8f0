import { init, threads } from '../src/index.ts';
import { rt } from '../src/runtime/wasm.ts';
let t = performance.now();
await init({ threads: 3 });
console.log('init ms', (performance.now() - t).toFixed(0), 'threads', threads(), 'avail', rt().pool.available());
const pool = rt().pool;
const mem = rt().mem;
const x = mem.alloc(4 * 1024), out = mem.alloc(8);
mem.f32(x, 1024).fill(1.5);
const call = { fn: 'minmax_f32', args: [x, 1024, out] };
const r = pool.run([[call], [call], [call]]);
console.log('results', r, Array.from(mem.f32(out, 2)));
for (const n of [1, 2, 3]) {
  const shares = Array.from({ length: n }, () => [call]);
  for (let i = 0; i < 2000; i++) pool.run(shares);
  t = performance.now();
  for (let i = 0; i < 20000; i++) pool.run(shares);
  console.log(n, 'shares: us per run', ((performance.now() - t) / 20000 * 1000).toFixed(2));
}
t = performance.now();
try { pool.run([[call], [{ fn: 'minmax_f32', args: [0x7fffff00, 1024, out] }]]); } catch (e) { console.log('trap ->', (e as Error).name, (e as Error).message, (performance.now() - t).toFixed(1)); }
console.log('after trap', pool.run([[call], [call]]));
pool.setTimeouts({ ackMs: 200, graceMs: 100 });
t = performance.now();
try { pool.run([[call], [{ fn: '__sleep', args: [5000] }]]); } catch (e) { console.log('stall ->', (e as Error).message, (performance.now() - t).toFixed(1)); }
await pool.ready();
t = performance.now();
pool.afterDispatch = (p) => p.terminateWorker(1);
try { pool.run([[call], [{ fn: '__sleep', args: [5000] }]]); } catch (e) { console.log('terminated ->', (e as Error).message, (performance.now() - t).toFixed(1)); }
pool.afterDispatch = undefined;
await pool.ready();
try { pool.run([[call], [{ fn: '__exit', args: [] }]]); } catch (e) { console.log('exit ->', (e as Error).message, (performance.now() - t).toFixed(1)); }
console.log('avail now', pool.available(), 'holding', mem.holding);
await pool.ready();
console.log('avail after ready', pool.available(), 'holding', mem.holding, pool.run([[call], [call], [call]]));
