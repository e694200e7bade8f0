/**
 * README's "API in 20 lines" must run as printed: the block is extracted, pointed at src/, and
 * executed in a fresh Node process (tsx), which must exit 0 and print what the comments promise.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { execFileSync } from 'node:child_process';

const root = resolve(import.meta.dirname, '..');

describe('README', () => {
  it('the API example runs as printed', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.split('## API in 20 lines')[1];
    expect(section, 'README has an "API in 20 lines" section').toBeDefined();
    const code = /```ts\n([\s\S]*?)```/.exec(section!)?.[1];
    expect(code).toBeDefined();
    expect(code!.trim().split('\n').length).toBeLessThanOrEqual(26);
    const dir = mkdtempSync(join(tmpdir(), 'intquant-readme-'));
    try {
      const file = join(dir, 'example.mts');
      writeFileSync(file, code!.replace("from 'intquant'", `from '${pathToFileURL(join(root, 'src/index.ts')).href}'`));
      const out = execFileSync(process.execPath, ['--import', 'tsx', file], { cwd: root, encoding: 'utf8', timeout: 60_000 });
      expect(out).toMatch(/x int8 SQNR \d+\.\d dB/);
      expect(out).toMatch(/bytes in wasm memory/);
      const nums = out.trim().split('\n').pop()!.split(' ').slice(0, 4).map(Number);
      expect(nums.every(Number.isFinite)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
