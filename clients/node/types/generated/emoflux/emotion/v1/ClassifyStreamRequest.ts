// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { ClassifyRequest as _emoflux_emotion_v1_ClassifyRequest, ClassifyRequest__Output as _emoflux_emotion_v1_ClassifyRequest__Output } from '../../../emoflux/emotion/v1/ClassifyRequest';

/**
 * One item of a ClassifyStream.
 */
export interface ClassifyStreamRequest {
  /**
   * Client-chosen identifier echoed in the matching response. Should be unique
   * among the items outstanding on the stream; at most 128 bytes (longer is
   * answered with an INVALID_ARGUMENT item error).
   */
  'request_id'?: (string);
  /**
   * The frame(s) and options, validated exactly as for Classify.
   */
  'request'?: (_emoflux_emotion_v1_ClassifyRequest | null);
}

/**
 * One item of a ClassifyStream.
 */
export interface ClassifyStreamRequest__Output {
  /**
   * Client-chosen identifier echoed in the matching response. Should be unique
   * among the items outstanding on the stream; at most 128 bytes (longer is
   * answered with an INVALID_ARGUMENT item error).
   */
  'request_id': (string);
  /**
   * The frame(s) and options, validated exactly as for Classify.
   */
  'request': (_emoflux_emotion_v1_ClassifyRequest__Output | null);
}
