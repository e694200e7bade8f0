/**
 * The install a user gets: no runtime dependency (the demo's MNIST digits are a dev dependency
 * and an optional peer the demo asks for), and a tarball holding the library only — compiled
 * JS and types, the three wasm builds, README and docs — never tests, fixtures, benchmark
 * results, sources or data files.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;

interface PackEntry { path: string; size: number }
interface PackResult { files: PackEntry[]; size: number; unpackedSize: number; entryCount: number }

/** What `npm pack` would put in the tarball (scripts skipped: dist/ and build/ are already built). */
function packList(): PackResult {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return (JSON.parse(out) as PackResult[])[0]!;
}

describe('package', () => {
  it('has no runtime dependencies; the demo data is a dev dependency and an optional peer', () => {
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.devDependencies).toHaveProperty('mnist');
    expect(pkg.peerDependencies).toEqual({ mnist: expect.any(String) });
    expect(pkg.peerDependenciesMeta).toEqual({ mnist: { optional: true } });
  });

  it('exports a browser entry, a Node entry and a default', () => {
    const exp = (pkg.exports as Record<string, Record<string, unknown>>)['.']!;
    expect(Object.keys(exp)).toEqual(['browser', 'node', 'default']);
    expect(exp.browser).toEqual({ types: './dist/src/index.browser.d.ts', default: './dist/src/index.browser.js' });
    expect(exp.node).toEqual({ types: './dist/src/index.d.ts', default: './dist/src/index.js' });
    expect(exp.default).toEqual(exp.browser);
  });

  it('the tarball holds the library and nothing else', () => {
    const packed = packList();
    const paths = packed.files.map((f) => f.path).sort();
    const allowed = [
      /^package\.json$/, /^README\.md$/, /^LICENSE$/, /^docs\/[\w.-]+\.md$/,
      /^build\/intquant(-relaxed|-dotadd)?\.wasm$/,
      /^dist\/src\/[\w/.-]+\.(js|d\.ts)$/,
    ];
    expect(paths.filter((p) => !allowed.some((re) => re.test(p)))).toEqual([]);
    expect(paths.filter((p) => /(^|\/)(test|tests|fixtures?|bench|examples|tools)\/|\.test\.|\.safetensors$|\.onnx$|\.wat$|\.map$|\.ts$(?<!\.d\.ts)/.test(p))).toEqual([]);
    for (const need of ['dist/src/index.js', 'dist/src/index.browser.js', 'dist/src/runtime/worker.js', 'dist/src/runtime/worker-web.js',
      'build/intquant.wasm', 'build/intquant-relaxed.wasm', 'build/intquant-dotadd.wasm']) {
      expect(paths).toContain(need);
    }
    expect(packed.unpackedSize).toBeLessThan(3 * 1024 * 1024);
  });
});
