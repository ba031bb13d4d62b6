/**
 * yolos-webgpu for Node.js: the same names as `index.ts`, with Node's platform registered (Dawn, sharp,
 * file paths as inputs, the model caches; see yolos/platform-node.ts).
 */
import './yolos/platform-node.ts';

export * from './engine/node.ts';
export { createDetector, Yolos, parseConfig, presets, detect, fetchPretrained } from './yolos/index.ts';
export { toRgbImage } from './yolos/image-input-node.ts';
export type {
  Detector,
  DetectedObject,
  DetectOptions,
  DetectorOptions,
  ModelSource,
  PretrainedOptions,
  DownloadProgress,
  ImageInput,
  YolosConfig,
} from './yolos/index.ts';
