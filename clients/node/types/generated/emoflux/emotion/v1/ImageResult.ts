// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { Face as _emoflux_emotion_v1_Face, Face__Output as _emoflux_emotion_v1_Face__Output } from '../../../emoflux/emotion/v1/Face';

/**
 * Classification result for one input image.
 */
export interface ImageResult {
  /**
   * Zero-based index of the image in `ClassifyRequest.images`.
   */
  'index'?: (number);
  /**
   * Width of the source image in pixels, after the EXIF orientation was applied.
   */
  'width'?: (number);
  /**
   * Height of the source image in pixels, after the EXIF orientation was applied.
   */
  'height'?: (number);
  /**
   * Faces found, in detector order (FACE_MODE_DETECT: largest first) or the single
   * whole-image face (FACE_MODE_WHOLE). Empty when no face was found; that is not
   * an error.
   */
  'faces'?: (_emoflux_emotion_v1_Face)[];
}

/**
 * Classification result for one input image.
 */
export interface ImageResult__Output {
  /**
   * Zero-based index of the image in `ClassifyRequest.images`.
   */
  'index': (number);
  /**
   * Width of the source image in pixels, after the EXIF orientation was applied.
   */
  'width': (number);
  /**
   * Height of the source image in pixels, after the EXIF orientation was applied.
   */
  'height': (number);
  /**
   * Faces found, in detector order (FACE_MODE_DETECT: largest first) or the single
   * whole-image face (FACE_MODE_WHOLE). Empty when no face was found; that is not
   * an error.
   */
  'faces': (_emoflux_emotion_v1_Face__Output)[];
}
