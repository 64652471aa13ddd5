// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { Preprocessing as _emoflux_emotion_v1_Preprocessing, Preprocessing__Output as _emoflux_emotion_v1_Preprocessing__Output } from '../../../emoflux/emotion/v1/Preprocessing';
import type { BundleProvenance as _emoflux_emotion_v1_BundleProvenance, BundleProvenance__Output as _emoflux_emotion_v1_BundleProvenance__Output } from '../../../emoflux/emotion/v1/BundleProvenance';
import type { WeightsOrigin as _emoflux_emotion_v1_WeightsOrigin, WeightsOrigin__Output as _emoflux_emotion_v1_WeightsOrigin__Output } from '../../../emoflux/emotion/v1/WeightsOrigin';
import type { Limits as _emoflux_emotion_v1_Limits, Limits__Output as _emoflux_emotion_v1_Limits__Output } from '../../../emoflux/emotion/v1/Limits';
import type { Batching as _emoflux_emotion_v1_Batching, Batching__Output as _emoflux_emotion_v1_Batching__Output } from '../../../emoflux/emotion/v1/Batching';

/**
 * Response for EmotionService.GetModelInfo.
 */
export interface GetModelInfoResponse {
  /**
   * Identifier of the served model, e.g. "facial-emotions-image-detection".
   */
  'model'?: (string);
  /**
   * Label names in id order (index = `LabelScore.label_id`).
   */
  'labels'?: (string)[];
  /**
   * Model input height in pixels.
   */
  'input_height'?: (number);
  /**
   * Model input width in pixels.
   */
  'input_width'?: (number);
  /**
   * How face crops are resized and normalised.
   */
  'preprocessing'?: (_emoflux_emotion_v1_Preprocessing | null);
  /**
   * Inference runtime, e.g. "onnxruntime", "tensorrt" or "torch".
   */
  'backend'?: (string);
  /**
   * Execution providers in the order the runtime tries them, e.g.
   * ["CUDAExecutionProvider", "CPUExecutionProvider"].
   */
  'execution_providers'?: (string)[];
  /**
   * Precisions loaded and selectable through `ClassifyRequest.precision`.
   */
  'precisions'?: (string)[];
  /**
   * Precision used when a request leaves `precision` empty.
   */
  'default_precision'?: (string);
  /**
   * Where the bundle came from and how it was verified.
   */
  'provenance'?: (_emoflux_emotion_v1_BundleProvenance | null);
  /**
   * Where the weights come from.
   */
  'weights_origin'?: (_emoflux_emotion_v1_WeightsOrigin);
  /**
   * True when the weights are random (outputs carry no meaning); same as
   * weights_origin == WEIGHTS_ORIGIN_RANDOM, repeated for clients that only check
   * a flag.
   */
  'random_weights'?: (boolean);
  /**
   * The domain on which any published quality figure of these weights was
   * measured, e.g. "synthetic faces"; empty when none was measured.
   */
  'quality_domain'?: (string);
  /**
   * Request size limits.
   */
  'limits'?: (_emoflux_emotion_v1_Limits | null);
  /**
   * Dynamic batching settings.
   */
  'batching'?: (_emoflux_emotion_v1_Batching | null);
}

/**
 * Response for EmotionService.GetModelInfo.
 */
export interface GetModelInfoResponse__Output {
  /**
   * Identifier of the served model, e.g. "facial-emotions-image-detection".
   */
  'model': (string);
  /**
   * Label names in id order (index = `LabelScore.label_id`).
   */
  'labels': (string)[];
  /**
   * Model input height in pixels.
   */
  'input_height': (number);
  /**
   * Model input width in pixels.
   */
  'input_width': (number);
  /**
   * How face crops are resized and normalised.
   */
  'preprocessing': (_emoflux_emotion_v1_Preprocessing__Output | null);
  /**
   * Inference runtime, e.g. "onnxruntime", "tensorrt" or "torch".
   */
  'backend': (string);
  /**
   * Execution providers in the order the runtime tries them, e.g.
   * ["CUDAExecutionProvider", "CPUExecutionProvider"].
   */
  'execution_providers': (string)[];
  /**
   * Precisions loaded and selectable through `ClassifyRequest.precision`.
   */
  'precisions': (string)[];
  /**
   * Precision used when a request leaves `precision` empty.
   */
  'default_precision': (string);
  /**
   * Where the bundle came from and how it was verified.
   */
  'provenance': (_emoflux_emotion_v1_BundleProvenance__Output | null);
  /**
   * Where the weights come from.
   */
  'weights_origin': (_emoflux_emotion_v1_WeightsOrigin__Output);
  /**
   * True when the weights are random (outputs carry no meaning); same as
   * weights_origin == WEIGHTS_ORIGIN_RANDOM, repeated for clients that only check
   * a flag.
   */
  'random_weights': (boolean);
  /**
   * The domain on which any published quality figure of these weights was
   * measured, e.g. "synthetic faces"; empty when none was measured.
   */
  'quality_domain': (string);
  /**
   * Request size limits.
   */
  'limits': (_emoflux_emotion_v1_Limits__Output | null);
  /**
   * Dynamic batching settings.
   */
  'batching': (_emoflux_emotion_v1_Batching__Output | null);
}
