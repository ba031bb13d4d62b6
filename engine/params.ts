/**
 * Packs a kernel's uniform `Params` struct. Scalars take 4 bytes each, in order; `vec4Array` aligns
 * to 16 bytes (WGSL's uniform layout for `array<vec4u, N>`), so declare scalars first, in fours.
 */
export class Params {
  private buf = new ArrayBuffer(256);
  private u = new Uint32Array(this.buf);
  private i = new Int32Array(this.buf);
  private f = new Float32Array(this.buf);
  private n = 0;

  u32(...v: number[]): this {
    for (const x of v) this.u[this.n++] = x >>> 0;
    return this;
  }
  i32(...v: number[]): this {
    for (const x of v) this.i[this.n++] = x | 0;
    return this;
  }
  f32(...v: number[]): this {
    for (const x of v) this.f[this.n++] = x;
    return this;
  }
  /** Pads to a 16-byte boundary, then writes `values` as `array<vec4u, ceil(len/4)>` (zero-filled). */
  vec4Array(values: readonly number[], slots = Math.max(1, Math.ceil(values.length / 4))): this {
    this.n = Math.ceil(this.n / 4) * 4;
    for (let k = 0; k < slots * 4; k++) this.u[this.n++] = (values[k] ?? 0) >>> 0;
    return this;
  }
  bytes(): Uint8Array {
    return new Uint8Array(this.buf, 0, Math.max(16, Math.ceil(this.n / 4) * 16));
  }
}
