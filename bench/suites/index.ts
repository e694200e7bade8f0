/** The benchmark suites, by name. Each suite file exports one Suite. */
import type { Suite } from '../harness.js';

export const SUITES: Record<string, Suite> = {};
