/**
 * A minimal ONNX model writer: just enough protobuf to build one-node models (MatMulInteger,
 * MatMul, MatMulNBits) in memory for the peer benchmarks. Field numbers from onnx.proto3.
 */

// ---- protobuf wire format -------------------------------------------------------------------
// Chunks of bytes, concatenated once at the end: a 180 MB float initializer is copied, never
// turned into a JS array of numbers.
class Writer {
  private parts: Uint8Array[] = [];
  private small: number[] = [];
  private length = 0;
  private flushSmall(): void {
    if (this.small.length) { this.parts.push(Uint8Array.from(this.small)); this.small = []; }
  }
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      this.small.push(b);
      this.length++;
    } while (x !== 0n);
    return this;
  }
  tag(field: number, wire: number): this { return this.varint((field << 3) | wire); }
  int(field: number, v: number): this { return this.tag(field, 0).varint(v); }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    this.flushSmall();
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
  str(field: number, s: string): this { return this.bytes(field, new TextEncoder().encode(s)); }
  msg(field: number, w: Writer): this { return this.bytes(field, w.finish()); }
  finish(): Uint8Array {
    this.flushSmall();
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) { out.set(p, o); o += p.length; }
    return out;
  }
}

// ---- ONNX messages ---------------------------------------------------------------------------
export const ElemType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, FLOAT16: 10 } as const;
export type ElemTypeCode = (typeof ElemType)[keyof typeof ElemType];

export interface TensorInit { name: string; type: ElemTypeCode; dims: number[]; raw: Uint8Array }
export interface ValueInfo { name: string; type: ElemTypeCode; dims: number[] }
export interface NodeSpec {
  op: string; domain?: string; inputs: string[]; outputs: string[];
  attrs?: Record<string, number>;
}

function tensorProto(t: TensorInit): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.type).str(8, t.name).bytes(9, t.raw);
  return w;
}

function valueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.msg(1, new Writer().int(1, d));
  const tensorType = new Writer().int(1, v.type).msg(2, shape);
  return new Writer().str(1, v.name).msg(2, new Writer().msg(1, tensorType));
}

function nodeProto(n: NodeSpec): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.str(1, i);
  for (const o of n.outputs) w.str(2, o);
  w.str(3, `${n.op}_0`).str(4, n.op);
  for (const [name, value] of Object.entries(n.attrs ?? {})) {
    w.msg(5, new Writer().str(1, name).int(3, value).int(20, 2 /* INT */));
  }
  if (n.domain) w.str(7, n.domain);
  return w;
}

/** Serialise a one-node model. */
export function oneNodeModel(spec: { node: NodeSpec; inputs: ValueInfo[]; outputs: ValueInfo[]; initializers: TensorInit[] }): Uint8Array {
  const graph = new Writer().msg(1, nodeProto(spec.node)).str(2, 'g');
  for (const t of spec.initializers) graph.msg(5, tensorProto(t));
  for (const v of spec.inputs) graph.msg(11, valueInfo(v));
  for (const v of spec.outputs) graph.msg(12, valueInfo(v));
  const model = new Writer().int(1, 8 /* ir_version */).str(2, 'intquant-bench');
  model.msg(8, new Writer().str(1, '').int(2, 21));
  if (spec.node.domain) model.msg(8, new Writer().str(1, spec.node.domain).int(2, 1));
  model.msg(7, graph);
  return model.finish();
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** MatMulInteger: A [M,K] (input), B [K,N] (initializer), optional scalar zero points. Output int32 [M,N]. */
export function matMulIntegerModel(
  B: Int8Array | Uint8Array, K: number, N: number, M: number, aType: 'int8' | 'uint8',
  zp: { a?: number; b?: number } = {},
): Uint8Array {
  const bType = B instanceof Int8Array ? ElemType.INT8 : ElemType.UINT8;
  const aCode = aType === 'int8' ? ElemType.INT8 : ElemType.UINT8;
  const inits: TensorInit[] = [{ name: 'B', type: bType, dims: [K, N], raw: bytesOf(B) }];
  const inputs = ['A', 'B'];
  if (zp.a !== undefined || zp.b !== undefined) {
    inits.push({ name: 'a_zp', type: aCode, dims: [], raw: Uint8Array.of(zp.a ?? 0) });
    inputs.push('a_zp');
    if (zp.b !== undefined) { inits.push({ name: 'b_zp', type: bType, dims: [], raw: Uint8Array.of(zp.b) }); inputs.push('b_zp'); }
  }
  return oneNodeModel({
    node: { op: 'MatMulInteger', inputs, outputs: ['Y'] },
    inputs: [{ name: 'A', type: aCode, dims: [M, K] }],
    outputs: [{ name: 'Y', type: ElemType.INT32, dims: [M, N] }],
    initializers: inits,
  });
}

/** Float MatMul: A [M,K] input, B [K,N] initializer. */
export function matMulFloatModel(B: Float32Array, K: number, N: number, M: number): Uint8Array {
  return oneNodeModel({
    node: { op: 'MatMul', inputs: ['A', 'B'], outputs: ['Y'] },
    inputs: [{ name: 'A', type: ElemType.FLOAT, dims: [M, K] }],
    outputs: [{ name: 'Y', type: ElemType.FLOAT, dims: [M, N] }],
    initializers: [{ name: 'B', type: ElemType.FLOAT, dims: [K, N], raw: bytesOf(B) }],
  });
}

/**
 * com.microsoft MatMulNBits (4-bit): A [M,K] float input; B uint8 [N, ceil(K/bs), bs/2];
 * scales float [N·ceil(K/bs)]; optional packed uint8 zero points.
 */
export function matMulNBitsModel(
  B: Uint8Array, scales: Float32Array, K: number, N: number, M: number, blockSize: number,
  opts: { zeroPoints?: Uint8Array; accuracyLevel?: number } = {},
): Uint8Array {
  const blocks = Math.ceil(K / blockSize);
  const inits: TensorInit[] = [
    { name: 'B', type: ElemType.UINT8, dims: [N, blocks, blockSize / 2], raw: bytesOf(B) },
    { name: 'scales', type: ElemType.FLOAT, dims: [N * blocks], raw: bytesOf(scales) },
  ];
  const inputs = ['A', 'B', 'scales'];
  if (opts.zeroPoints) {
    inits.push({ name: 'zp', type: ElemType.UINT8, dims: [opts.zeroPoints.length], raw: opts.zeroPoints });
    inputs.push('zp');
  }
  return oneNodeModel({
    node: {
      op: 'MatMulNBits', domain: 'com.microsoft', inputs, outputs: ['Y'],
      attrs: { K, N, bits: 4, block_size: blockSize, accuracy_level: opts.accuracyLevel ?? 0 },
    },
    inputs: [{ name: 'A', type: ElemType.FLOAT, dims: [M, K] }],
    outputs: [{ name: 'Y', type: ElemType.FLOAT, dims: [M, N] }],
    initializers: inits,
  });
}
