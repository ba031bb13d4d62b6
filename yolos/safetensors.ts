/**
 * safetensors, written here: 8-byte little-endian header length N, N bytes of JSON header
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {…} }), then the raw data
 * (offsets relative to the data's start). Reads F32, F16 and BF16 (as Float32Array) and I32; writes F32.
 */

export type SafetensorsDtype = 'F32' | 'F16' | 'BF16' | 'I32';
export interface SafeTensor {
  /** The dtype stored in the file (values are returned widened to f32 for F16/BF16). */
  dtype: SafetensorsDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, I32: 4 };

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Parses a safetensors file. Throws naming the problem: a header length beyond the file, bad JSON,
 * an unknown dtype, offsets outside the data or not matching the shape.
 */
export function readSafetensors(input: Uint8Array | ArrayBuffer): Map<string, SafeTensor> {
  const bytes = input instanceof Uint8Array ? input : new Uint8Array(input);
  if (bytes.byteLength < 8) throw new Error(`safetensors: file of ${bytes.byteLength} bytes is too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > bytes.byteLength - 8) throw new Error(`safetensors: header length ${n} goes beyond the file (${bytes.byteLength} bytes)`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new Error(`safetensors: header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new Error('safetensors: header is not a JSON object');
  const dataStart = 8 + n, dataLen = bytes.byteLength - dataStart;
  const out = new Map<string, SafeTensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: off } = (info ?? {}) as { dtype?: string; shape?: number[]; data_offsets?: number[] };
    if (!dtype || !(dtype in BYTES)) throw new Error(`safetensors: tensor '${name}' has unsupported dtype ${JSON.stringify(dtype)} (F32, F16, BF16, I32 are read)`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`safetensors: tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new Error(`safetensors: tensor '${name}' has invalid data_offsets ${JSON.stringify(off)}`);
    }
    if (off[1] > dataLen) throw new Error(`safetensors: tensor '${name}' data_offsets [${off}] lie outside the data (${dataLen} bytes)`);
    const count = shape.reduce((a, b) => a * b, 1);
    const d = dtype as SafetensorsDtype;
    if (off[1] - off[0] !== count * BYTES[d]) {
      throw new Error(`safetensors: tensor '${name}' ${d}[${shape}] needs ${count * BYTES[d]} bytes but data_offsets [${off}] span ${off[1] - off[0]}`);
    }
    const raw = bytes.slice(dataStart + off[0], dataStart + off[1]); // copy: aligned, owned
    const dv = new DataView(raw.buffer);
    let data: Float32Array | Int32Array;
    if (d === 'F32') { data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getFloat32(4 * i, true); }
    else if (d === 'I32') { data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getInt32(4 * i, true); }
    else if (d === 'F16') { data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = halfToFloat(dv.getUint16(2 * i, true)); }
    else {
      data = new Float32Array(count);
      const u = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) u[i] = dv.getUint16(2 * i, true) << 16; // bf16 = the top half of an f32
    }
    out.set(name, { dtype: d, shape, data });
  }
  return out;
}

/** Serialises f32 tensors (and optional string metadata) to safetensors bytes, keys in sorted order. */
export function writeSafetensors(tensors: Map<string, { shape: number[]; data: Float32Array }> | Record<string, { shape: number[]; data: Float32Array }>, metadata?: Record<string, string>): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of entries) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  const encoded = new TextEncoder().encode(JSON.stringify(header));
  const head = new Uint8Array(encoded.byteLength + ((8 - (encoded.byteLength % 8)) % 8)).fill(0x20); // data starts 8-byte aligned
  head.set(encoded);
  const out = new Uint8Array(8 + head.byteLength + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let p = 8 + head.byteLength;
  for (const [, t] of entries) {
    for (let i = 0; i < t.data.length; i++) dv.setFloat32(p + 4 * i, t.data[i], true);
    p += 4 * t.data.length;
  }
  return out;
}
