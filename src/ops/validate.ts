/** Argument checks shared by the integer matrix ops: each throws a typed error naming the argument. */
import { InvalidArgumentError, assertInteger } from '../errors.js';

export type Int8Like = Int8Array | Uint8Array;

export function isInt8Like(a: unknown): a is Int8Like {
  return a instanceof Int8Array || a instanceof Uint8Array;
}

export function assertInt8Like(argument: string, a: unknown): asserts a is Int8Like {
  if (!isInt8Like(a)) {
    const got = a === null ? 'null' : typeof a === 'object' ? (a as object).constructor?.name ?? 'object' : typeof a;
    throw new InvalidArgumentError(argument, `must be an Int8Array or Uint8Array, got ${got}`);
  }
}

export function assertDim(argument: string, v: unknown): asserts v is number {
  assertInteger(argument, v as number, 1, 2 ** 31 - 1);
}

export function assertLength(argument: string, a: { length: number }, expected: number, what: string): void {
  if (a.length !== expected) throw new InvalidArgumentError(argument, `has ${a.length} elements but ${what} needs ${expected}`);
}

/** Zero point of an int8 (−128..127) or uint8 (0..255) tensor. */
export function assertZeroPoint(argument: string, z: unknown, signed: boolean): asserts z is number {
  const [lo, hi] = signed ? [-128, 127] : [0, 255];
  if (typeof z !== 'number' || !Number.isInteger(z) || z < lo || z > hi) {
    throw new InvalidArgumentError(argument, `must be an integer in [${lo}, ${hi}] for ${signed ? 'int8' : 'uint8'} data, got ${String(z)}`);
  }
}

export function assertOut<T extends Int32Array | Float32Array>(argument: string, out: unknown, ctor: { new(n: number): T; name: string }, n: number): T {
  if (out === undefined) return new ctor(n);
  if (!(out instanceof ctor)) throw new InvalidArgumentError(argument, `must be ${/^[AEIOU]/.test(ctor.name) ? 'an' : 'a'} ${ctor.name} of length ${n}`);
  if ((out as T).length !== n) throw new InvalidArgumentError(argument, `has ${(out as T).length} elements, needs ${n}`);
  return out as T;
}

/**
 * Every own key of `options` must be one of `known`: an option a function does not know is an
 * error naming it (a misspelt or misplaced option would otherwise be silently ignored).
 */
export function assertKnownOptions(what: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(`options.${key}`, `is not an option of ${what}; its options are ${known.join(', ')}`);
    }
  }
}
