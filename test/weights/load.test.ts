/**
 * Loading YOLOS weights: every input form gives bit-identical parameters; dtypes convert only where
 * exact; missing, unexpected and mis-shaped keys are named; stateDict/loadStateDict round-trip.
 */
import { describe, it, expect } from 'vitest';
import { readFileSync, mkdtempSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tensor, ShapeError, type Tensor } from '../../engine/index.ts';
import { Yolos, parseConfig, parameterShapes, withoutPrefix, type YolosConfig } from '../../yolos/index.ts';
import { readSafetensors, writeSafetensors, SafetensorsError, type SafeTensor } from '../../yolos/safetensors.ts';
import { loadYolosFile } from '../../yolos/weights-node.ts';
import { useEngine } from '../gpu/util.ts';
import { fileOf, bytesOf, concatBytes } from './build.ts';

useEngine();

const DIR = new URL('../fixtures/yolos-ref/', import.meta.url);
const PATH = new URL('model.safetensors', DIR).pathname;
const fixture = new Uint8Array(readFileSync(PATH));
const config: YolosConfig = parseConfig(readFileSync(new URL('config.json', DIR), 'utf8'));
const stored = readSafetensors(fixture);

/** Each parameter's bits, read back from the device. */
async function bits(model: Yolos): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for (const [k, t] of model.namedParameters()) out.set(k, bytesOf(await t.data()));
  return out;
}

async function expectStoredBits(model: Yolos, what: string): Promise<void> {
  const got = await bits(model);
  expect([...got.keys()].sort(), what).toEqual([...stored.keys()].sort());
  for (const [k, t] of stored) expect(Buffer.compare(got.get(k)!, bytesOf(t.data)), `${what}: ${k}`).toBe(0);
  model.dispose();
}

/** The fixture's tensors with one replaced, written as a file with arbitrary dtypes. */
function fileWith(
  replace: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array } | null>,
  extra: Record<string, { dtype: string; shape: number[]; bytes: Uint8Array }> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let o = 0;
  const add = (k: string, v: { dtype: string; shape: number[]; bytes: Uint8Array }) => {
    header[k] = { dtype: v.dtype, shape: v.shape, data_offsets: [o, o + v.bytes.length] };
    parts.push(v.bytes);
    o += v.bytes.length;
  };
  for (const [k, t] of stored) {
    if (k in replace) {
      if (replace[k]) add(k, replace[k]!);
    } else add(k, { dtype: t.dtype, shape: t.shape, bytes: bytesOf(t.data) });
  }
  for (const [k, v] of Object.entries(extra)) add(k, v);
  return fileOf(header, concatBytes(...parts));
}

describe('Yolos.fromSafetensors / load: every input form', () => {
  it('Uint8Array, odd-offset views, ArrayBuffer, Buffer, Blob, File, Response and a path give bit-identical weights', async () => {
    await expectStoredBits(Yolos.fromSafetensors(fixture, config), 'Uint8Array');
    for (const pad of [1, 3]) {
      const big = new Uint8Array(fixture.length + pad + 5);
      big.set(fixture, pad);
      await expectStoredBits(Yolos.fromSafetensors(big.subarray(pad, pad + fixture.length), config), `view at offset ${pad}`);
    }
    const slab = Buffer.concat([Buffer.from('xyz'), readFileSync(PATH)]).subarray(3); // a Buffer into a larger slab
    expect(slab.byteOffset).toBe(3);
    await expectStoredBits(Yolos.fromSafetensors(slab, config), 'Buffer in a slab');
    await expectStoredBits(Yolos.fromSafetensors(fixture.slice().buffer, config), 'ArrayBuffer');
    await expectStoredBits(await Yolos.load(new Blob([fixture]), config), 'Blob');
    await expectStoredBits(await Yolos.load(new File([fixture], 'model.safetensors'), config), 'File');
    await expectStoredBits(await Yolos.load(new Response(fixture), config), 'Response');
    await expectStoredBits(await loadYolosFile(PATH), 'path (config.json beside it)');
    await expectStoredBits(await loadYolosFile(PATH, config), 'path and config');
  });

  it('the config comes from the yolos.config metadata when not given; errors name the file', async () => {
    const withMeta = writeSafetensors(new Map([...stored].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }])), {
      'yolos.config': JSON.stringify(config),
    });
    await expectStoredBits(Yolos.fromSafetensors(withMeta), 'metadata config');
    expect(() => Yolos.fromSafetensors(fixture, undefined, { name: 'w.safetensors' })).toThrow(
      /no config given and 'w.safetensors' carry no 'yolos.config' metadata/,
    );
    await expect(Yolos.load(new File([fixture.subarray(0, 4)], 'cut.safetensors'), config)).rejects.toThrow(
      /^safetensors 'cut.safetensors': the file has 4 bytes/,
    );
    await expect(Yolos.load(new Response('', { status: 500, statusText: 'Oops' }), config)).rejects.toThrow(SafetensorsError);
    const dir = mkdtempSync(join(tmpdir(), 'yolos-w-'));
    copyFileSync(PATH, join(dir, 'model.safetensors'));
    await expect(loadYolosFile(join(dir, 'model.safetensors'))).rejects.toThrow(
      /no config given, no 'yolos.config' metadata in the file and no readable .*config.json/,
    );
    writeFileSync(join(dir, 'config.json'), '{"hidden_size": "big"}');
    await expect(loadYolosFile(join(dir, 'model.safetensors'))).rejects.toThrow(/config.json: /);
  });
});

describe('dtype rules: converted only where exact', () => {
  const key = 'vit.layernorm.weight';
  const t = stored.get(key)!;
  const values = t.data as Float32Array; // [32]

  it('F16 and BF16 load widened exactly', async () => {
    const half = new Uint16Array(values.length).fill(0x3c00).map((v, i) => (i % 2 ? 0xc000 : v)); // 1, −2, …
    const bf = new Uint16Array(values.length).map((_, i) => new Uint32Array(new Float32Array([values[i]]).buffer)[0] >>> 16);
    for (const [dtype, bytes, want] of [
      ['F16', bytesOf(half), Float32Array.from(half, (h) => (h === 0x3c00 ? 1 : -2))],
      ['BF16', bytesOf(bf), new Float32Array(new Uint32Array(Array.from(bf, (b) => b << 16)).buffer)],
    ] as const) {
      const m = Yolos.fromSafetensors(fileWith({ [key]: { dtype, shape: t.shape, bytes } }), config);
      expect(Buffer.compare(bytesOf(await m.params.get(key)!.data()), bytesOf(want)), dtype).toBe(0);
      m.dispose();
    }
  });

  it('integer and F64 weights are refused, naming the key, the file, the dtype found and the one expected', () => {
    const n = values.length;
    for (const [dtype, bytes] of [
      ['I32', bytesOf(new Int32Array(n))],
      ['I64', bytesOf(new BigInt64Array(n))],
      ['F64', bytesOf(Float64Array.from(values))],
      ['U8', new Uint8Array(n)],
    ] as const) {
      expect(
        () => Yolos.fromSafetensors(fileWith({ [key]: { dtype, shape: t.shape, bytes } }), config, { name: 'odd.safetensors' }),
        dtype,
      ).toThrow(
        new RegExp(
          `^Yolos.fromSafetensors 'odd.safetensors': .*\\n {2}key '${key}': dtype ${dtype} cannot be loaded into an f32 parameter exactly; expected F32`,
        ),
      );
    }
  });

  it('shape mismatches name both shapes; missing and unexpected keys: the first few and a count', () => {
    const bad = fileWith({ [key]: { dtype: 'F32', shape: [2, 16], bytes: bytesOf(values) } });
    expect(() => Yolos.fromSafetensors(bad, config)).toThrow(ShapeError);
    expect(() => Yolos.fromSafetensors(bad, config)).toThrow(`key '${key}': the file has shape [2,16], the config expects [32]`);
    const noLayer0 = Object.fromEntries([...stored.keys()].filter((k) => k.startsWith('vit.encoder.layer.0.')).map((k) => [k, null]));
    const extras = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`extra.${i}`, { dtype: 'F32', shape: [1], bytes: new Uint8Array(4) }]),
    );
    let message = '';
    try {
      Yolos.fromSafetensors(fileWith(noLayer0, extras), config, { name: 'partial.safetensors' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(
      /^Yolos.fromSafetensors 'partial.safetensors': the weights do not fit the config \(hidden_size 32, 3 layers, .*\) \(16 missing, 10 unexpected; nothing was loaded\):/,
    );
    expect(message).toContain("missing key 'vit.encoder.layer.0.layernorm_before.weight' (expected shape [32])");
    expect(message).toContain('… and 13 more missing');
    expect(message).toContain("unexpected key 'extra.0' [1]");
    expect(message).toContain('… and 7 more unexpected');
    expect(message.split('\n').length).toBeLessThan(12);
    // strict: false ignores unexpected keys (a Hub buffer such as an I64 position_ids), never missing ones
    const withBuffer = fileWith({}, { 'vit.embeddings.position_ids': { dtype: 'I64', shape: [1, 3], bytes: new Uint8Array(24) } });
    expect(() => Yolos.fromSafetensors(withBuffer, config)).toThrow(/unexpected key 'vit.embeddings.position_ids' \[1,3\]/);
    Yolos.fromSafetensors(withBuffer, config, { strict: false }).dispose();
    expect(() => Yolos.fromSafetensors(fileWith(noLayer0), config, { strict: false })).toThrow(/16 missing/);
  });
});

describe('stateDict / loadStateDict', () => {
  it('round-trips bit-for-bit from device tensors and from readSafetensors, in place', async () => {
    const a = Yolos.fromSafetensors(fixture, config);
    const b = Yolos.create(config, { seed: 9 });
    const before = new Map(b.params); // the same tensor objects must stay (optimizers hold them)
    const sd = a.stateDict();
    expect([...sd.keys()]).toEqual(parameterShapes(config).map(([k]) => k));
    expect(b.loadStateDict(sd)).toEqual({ missing: [], unexpected: [] });
    for (const [k, t] of b.params) expect(t, k).toBe(before.get(k));
    const c = Yolos.create(config, { seed: 10 });
    c.loadStateDict(readSafetensors(fixture));
    const d = Yolos.create(config, { seed: 11 });
    d.loadStateDict(Object.fromEntries(readSafetensors(fixture)));
    await expectStoredBits(b, 'from stateDict()');
    await expectStoredBits(c, 'from readSafetensors');
    await expectStoredBits(d, 'from a record');
    a.dispose();
  });

  it('strict checks everything before copying; strict: false returns missing and unexpected', async () => {
    const m = Yolos.create(config, { seed: 3 });
    const original = await bits(m);
    const key = 'vit.layernorm.bias';
    const dict = new Map<string, Tensor | SafeTensor>(readSafetensors(fixture));
    dict.delete('vit.layernorm.weight');
    dict.set('extra', tensor(new Float32Array(2)));
    expect(() => m.loadStateDict(dict)).toThrow(
      /Yolos.loadStateDict: the dict does not fit the model \(1 missing, 1 unexpected; nothing was loaded\)/,
    );
    const wrong = new Map<string, Tensor | SafeTensor>([[key, tensor(new Int32Array(32))]]);
    expect(() => m.loadStateDict(wrong, { strict: false })).toThrow(`key '${key}': dtype i32, expected f32`);
    wrong.set(key, tensor(new Float32Array(16), [16]));
    expect(() => m.loadStateDict(wrong, { strict: false })).toThrow(`key '${key}': the dict has shape [16], the config expects [32]`);
    const now = await bits(m);
    for (const [k, v] of original) expect(Buffer.compare(now.get(k)!, v), `${k} untouched`).toBe(0);
    const result = m.loadStateDict(dict, { strict: false });
    expect(result).toEqual({ missing: ['vit.layernorm.weight'], unexpected: ['extra'] });
    const after = await bits(m);
    expect(Buffer.compare(after.get(key)!, bytesOf(stored.get(key)!.data))).toBe(0);
    expect(Buffer.compare(after.get('vit.layernorm.weight')!, original.get('vit.layernorm.weight')!)).toBe(0);
    (dict.get('extra') as Tensor).dispose();
    m.dispose();
  });
});

describe('Yolos.fromTensors (a checkpoint model/ part, read once)', () => {
  it('loads the same bits as fromSafetensors, and refuses an integer tensor naming it', async () => {
    const prefixed = new Map<string, SafeTensor>([...stored].map(([k, v]) => [`model/${k}`, v] as const));
    prefixed.set('optimizer/m/x', stored.values().next().value!);
    const fromCheckpoint = Yolos.fromTensors(withoutPrefix(prefixed, 'model/'), config, { name: 'ck.safetensors' });
    const direct = Yolos.fromSafetensors(fixture, config);
    expect(await bits(fromCheckpoint)).toEqual(await bits(direct));
    fromCheckpoint.dispose();
    direct.dispose();
    const [key, first] = [...stored][0]!;
    const ints = new Map(stored);
    ints.set(key, { ...first, dtype: 'I32', data: new Int32Array(first.data.length) } as SafeTensor);
    expect(() => Yolos.fromTensors(ints, config, { name: 'ck.safetensors' })).toThrow(new RegExp(`${key.replace(/\./g, '\\.')}.*I32`));
  });
});
