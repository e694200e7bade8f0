/**
 * Headless Chromium driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
 * JSON messages separated by NUL on file descriptors 3 and 4), so no WebSocket client and no
 * browser download are needed: the machine's Chromium (Debian's `chromium` package, which
 * .ci/run installs) runs the pages of the browser test and takes the README screenshot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const DEFAULT_CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why a browser could not start or a page failed; the message says what to do. */
export class BrowserError extends Error {
  override name = 'BrowserError';
}

interface Pending { resolve(v: unknown): void; reject(e: Error): void; method: string }
type Listener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

export interface LaunchOptions {
  executable?: string;
  /** Viewport width × height (screenshots). */
  windowSize?: [number, number];
  /** How long Chromium may take to answer its first command (ms). */
  startTimeoutMs?: number;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private buffer = '';
  private exitReason: string | undefined;
  private readonly exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, private readonly profile: string, private readonly stderrTail: () => string) {
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => this.receive(chunk));
    (child.stdio[3] as Writable).on('error', () => undefined); // a dead browser's pipe: reported through exitReason
    this.exited = new Promise<void>((resolve) => {
      const gone = (reason: string) => {
        if (this.exitReason) return;
        this.exitReason = reason;
        for (const p of this.pending.values()) p.reject(new BrowserError(`${reason} while waiting for ${p.method}${this.stderrTail()}`));
        this.pending.clear();
        resolve();
      };
      child.once('exit', (code, signal) => gone(`Chromium exited (${signal ?? `code ${code}`})`));
      child.once('error', (e) => gone(`Chromium could not run: ${e.message}`)); // spawn failed: no 'exit' follows
    });
  }

  /** Start Chromium headless; rejects with a BrowserError saying why when it does not start. */
  static async launch(options: LaunchOptions = {}): Promise<Browser> {
    const executable = options.executable ?? DEFAULT_CHROMIUM;
    const profile = mkdtempSync(join(tmpdir(), 'intquant-chromium-'));
    const [w, h] = options.windowSize ?? [1280, 900];
    const args = [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--window-size=${w},${h}`,
      `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ];
    let child: ChildProcess;
    let stderr = '';
    const tail = () => (stderr.trim() ? `; its last output:\n${stderr.trim().split('\n').slice(-8).join('\n')}` : '');
    const hint = `Install it with \`apt-get install chromium\` (.ci/run does) or set CHROMIUM to its path.`;
    try {
      child = spawn(executable, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    } catch (e) {
      rmSync(profile, { recursive: true, force: true });
      throw new BrowserError(`Chromium could not start (${executable}): ${(e as Error).message}. ${hint}`);
    }
    (child.stdio[2] as Readable).setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-8000); });
    const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => {
      reject(new BrowserError(`Chromium could not start (${executable}): ${e.message}. ${hint}`));
    }));
    const browser = new Browser(child, profile, tail);
    const timeoutMs = options.startTimeoutMs ?? 30_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        browser.send('Browser.getVersion'),
        spawnError,
        new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new BrowserError(`Chromium (${executable}) did not answer within ${timeoutMs} ms${tail()}`)), timeoutMs); }),
      ]);
    } catch (e) {
      await browser.close();
      throw e instanceof BrowserError ? e : new BrowserError(`Chromium (${executable}) did not start: ${(e as Error).message}. ${hint}`);
    } finally {
      clearTimeout(timer);
    }
    return browser;
  }

  /** The browser's product string, e.g. "Chrome/131.0.6778.85". */
  async version(): Promise<string> {
    return ((await this.send('Browser.getVersion')) as { product: string }).product;
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<unknown> {
    if (this.exitReason) return Promise.reject(new BrowserError(`${this.exitReason}; cannot send ${method}`));
    const id = this.nextId++;
    const message = JSON.stringify(sessionId ? { id, method, params, sessionId } : { id, method, params });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      (this.child.stdio[3] as Writable).write(message + '\0');
    });
  }

  on(event: string, listener: Listener): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  /** A new tab at `url`; resolves once its load event has fired. */
  async open(url: string, timeoutMs = 60_000): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, targetId, sessionId);
    await page.navigate(url, timeoutMs);
    return page;
  }

  /** Close the browser (Browser.close, then SIGKILL if it lingers) and remove its profile. */
  async close(): Promise<void> {
    if (!this.exitReason) {
      this.send('Browser.close').catch(() => undefined);
      const killer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(killer);
    }
    rmSync(this.profile, { recursive: true, force: true });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\0')) >= 0) {
      const text = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 1);
      const msg = JSON.parse(text) as { id?: number; result?: unknown; error?: { message: string }; method?: string; params?: Record<string, unknown>; sessionId?: string };
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id);
        if (msg.error) p.reject(new BrowserError(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result);
      } else if (msg.method) {
        for (const l of this.listeners.get(msg.method) ?? []) l(msg.params ?? {}, msg.sessionId);
      }
    }
  }
}

export class Page {
  /** Uncaught exceptions and console errors of the page, in order. */
  readonly errors: string[] = [];
  /** Everything the page logged to the console. */
  readonly console: string[] = [];

  constructor(private readonly browser: Browser, readonly targetId: string, private readonly sessionId: string) {
    browser.on('Runtime.exceptionThrown', (p, s) => {
      if (s !== sessionId) return;
      const d = p.exceptionDetails as { text: string; exception?: { description?: string } };
      this.errors.push(d.exception?.description ?? d.text);
    });
    browser.on('Runtime.consoleAPICalled', (p, s) => {
      if (s !== sessionId) return;
      const text = (p.args as { value?: unknown; description?: string }[]).map((a) => a.value ?? a.description).join(' ');
      this.console.push(`${String(p.type)}: ${text}`);
      if (p.type === 'error') this.errors.push(text);
    });
  }

  private send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    return this.browser.send(method, params, this.sessionId);
  }

  async navigate(url: string, timeoutMs: number): Promise<void> {
    await this.send('Runtime.enable');
    await this.send('Page.enable');
    let off: (() => void) | undefined;
    const loaded = new Promise<void>((resolve) => { off = this.browser.on('Page.loadEventFired', (_, s) => { if (s === this.sessionId) resolve(); }); });
    const nav = (await this.send('Page.navigate', { url })) as { errorText?: string };
    if (nav.errorText) throw new BrowserError(`${url}: ${nav.errorText}`);
    await withTimeout(loaded, timeoutMs, `${url} did not finish loading within ${timeoutMs} ms`);
    off?.();
  }

  /** Evaluate `expression` in the page (awaiting a promise) and return its value as JSON. */
  async evaluate<T>(expression: string, timeoutMs = 120_000): Promise<T> {
    const r = (await withTimeout(this.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }), timeoutMs,
      `the page did not answer \`${expression}\` within ${timeoutMs} ms${this.errors.length ? `; page errors: ${this.errors.join(' | ')}` : ''}`)) as
      { result: { value?: unknown }; exceptionDetails?: { text: string; exception?: { description?: string } } };
    if (r.exceptionDetails) {
      throw new BrowserError(`the page threw: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    }
    return r.result.value as T;
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Buffer> {
    const { data } = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: false })) as { data: string };
    return Buffer.from(data, 'base64');
  }

  async close(): Promise<void> {
    await this.browser.send('Target.closeTarget', { targetId: this.targetId });
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new BrowserError(message)), ms); })])
    .finally(() => clearTimeout(timer));
}
