/**
 * Typed errors. Every error intquant throws is an `IntquantError` with a stable `code`;
 * argument errors also name the offending `argument` and say how to fix it.
 */
export class IntquantError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A bad argument: wrong length, out-of-range value, unknown option. */
export class InvalidArgumentError extends IntquantError {
  readonly argument: string;
  constructor(argument: string, message: string, code = 'IQ_INVALID_ARGUMENT') {
    super(code, `${argument}: ${message}`);
    this.argument = argument;
  }
}

/** Input data contains NaN, which has no quantized value. */
export class NaNInputError extends InvalidArgumentError {
  readonly index: number;
  constructor(argument: string, index: number) {
    super(argument, `contains NaN (first at index ${index}); NaN has no quantized value — clean or mask the input first`, 'IQ_NAN_INPUT');
    this.index = index;
  }
}

/** A tensor or matrix was used after `dispose()`. */
export class DisposedError extends IntquantError {
  constructor(what: string) {
    super('IQ_DISPOSED', `${what} was used after dispose(); create a new one instead`);
  }
}

/** An allocation would exceed the memory budget set with `setMemoryBudget` / `init({ maxBytes })`. */
export class MemoryBudgetError extends IntquantError {
  readonly requested: number;
  readonly inUse: number;
  readonly budget: number;
  constructor(requested: number, inUse: number, budget: number) {
    super('IQ_MEMORY_BUDGET',
      `allocating ${requested} bytes would exceed the memory budget (${inUse} of ${budget} bytes in use); ` +
      'dispose tensors you no longer need or raise the budget with setMemoryBudget()');
    this.requested = requested;
    this.inUse = inUse;
    this.budget = budget;
  }
}

/** The library was used before `await init()`. */
export class NotInitializedError extends IntquantError {
  constructor() {
    super('IQ_NOT_INITIALIZED', 'intquant is not initialised: call `await init()` once before using it');
  }
}

/**
 * A parallel kernel call failed on a pool thread: the thread was lost (it exited, was terminated
 * or stopped answering; code IQ_THREAD_LOST) or a kernel threw there (IQ_THREAD_FAILED). The pool
 * replaces a lost thread; the next call runs normally. Tensors and matrices stay valid.
 */
export class ThreadError extends IntquantError {
  /** The pool thread (1 … threads − 1; 0 is the calling thread). */
  readonly thread: number;
  constructor(code: 'IQ_THREAD_LOST' | 'IQ_THREAD_FAILED', thread: number, message: string) {
    super(code, message);
    this.thread = thread;
  }
}

/** Something was asked of intquant while a parallel kernel call is running (re-entry, dispose). */
export class BusyError extends IntquantError {
  constructor(message: string) {
    super('IQ_BUSY', message);
  }
}

export function assertInteger(argument: string, value: number, min = -Infinity, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = min === -Infinity && max === Infinity ? 'an integer' : `an integer in [${min}, ${max}]`;
    throw new InvalidArgumentError(argument, `must be ${range}, got ${String(value)}`);
  }
}
