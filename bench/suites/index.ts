/** The benchmark suites, by name. Each suite file exports one Suite. */
import type { Suite } from '../harness.js';
import { int4Suite } from './int4.js';

export const SUITES: Record<string, Suite> = {
  int4: int4Suite,
};
// gemv suite (issue 3)
import { gemvSuite } from './gemv.js';
SUITES.gemv = gemvSuite;
// quant suite (issue 2)
import { quantSuite } from './quant.js';
SUITES.quant = quantSuite;
// calibrate suite (issue 5)
import { calibrateSuite } from './calibrate.js';
SUITES.calibrate = calibrateSuite;
// the kernel builds against each other in one run
import { buildsSuite } from './builds.js';
SUITES.builds = buildsSuite;
// weights suite: choosing int4 weights (data-free methods, GPTQ)
import { weightsSuite } from './weights.js';
SUITES.weights = weightsSuite;
// threads suite: n threads against one on the same kernels
import { threadsSuite } from './threads.js';
SUITES.threads = threadsSuite;
