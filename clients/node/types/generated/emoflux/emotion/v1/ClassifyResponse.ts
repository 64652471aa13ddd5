// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { ImageResult as _emoflux_emotion_v1_ImageResult, ImageResult__Output as _emoflux_emotion_v1_ImageResult__Output } from '../../../emoflux/emotion/v1/ImageResult';
import type { WeightsOrigin as _emoflux_emotion_v1_WeightsOrigin, WeightsOrigin__Output as _emoflux_emotion_v1_WeightsOrigin__Output } from '../../../emoflux/emotion/v1/WeightsOrigin';
import type { Timings as _emoflux_emotion_v1_Timings, Timings__Output as _emoflux_emotion_v1_Timings__Output } from '../../../emoflux/emotion/v1/Timings';

/**
 * Response for EmotionService.Classify.
 */
export interface ClassifyResponse {
  /**
   * One result per input image, in the same order as `ClassifyRequest.images`.
   */
  'results'?: (_emoflux_emotion_v1_ImageResult)[];
  /**
   * Identifier of the model that produced the scores (as in
   * `GetModelInfoResponse.model`).
   */
  'model'?: (string);
  /**
   * Inference runtime used, e.g. "onnxruntime", "tensorrt" or "torch".
   */
  'backend'?: (string);
  /**
   * Execution provider or device used by the backend, e.g.
   * "CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider",
   * or "cpu"/"cuda" for torch.
   */
  'execution_provider'?: (string);
  /**
   * Precision actually used: "fp32", "fp16" or "int8".
   */
  'precision'?: (string);
  /**
   * Where the weights come from; read this before trusting the scores.
   */
  'weights_origin'?: (_emoflux_emotion_v1_WeightsOrigin);
  /**
   * Server-side timings for this request.
   */
  'timings'?: (_emoflux_emotion_v1_Timings | null);
}

/**
 * Response for EmotionService.Classify.
 */
export interface ClassifyResponse__Output {
  /**
   * One result per input image, in the same order as `ClassifyRequest.images`.
   */
  'results': (_emoflux_emotion_v1_ImageResult__Output)[];
  /**
   * Identifier of the model that produced the scores (as in
   * `GetModelInfoResponse.model`).
   */
  'model': (string);
  /**
   * Inference runtime used, e.g. "onnxruntime", "tensorrt" or "torch".
   */
  'backend': (string);
  /**
   * Execution provider or device used by the backend, e.g.
   * "CPUExecutionProvider", "CUDAExecutionProvider", "TensorrtExecutionProvider",
   * or "cpu"/"cuda" for torch.
   */
  'execution_provider': (string);
  /**
   * Precision actually used: "fp32", "fp16" or "int8".
   */
  'precision': (string);
  /**
   * Where the weights come from; read this before trusting the scores.
   */
  'weights_origin': (_emoflux_emotion_v1_WeightsOrigin__Output);
  /**
   * Server-side timings for this request.
   */
  'timings': (_emoflux_emotion_v1_Timings__Output | null);
}
