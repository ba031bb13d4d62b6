/**
 * YOLOS for Node.js: everything in `yolos/index.ts`, with Node's platform pieces registered — Dawn as the
 * engine's adapter, sharp as the image decoder (EXIF orientation, a pixel cap), file paths as image inputs,
 * the folder cache and the Hugging Face cache for `fromPretrained` — and the helpers that read and write
 * files: weights, COCO folders, the trainer. The package's `yolos-webgpu/yolos` export picks this file
 * under Node's `node` condition.
 */
import './platform-node.ts';

export * from './index.ts';
export { decodeImage, encodePng } from './image-io.ts';
export { readSafetensorsFile, loadYolosFile, readWeightsBytes } from './weights-node.ts';
export { folderStore, huggingFaceCacheDir, huggingFaceSnapshot, yolosCacheDir } from './hub-node.ts';
export { openCocoFolder, NoAnnotationFileError, type CocoFolderOptions } from './data/coco-node.ts';
export { makeSources } from './train/data-node.ts';
export { writeShapesCoco } from './data/shapes-node.ts';
export { train, abortOnSignals, type TrainOptions, type TrainResult, type EvalRecord } from './train/train.ts';
export { loadInitialModel, loadInitialModelFrom } from './transfer-node.ts';
