/**
 * builds suite: the kernel builds this engine can run (simd128, relaxed-simd, relaxed-dotadd),
 * compared with each other in ONE run — int8 GEMV, int4 W4A8 GEMV (group 32) and GEMM M = 8 at
 * 4096² — plus native onnxruntime-node (MatMulInteger u8×u8, MatMulNBits accuracy_level 4) when
 * installed. Every build runs through the public API (matrices bound to the build with
 * `withBuild`, so the same host code, layouts and kernel choices as an application gets); every
 * speedup is the median of per-round ratios of one interleaved measurement.
 *
 * Rows: our kernel on the fastest build against the same work on simd128 (the reference build),
 * on the other builds and on the peers. `--sizes 1024x1024,gemm` picks shapes.
 */
import { PackedInt4Matrix, PackedInt8Matrix } from '../../src/index.js';
import { loadBuild, withBuild, type Backend, type Build } from '../../src/runtime/wasm.js';
import { Rng } from '../../src/data/random.js';
import { refGemvInt8Plain } from '../../src/reference/gemv.js';
import { makeRow, measureInterleaved, scaled, type BenchRow, type Contender, type Suite, type SuiteOptions, type Timing } from '../harness.js';
import { matMulIntegerPeers, matMulNBitsPeers } from '../peers/matmul.js';

const DEFAULT_SIZES = ['1024x1024', '4096x4096', '11008x4096', 'gemm'];
const G = 32;
const ORDER: Backend[] = ['relaxed-dotadd', 'relaxed-simd', 'simd128'];

/** The builds this engine runs (best first); a build it cannot run is reported and skipped. */
async function availableBuilds(): Promise<Build[]> {
  const out: Build[] = [];
  for (const b of ORDER) {
    try { out.push(await loadBuild(b)); } catch (e) { console.error(`  build ${b}: ${(e as Error).message}`); }
  }
  return out;
}

function parseSize(s: string): [number, number] {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) throw new Error(`size '${s}' is not NxK`);
  return [Number(m[1]), Number(m[2])];
}

/** Rows for one measurement: the first contender (the best build) against every other one. */
function rowsAgainst(fields: Omit<Parameters<typeof makeRow>[0], 'baseline'>, labels: string[], t: Timing[]): BenchRow[] {
  return labels.slice(1).map((label, i) => makeRow({ ...fields, baseline: label }, t[0]!, t[i + 1]!));
}

async function runBuilds(opts: SuiteOptions): Promise<BenchRow[]> {
  const builds = await availableBuilds();
  const rows: BenchRow[] = [];
  const wanted = opts.sizes.length ? opts.sizes : DEFAULT_SIZES;
  const tag = (b: Build) => `[${b.backend}]`;
  for (const size of wanted.filter((s) => /^\d+x\d+$/.test(s))) {
    const [N, K] = parseSize(size);
    const rng = new Rng(N * 17 + K);
    // int8 GEMV, exact: every build must give the reference sums before it is timed
    const w = rng.int8Array(N * K), x = rng.int8Array(K);
    const yRef = new Int32Array(N);
    refGemvInt8Plain(w, N, K, x, yRef);
    const m8 = builds.map((b) => withBuild(b, () => PackedInt8Matrix.from(w, N, K)));
    const y8 = new Int32Array(N);
    for (const [i, m] of m8.entries()) {
      m.gemv(x, y8);
      for (let n = 0; n < N; n++) if (y8[n] !== yRef[n]) throw new Error(`i8 gemv ${size} ${tag(builds[i]!)}: differs from the reference at ${n}`);
    }
    const intPeers = (await matMulIntegerPeers(w, x, N, K, 1, yRef)).filter((p) => p.run && /onnxruntime-node .*u8×u8/.test(p.label));
    const t8 = await measureInterleaved([
      ...m8.map((m, i): Contender => ({ name: `i8 gemv ${size} ${tag(builds[i]!)}`, fn: () => m.gemv(x, y8) })),
      ...intPeers.map((p): Contender => ({ name: p.label, fn: p.run!, async: true })),
    ], opts);
    const base8 = { suite: 'builds', kernel: `i8 gemv ${tag(builds[0]!)}`, m: 1, n: N, k: K, macs: N * K, weightBytes: m8[0]!.byteLength, bytes: m8[0]!.byteLength };
    rows.push(...rowsAgainst(base8, [...builds.map((b) => `i8 gemv ${tag(b)}`), ...intPeers.map((p) => p.label)], t8));
    for (const m of m8) m.dispose();

    // int4 W4A8 GEMV, group 32: bit-identical across builds (checked), against MatMulNBits acc4
    const groups = Math.ceil(K / G);
    const q = rng.int8Array(N * K, -8, 7);
    const scales = Float32Array.from({ length: N * groups }, () => 0.002 + 0.01 * rng.next());
    const xf = rng.gaussianArray(K);
    const m4 = builds.map((b) => withBuild(b, () => PackedInt4Matrix.from(q, N, K, { groupSize: G, scales, signed: true })));
    const want = m4[0]!.gemv(xf);
    for (const [i, m] of m4.entries()) {
      const got = m.gemv(xf);
      for (let n = 0; n < N; n++) if (!Object.is(got[n], want[n])) throw new Error(`w4a8 gemv ${size} ${tag(builds[i]!)}: differs from ${tag(builds[0]!)} at ${n}`);
    }
    const nbits = (await matMulNBitsPeers(m4[0]!.toMatMulNBits(), xf, N, K, 1, G, m4[0]!.gemv(xf, undefined, { activations: 'float32' }), 2e-2))
      .filter((p) => p.run && /onnxruntime-node MatMulNBits acc4/.test(p.label));
    const y4 = new Float32Array(N);
    const t4 = await measureInterleaved([
      ...m4.map((m, i): Contender => ({ name: `w4a8 gemv ${size} ${tag(builds[i]!)}`, fn: () => m.gemv(xf, y4) })),
      ...nbits.map((p): Contender => ({ name: p.label, fn: p.run!, async: true })),
    ], opts);
    const base4 = { suite: 'builds', kernel: `w4a8-g32 gemv ${tag(builds[0]!)}`, m: 1, n: N, k: K, macs: N * K, weightBytes: m4[0]!.byteLength, bytes: m4[0]!.byteLength };
    rows.push(...rowsAgainst(base4, [...builds.map((b) => `w4a8-g32 gemv ${tag(b)}`), ...nbits.map((p) => p.label)], t4));
    for (const m of m4) m.dispose();
  }
  if (wanted.includes('gemm')) {
    const N = 4096, K = 4096, M = 8;
    const rng = new Rng(88);
    const w = rng.int8Array(N * K), X = rng.int8Array(M * K);
    const m8 = builds.map((b) => withBuild(b, () => PackedInt8Matrix.from(w, N, K)));
    const Y = new Int32Array(M * N), want = m8[m8.length - 1]!.gemm(X, M);
    for (const [i, m] of m8.entries()) {
      m.gemm(X, M, Y);
      for (let j = 0; j < M * N; j++) if (Y[j] !== want[j]) throw new Error(`i8 gemm ${tag(builds[i]!)}: differs from simd128 at ${j}`);
    }
    const t8 = await measureInterleaved(m8.map((m, i): Contender => ({ name: `i8 gemm ${tag(builds[i]!)}`, fn: () => m.gemm(X, M, Y) })), opts);
    const fields8 = { suite: 'builds', kernel: `i8 gemm M=${M} ${tag(builds[0]!)}`, m: M, n: N, k: K, macs: M * N * K, weightBytes: m8[0]!.byteLength, bytes: m8[0]!.byteLength };
    rows.push(...rowsAgainst(fields8, builds.map((b) => `i8 gemm M=${M} ${tag(b)}`), t8));
    for (const m of m8) m.dispose();

    const q = rng.int8Array(N * K, -8, 7);
    const scales = new Float32Array(N * (K / G)).fill(0.01);
    const m4 = builds.map((b) => withBuild(b, () => PackedInt4Matrix.from(q, N, K, { groupSize: G, scales, signed: true })));
    const Xf = rng.gaussianArray(M * K), Yf = new Float32Array(M * N), yf = new Float32Array(N);
    const t4 = await measureInterleaved([
      ...m4.map((m, i): Contender => ({ name: `w4a8 gemm ${tag(builds[i]!)}`, fn: () => m.gemm(Xf, M, Yf) })),
      { name: `w4a8 gemv ${tag(builds[0]!)}`, fn: () => m4[0]!.gemv(Xf.subarray(0, K), yf) },
    ], opts);
    const fields4 = { suite: 'builds', kernel: `w4a8-g32 gemm M=${M} ${tag(builds[0]!)}`, m: M, n: N, k: K, macs: M * N * K, weightBytes: m4[0]!.byteLength, bytes: m4[0]!.byteLength };
    rows.push(...rowsAgainst(fields4, builds.map((b) => `w4a8-g32 gemm M=${M} ${tag(b)}`), t4.slice(0, builds.length)));
    rows.push(makeRow({ ...fields4, baseline: `${M} × w4a8-g32 gemv ${tag(builds[0]!)}` }, t4[0]!, scaled(t4[builds.length]!, M)));
    for (const m of m4) m.dispose();
  }
  for (const r of rows) r.backend = builds[0]!.backend;
  return rows;
}

export const buildsSuite: Suite = {
  name: 'builds',
  description: 'the kernel builds this engine runs (simd128, relaxed-simd, relaxed-dotadd) against each other and native onnxruntime-node, in one run',
  run: runBuilds,
};
