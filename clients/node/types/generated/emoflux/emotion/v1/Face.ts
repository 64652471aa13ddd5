// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { Box as _emoflux_emotion_v1_Box, Box__Output as _emoflux_emotion_v1_Box__Output } from '../../../emoflux/emotion/v1/Box';
import type { LabelScore as _emoflux_emotion_v1_LabelScore, LabelScore__Output as _emoflux_emotion_v1_LabelScore__Output } from '../../../emoflux/emotion/v1/LabelScore';

/**
 * The expression scores of one face.
 */
export interface Face {
  /**
   * Where the face is in the source image. In FACE_MODE_WHOLE it covers the image.
   */
  'box'?: (_emoflux_emotion_v1_Box | null);
  /**
   * Label scores sorted by descending score (ties by ascending label_id): all
   * labels, or the best `top_k` when `ClassifyRequest.top_k` > 0.
   */
  'scores'?: (_emoflux_emotion_v1_LabelScore)[];
  /**
   * The best label (same as scores[0].label).
   */
  'top_label'?: (string);
  /**
   * The best label's score in [0, 1] (same as scores[0].score).
   */
  'top_score'?: (number | string);
  /**
   * Labels whose score is >= `ClassifyRequest.threshold`, by descending score.
   * Empty when the threshold is 0 or no label reaches it.
   */
  'labels_above_threshold'?: (string)[];
  /**
   * Face detector confidence in [0, 1]; 1 in FACE_MODE_WHOLE. Detectors without a
   * calibrated score report 1 for every detection.
   */
  'detection_confidence'?: (number | string);
}

/**
 * The expression scores of one face.
 */
export interface Face__Output {
  /**
   * Where the face is in the source image. In FACE_MODE_WHOLE it covers the image.
   */
  'box': (_emoflux_emotion_v1_Box__Output | null);
  /**
   * Label scores sorted by descending score (ties by ascending label_id): all
   * labels, or the best `top_k` when `ClassifyRequest.top_k` > 0.
   */
  'scores': (_emoflux_emotion_v1_LabelScore__Output)[];
  /**
   * The best label (same as scores[0].label).
   */
  'top_label': (string);
  /**
   * The best label's score in [0, 1] (same as scores[0].score).
   */
  'top_score': (number);
  /**
   * Labels whose score is >= `ClassifyRequest.threshold`, by descending score.
   * Empty when the threshold is 0 or no label reaches it.
   */
  'labels_above_threshold': (string)[];
  /**
   * Face detector confidence in [0, 1]; 1 in FACE_MODE_WHOLE. Detectors without a
   * calibrated score report 1 for every detection.
   */
  'detection_confidence': (number);
}
