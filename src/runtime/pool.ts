/**
 * The thread pool: `threads − 1` workers (node:worker_threads in Node, Web Workers in a browser:
 * the host starts them, src/runtime/host.ts), each with the selected build instantiated on the
 * one shared memory, driven through control blocks with Atomics (src/runtime/pool-protocol.ts).
 * A parallel call hands share 1…n−1 to workers, runs share 0 on the calling thread, and waits
 * (Atomics.wait where the thread may block — Node's main thread, a Web Worker — else by spinning,
 * as on a page's main thread): every call stays synchronous. Node's workers are unref()ed, so
 * they never keep a process alive. Without shared memory there are no workers: one thread.
 *
 * Failure is bounded: the caller waits in slices and gives up on a worker that has exited, was
 * terminated, did not pick the job up within `ackMs`, or did not finish within `graceMs` (at
 * least, and 50× the caller's own share time) after the caller's own share — the call throws
 * ThreadError, the worker is terminated and replaced, and blocks released until it has exited
 * are held back from reuse (it might still be writing). docs/threads.md has the rules.
 */
import { BusyError, IntquantError, InvalidArgumentError, ThreadError } from '../errors.js';
import type { KernelExports } from './abi.js';
import type { WasmMemory } from './memory.js';
import { host, type HostWorker } from './host.js';
import {
  CALL_AREA_F64, callableNames, callables, CONTROL_BYTES, encodeCalls, HEADER_WORDS, readFailure, resultOf, runCall, SEQ_STOP,
  W_DONE, W_EXITED, W_NCALLS, W_READY, W_SEQ, W_SPIN, W_STARTED, W_STATUS, type KernelCall, type WorkerInit,
} from './pool-protocol.js';

export type { KernelCall } from './pool-protocol.js';

/** Most threads one process may ask for (more than cores works, it only time-slices). */
export const MAX_THREADS = 256;

/** Loads of a DONE / SEQ word before a thread sleeps in Atomics.wait (a few tens of µs). */
const SPIN = 20_000;
/** The caller re-checks lost workers and deadlines this often while it waits (ms). */
const SLICE_MS = 5;

export interface PoolTimeouts {
  /** A live worker picks a job up within microseconds; past this it counts as lost (ms). */
  ackMs: number;
  /** After the caller's own share, the least time a worker gets to finish its share (ms). */
  graceMs: number;
}
const DEFAULT_TIMEOUTS: PoolTimeouts = { ackMs: 2000, graceMs: 2000 };

interface Slot {
  worker: HostWorker;
  control: SharedArrayBuffer;
  ctrl: Int32Array;
  calls: Float64Array;
  seq: number;
  lost: boolean;
  ready: Promise<void>;
}

/** Parse a thread count from an option or INTQUANT_THREADS. */
export function threadCount(value: unknown, argument: string): number {
  const n = argument === 'INTQUANT_THREADS' && typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new InvalidArgumentError(argument, `must be an integer from 1 to ${MAX_THREADS} (1 = the calling thread only), got ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  }
  return n;
}

/**
 * The thread count init() uses: the option, else INTQUANT_THREADS, else every core where memory
 * can be shared (`sharedUnavailable` undefined) and 1 where it cannot.
 */
export function requestedThreads(option: unknown, sharedUnavailable: string | undefined): number {
  if (option !== undefined) return threadCount(option, 'threads');
  const env = host().env('INTQUANT_THREADS');
  if (env !== undefined && env !== '') return threadCount(env, 'INTQUANT_THREADS');
  return sharedUnavailable === undefined ? Math.min(MAX_THREADS, host().cores()) : 1;
}

/** Whether this thread may block in Atomics.wait (not a page's main thread); asked once, when the first worker starts. */
let callerMayWait: boolean | undefined;
function mayWait(): boolean {
  if (callerMayWait === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0); // value differs: returns at once where waiting is allowed
      callerMayWait = true;
    } catch {
      callerMayWait = false;
    }
  }
  return callerMayWait;
}

/** Wait until ctrl[index] is no longer `value` or `ms` have passed: Atomics.wait where allowed, else a spin. */
function waitSlice(ctrl: Int32Array, index: number, value: number, ms: number): void {
  if (mayWait()) { Atomics.wait(ctrl, index, value, ms); return; }
  const until = performance.now() + ms;
  while (Atomics.load(ctrl, index) === value && performance.now() < until) { /* spin: this thread may not block */ }
}

export class ThreadPool {
  private readonly slots: Slot[] = [];
  private readonly names: string[];
  private readonly ids: Map<string, number>;
  private readonly local: ((...a: number[]) => number | undefined)[];
  private active: number;
  private running = false;
  private lostDuringRun = false;
  /** The workers of the call running now (pool thread i = current[i − 1]). */
  private current: readonly { slot: Slot; thread: number }[] = [];
  private timeouts: PoolTimeouts = { ...DEFAULT_TIMEOUTS };
  private readonly lostListeners = new Set<() => void>();
  private readonly cores = host().cores();
  private dispatched = 0;
  /** @internal Test hook: runs on the calling thread after the shares are handed out, before its own. */
  afterDispatch: ((pool: ThreadPool) => void) | undefined;

  /** `sharedUnavailable`: why the memory is not shared (then the pool holds no workers and asking for more threads throws). */
  constructor(private readonly module: WebAssembly.Module, private readonly mem: WasmMemory, kernels: KernelExports, threads: number,
    private readonly sharedUnavailable?: string) {
    this.names = callableNames(module);
    this.ids = new Map(this.names.map((n, i) => [n, i]));
    this.local = callables(this.names, kernels as unknown as Record<string, unknown>, () => {
      throw new IntquantError('IQ_INTERNAL', '__exit runs on pool workers only');
    });
    this.grow(threads - 1);
    this.active = threads;
  }

  /** Resolves when every worker is instantiated (rejects if one failed to start). */
  async ready(): Promise<void> {
    // A worker lost while starting is replaced: wait for the replacements too (a few rounds).
    for (let round = 0; ; round++) {
      const slots = this.slots.slice();
      try {
        await Promise.all(slots.map((s) => s.ready));
        return;
      } catch (e) {
        if (round >= 3 || slots.every((s, i) => this.slots[i] === s)) throw e;
      }
    }
  }

  /** Threads the next calls may use (the calling thread included). */
  get threads(): number { return this.active; }

  /** Workers started (lost ones being replaced included). */
  get size(): number { return this.slots.length; }

  /** Threads a call could use right now: the calling thread plus the workers that are ready. */
  available(): number {
    let n = 1;
    for (let i = 0; i < this.slots.length && n < this.active; i++) if (this.isReady(this.slots[i]!)) n++;
    return n;
  }

  /** Use `n` threads from the next call on; starts workers only when n exceeds the pool. */
  async setThreads(n: number): Promise<void> {
    this.grow(n - 1);
    this.active = n;
    return this.ready();
  }

  /** @internal Shares handed to workers so far (tests check that work was split). */
  get sharesDispatched(): number { return this.dispatched; }

  /** @internal Benchmarks: switch between counts the pool already holds, synchronously. */
  useThreads(n: number): void {
    if (!(n >= 1 && n - 1 <= this.slots.length)) throw new InvalidArgumentError('n', `must be 1 … ${this.slots.length + 1} (the pool's size)`);
    this.active = n;
  }

  /** Is a parallel call running (on this thread)? */
  get busy(): boolean { return this.running; }

  /** Called when a worker is given up on (e.g. to drop scratch it may still write). */
  onLost(listener: () => void): () => void {
    this.lostListeners.add(listener);
    return () => this.lostListeners.delete(listener);
  }

  /** @internal Tests: shorten or restore the loss deadlines. */
  setTimeouts(t: Partial<PoolTimeouts>): void {
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...t };
  }

  /**
   * @internal Tests: terminate worker `i` (1-based pool thread). The pool sees it at once; a
   * worker that dies without the pool knowing is caught by the deadlines instead.
   */
  terminateWorker(i: number): void {
    const s = this.current[i - 1]?.slot ?? this.slots[i - 1];
    if (!s) throw new InvalidArgumentError('i', `pool thread ${i} does not exist (pool of ${this.slots.length + 1} threads)`);
    this.lose(s);
  }

  /**
   * Run share 0 on the calling thread and share i on worker i (at most available() shares);
   * returns each share's call results. Synchronous; throws ThreadError when a worker was lost or
   * a kernel threw on one, BusyError when re-entered.
   */
  run(shares: readonly (readonly KernelCall[])[]): number[][] {
    if (this.running) {
      throw new BusyError('a parallel kernel call is already running on this thread (re-entered from a callback); intquant calls run one at a time');
    }
    const workers: { slot: Slot; thread: number }[] = [];
    for (let i = 0; i < this.slots.length && workers.length < shares.length - 1; i++) {
      const s = this.slots[i]!;
      if (this.isReady(s)) workers.push({ slot: s, thread: workers.length + 1 });
    }
    // Shares without a ready worker (one is being replaced) run on the calling thread after its own.
    const own = shares.slice(workers.length + 1).reduce((a, sh) => a.concat(sh), shares[0]!.slice());
    const ownCounts = [shares[0]!.length, ...shares.slice(workers.length + 1).map((sh) => sh.length)];
    for (const sh of shares) {
      if (sh.length > 16) throw new IntquantError('IQ_INTERNAL', `a share of ${sh.length} calls exceeds the control block`);
    }
    // Spin-waiting only pays while every thread has a core; oversubscribed, it steals the core
    // from the thread doing the work.
    const spin = shares.length <= this.cores ? SPIN : 0;
    this.running = true;
    this.current = workers;
    this.mem.beginParallel();
    let ownError: unknown;
    const results: number[][] = shares.map(() => []);
    try {
      for (let w = 0; w < workers.length; w++) {
        const { slot } = workers[w]!;
        const calls = shares[w + 1]!;
        encodeCalls(slot.calls, this.ids, calls);
        Atomics.store(slot.ctrl, W_NCALLS, calls.length);
        Atomics.store(slot.ctrl, W_STATUS, 0);
        Atomics.store(slot.ctrl, W_SPIN, spin);
        slot.seq++;
        Atomics.store(slot.ctrl, W_SEQ, slot.seq);
        Atomics.notify(slot.ctrl, W_SEQ);
        this.dispatched++;
      }
      const t0 = performance.now();
      try {
        this.afterDispatch?.(this);
        for (const c of own) results[0]!.push(runCall(this.local[this.idOf(c.fn)]!, c.args, c.repeat, c.strides));
      } catch (e) {
        ownError = e;
      }
      const ownMs = performance.now() - t0;
      const failure = this.waitAll(workers, t0, ownMs, spin);
      if (failure) throw failure;
      for (let w = 0; w < workers.length; w++) {
        const s = workers[w]!.slot;
        results[w + 1] = shares[w + 1]!.map((_, c) => resultOf(s.calls, c));
      }
      if (ownError === undefined) {
        const mine = results[0]!;
        results[0] = mine.splice(0, ownCounts[0]!);
        for (let j = 1; j < ownCounts.length; j++) results[workers.length + j] = mine.splice(0, ownCounts[j]!);
      }
    } finally {
      this.mem.endParallel();
      this.running = false;
      this.current = [];
      if (this.lostDuringRun) {
        this.lostDuringRun = false;
        for (const l of this.lostListeners) l();
      }
    }
    if (ownError !== undefined) {
      if (ownError instanceof IntquantError) throw ownError;
      throw new ThreadError('IQ_THREAD_FAILED', 0, `a kernel failed on the calling thread: ${(ownError as Error)?.message ?? String(ownError)}`);
    }
    return results;
  }

  /** Stop every worker (tests, shutdown). The pool is unusable afterwards. */
  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const s of slots) { Atomics.store(s.ctrl, W_SEQ, SEQ_STOP); Atomics.notify(s.ctrl, W_SEQ); }
    await Promise.all(slots.map((s) => s.worker.terminate()));
    this.active = 1;
  }

  private idOf(fn: string): number {
    const id = this.ids.get(fn);
    if (id === undefined) throw new IntquantError('IQ_INTERNAL', `no kernel named ${fn} in this build`);
    return id;
  }

  private isReady(s: Slot): boolean {
    return !s.lost && Atomics.load(s.ctrl, W_READY) === 1 && Atomics.load(s.ctrl, W_EXITED) === 0;
  }

  /** Wait for every worker's DONE; on a loss, give up on it (bounded) and report. */
  private waitAll(workers: readonly { slot: Slot; thread: number }[], t0: number, ownMs: number, spin: number): ThreadError | undefined {
    const { ackMs, graceMs } = this.timeouts;
    const ownDone = t0 + ownMs;
    const deadline = ownDone + Math.max(graceMs, 50 * ownMs);
    let lost: ThreadError | undefined;
    let failed: ThreadError | undefined;
    for (const { slot, thread } of workers) {
      const { ctrl, seq } = slot;
      let done = Atomics.load(ctrl, W_DONE);
      for (let i = 0; done !== seq && i < spin; i++) done = Atomics.load(ctrl, W_DONE);
      if (slot.lost) { // terminated during the call (terminateWorker): its share cannot be trusted
        lost ??= new ThreadError('IQ_THREAD_LOST', thread, `pool thread ${thread} was terminated during the call; the call was abandoned and the thread is being replaced — retry the call`);
        continue;
      }
      while (done !== seq) {
        waitSlice(ctrl, W_DONE, done, SLICE_MS);
        done = Atomics.load(ctrl, W_DONE);
        if (done === seq) break;
        const now = performance.now();
        const why = slot.lost || Atomics.load(ctrl, W_EXITED) === 1 ? 'exited or was terminated'
          : Atomics.load(ctrl, W_STARTED) !== seq && now - t0 > ackMs ? `did not pick up its share within ${ackMs} ms`
          : now > deadline ? `did not finish its share within ${Math.round(deadline - ownDone)} ms of the calling thread's own` : undefined;
        if (why !== undefined) {
          if (!slot.lost) this.lose(slot);
          lost ??= new ThreadError('IQ_THREAD_LOST', thread, `pool thread ${thread} ${why}; the call was abandoned and the thread is being replaced — retry the call`);
          break;
        }
      }
      if (done === seq && Atomics.load(ctrl, W_STATUS) !== 0) {
        failed ??= new ThreadError('IQ_THREAD_FAILED', thread, `a kernel failed on pool thread ${thread}: ${readFailure(slot.control) || 'unknown error'}`);
      }
    }
    return lost ?? failed;
  }

  /** Give up on a worker: terminate it, hold released blocks until it has exited, start a replacement. */
  private lose(slot: Slot): void {
    slot.lost = true;
    void slot.worker.terminate();
    this.mem.holdReleasedUntil(slot.worker.exited);
    if (this.running) this.lostDuringRun = true; // listeners run once the call has ended (they may free memory)
    else for (const l of this.lostListeners) l();
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots[i] = this.spawn();
  }

  private grow(workers: number): void {
    if (workers > 0 && this.sharedUnavailable !== undefined) {
      throw new IntquantError('IQ_THREADS_UNAVAILABLE',
        `${workers + 1} threads need a WebAssembly.Memory shared with workers, which is not available: ${this.sharedUnavailable}; use 1 thread here`);
    }
    while (this.slots.length < workers) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    mayWait(); // decided while no call is running
    const control = new SharedArrayBuffer(CONTROL_BYTES);
    const data: WorkerInit = { module: this.module, memory: this.mem.memory, control, names: this.names };
    const worker = host().startWorker(data);
    const slot: Slot = {
      worker, control, seq: 0, lost: false,
      ctrl: new Int32Array(control, 0, HEADER_WORDS), calls: new Float64Array(control, HEADER_WORDS * 4, CALL_AREA_F64),
      ready: Promise.resolve(),
    };
    slot.ready = new Promise<void>((resolve, reject) => {
      const poll = setInterval(() => {
        if (Atomics.load(slot.ctrl, W_READY) === 1) { clearInterval(poll); resolve(); }
      }, 2); // ref'd: an awaited init() keeps the process alive until the worker is up
      worker.onError((message) => { clearInterval(poll); reject(new IntquantError('IQ_THREADS_UNAVAILABLE', `a pool worker failed to start: ${message}`)); });
      worker.onExit(() => { clearInterval(poll); reject(new IntquantError('IQ_THREADS_UNAVAILABLE', 'a pool worker exited while starting')); });
    });
    slot.ready.catch(() => undefined); // a start failure surfaces through ready(); never unhandled
    // A worker that dies between calls: mark it and replace it (a death during a call is found by run()).
    worker.onExit(() => {
      if (slot.lost || !this.slots.includes(slot)) return;
      slot.lost = true;
      const i = this.slots.indexOf(slot);
      this.slots[i] = this.spawn();
    });
    return slot;
  }
}
