/** The CPU reference (oracle) of every op: `import * as reference from './engine/reference/index.ts'`. */
export * from './ref.ts';
export * from './ops.ts';
export * from './random.ts';
export { refErf } from '../ops/elementwise.table.ts';
