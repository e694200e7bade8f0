/**
 * Seeded random numbers for embedded data, tests and benchmarks (mulberry32: small, fast,
 * reproducible across platforms). Not for cryptography.
 */
export class Rng {
  private state: number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Standard normal (Box–Muller). */
  gaussian(): number {
    if (this.spare !== undefined) { const s = this.spare; this.spare = undefined; return s; }
    let u = 0;
    while (u === 0) u = this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
  /** Laplace with unit scale. */
  laplace(): number {
    const u = this.next() - 0.5;
    return -Math.sign(u) * Math.log(1 - 2 * Math.abs(u));
  }
  /** Student-t with `nu` degrees of freedom (heavy tails for small nu). */
  studentT(nu: number): number {
    let chi2 = 0;
    for (let i = 0; i < nu; i++) { const g = this.gaussian(); chi2 += g * g; }
    return this.gaussian() / Math.sqrt(chi2 / nu);
  }
  int8Array(n: number, lo = -128, hi = 127): Int8Array {
    const a = new Int8Array(n);
    for (let i = 0; i < n; i++) a[i] = this.int(lo, hi);
    return a;
  }
  uint8Array(n: number, lo = 0, hi = 255): Uint8Array {
    const a = new Uint8Array(n);
    for (let i = 0; i < n; i++) a[i] = this.int(lo, hi);
    return a;
  }
  gaussianArray(n: number, sigma = 1): Float32Array {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = sigma * this.gaussian();
    return a;
  }
}
