/** The CPU reference (oracle) of every op: `import * as reference from './engine/reference/index.ts'`. */
export * from './ref.ts';
export * from './ops.ts';
export * from './random.ts';
export * from './box.ts';
export * from './cross-entropy.ts';
export * from './truncnormal.ts';
export { refErf } from '../ops/elementwise.table.ts';
export * from './attention.ts';
export * from './optim.ts';
export * from './matcher-cost.ts';
