/**
 * Fuzzing the safetensors reader: hundreds of mutated files (byte flips, truncations, header lengths,
 * offset shuffles, gaps and overlaps, wrong dtypes and shapes, duplicate keys, a BOM, trailing bytes,
 * bad metadata, spliced garbage). Each either throws a SafetensorsError or parses to exactly the
 * tensors its header describes, checked by an independent decoder below; never another exception.
 * Mutations that always break a rule must throw.
 */
import { describe, it, expect } from 'vitest';
import { readSafetensors, SafetensorsError, type SafeTensor } from '../../yolos/safetensors.ts';
import { mulberry32 } from '../../engine/prng.ts';
import { fileOf, split, bytesOf, concatBytes } from './build.ts';

type Entry = { dtype: string; shape: number[]; data_offsets: [number, number] };
type Header = Record<string, unknown>;

const rand = mulberry32(20240611);
const int = (n: number) => Math.floor(rand() * n);
const pick = <T>(a: readonly T[]): T => a[int(a.length)];

// The base file: five dtypes, a zero-size tensor last, metadata.
const data = concatBytes(
  bytesOf(new Float32Array([1, -2, 3.5, 0, -0, 1e-30])), // w F32[2,3]   0..24
  bytesOf(new BigInt64Array([0n, 1n, -5n])), //           p I64[3]    24..48
  new Uint8Array([0, 1, 2, 254, 255]), //                  m U8[5]     48..53
  bytesOf(new Uint16Array([0x3f80, 0xc0a0, 0x7fc1])), //   h BF16[3]   53..59
);
const baseHeader = (): Header => ({
  __metadata__: { format: 'pt' },
  w: { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] },
  p: { dtype: 'I64', shape: [3], data_offsets: [24, 48] },
  m: { dtype: 'U8', shape: [5], data_offsets: [48, 53] },
  h: { dtype: 'BF16', shape: [3], data_offsets: [53, 59] },
  e: { dtype: 'F32', shape: [0], data_offsets: [59, 59] },
});
const KEYS = ['w', 'p', 'm', 'h', 'e'];
const NONEMPTY = ['w', 'p', 'm', 'h'];
const base = fileOf(baseHeader(), data);
const DTYPE_NAMES = [
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'F8_E8M0',
  'U16',
  'I16',
  'F16',
  'BF16',
  'U32',
  'I32',
  'F32',
  'U64',
  'I64',
  'F64',
];

/** Independent minifloat decoding (sign, e exponent bits, m mantissa bits, IEEE or "fn" specials). */
function minifloat(bits: number, e: number, m: number, kind: 'ieee' | 'fn' | 'e8m0'): number {
  if (kind === 'e8m0') return bits === 0xff ? NaN : Math.pow(2, bits - 127);
  const sign = (bits >> (e + m)) & 1 ? -1 : 1,
    exp = (bits >> m) & ((1 << e) - 1),
    man = bits & ((1 << m) - 1),
    bias = (1 << (e - 1)) - 1;
  if (kind === 'ieee' && exp === (1 << e) - 1) return man ? NaN : sign * Infinity;
  if (kind === 'fn' && exp === (1 << e) - 1 && man === (1 << m) - 1) return NaN;
  return exp === 0 ? sign * man * Math.pow(2, 1 - bias - m) : sign * (1 + man / (1 << m)) * Math.pow(2, exp - bias);
}

/** The values the header says are at [begin, end), decoded element by element with a DataView. */
function expectedValues(dtype: string, bytes: Uint8Array, begin: number, end: number): ArrayLike<number | bigint> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + begin, end - begin);
  const size = {
    BOOL: 1,
    U8: 1,
    I8: 1,
    F8_E5M2: 1,
    F8_E4M3: 1,
    F8_E8M0: 1,
    U16: 2,
    I16: 2,
    F16: 2,
    BF16: 2,
    U32: 4,
    I32: 4,
    F32: 4,
    U64: 8,
    I64: 8,
    F64: 8,
  }[dtype]!;
  const get = (o: number): number | bigint => {
    switch (dtype) {
      case 'BOOL':
      case 'U8':
        return dv.getUint8(o);
      case 'I8':
        return dv.getInt8(o);
      case 'F8_E5M2':
        return minifloat(dv.getUint8(o), 5, 2, 'ieee');
      case 'F8_E4M3':
        return minifloat(dv.getUint8(o), 4, 3, 'fn');
      case 'F8_E8M0':
        return minifloat(dv.getUint8(o), 8, 0, 'e8m0');
      case 'U16':
        return dv.getUint16(o, true);
      case 'I16':
        return dv.getInt16(o, true);
      case 'F16':
        return minifloat(dv.getUint16(o, true), 5, 10, 'ieee');
      case 'BF16':
        return new Float32Array(new Uint32Array([dv.getUint16(o, true) << 16]).buffer)[0];
      case 'U32':
        return dv.getUint32(o, true);
      case 'I32':
        return dv.getInt32(o, true);
      case 'F32':
        return dv.getFloat32(o, true);
      case 'U64':
        return dv.getBigUint64(o, true);
      case 'I64':
        return dv.getBigInt64(o, true);
      default:
        return dv.getFloat64(o, true);
    }
  };
  return Array.from({ length: (end - begin) / size }, (_, i) => get(i * size));
}

/** A parse that succeeded must be exactly what the header describes. */
function expectExact(file: Uint8Array, got: Map<string, SafeTensor>, what: string): void {
  const n = Number(new DataView(file.buffer, file.byteOffset, 8).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, Entry>;
  const names = Object.keys(header).filter((k) => k !== '__metadata__');
  expect([...got.keys()].sort(), what).toEqual(names.sort());
  const spans: [number, number][] = [];
  for (const k of names) {
    const {
      dtype,
      shape,
      data_offsets: [b, e],
    } = header[k];
    const t = got.get(k)!;
    expect(t.dtype, what).toBe(dtype);
    expect(t.shape, what).toEqual(shape.map((d) => d + 0)); // a JSON -0 is 0
    const want = Array.from(expectedValues(dtype, file, 8 + n + b, 8 + n + e));
    const have = Array.from(t.data as ArrayLike<number | bigint>);
    expect(have.length, what).toBe(want.length);
    for (let i = 0; i < want.length; i++) if (!Object.is(have[i], want[i])) expect(have[i], `${what}: ${k}[${i}]`).toBe(want[i]);
    spans.push([b, e]);
  }
  // the accepted layout tiles the data exactly
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [b, e] of spans) {
    expect(b === cursor, `${what}: span [${b},${e}] at ${cursor}`).toBe(true);
    cursor = e;
  }
  expect(cursor, what).toBe(file.length - 8 - n);
}

const withHeader = (mutate: (h: Header) => void) => {
  const h = baseHeader();
  mutate(h);
  return fileOf(h, data);
};
const entry = (h: Header, k: string) => h[k] as Entry;

/** [description, file, must it throw?] */
function* cases(): Generator<[string, Uint8Array, boolean]> {
  const dataStart = base.length - data.length;
  for (let i = 0; i < 150; i++) {
    const f = base.slice();
    const at = Array.from({ length: 1 + int(3) }, () => int(f.length));
    for (const a of at) f[a] ^= 1 + int(255);
    yield [`flip bytes ${at}`, f, false];
  }
  for (let i = 0; i < 40; i++) {
    const n = int(base.length);
    yield [`truncate to ${n}`, base.slice(0, n), true];
  }
  for (let i = 0; i < 30; i++) {
    const f = base.slice();
    const n = BigInt(dataStart - 8),
      d = pick([1n, 2n, 7n, 8n, 100n, 2n ** 32n, 2n ** 62n]) * pick([1n, -1n]);
    new DataView(f.buffer).setBigUint64(0, BigInt.asUintN(64, n + d), true);
    yield [`header length ${n} + ${d}`, f, true];
  }
  for (let i = 0; i < 60; i++) {
    const k = pick(NONEMPTY),
      d = pick([-3, -1, 1, 2, 8]);
    const f = withHeader((h) => {
      const o = entry(h, k).data_offsets;
      entry(h, k).data_offsets = [o[0] + d, o[1] + d];
    });
    yield [`shift ${k} by ${d}`, f, true];
  }
  for (let i = 0; i < 40; i++) {
    const a = pick(KEYS),
      b = pick(KEYS);
    const f = withHeader((h) => {
      const t = entry(h, a).data_offsets;
      entry(h, a).data_offsets = entry(h, b).data_offsets;
      entry(h, b).data_offsets = t;
    });
    yield [`swap offsets of ${a} and ${b}`, f, false];
  }
  for (let i = 0; i < 30; i++) {
    const k = pick(NONEMPTY),
      which = int(2),
      d = pick([-2, -1, 1, 3]);
    const f = withHeader((h) => {
      entry(h, k).data_offsets[which] += d;
    });
    yield [`${k}.data_offsets[${which}] += ${d}`, f, true];
  }
  for (let i = 0; i < 60; i++) {
    const k = pick(KEYS),
      dtype = pick([...DTYPE_NAMES, 'f32', 'F128', '', 'I4', 'C64']);
    yield [
      `${k} as ${dtype}`,
      withHeader((h) => {
        entry(h, k).dtype = dtype;
      }),
      false,
    ];
  }
  for (let i = 0; i < 30; i++) {
    const k = pick(KEYS),
      shape = pick([[], [1], [6], [3, 2], [6, 1, 1], [2, 2], [0, 7], [-6], [1.5], [2 ** 53]]);
    yield [
      `${k} with shape ${JSON.stringify(shape)}`,
      withHeader((h) => {
        entry(h, k).shape = shape;
      }),
      false,
    ];
  }
  for (const k of KEYS) {
    const { header } = split(base);
    const text = JSON.stringify(baseHeader()[k]);
    yield [`duplicate key ${k}`, fileOf(header.replace(`"${k}":`, `"${k}":${text},"${k}":`), data), true];
    yield [
      `duplicate key ${k}, escaped`,
      fileOf(header.replace('{"__metadata__"', `{"\\u00${k.charCodeAt(0).toString(16)}":${text},"__metadata__"`), data),
      true,
    ];
    yield [`duplicate field in ${k}`, fileOf(header.replace(`"${k}":{`, `"${k}":{"dtype":"F64",`), data), true];
  }
  yield ['BOM', fileOf(`\uFEFF${split(base).header}`, data), true];
  for (let n = 1; n <= 16; n += 5) yield [`${n} trailing bytes`, concatBytes(base, new Uint8Array(n)), true];
  for (const v of [5, null, true, { a: 'b' }, ['x'], 1.5]) {
    yield [
      `metadata value ${JSON.stringify(v)}`,
      withHeader((h) => {
        (h.__metadata__ as Record<string, unknown>).step = v;
      }),
      true,
    ];
  }
  for (const v of [5, null, 'pt', ['pt']])
    yield [
      `metadata ${JSON.stringify(v)}`,
      withHeader((h) => {
        h.__metadata__ = v;
      }),
      true,
    ];
  for (let i = 0; i < 60; i++) {
    const { header } = split(base);
    const at = int(header.length),
      junk = pick(['"', '\\', '{', '}', ',', ':', '[', ']', '0', '-', ' ', '\u00e9', '\ud800', 'null', '"x":1,']);
    yield [`splice ${JSON.stringify(junk)} at ${at}`, fileOf(header.slice(0, at) + junk + header.slice(at), data), false];
  }
  // flips in the data only change values: the file must still parse, to the flipped values
  for (let i = 0; i < 30; i++) {
    const f = base.slice(),
      a = dataStart + int(data.length);
    f[a] ^= 1 + int(255);
    yield [`flip data byte ${a}`, f, false];
  }
}

describe('safetensors fuzz', () => {
  it('every mutated file parses exactly or throws a SafetensorsError', () => {
    expectExact(base, readSafetensors(base), 'the base file');
    let parsed = 0,
      thrown = 0,
      total = 0;
    for (const [what, file, mustThrow] of cases()) {
      total++;
      let got: Map<string, SafeTensor> | null = null;
      try {
        got = readSafetensors(file, { name: 'fuzz.safetensors' });
      } catch (e) {
        if (!(e instanceof SafetensorsError))
          throw new Error(`${what}: threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
        expect(e.message.length, what).toBeLessThan(2000);
        expect(e.message, what).toMatch(/^safetensors 'fuzz.safetensors'/);
        thrown++;
        continue;
      }
      expect(mustThrow, `${what}: parsed, but it breaks a rule`).toBe(false);
      expectExact(file, got, what);
      parsed++;
    }
    expect(total).toBeGreaterThan(500);
    expect(parsed).toBeGreaterThan(30); // the valid mutations really are read
    expect(thrown).toBeGreaterThan(300);
  }, 30_000);
});
