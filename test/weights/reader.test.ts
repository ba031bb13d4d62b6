/** The safetensors reader: every dtype, every rule of the reference crate, every input form. No GPU. */
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readSafetensors,
  readSafetensorsFrom,
  readSafetensorsMetadata,
  writeSafetensors,
  SafetensorsError,
  type SafeTensor,
} from '../../yolos/safetensors.ts';
import { readSafetensorsFile } from '../../yolos/weights-node.ts';
import { fileOf, bytesOf, concatBytes } from './build.ts';

const FIXTURE = new URL('../fixtures/yolos-ref/model.safetensors', import.meta.url);

/** The error `fn` throws, checked to be a SafetensorsError. */
function failure(fn: () => unknown): SafetensorsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    return e as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError, nothing was thrown');
}
const msg = (fn: () => unknown) => failure(fn).message;

const f32 = (v: number[]) => bytesOf(new Float32Array(v));
/** One tensor, F32[2] = [1, 2], under `header` overrides. */
const one = (entry: object = {}, data = f32([1, 2])) => fileOf({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8], ...entry } }, data);

const bitsEqual = (a: SafeTensor, b: SafeTensor) => {
  expect(a.dtype).toBe(b.dtype);
  expect(a.shape).toEqual(b.shape);
  expect(Buffer.compare(bytesOf(a.data), bytesOf(b.data))).toBe(0);
};

describe('safetensors: every standard dtype reads with its stored dtype', () => {
  it('integers, floats and the widened half/8-bit floats', () => {
    const parts: [string, string, number[], Uint8Array][] = [
      ['bool', 'BOOL', [3], new Uint8Array([1, 0, 1])],
      ['u8', 'U8', [2], new Uint8Array([0, 255])],
      ['i8', 'I8', [2], bytesOf(new Int8Array([-128, 127]))],
      ['u16', 'U16', [1], bytesOf(new Uint16Array([65535]))],
      ['i16', 'I16', [1], bytesOf(new Int16Array([-32768]))],
      ['f16', 'F16', [4], bytesOf(new Uint16Array([0x3c00, 0xc000, 0x0001, 0x7c00]))], // 1, −2, 2^−24, ∞
      ['bf16', 'BF16', [2], bytesOf(new Uint16Array([0x3f80, 0xc0a0]))], // 1, −5
      ['u32', 'U32', [1], bytesOf(new Uint32Array([4294967295]))],
      ['i32', 'I32', [1], bytesOf(new Int32Array([-7]))],
      ['f32', 'F32', [1], f32([Math.PI])],
      ['f64', 'F64', [1], bytesOf(new Float64Array([Math.E]))],
      ['u64', 'U64', [1], bytesOf(new BigUint64Array([2n ** 64n - 1n]))],
      ['position_ids', 'I64', [1, 3], bytesOf(new BigInt64Array([0n, 1n, -(2n ** 63n)]))],
      ['e5m2', 'F8_E5M2', [4], new Uint8Array([0x3c, 0xc0, 0x01, 0x7c])], // 1, −2, 2^−16, ∞
      ['e4m3', 'F8_E4M3', [4], new Uint8Array([0x38, 0x7e, 0x01, 0x7f])], // 1, 448, 2^−9, NaN
      ['e8m0', 'F8_E8M0', [2], new Uint8Array([127, 130])], // 1, 8
    ];
    const header: Record<string, unknown> = {};
    let o = 0;
    for (const [k, dtype, shape, b] of parts) {
      header[k] = { dtype, shape, data_offsets: [o, o + b.length] };
      o += b.length;
    }
    const t = readSafetensors(fileOf(header, concatBytes(...parts.map((p) => p[3]))));
    const v = (k: string) => Array.from(t.get(k)!.data as ArrayLike<number>);
    expect(parts.map(([k]) => t.get(k)!.dtype)).toEqual(parts.map((p) => p[1]));
    expect(v('bool')).toEqual([1, 0, 1]);
    expect(t.get('u8')!.data).toBeInstanceOf(Uint8Array);
    expect(v('i8')).toEqual([-128, 127]);
    expect(v('u16')).toEqual([65535]);
    expect(v('i16')).toEqual([-32768]);
    expect(v('f16')).toEqual([1, -2, 2 ** -24, Infinity]);
    expect(v('bf16')).toEqual([1, -5]);
    expect(v('u32')).toEqual([4294967295]);
    expect(v('i32')).toEqual([-7]);
    expect(v('f32')).toEqual([Math.fround(Math.PI)]);
    expect(v('f64')).toEqual([Math.E]);
    expect(t.get('u64')!.data).toEqual(new BigUint64Array([2n ** 64n - 1n]));
    expect(t.get('position_ids')!.data).toEqual(new BigInt64Array([0n, 1n, -(2n ** 63n)]));
    expect(t.get('position_ids')!.shape).toEqual([1, 3]);
    expect(v('e5m2')).toEqual([1, -2, 2 ** -16, Infinity]);
    expect(v('e4m3')).toEqual([1, 448, 2 ** -9, NaN]);
    expect(v('e8m0')).toEqual([1, 8]);
  });

  it('zero-size tensors may share an offset; metadata is returned', () => {
    const file = fileOf(
      {
        __metadata__: { format: 'pt' },
        e: { dtype: 'F32', shape: [0, 4], data_offsets: [0, 0] },
        x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        z: { dtype: 'I64', shape: [0], data_offsets: [8, 8] },
      },
      f32([1, 2]),
    );
    const t = readSafetensors(file);
    expect([...t.keys()].sort()).toEqual(['e', 'x', 'z']);
    expect(t.get('e')!.data.length).toBe(0);
    expect(readSafetensorsMetadata(file)).toEqual({ format: 'pt' });
    expect(Object.keys(readSafetensorsMetadata(fileOf('{"__metadata__":{"__proto__":"x"}}')))).toEqual(['__proto__']);
  });

  it('the writer round-trips f32 bit-exactly (NaN payloads and −0 included), data 8-byte aligned', () => {
    const data = new Float32Array(new Uint32Array([0x7fc00001, 0xffa00000, 0x80000000, 0x00000001]).buffer);
    const bytes = writeSafetensors({ w: { shape: [2, 2], data } }, { format: 'pt' });
    expect(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8).toBe(0);
    expect(bytesOf(readSafetensors(bytes).get('w')!.data)).toEqual(bytesOf(data));
  });
});

describe('safetensors: malformed files get a SafetensorsError naming the file, the key and what was expected', () => {
  it('header length: too short, absurd, beyond the file', () => {
    expect(msg(() => readSafetensors(new Uint8Array(5), { name: 'w.safetensors' }))).toBe(
      "safetensors 'w.safetensors': the file has 5 bytes, too short for the 8-byte header length",
    );
    const absurd = one();
    new DataView(absurd.buffer).setBigUint64(0, 2n ** 63n, true);
    expect(msg(() => readSafetensors(absurd))).toMatch(/header length 9223372036854775808 is more than the 100,000,000 bytes allowed/);
    const beyond = one();
    new DataView(beyond.buffer).setBigUint64(0, 10_000n, true);
    expect(msg(() => readSafetensors(beyond))).toMatch(/header length 10000 goes beyond the file \(\d+ bytes\)/);
  });

  it('header text: BOM, not UTF-8, not starting with {, not JSON, not an object; trailing spaces are padding', () => {
    expect(msg(() => readSafetensors(fileOf('\uFEFF{}')))).toMatch(/the header starts with a UTF-8 byte-order mark; expected `\{`/);
    const bad = fileOf('{"x":1}');
    bad[10] = 0xff;
    expect(msg(() => readSafetensors(bad))).toMatch(/not valid UTF-8/);
    expect(msg(() => readSafetensors(fileOf(' {}')))).toMatch(/must be a JSON object starting with `\{`/);
    expect(msg(() => readSafetensors(fileOf('[]')))).toMatch(/starting with `\{`/);
    expect(msg(() => readSafetensors(fileOf('{not json')))).toMatch(/not valid JSON/);
    expect(msg(() => readSafetensors(fileOf('{"a":{}} x')))).toMatch(/not valid JSON/);
    expect(
      readSafetensors(fileOf(`${JSON.stringify({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } })}      `, f32([1, 2]))).get('x')!
        .shape,
    ).toEqual([2]);
  });

  it('duplicate keys (which JSON.parse would silently drop), escapes decoded', () => {
    const e = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    expect(msg(() => readSafetensors(fileOf(`{"x":${e},"x":${e}}`, f32([1]))))).toMatch(/key 'x' appears more than once in the header/);
    expect(msg(() => readSafetensors(fileOf(`{"ab":${e},"a\\u0062":${e}}`, f32([1]))))).toMatch(/key 'ab' appears more than once/);
    expect(msg(() => readSafetensors(fileOf('{"x":{"dtype":"I32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32([1]))))).toMatch(
      /tensor 'x': field 'dtype' appears more than once/,
    );
    expect(msg(() => readSafetensors(fileOf(`{"__metadata__":{"a":"1","a":"2"},"x":${e}}`, f32([1]))))).toMatch(
      /__metadata__: field 'a' appears more than once/,
    );
    // a key's text inside a string value is no key
    expect(readSafetensors(fileOf(`{"__metadata__":{"k":"\\"x\\":"},"x":${e}}`, f32([1]))).size).toBe(1);
  });

  it('__metadata__ must be string → string', () => {
    expect(msg(() => readSafetensors(fileOf({ __metadata__: { step: 5 } })))).toBe(
      "safetensors: __metadata__ 'step' must be a string, found 5",
    );
    expect(msg(() => readSafetensors(fileOf({ __metadata__: ['a'] })))).toMatch(
      /__metadata__ must be an object of string → string, found \["a"\]/,
    );
  });

  it('tensor entries: exactly dtype, shape, data_offsets, each well-formed and consistent', () => {
    expect(msg(() => readSafetensors(one({ extra: 1 }), { name: 'm.st' }))).toBe(
      "safetensors 'm.st': tensor 'x' must have exactly dtype, shape and data_offsets; unknown field 'extra'",
    );
    expect(msg(() => readSafetensors(fileOf({ x: { dtype: 'F32', shape: [2] } }, 8)))).toMatch(
      /tensor 'x' must have exactly dtype, shape and data_offsets; missing data_offsets/,
    );
    expect(msg(() => readSafetensors(fileOf({ x: 3 })))).toMatch(/tensor 'x' must be an object \{ dtype, shape, data_offsets \}, found 3/);
    expect(msg(() => readSafetensors(one({ dtype: 'F65' })))).toMatch(/tensor 'x' has dtype "F65"; expected one of BOOL, U8/);
    for (const shape of [[-2], [2.5], ['2'], 2])
      expect(msg(() => readSafetensors(one({ shape })))).toMatch(/tensor 'x' has shape .*; expected an array of non-negative integers/);
    for (const off of [[8, 0], [0, 8, 8], [-1, 7], [0, '8'], null])
      expect(msg(() => readSafetensors(one({ data_offsets: off })))).toMatch(/tensor 'x' has data_offsets .*; expected \[begin, end\]/);
    expect(msg(() => readSafetensors(one({ shape: [3] })))).toMatch(/tensor 'x' F32\[3\] needs 12 bytes but data_offsets \[0,8\] span 8/);
    expect(msg(() => readSafetensors(one({ shape: [2 ** 40, 2 ** 40] })))).toMatch(/more than any file can hold/);
  });

  it('layout: no gap, no overlap, inside the data, no trailing bytes', () => {
    const two = (a: number[], b: number[], data = 16) =>
      fileOf({ a: { dtype: 'F32', shape: [2], data_offsets: a }, b: { dtype: 'F32', shape: [2], data_offsets: b } }, data);
    expect(readSafetensors(two([8, 16], [0, 8])).size).toBe(2); // order in the header does not matter
    expect(msg(() => readSafetensors(two([0, 8], [4, 12], 12)))).toMatch(/tensor 'b' data_offsets \[4,12\] overlap 'a', which ends at 8/);
    expect(msg(() => readSafetensors(two([0, 8], [12, 20], 20)))).toMatch(
      /tensor 'b' data_offsets \[12,20\] leave a gap: the previous tensor ends at 8/,
    );
    expect(msg(() => readSafetensors(two([0, 8], [8, 16], 12)))).toMatch(
      /tensor 'b' data_offsets \[8,16\] lie outside the data \(12 bytes\)/,
    );
    expect(msg(() => readSafetensors(two([0, 8], [8, 16], 17)))).toMatch(
      /the tensors end at byte 16 of the data but the file has 17 \(1 trailing bytes\)/,
    );
    expect(msg(() => readSafetensors(two([0, 8], [0, 8], 8)))).toMatch(/overlap 'a'/);
  });

  it('many bad keys: the first few problems and a count, never megabytes', () => {
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) header[`k${i}`] = { dtype: 'Q8', shape: [1], data_offsets: [0, 1] };
    const e = failure(() => readSafetensors(fileOf(header), { name: 'big.safetensors' }));
    expect(e.message.length).toBeLessThan(1000);
    expect(e.message).toMatch(/^safetensors 'big.safetensors' \(100,000 problems\):\n {2}tensor 'k0' has dtype "Q8"/);
    expect(e.message).toMatch(/… and 99,995 more$/);
    expect(e.count).toBe(100_000);
    expect(e.file).toBe('big.safetensors');
  });

  it('long or odd keys are shown short and escaped', () => {
    expect(msg(() => readSafetensors(fileOf({ [`a\n${'b'.repeat(10_000)}`]: 1 })))).toMatch(
      /^safetensors: tensor 'a\\nb{74}…' must be an object/,
    );
  });
});

describe('safetensors: every input form reads the same bits', () => {
  const fixture = new Uint8Array(readFileSync(FIXTURE));
  const expected = readSafetensors(fixture.slice().buffer);
  const same = (got: Map<string, SafeTensor>) => {
    expect([...got.keys()]).toEqual([...expected.keys()]);
    for (const [k, t] of expected) bitsEqual(got.get(k)!, t);
  };

  it('a small file in a Node Buffer from the shared pool (byteOffset ≠ 0)', () => {
    const small = fileOf(
      { w: { dtype: 'F32', shape: [3], data_offsets: [0, 12] }, i: { dtype: 'I64', shape: [1], data_offsets: [12, 20] } },
      concatBytes(f32([1.5, -2, 3]), bytesOf(new BigInt64Array([42n]))),
    );
    Buffer.from('pad the pool'); // so the next small Buffer starts past 0 in the slab
    const pooled = Buffer.from(small);
    expect(pooled.byteOffset).toBeGreaterThan(0);
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.byteLength);
    const t = readSafetensors(pooled);
    expect(Array.from(t.get('w')!.data as Float32Array)).toEqual([1.5, -2, 3]);
    expect(t.get('i')!.data).toEqual(new BigInt64Array([42n]));
  });

  it('views at odd offsets, ArrayBuffer, Buffer, Blob, File, Response, a path', async () => {
    for (const pad of [1, 3, 5]) {
      const big = new Uint8Array(fixture.length + pad + 7);
      big.set(fixture, pad);
      same(readSafetensors(big.subarray(pad, pad + fixture.length)));
    }
    same(readSafetensors(fixture.slice().buffer));
    same(readSafetensors(readFileSync(FIXTURE)));
    same(await readSafetensorsFrom(new Blob([fixture])));
    same(await readSafetensorsFrom(new File([fixture], 'model.safetensors')));
    same(await readSafetensorsFrom(new Response(fixture)));
    same(await readSafetensorsFrom(fixture));
    same(await readSafetensorsFile(FIXTURE.pathname));
  });

  it('async forms name the file in errors: a File by its name, a Response by HTTP status, a path', async () => {
    await expect(readSafetensorsFrom(new File([new Uint8Array(3)], 'picked.safetensors'))).rejects.toThrow(
      /^safetensors 'picked.safetensors': the file has 3 bytes/,
    );
    await expect(readSafetensorsFrom(new Response('nope', { status: 404, statusText: 'Not Found' }))).rejects.toThrow(/HTTP 404 Not Found/);
    await expect(readSafetensorsFrom('x' as unknown as Blob)).rejects.toThrow(SafetensorsError);
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    await expect(readSafetensorsFile(join(dir, 'absent.safetensors'))).rejects.toThrow(/absent.safetensors': cannot be read \(ENOENT\)/);
    writeFileSync(join(dir, 'bad.safetensors'), fileOf('{"x":'));
    await expect(readSafetensorsFile(join(dir, 'bad.safetensors'))).rejects.toThrow(/bad.safetensors': the header is not valid JSON/);
  });
});
