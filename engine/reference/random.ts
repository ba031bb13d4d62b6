/** CPU twin of the GPU Philox 4x32-10 generator (kernels/wgsl/philox.wgsl.ts), bit for bit. */

function mulhilo(a: number, b: number): [number, number] {
  const p = BigInt(a >>> 0) * BigInt(b >>> 0);
  return [Number(p >> 32n) >>> 0, Number(p & 0xffffffffn) >>> 0];
}

export function philox4x32(ctr: [number, number, number, number], key: [number, number]): [number, number, number, number] {
  let [c0, c1, c2, c3] = ctr.map((v) => v >>> 0);
  let [k0, k1] = key.map((v) => v >>> 0);
  for (let r = 0; r < 10; r++) {
    const [hi0, lo0] = mulhilo(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
    k0 = (k0 + 0x9e3779b9) >>> 0;
    k1 = (k1 + 0xbb67ae85) >>> 0;
  }
  return [c0, c1, c2, c3];
}

export function seedKey(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/** The raw u32 stream the GPU writes for `rand`/`randn` before the float transform. */
export function refRandomBits(n: number, seed: number, stream = 0): Uint32Array {
  const out = new Uint32Array(n);
  const key = seedKey(seed);
  for (let t = 0; t * 4 < n; t++) {
    const r = philox4x32([t, stream, 0, 0], key);
    for (let q = 0; q < 4 && t * 4 + q < n; q++) out[t * 4 + q] = r[q];
  }
  return out;
}

/** Uniform [0, 1) values exactly as the GPU computes them (24-bit mantissa, exact in f32). */
export function refRand(n: number, seed: number, stream = 0): Float64Array {
  return Float64Array.from(refRandomBits(n, seed, stream), (x) => (x >>> 8) / 16777216);
}

/** Standard normals by Box–Muller in f64 (the GPU's f32 log/cos differ by a few ulp). */
export function refRandn(n: number, seed: number, stream = 0): Float64Array {
  const bits = refRandomBits(Math.ceil(n / 4) * 4, seed, stream);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const pair = i & ~1;
    const u1 = ((bits[pair] >>> 8) + 1) / 16777216;
    const u2 = (bits[pair + 1] >>> 8) / 16777216;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = (i & 1) === 0 ? r * Math.cos(2 * Math.PI * u2) : r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}
