/**
 * yolos-webgpu, browser-safe entry (browsers, Web Workers, bundlers): the engine's API plus the detector
 * one-liner. `yolos-webgpu/yolos` has all of YOLOS, `yolos-webgpu/hungarian` the assignment solver.
 * Under Node the `node` export condition picks `node.ts` instead, which adds Dawn and the file-based helpers.
 */
export * from './engine/index.ts';
export { createDetector, Yolos, parseConfig, presets, detect, fetchPretrained, toRgbImage } from './yolos/index.ts';
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
