console.log('start');
import { init } from '../src/index.ts';
console.log('imported');
const r = await init({ threads: 1 });
console.log('init1 ok', r.backend);
