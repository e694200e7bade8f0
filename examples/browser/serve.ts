/**
 * `npm run example:browser`: serve the browser example on http://127.0.0.1:8080/ (PORT to
 * change it) with intquant's browser build from dist/ and the kernels from build/, as an npm
 * install lays them out. The page is cross-origin isolated (COOP/COEP), so it runs on every
 * core; `-- --no-isolation` serves it without the headers, to see the one-thread fallback.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { startStaticServer, type StaticServer } from '../../tools/browser/static-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The example's server: the page at /, the package at /intquant/ (dist/ and build/). */
export function startExampleServer(options: { port?: number; isolated?: boolean } = {}): Promise<StaticServer> {
  if (!existsSync(join(root, 'dist/src/index.browser.js'))) {
    throw new Error('dist/src/index.browser.js is missing: run `npm run build` first (npm run example:browser does it)');
  }
  const isolated = options.isolated ?? true;
  return startStaticServer({
    port: options.port,
    isolated: () => isolated,
    mounts: [
      { prefix: '/intquant/dist/', dir: join(root, 'dist') },
      { prefix: '/intquant/build/', dir: join(root, 'build') },
      { prefix: '/', dir: join(root, 'examples/browser') },
    ],
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const isolated = !process.argv.includes('--no-isolation');
  const server = await startExampleServer({ port: Number(process.env.PORT ?? 8080), isolated });
  console.log(`intquant browser example: ${server.url}/ (${isolated ? 'cross-origin isolated: threads' : 'no isolation: one thread'}; Ctrl-C stops)`);
}
