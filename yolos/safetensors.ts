/**
 * safetensors: 8-byte little-endian header length N, N bytes of JSON header
 * ({ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__?: {…} }), then the raw data
 * (offsets relative to the data's start). Reads every standard dtype, checked as the Rust crate
 * checks (safetensors-header.ts); writes F32. Every malformed file throws a SafetensorsError.
 */
import { decodeTensor, type SafetensorsDtype, type SafeTensorData } from './safetensors-dtypes.ts';
import { parseHeader } from './safetensors-header.ts';
import { SafetensorsError } from './safetensors-error.ts';

export { SafetensorsError } from './safetensors-error.ts';
export { type SafetensorsDtype, type SafeTensorData } from './safetensors-dtypes.ts';

export interface SafeTensor {
  /** The dtype stored in the file. F16, BF16 and F8 values are widened (exactly) to a Float32Array. */
  dtype: SafetensorsDtype;
  shape: number[];
  /** Uint8Array (BOOL, U8), Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array, BigUint64Array (U64), BigInt64Array (I64). */
  data: SafeTensorData;
}

export interface ReadOptions {
  /** The file's name (or URL), for error messages. */
  name?: string;
}

/** What readSafetensorsFrom reads: bytes, or a Blob/File/Response whose body holds them. */
export type SafetensorsSource = Uint8Array | ArrayBuffer | Blob | Response;

const asBytes = (input: Uint8Array | ArrayBuffer): Uint8Array => {
  if (input instanceof Uint8Array) return input; // any byteOffset: a Node Buffer from the pool, a view
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  throw new SafetensorsError(`safetensors: expected a Uint8Array or an ArrayBuffer, got ${Object.prototype.toString.call(input)}`);
};

/**
 * Parses a safetensors file: a Map from tensor name to { dtype, shape, data } (data copied out of
 * `input`). Throws a SafetensorsError naming `opts.name`, the key and what was expected.
 * @example const tensors = readSafetensors(bytes, { name: 'model.safetensors' });
 */
export function readSafetensors(input: Uint8Array | ArrayBuffer, opts: ReadOptions = {}): Map<string, SafeTensor> {
  const bytes = asBytes(input);
  const { tensors, dataStart } = parseHeader(bytes, opts.name);
  const out = new Map<string, SafeTensor>();
  for (const t of tensors)
    out.set(t.name, { dtype: t.dtype, shape: t.shape, data: decodeTensor(t.dtype, bytes, dataStart + t.begin, dataStart + t.end) });
  return out;
}

/**
 * The `__metadata__` (string → string; empty when absent) of a safetensors file, after checking the
 * whole header as readSafetensors does, without decoding the data.
 */
export function readSafetensorsMetadata(input: Uint8Array | ArrayBuffer, opts: ReadOptions = {}): Record<string, string> {
  return parseHeader(asBytes(input), opts.name).metadata;
}

/** The bytes of a source: a Response must be ok; its URL or a File's name becomes the name in errors. */
export async function safetensorsBytes(source: SafetensorsSource, opts: ReadOptions = {}): Promise<{ bytes: Uint8Array; name?: string }> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return { bytes: asBytes(source), name: opts.name };
  if (typeof Response !== 'undefined' && source instanceof Response) {
    const name = opts.name ?? (source.url || undefined);
    if (!source.ok)
      throw new SafetensorsError(`safetensors${name ? ` '${name}'` : ''}: HTTP ${source.status} ${source.statusText}`.trimEnd(), {
        file: name,
      });
    return { bytes: new Uint8Array(await source.arrayBuffer()), name };
  }
  if (typeof Blob !== 'undefined' && source instanceof Blob) {
    const name = opts.name ?? ((source as File).name || undefined);
    return { bytes: new Uint8Array(await source.arrayBuffer()), name };
  }
  throw new SafetensorsError(
    `safetensors: expected a Uint8Array, ArrayBuffer, Blob, File or Response, got ${Object.prototype.toString.call(source)}`,
  );
}

/**
 * readSafetensors for bytes that arrive asynchronously: a Blob or File (a picked file), a fetch
 * Response, or bytes. In Node, weights-node.ts reads a path.
 * @example const tensors = await readSafetensorsFrom(await fetch('model.safetensors'));
 */
export async function readSafetensorsFrom(source: SafetensorsSource, opts: ReadOptions = {}): Promise<Map<string, SafeTensor>> {
  const { bytes, name } = await safetensorsBytes(source, opts);
  return readSafetensors(bytes, { name });
}

/** Serialises f32 tensors (and optional string metadata) to safetensors bytes, keys in sorted order. */
export function writeSafetensors(
  tensors: Map<string, { shape: readonly number[]; data: Float32Array }> | Record<string, { shape: readonly number[]; data: Float32Array }>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
  if (metadata) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string') throw new SafetensorsError(`writeSafetensors: metadata '${k}' must be a string, got ${typeof v}`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new SafetensorsError(`writeSafetensors: '__metadata__' is reserved and cannot name a tensor`);
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (!(t.data instanceof Float32Array))
      throw new SafetensorsError(
        `writeSafetensors: tensor '${name}' must hold a Float32Array, got ${Object.prototype.toString.call(t.data)}`,
      );
    if (count !== t.data.length)
      throw new SafetensorsError(`writeSafetensors: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * count] };
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
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const [, t] of entries) {
    // the bits as they are (DataView.setFloat32 may canonicalise NaN payloads)
    if (littleEndian) out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    else for (let i = 0; i < t.data.length; i++) dv.setFloat32(p + 4 * i, t.data[i], true);
    p += 4 * t.data.length;
  }
  return out;
}
