/** WGSL pieces shared by kernels: the dispatch grid and the flat invocation index. */

/** Workgroup size of 1-D elementwise kernels. */
export const WG = 256;

/**
 * Flat index of an invocation in a grid from `grid1d` (x up to 65 535 workgroups, then y).
 * Use: `@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u`.
 */
export const FLAT_INDEX = /* wgsl */ `
fn flatIndex(gid: vec3u, nwg: vec3u) -> u32 { return gid.x + gid.y * nwg.x * ${WG}u; }
`;

/** Workgroups for `n` invocations of `wg` threads: 2-D when more than 65 535 are needed. */
export function grid1d(n: number, wg = WG): [number, number] {
  const groups = Math.ceil(n / wg);
  if (groups <= 65535) return [groups, 1];
  const y = Math.ceil(groups / 65535);
  return [Math.ceil(groups / y), y];
}

/** Workgroups for `rows` independent rows (one workgroup each). */
export function gridRows(rows: number): [number, number] {
  if (rows <= 65535) return [rows, 1];
  const y = Math.ceil(rows / 65535);
  return [Math.ceil(rows / y), y];
}

/** Row index of a workgroup launched by gridRows. */
export const ROW_INDEX = /* wgsl */ `
fn rowIndex(wid: vec3u, nwg: vec3u) -> u32 { return wid.x + wid.y * nwg.x; }
`;

/**
 * Decoding a flat index into up to 8 coordinates and applying per-operand strides.
 * `shape` and `strides` are `array<vec4u, 2>` uniform fields (rank ≤ 8, outermost first).
 */
export function stridedOffsets(rank: number, operands: string[]): string {
  const lines = [`var rem = i;`];
  for (const o of operands) lines.push(`var off_${o} = p.off_${o};`);
  for (let d = rank - 1; d >= 0; d--) {
    const v = `p.shape[${d >> 2}][${d & 3}]`;
    lines.push(`{ let c = rem % ${v}; rem = rem / ${v};`);
    for (const o of operands) lines.push(`  off_${o} += c * p.st_${o}[${d >> 2}][${d & 3}];`);
    lines.push(`}`);
  }
  return lines.join('\n    ');
}

/**
 * ±Infinity and NaN at run time: WGSL rejects non-finite constant expressions, so the bits go
 * through a private variable, which is not a constant.
 */
export const SPECIALS = /* wgsl */ `
var<private> POS_INF_BITS: u32 = 0x7f800000u;
var<private> NEG_INF_BITS: u32 = 0xff800000u;
var<private> NAN_BITS: u32 = 0x7fc00000u;
fn pos_inf() -> f32 { return bitcast<f32>(POS_INF_BITS); }
fn neg_inf() -> f32 { return bitcast<f32>(NEG_INF_BITS); }
fn nan_f32() -> f32 { return bitcast<f32>(NAN_BITS); }
// By bits: drivers compile with fast-math flags under which x != x may fold to false.
fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;

/**
 * A cascaded serial sum of \`expr\` (using \`j\`) over j = start, start + step, … < len into \`acc\`:
 * 16 terms per inner partial, 16 partials per middle one, then the running total. Its rounding error
 * is ≤ (16 + 16 + ⌈n/256⌉)·u·Σ|terms| instead of n·u·Σ|terms| — and, unlike Kahan compensation,
 * it survives drivers that compile with fast-math reassociation (llvmpipe folds Kahan away).
 */
export function cascadeSum(acc: string, expr: string, start: string, step: string, len: string): string {
  return `
  var ${acc} = 0.0;
  {
    var j = ${start};
    while (j < ${len}) {
      var mid = 0.0;
      for (var b = 0u; b < 16u && j < ${len}; b++) {
        var low = 0.0;
        for (var a = 0u; a < 16u && j < ${len}; a++) { low += ${expr}; j += ${step}; }
        mid += low;
      }
      ${acc} += mid;
    }
  }`;
}

/**
 * Code for one 64-thread workgroup computing `let <out> = log Σ_j exp(src[base + j])` over j < len,
 * stably (max first), through `var<workgroup> sv: array<f32, 64>` and `lid` declared by the kernel.
 * Shared by the cross-entropy kernel and YOLOS's match-cost kernel (yolos/match-cost.wgsl.ts).
 */
export function workgroupLogSumExp(out: string, src: string, len: string): string {
  const tree = (op: string) => `
  workgroupBarrier();
  for (var s = 32u; s > 0u; s = s >> 1u) {
    if (lid < s) { sv[lid] = ${op}; }
    workgroupBarrier();
  }`;
  return `
  var m = neg_inf();
  for (var j = lid; j < ${len}; j += 64u) { m = max(m, ${src}[base + j]); }
  sv[lid] = m;${tree('max(sv[lid], sv[lid + s])')}
  let rowMax = sv[0];
  workgroupBarrier();
  var acc = 0.0;
  for (var j = lid; j < ${len}; j += 64u) { acc += exp(${src}[base + j] - rowMax); }
  sv[lid] = acc;${tree('sv[lid] + sv[lid + s]')}
  let ${out} = rowMax + log(sv[0]);`;
}
