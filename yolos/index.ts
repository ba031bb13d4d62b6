/** YOLOS on the engine: configs, model, weights, pre/post-processing, matcher, loss, data, training. */
export {
  type YolosConfig,
  presets,
  type PresetName,
  parseConfig,
  parameterShapes,
  parameterCount,
  peGrid,
  COCO_ID2LABEL,
} from './config.ts';
export { Yolos, type YolosOutput, type LoadOptions, type BackboneOptions } from './model.ts';
export {
  readSafetensors,
  readSafetensorsFrom,
  readSafetensorsMetadata,
  writeSafetensors,
  SafetensorsError,
  type SafeTensor,
  type SafetensorsDtype,
  type SafetensorsSource,
  type SafeTensorData,
} from './safetensors.ts';
export { bicubicMatrix, resizeBicubic } from './interpolate.ts';
export { type InitScheme } from './init.ts';
export {
  preprocessPixels,
  resizedSize,
  resizeBilinear,
  normalize,
  IMAGENET_MEAN,
  IMAGENET_STD,
  type RgbImage,
  type ResizeOptions,
  type NormalizeOptions,
  type PreprocessedPixels,
} from './preprocess.ts';
export { preprocess, type Preprocessed } from './preprocess-tensor.ts';
export { postprocess, type Detection } from './postprocess.ts';
export { detect, defaultResize } from './detect.ts';
export { drawDetections, drawRect, drawText, classColor } from './draw.ts';
export { boxCxcywhToXyxy, boxXyxyToCxcywh, boxIou, generalizedBoxIou, elementwiseGiou } from './box.ts';
export { HungarianMatcher, type MatcherCosts, type DetectionOutputs, type DetectionTargets, type MatchIndices } from './matcher.ts';
export { SetCriterion, type SetCriterionOptions, type SetLoss, type SetMatching } from './criterion.ts';
export { type DetectionSample } from './data/sample.ts';
export { mulberry32, hashSeed, type Rng } from './data/rng.ts';
export {
  shapesDataset,
  ShapesDataset,
  renderShapes,
  SHAPE_KINDS,
  type ShapeKind,
  type ShapesOptions,
  type ShapesScene,
} from './data/shapes.ts';
export { CocoDataset, cocoTarget, rgbaToChw, type CocoDatasetOptions, type CocoImageReader } from './data/coco.ts';
export { parseCocoAnnotations, validateCocoGroundTruth } from './data/coco-validate.ts';
export { cocoFromFiles, chooseAnnotationFiles, type DatasetFile, type CocoFilesDataset, type CocoFilesOptions } from './data/coco-files.ts';
export {
  trainAugment,
  evalTransform,
  collate,
  normalizeImageNet,
  yolosResizeShape,
  resizeBilinearChw,
  toPixelSample,
  toDetectionSample,
  TI_AUGMENT,
  SMALL_AUGMENT,
  SHAPES_AUGMENT,
  type AugmentConfig,
  type PixelSample,
  type Batch,
} from './data/augment.ts';
export {
  cocoEvaluate,
  formatCocoStats,
  type CocoGroundTruth,
  type CocoDetection,
  type CocoEvalResult,
  type CocoEvalOptions,
  type CocoStats,
} from './eval/coco-eval.ts';
export {
  createDetector,
  type Detector,
  type DetectedObject,
  type DetectOptions,
  type DetectorOptions,
  type ModelSource,
} from './detector.ts';
export {
  fetchPretrained,
  resolveUrl,
  cacheApiStore,
  DEFAULT_ENDPOINT,
  type PretrainedOptions,
  type PretrainedFiles,
  type DownloadProgress,
  type ModelStore,
} from './hub.ts';
export {
  toRgbImage,
  setBytesDecoder,
  setLocalFileReader,
  DEFAULT_MAX_PIXELS,
  type ImageInput,
  type ImageInputOptions,
  type DecodeOptions,
  type DecodedImage,
} from './image-input.ts';
export {
  fromBackbone,
  transferFromFiles,
  freezeBackbone,
  trainableWhenFrozen,
  checkpointKind,
  type CheckpointKind,
  type TransferResult,
  type TransferOptions,
} from './transfer.ts';
export { ViTClassifier, type ViTInit } from './classify/vit-classifier.ts';
export { vitConfig, parseViTConfig, vitParameterShapes, type ViTConfig } from './classify/vit-config.ts';
export { classifyStep, classifierOptimizer } from './classify/classify-step.ts';
export { classifyAccuracy } from './classify/accuracy.ts';
export {
  renderClassifySample,
  classifyBatch,
  SHAPES_CLASSIFY_LABELS,
  SHAPES_CLASSIFY_VAL,
  COLOUR_FAMILIES,
  type ClassifySample,
} from './data/shapes-classify.ts';
export { withoutPrefix } from './state-dict.ts';
