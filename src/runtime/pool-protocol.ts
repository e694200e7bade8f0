/**
 * The pool's control block: one SharedArrayBuffer per worker, written by the calling thread and
 * read by that worker, with Atomics for every hand-over (docs/threads.md). No postMessage per
 * call: a job is a list of kernel calls encoded as float64 (every i32 and f32 argument is exact
 * in a float64), a sequence number the worker waits on, and a done word the caller waits on.
 *
 *   int32 words  SEQ      job number (the caller stores it and notifies; STOP ends the worker)
 *                STARTED  the job number the worker has picked up
 *                DONE     the job number the worker has finished (it notifies the caller)
 *                STATUS   0: every call returned, 1: a call threw (its text below)
 *                NCALLS   calls in the job
 *                READY    1 once the worker has instantiated the build
 *                SPIN     loads of SEQ the worker spins before sleeping after this job
 *                EXITED   1 once the worker thread runs its exit handlers (process.exit in it)
 *                FAILLEN  UTF-16 code units of the failure text (STATUS 1)
 *   float64      per call: function id, repeat, argument count, MAX_ARGS arguments,
 *                MAX_ARGS per-repeat strides, result (the last repetition's return value)
 *   uint16       the failure text of the last job that threw: "Name: message", cut to FAIL_CHARS
 *                (in the block, so the caller reads it synchronously in every host)
 *
 * A call with `repeat` r runs fn r times, adding strides[i]·j to argument i on repetition j.
 */
export const W_SEQ = 0, W_STARTED = 1, W_DONE = 2, W_STATUS = 3, W_NCALLS = 4, W_READY = 5, W_SPIN = 6, W_EXITED = 7, W_FAILLEN = 8;
export const HEADER_WORDS = 16; // 64 bytes: the words above sit on their own cache line
export const SEQ_STOP = -1;
export const MAX_ARGS = 12;
export const MAX_CALLS = 16;
const CALL_F64 = 3 + 2 * MAX_ARGS + 1;
/** float64 slots of the call area. */
export const CALL_AREA_F64 = MAX_CALLS * CALL_F64;
const FAIL_OFFSET = HEADER_WORDS * 4 + CALL_AREA_F64 * 8;
export const FAIL_CHARS = 512;
export const CONTROL_BYTES = FAIL_OFFSET + FAIL_CHARS * 2;

/** One kernel call: an export of the build by name, its arguments, optionally repeated with strides. */
export interface KernelCall {
  readonly fn: string;
  readonly args: readonly number[];
  readonly repeat?: number;
  readonly strides?: readonly number[];
}

type Fn = (...args: number[]) => number | undefined;

/** Test-only built-ins, run like kernels: block this thread for args[0] ms, or end the worker thread. */
export const BUILTINS = ['__sleep', '__exit'] as const;

/** Every callable name, in one fixed order (the same on both sides: the ids index it). */
export function callableNames(module: WebAssembly.Module): string[] {
  const fns = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name).sort();
  return [...fns, ...BUILTINS];
}

/** The functions by id, from a build's exports (builtins appended). */
export function callables(names: readonly string[], exports: Record<string, unknown>, exit: () => never): Fn[] {
  let sleeper: Int32Array | undefined; // made on first use: a page without shared memory has no SharedArrayBuffer
  const builtin: Record<string, Fn> = {
    __sleep: (ms: number) => { Atomics.wait((sleeper ??= new Int32Array(new SharedArrayBuffer(4))), 0, 0, ms); return 0; },
    __exit: () => exit(),
  };
  return names.map((n) => (builtin[n] ?? exports[n]) as Fn);
}

/** Run one call (with its repetitions); returns the last return value (0 for none). */
export function runCall(fn: Fn, args: readonly number[], repeat = 1, strides?: readonly number[]): number {
  let result: number | undefined = 0;
  if (repeat === 1 || strides === undefined) {
    for (let j = 0; j < repeat; j++) result = fn(...args);
    return result ?? 0;
  }
  const a = args.slice();
  for (let j = 0; j < repeat; j++) {
    result = fn(...a);
    for (let i = 0; i < a.length; i++) a[i]! += strides[i] ?? 0;
  }
  return result ?? 0;
}

/** Write a job's calls into a control block. */
export function encodeCalls(f64: Float64Array, ids: ReadonlyMap<string, number>, calls: readonly KernelCall[]): void {
  for (let c = 0; c < calls.length; c++) {
    const call = calls[c]!, o = c * CALL_F64;
    f64[o] = ids.get(call.fn)!;
    f64[o + 1] = call.repeat ?? 1;
    f64[o + 2] = call.args.length;
    for (let i = 0; i < call.args.length; i++) {
      f64[o + 3 + i] = call.args[i]!;
      f64[o + 3 + MAX_ARGS + i] = call.strides?.[i] ?? 0;
    }
  }
}

/** Run the encoded calls of a job (the worker's side), storing each result. */
export function runEncoded(f64: Float64Array, n: number, fns: readonly Fn[]): void {
  for (let c = 0; c < n; c++) {
    const o = c * CALL_F64;
    const nargs = f64[o + 2]!;
    const args: number[] = new Array<number>(nargs), strides: number[] = new Array<number>(nargs);
    for (let i = 0; i < nargs; i++) { args[i] = f64[o + 3 + i]!; strides[i] = f64[o + 3 + MAX_ARGS + i]!; }
    f64[o + 3 + 2 * MAX_ARGS] = runCall(fns[f64[o]!]!, args, f64[o + 1]!, strides);
  }
}

/** The result of call c of a finished job. */
export function resultOf(f64: Float64Array, c: number): number {
  return f64[c * CALL_F64 + 3 + 2 * MAX_ARGS]!;
}

/** Store a job's failure text in its control block (the worker's side, before DONE). */
export function writeFailure(control: SharedArrayBuffer, text: string): void {
  const chars = new Uint16Array(control, FAIL_OFFSET, FAIL_CHARS);
  const n = Math.min(text.length, FAIL_CHARS);
  for (let i = 0; i < n; i++) chars[i] = text.charCodeAt(i);
  Atomics.store(new Int32Array(control, 0, HEADER_WORDS), W_FAILLEN, n);
}

/** The failure text of the last job that threw (the caller's side, after DONE). */
export function readFailure(control: SharedArrayBuffer): string {
  const n = Atomics.load(new Int32Array(control, 0, HEADER_WORDS), W_FAILLEN);
  return String.fromCharCode(...new Uint16Array(control, FAIL_OFFSET, n));
}

/** What a worker is started with (Node: workerData; a Web Worker: its first message). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  names: string[];
}
