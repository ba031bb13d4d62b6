/** YOLOS on the engine: configs, model, weights, pre/post-processing, matcher, loss, data, training. */
export { type YolosConfig, presets, type PresetName, parseConfig, parameterShapes, parameterCount, peGrid, COCO_ID2LABEL } from './config.ts';
export { Yolos, type YolosOutput } from './model.ts';
export { readSafetensors, writeSafetensors, type SafeTensor, type SafetensorsDtype } from './safetensors.ts';
export { bicubicMatrix, resizeBicubic } from './interpolate.ts';
export { type InitScheme } from './init.ts';
export { preprocess, resizedSize, resizeBilinear, normalize, IMAGENET_MEAN, IMAGENET_STD, type RgbImage, type ResizeOptions, type Preprocessed } from './preprocess.ts';
export { postprocess, type Detection } from './postprocess.ts';
export { detect, defaultResize } from './detect.ts';
export { drawDetections, drawRect, drawText, classColor } from './draw.ts';
export { boxCxcywhToXyxy, boxXyxyToCxcywh, boxIou, generalizedBoxIou, elementwiseGiou } from './box.ts';
export { HungarianMatcher, type MatcherCosts, type DetectionOutputs, type DetectionTargets, type MatchIndices } from './matcher.ts';
export { SetCriterion, type SetCriterionOptions, type SetLoss } from './criterion.ts';
export { type DetectionSample } from './data/sample.ts';
export { mulberry32, hashSeed, type Rng } from './data/rng.ts';
export { shapesDataset, ShapesDataset, renderShapes, SHAPE_KINDS, type ShapeKind, type ShapesOptions, type ShapesScene } from './data/shapes.ts';
export { CocoDataset, cocoTarget, rgbaToChw, type CocoDatasetOptions } from './data/coco.ts';
export { trainAugment, evalTransform, collate, normalizeImageNet, yolosResizeShape, resizeBilinearChw, toPixelSample, toDetectionSample, TI_AUGMENT, SMALL_AUGMENT, SHAPES_AUGMENT, type AugmentConfig, type PixelSample, type Batch } from './data/augment.ts';
export { cocoEvaluate, formatCocoStats, type CocoGroundTruth, type CocoDetection, type CocoEvalResult, type CocoEvalOptions, type CocoStats } from './eval/coco-eval.ts';
