/**
 * A small static file server on 127.0.0.1 for the browser example and the browser test: URL
 * prefixes mapped to folders, `.js` requests for which only a `.ts` file exists answered with
 * that file transpiled (TypeScript's transpileModule: the example's and the test's page scripts
 * stay TypeScript), and the cross-origin isolation headers (COOP/COEP) where asked, which a
 * page needs for shared memory and threads.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import ts from 'typescript';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml',
  '.map': 'application/json', '.ts': 'text/plain; charset=utf-8',
};

/** The headers that make a page cross-origin isolated (`crossOriginIsolated === true`). */
export const ISOLATION_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export interface Mount {
  /** URL path prefix, starting and ending with '/'. */
  readonly prefix: string;
  readonly dir: string;
}

export interface StaticServerOptions {
  readonly mounts: readonly Mount[];
  /** Whether a request gets the isolation headers (default: every request). */
  readonly isolated?: (path: string) => boolean;
  /** Port on 127.0.0.1 (default 0: any free one). */
  readonly port?: number;
  /** Called for each request (logging). */
  readonly onRequest?: (method: string, path: string, status: number) => void;
}

export interface StaticServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

const transpiled = new Map<string, { mtimeMs: number; code: string }>();

function transpile(file: string): string {
  const mtimeMs = statSync(file).mtimeMs;
  const hit = transpiled.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.code;
  const out = ts.transpileModule(readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, verbatimModuleSyntax: false },
  });
  transpiled.set(file, { mtimeMs, code: out.outputText });
  return out.outputText;
}

/** The file a URL path names under the mounts (never outside a mount's folder). */
function locate(mounts: readonly Mount[], path: string): { file: string; transpile: boolean } | undefined {
  for (const m of mounts) {
    if (!path.startsWith(m.prefix)) continue;
    const root = resolve(m.dir);
    let file = resolve(join(root, path.slice(m.prefix.length)));
    if (file !== root && !file.startsWith(root + sep)) return undefined;
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    if (existsSync(file)) return { file, transpile: false };
    if (file.endsWith('.js') && existsSync(file.slice(0, -3) + '.ts')) return { file: file.slice(0, -3) + '.ts', transpile: true };
  }
  return undefined;
}

export function startStaticServer(options: StaticServerOptions): Promise<StaticServer> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://127.0.0.1').pathname);
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', ...((options.isolated?.(path) ?? true) ? ISOLATION_HEADERS : {}) };
    const send = (status: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { ...headers, 'Content-Type': type });
      res.end(req.method === 'HEAD' ? undefined : body);
      options.onRequest?.(req.method ?? 'GET', path, status);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'GET only');
    const found = locate(options.mounts, path);
    if (!found) return send(404, `not found: ${path}`);
    try {
      if (found.transpile) return send(200, transpile(found.file), TYPES['.js']);
      return send(200, readFileSync(found.file), TYPES[extname(found.file)] ?? 'application/octet-stream');
    } catch (e) {
      return send(500, (e as Error).message);
    }
  });
  return new Promise((resolveStart, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      resolveStart({
        url: `http://127.0.0.1:${port}`,
        server,
        close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
      });
    });
  });
}
