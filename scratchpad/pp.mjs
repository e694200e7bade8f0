import { Worker } from 'node:worker_threads';
const sab = new SharedArrayBuffer(64); const c = new Int32Array(sab);
const w = new Worker(`const { workerData } = require('node:worker_threads'); const c = new Int32Array(workerData);
function loop() { let seen = 0; for (;;) { let s = Atomics.load(c, 0); for (let i = 0; s === seen && i < 20000; i++) s = Atomics.load(c, 0);
 while (s === seen) { Atomics.wait(c, 0, seen); s = Atomics.load(c, 0); } seen = s; Atomics.store(c, 1, s); Atomics.notify(c, 1); } } loop();`, { eval: true, workerData: sab });
w.unref();
await new Promise(r => setTimeout(r, 300));
let seq = 0;
function once() { seq++; Atomics.store(c, 0, seq); Atomics.notify(c, 0); let d = Atomics.load(c, 1); for (let i = 0; d !== seq && i < 20000; i++) d = Atomics.load(c, 1); while (d !== seq) { Atomics.wait(c, 1, d, 5); d = Atomics.load(c, 1); } }
for (let i = 0; i < 2000; i++) once();
let t = performance.now(); for (let i = 0; i < 20000; i++) once(); console.log('us', ((performance.now() - t) / 20).toFixed(2));
