/**
 * `intquant demo [--quick] [--json]` — the end-to-end MNIST demo, owned by src/demo/ (its
 * `demoCommand(argv)` in src/demo/cli.ts parses its own options and prints its own help).
 * Loaded at run time so that the CLI works (and says so) in a tree without the demo.
 */
import { IntquantError } from '../errors.js';
import type { Command } from './command.js';

interface DemoModule { demoCommand(argv: string[]): Promise<number> }

async function loadDemo(): Promise<DemoModule> {
  const spec = new URL(['..', 'demo', 'cli.js'].join('/'), import.meta.url).href;
  let mod: Partial<DemoModule>;
  try {
    mod = (await import(spec)) as Partial<DemoModule>;
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION') {
      throw new IntquantError('IQ_DEMO_UNAVAILABLE', 'the demo is not part of this build (src/demo/cli is missing)');
    }
    throw e;
  }
  if (typeof mod.demoCommand !== 'function') throw new IntquantError('IQ_DEMO_UNAVAILABLE', 'src/demo/cli does not export demoCommand(argv)');
  return mod as DemoModule;
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'MNIST end to end: float MLP → PTQ (W8A8, W4A8) → QAT → integer kernels',
  synopsis: 'intquant demo [--quick] [--json]',
  help: 'usage: intquant demo [--quick] [--json] — run `intquant demo --help` for the options',
  async run(args) {
    return (await loadDemo()).demoCommand(args);
  },
};
