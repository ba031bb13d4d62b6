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
