/**
 * The safetensors header, checked as the reference implementation (the Rust `safetensors` crate)
 * checks it: an 8-byte little-endian length N (at most 100 MB and within the file), N bytes of UTF-8
 * JSON that start with `{` (so no BOM) and may end in whitespace padding, one object whose keys are
 * unique, an optional `__metadata__` of string → string, and per tensor exactly
 * { dtype, shape, data_offsets: [begin, end] } with end − begin = numel · dtype size. Sorted by begin
 * the tensors must tile the data from 0 with no gap or overlap, ending exactly at the file's end.
 */
import { DTYPES, DTYPE_NAMES, isSafetensorsDtype, type SafetensorsDtype } from './safetensors-dtypes.ts';
import { Problems, SafetensorsError, fileLabel } from './safetensors-error.ts';

/** The crate's limit: a larger header is a corrupt length, not a real file. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Byte offsets relative to the start of the data (after the header). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  tensors: TensorEntry[];
  metadata: Record<string, string>;
  /** Where the data starts in the file: 8 + N. */
  dataStart: number;
}

/** A key as messages show it: quoted, and cut short when it is long. */
export function showKey(key: string): string {
  const s = JSON.stringify(key).slice(1, -1);
  return `'${s.length > 80 ? `${s.slice(0, 77)}…` : s}'`;
}

const show = (v: unknown): string => {
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};

/** Parses and checks the header of `bytes` (the whole file); throws SafetensorsError naming `file`. */
export function parseHeader(bytes: Uint8Array, file?: string): SafetensorsHeader {
  const where = fileLabel(file);
  const fail = (msg: string): never => {
    throw new SafetensorsError(`${where}: ${msg}`, { file });
  };
  if (bytes.byteLength < 8) fail(`the file has ${bytes.byteLength} bytes, too short for the 8-byte header length`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    fail(
      `header length ${n} is more than the ${MAX_HEADER_BYTES.toLocaleString('en-US')} bytes allowed (a corrupt length, or not a safetensors file)`,
    );
  const headerLen = Number(n),
    dataStart = 8 + headerLen;
  if (dataStart > bytes.byteLength) fail(`header length ${headerLen} goes beyond the file (${bytes.byteLength} bytes)`);

  const raw = bytes.subarray(8, dataStart);
  if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf) fail('the header starts with a UTF-8 byte-order mark; expected `{`');
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return fail('the header is not valid UTF-8');
  }
  if (text[0] !== '{') fail(`the header must be a JSON object starting with \`{\`, found ${show(text.slice(0, 20))}`);
  let json: unknown;
  try {
    json = JSON.parse(text); // trailing whitespace (the writers' padding) is allowed, as serde_json allows it
  } catch (e) {
    return fail(`the header is not valid JSON (${String((e as Error).message).slice(0, 200)})`);
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) fail('the header is not a JSON object');

  const problems = new Problems();
  findDuplicateKeys(text, problems);
  const tensors: TensorEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') metadata = checkMetadata(info, problems);
    else {
      const t = checkEntry(name, info, problems);
      if (t) tensors.push(t);
    }
  }
  if (!problems.count) checkLayout(tensors, bytes.byteLength - dataStart, problems);
  problems.throwIfAny(where, file);
  return { tensors, metadata, dataStart };
}

function checkMetadata(info: unknown, problems: Problems): Record<string, string> {
  if (!info || typeof info !== 'object' || Array.isArray(info)) {
    problems.add(`__metadata__ must be an object of string → string, found ${show(info)}`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(info)) {
    if (typeof v !== 'string') problems.add(`__metadata__ ${showKey(k)} must be a string, found ${show(v)}`);
    else Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true }); // even '__proto__'
  }
  return out;
}

const FIELDS = ['dtype', 'shape', 'data_offsets'];
const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function checkEntry(name: string, info: unknown, problems: Problems): TensorEntry | null {
  const at = `tensor ${showKey(name)}`;
  if (!info || typeof info !== 'object' || Array.isArray(info)) {
    problems.add(`${at} must be an object { dtype, shape, data_offsets }, found ${show(info)}`);
    return null;
  }
  const e = info as Record<string, unknown>;
  const extra = Object.keys(e).filter((k) => !FIELDS.includes(k));
  const absent = FIELDS.filter((k) => !(k in e));
  if (extra.length || absent.length) {
    problems.add(
      `${at} must have exactly dtype, shape and data_offsets${absent.length ? `; missing ${absent.join(', ')}` : ''}${extra.length ? `; unknown field${extra.length > 1 ? 's' : ''} ${extra.map(showKey).join(', ')}` : ''}`,
    );
    return null;
  }
  const { dtype, shape, data_offsets: off } = e;
  if (!isSafetensorsDtype(dtype)) {
    problems.add(`${at} has dtype ${show(dtype)}; expected one of ${DTYPE_NAMES.join(', ')}`);
    return null;
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    problems.add(`${at} has shape ${show(shape)}; expected an array of non-negative integers`);
    return null;
  }
  if (!Array.isArray(off) || off.length !== 2 || !off.every(isIndex) || off[0] > off[1]) {
    problems.add(`${at} has data_offsets ${show(off)}; expected [begin, end], integers with 0 ≤ begin ≤ end`);
    return null;
  }
  const numel = shape.reduce((a: number, b: number) => a * b, 1);
  const want = numel * DTYPES[dtype].bytes;
  if (!Number.isSafeInteger(want)) {
    problems.add(`${at} ${dtype}[${shape}] has ${numel} elements, more than any file can hold`);
    return null;
  }
  if (off[1] - off[0] !== want) {
    problems.add(`${at} ${dtype}[${shape}] needs ${want} bytes but data_offsets [${off}] span ${off[1] - off[0]}`);
    return null;
  }
  return { name, dtype, shape: shape.map((d: number) => d + 0), begin: off[0] + 0, end: off[1] + 0 }; // + 0: a JSON -0 is 0
}

/** Sorted by begin, the tensors must cover [0, dataLen) exactly once. */
function checkLayout(tensors: TensorEntry[], dataLen: number, problems: Problems): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  let prev: TensorEntry | null = null;
  for (const t of sorted) {
    const at = `tensor ${showKey(t.name)} data_offsets [${t.begin},${t.end}]`;
    if (t.end > dataLen) problems.add(`${at} lie outside the data (${dataLen} bytes)`);
    else if (t.begin < cursor) problems.add(`${at} overlap ${prev ? showKey(prev.name) : 'the previous tensor'}, which ends at ${cursor}`);
    else if (t.begin > cursor) problems.add(`${at} leave a gap: the previous tensor ends at ${cursor}`);
    cursor = Math.max(cursor, t.end);
    prev = t;
  }
  if (cursor < dataLen)
    problems.add(`the tensors end at byte ${cursor} of the data but the file has ${dataLen} (${dataLen - cursor} trailing bytes)`);
}

/**
 * JSON.parse keeps the last of two equal keys silently; this scan of the (already valid) JSON text
 * finds every object's repeated keys, escapes decoded, so `"a"` and `"\u0061"` are one key.
 */
function findDuplicateKeys(text: string, problems: Problems): void {
  const stack: (Set<string> | null)[] = []; // one key set per open object, null per array
  let expectKey = false,
    topKey = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1,
        escaped = false;
      for (; text.charCodeAt(j) !== 0x22; j++)
        if (text.charCodeAt(j) === 0x5c) {
          escaped = true;
          j++;
        }
      const keys = stack[stack.length - 1];
      if (expectKey && keys) {
        const key: string = escaped ? JSON.parse(text.slice(i, j + 1)) : text.slice(i + 1, j);
        if (keys.has(key))
          problems.add(
            stack.length === 1
              ? `key ${showKey(key)} appears more than once in the header`
              : `${topKey === '__metadata__' ? '__metadata__' : `tensor ${showKey(topKey)}`}: field ${showKey(key)} appears more than once`,
          );
        keys.add(key);
        if (stack.length === 1) topKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push(new Set());
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push(null);
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) stack.pop();
    else if (c === 0x2c /* , */) expectKey = stack[stack.length - 1] !== null;
  }
}
