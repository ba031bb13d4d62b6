/**
 * The engine for Node.js: the same API as `engine/index.ts`, with Dawn's dawn.node registered as the way
 * to find a WebGPU adapter. The package's `node` export condition points here.
 */
import './adapter-node.ts';

export * from './index.ts';
export { SOFTWARE_ICDS, INSTALL_HINT } from './adapter-node.ts';
