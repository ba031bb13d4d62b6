/**
 * WGSL pieces the engine's kernels share, for kernels launched with `launch` (exported as `wgsl`):
 * paste them into your shader text.
 * @example const code = () => `${wgsl.ROW_INDEX}\n${wgsl.SPECIALS}\n@compute @workgroup_size(64) fn main(…) { let row = rowIndex(wid, nwg); … }`;
 */
export { FLAT_INDEX, ROW_INDEX, SPECIALS, cascadeSum, workgroupLogSumExp } from './kernels/wgsl/common.ts';
export { BOX_MATH } from './kernels/wgsl/box.wgsl.ts';
