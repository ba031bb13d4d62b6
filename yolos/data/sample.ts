/**
 * The one sample format shared by the data sources (shapes, COCO) and the transforms (augment.ts).
 *
 * Targets follow DETR/YOLOS after `Normalize`: boxes are (cx, cy, w, h) divided by the size of the
 * image they come with (unpadded), labels are category ids as they appear in the COCO JSON.
 */
export interface DetectionSample {
  /** [3, height, width], RGB, channels-first; values in [0, 1] until `normalizeImageNet`. */
  image: Float32Array;
  width: number;
  height: number;
  /** [M, 4] (cx, cy, w, h) normalised by (width, height). */
  boxes: Float32Array;
  /** [M] category ids (COCO `category_id`, so 1-based for the shapes data). */
  labels: Int32Array;
  /** [M] object areas in pixels² of this image (COCO `area`, rescaled by resizes like DETR). */
  areas: Float32Array;
  /** COCO image id, when the sample comes from a COCO-style source. */
  imageId?: number;
  /** [height, width] of the image as stored, before any transform (for post-processing to COCO boxes). */
  origSize?: [number, number];
}
