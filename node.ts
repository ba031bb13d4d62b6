/**
 * yolos-webgpu for Node.js: the names of `index.ts`, with Node's platform registered (Dawn, sharp,
 * file paths as inputs, the model caches; see yolos/platform-node.ts).
 */
import './yolos/platform-node.ts';

export * from './index.ts';
export { SOFTWARE_ICDS, INSTALL_HINT } from './engine/node.ts';
