import { init } from '../src/index.ts';
import { rt } from '../src/runtime/wasm.ts';
await init({ threads: 2 });
const pool = rt().pool, mem = rt().mem;
const x = mem.alloc(4 * 1024), out = mem.alloc(8);
const call = { fn: 'minmax_f32', args: [x, 1024, out] };
for (let k = 0; k < 3; k++) {
  (globalThis as any).__waits = 0;
  const t = performance.now();
  for (let i = 0; i < 20000; i++) pool.run([[call], [call]]);
  console.log('us per run', ((performance.now() - t) / 20).toFixed(2), 'waits', (globalThis as any).__waits);
}
