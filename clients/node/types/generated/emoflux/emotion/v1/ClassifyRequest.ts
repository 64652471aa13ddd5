// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { Image as _emoflux_emotion_v1_Image, Image__Output as _emoflux_emotion_v1_Image__Output } from '../../../emoflux/emotion/v1/Image';
import type { FaceMode as _emoflux_emotion_v1_FaceMode, FaceMode__Output as _emoflux_emotion_v1_FaceMode__Output } from '../../../emoflux/emotion/v1/FaceMode';

/**
 * Request for EmotionService.Classify.
 */
export interface ClassifyRequest {
  /**
   * Images to classify, 1 to `Limits.max_images_per_request`. Each image may have
   * at most `Limits.max_pixels_per_image` pixels.
   */
  'images'?: (_emoflux_emotion_v1_Image)[];
  /**
   * How faces are located. Default (UNSPECIFIED): the whole image is one face.
   */
  'face_mode'?: (_emoflux_emotion_v1_FaceMode);
  /**
   * Number of labels to return per face, highest score first. 0 (default) returns
   * all labels; values larger than the number of labels also return all labels.
   */
  'top_k'?: (number);
  /**
   * Multi-label threshold in [0, 1]: every label whose score is >= threshold is
   * listed in `Face.labels_above_threshold` (independent of `top_k`). 0 (default)
   * turns the list off. Outside [0, 1] is INVALID_ARGUMENT.
   */
  'threshold'?: (number | string);
  /**
   * Numeric precision of the model to run: "" (default) uses the server's
   * `default_precision`; otherwise one of "fp32", "fp16", "int8", which must be
   * loaded (listed in `GetModelInfoResponse.precisions`), else NOT_FOUND.
   */
  'precision'?: (string);
}

/**
 * Request for EmotionService.Classify.
 */
export interface ClassifyRequest__Output {
  /**
   * Images to classify, 1 to `Limits.max_images_per_request`. Each image may have
   * at most `Limits.max_pixels_per_image` pixels.
   */
  'images': (_emoflux_emotion_v1_Image__Output)[];
  /**
   * How faces are located. Default (UNSPECIFIED): the whole image is one face.
   */
  'face_mode': (_emoflux_emotion_v1_FaceMode__Output);
  /**
   * Number of labels to return per face, highest score first. 0 (default) returns
   * all labels; values larger than the number of labels also return all labels.
   */
  'top_k': (number);
  /**
   * Multi-label threshold in [0, 1]: every label whose score is >= threshold is
   * listed in `Face.labels_above_threshold` (independent of `top_k`). 0 (default)
   * turns the list off. Outside [0, 1] is INVALID_ARGUMENT.
   */
  'threshold': (number);
  /**
   * Numeric precision of the model to run: "" (default) uses the server's
   * `default_precision`; otherwise one of "fp32", "fp16", "int8", which must be
   * loaded (listed in `GetModelInfoResponse.precisions`), else NOT_FOUND.
   */
  'precision': (string);
}
