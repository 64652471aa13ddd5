// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { ClassifyResponse as _emoflux_emotion_v1_ClassifyResponse, ClassifyResponse__Output as _emoflux_emotion_v1_ClassifyResponse__Output } from '../../../emoflux/emotion/v1/ClassifyResponse';

/**
 * A per-item failure. The stream continues after it.
 */
export interface _emoflux_emotion_v1_ClassifyStreamResponse_Error {
  /**
   * gRPC status code as its numeric value (google.rpc.Code), e.g. 3 for
   * INVALID_ARGUMENT, 5 for NOT_FOUND, 8 for RESOURCE_EXHAUSTED.
   */
  'code'?: (number);
  /**
   * Human-readable description naming the field and limit involved.
   */
  'message'?: (string);
}

/**
 * A per-item failure. The stream continues after it.
 */
export interface _emoflux_emotion_v1_ClassifyStreamResponse_Error__Output {
  /**
   * gRPC status code as its numeric value (google.rpc.Code), e.g. 3 for
   * INVALID_ARGUMENT, 5 for NOT_FOUND, 8 for RESOURCE_EXHAUSTED.
   */
  'code': (number);
  /**
   * Human-readable description naming the field and limit involved.
   */
  'message': (string);
}

/**
 * The answer to one ClassifyStreamRequest.
 */
export interface ClassifyStreamResponse {
  /**
   * The `request_id` of the request this answers.
   */
  'request_id'?: (string);
  /**
   * The classification, as Classify would have returned it.
   */
  'response'?: (_emoflux_emotion_v1_ClassifyResponse | null);
  /**
   * Why this item failed.
   */
  'error'?: (_emoflux_emotion_v1_ClassifyStreamResponse_Error | null);
  /**
   * Exactly one is set.
   */
  'outcome'?: "response"|"error";
}

/**
 * The answer to one ClassifyStreamRequest.
 */
export interface ClassifyStreamResponse__Output {
  /**
   * The `request_id` of the request this answers.
   */
  'request_id': (string);
  /**
   * The classification, as Classify would have returned it.
   */
  'response'?: (_emoflux_emotion_v1_ClassifyResponse__Output | null);
  /**
   * Why this item failed.
   */
  'error'?: (_emoflux_emotion_v1_ClassifyStreamResponse_Error__Output | null);
  /**
   * Exactly one is set.
   */
  'outcome'?: "response"|"error";
}
