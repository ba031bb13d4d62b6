/**
 * The public door for kernels the engine does not ship: `launch` records one dispatch of your WGSL
 * over your tensors, with the engine's pipeline cache, uniform arena, command batching and
 * device-side asserts. The engine's own ops and YOLOS's matcher go through the same runtime.
 *
 * Binding layout of every kernel (entry point `main`):
 *   @binding(0)                         var<uniform> p: Params            (≤ 256 bytes, see `Params`)
 *   @binding(1 … inputs)                var<storage, read> …              one per input tensor
 *   @binding(inputs+1 … inputs+outputs) var<storage, read_write> …        one per output tensor
 *   @binding(inputs+outputs+1)          var<storage, read_write> asserts: array<atomic<u32>, 4> (asserts: true)
 * A kernel that finds a bad value writes `atomicMax(&asserts[0], code)` (code from `assertCode`) and
 * the values for `{a}`/`{b}` into asserts[1], asserts[2]; the next readback throws an IndexError.
 *
 * No gradient flows through a launch: its outputs are plain tensors.
 */
import { rt, type KernelSpec } from './runtime.ts';
import { Tensor } from './tensor.ts';
import { DTypeError, EngineError, LimitError } from './errors.ts';
import { Params } from './params.ts';

export { Params };
export { grid1d, gridRows, WG } from './kernels/wgsl/common.ts';

/** Workgroup counts in x, y, z (missing ones are 1); 0 in any dimension launches nothing. */
export type LaunchGrid = number | readonly [number, number?, number?];

const MAX_PARAM_BYTES = 256; // the runtime's uniform-arena slot

/**
 * Records one dispatch of `spec` (runs at the next submit; read an output with `data()`).
 * Checks the spec, the buffer counts against its declared bindings, the tensors, the params size
 * and the grid against the adapter's limits, each error naming the kernel by `spec.key`.
 *
 * @example
 * const saxpy: KernelSpec = { key: 'my/saxpy', inputs: 2, outputs: 1, code: () => `
 *   struct Params { n: u32, a: f32 }
 *   @group(0) @binding(0) var<uniform> p: Params;
 *   @group(0) @binding(1) var<storage, read> x: array<f32>;
 *   @group(0) @binding(2) var<storage, read> y: array<f32>;
 *   @group(0) @binding(3) var<storage, read_write> out: array<f32>;
 *   @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) {
 *     if (g.x < p.n) { out[g.x] = p.a * x[g.x] + y[g.x]; }
 *   }` };
 * const out = zeros([n]);
 * launch(saxpy, new Params().u32(n).f32(2), [x, y], [out], Math.ceil(n / 64));
 * await out.data(); // 2·x + y
 */
export function launch(
  spec: KernelSpec,
  params: Params | ArrayBuffer | ArrayBufferView,
  inputs: readonly Tensor[],
  outputs: readonly Tensor[],
  grid: LaunchGrid,
): void {
  const r = rt();
  const label = checkSpec(spec, r.limits.maxStorageBuffersPerShaderStage);
  const at = `launch '${label}'`;
  const ins = checkTensors(at, 'input', inputs, spec.inputs);
  const outs = checkTensors(at, 'output', outputs, spec.outputs);
  const written = new Set(outs.map((o) => o.pb));
  ins.forEach((i, k) => {
    // WebGPU refuses a buffer bound read-only and read_write in one dispatch (at the next readback, unnamed)
    if (written.has(i.pb))
      throw new EngineError(`${at}: input ${k} ${i.t} shares its storage with an output; give the output its own tensor`);
  });
  const bytes = params instanceof Params ? params.bytes() : params;
  if (!(bytes instanceof ArrayBuffer || ArrayBuffer.isView(bytes)))
    throw new EngineError(`${at}: params must be a Params, an ArrayBuffer or a typed array, got ${describe(params)}`);
  if (bytes.byteLength > MAX_PARAM_BYTES)
    throw new LimitError(`${at}: params of ${bytes.byteLength} bytes exceed the ${MAX_PARAM_BYTES}-byte uniform slot`);
  r.dispatch(
    spec,
    bytes,
    [...ins, ...outs].map((o) => o.pb),
    checkGrid(at, grid, r.limits.maxComputeWorkgroupsPerDimension),
  );
}

/**
 * A device-assert code for `message` (the same message gives the same code); `{a}` and `{b}` in it
 * are replaced by asserts[1] and asserts[2] when the assert fires.
 * @example const code = assertCode("my/kernel: index {a} is out of range"); new Params().u32(n, code)
 */
export function assertCode(message: string): number {
  if (typeof message !== 'string' || !message) throw new EngineError(`assertCode: expected a non-empty message, got ${describe(message)}`);
  return rt().assertCode(message);
}

function checkSpec(spec: KernelSpec, maxStorage: number): string {
  if (typeof spec !== 'object' || spec === null)
    throw new EngineError(`launch: expected a kernel spec { key, code, inputs, outputs }, got ${describe(spec)}`);
  const { key, code, inputs, outputs, asserts } = spec;
  if (typeof key !== 'string' || !key)
    throw new EngineError(`launch: spec.key must be a non-empty string naming the kernel, got ${describe(key)}`);
  const at = `launch '${key}'`;
  if (typeof code !== 'function')
    throw new EngineError(
      `${at}: spec.code must be a function returning the WGSL text, got ${typeof code === 'string' ? 'a string (write code: () => text)' : describe(code)}`,
    );
  for (const [name, n] of [
    ['inputs', inputs],
    ['outputs', outputs],
  ] as const) {
    if (!(Number.isInteger(n) && n >= 0))
      throw new EngineError(`${at}: spec.${name} must be a non-negative integer (its number of storage bindings), got ${describe(n)}`);
  }
  if (asserts !== undefined && typeof asserts !== 'boolean')
    throw new EngineError(`${at}: spec.asserts must be a boolean, got ${describe(asserts)}`);
  const storage = inputs + outputs + (asserts ? 1 : 0);
  if (storage > maxStorage) throw new LimitError(`${at}: ${storage} storage bindings exceed the adapter's ${maxStorage} per shader stage`);
  return key;
}

function checkTensors(at: string, what: string, ts: readonly Tensor[], declared: number) {
  if (!Array.isArray(ts)) throw new EngineError(`${at}: ${what}s must be an array of tensors, got ${describe(ts)}`);
  if (ts.length !== declared)
    throw new EngineError(`${at}: got ${ts.length} ${what} tensor${ts.length === 1 ? '' : 's'}; the spec declares ${what}s: ${declared}`);
  return ts.map((t, k) => {
    if (!(t instanceof Tensor)) throw new DTypeError(`${at}: ${what} ${k} must be a Tensor, got ${describe(t)}`);
    return { t, pb: t.storageFor(`${at}: ${what} ${k}`).pb };
  });
}

function checkGrid(at: string, grid: LaunchGrid, max: number): [number, number, number] {
  const dims = typeof grid === 'number' ? [grid] : Array.isArray(grid) ? [...grid] : null;
  if (!dims || dims.length < 1 || dims.length > 3)
    throw new EngineError(`${at}: grid must be a workgroup count or [x, y?, z?], got ${describe(grid)}`);
  const [x, y = 1, z = 1] = dims as number[];
  const xyz: [number, number, number] = [x, y, z];
  if (!xyz.every((n) => Number.isInteger(n) && n >= 0))
    throw new EngineError(`${at}: grid [${xyz}] must hold non-negative integer workgroup counts`);
  if (xyz.some((n) => n > max))
    throw new LimitError(
      `${at}: grid [${xyz}] exceeds the adapter's ${max} workgroups per dimension (use gridRows or grid1d to fold into y)`,
    );
  return xyz;
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => (typeof x === 'object' ? describe(x) : String(x))).join(', ')}]`;
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v === 'string' ? `'${v}'` : `${typeof v} ${String(v)}`;
}
