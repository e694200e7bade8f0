#!/usr/bin/env node
/** `npx tsx src/cli.ts …` in the repo: the same `intquant` command line as src/cli/main.ts. */
import { runCli } from './cli/main.js';

runCli(process.argv.slice(2)).then((code) => { process.exitCode = code; });
