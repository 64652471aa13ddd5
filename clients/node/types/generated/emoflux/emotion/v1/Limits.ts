// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Size limits enforced on requests. Requests over a limit get INVALID_ARGUMENT
 * (or RESOURCE_EXHAUSTED for the message size) naming the limit.
 */
export interface Limits {
  /**
   * Most images accepted in one ClassifyRequest.
   */
  'max_images_per_request'?: (number);
  /**
   * Most pixels (width * height) accepted per image, after decoding.
   */
  'max_pixels_per_image'?: (number | string | Long);
  /**
   * Largest accepted request message, in bytes.
   */
  'max_request_bytes'?: (number | string | Long);
}

/**
 * Size limits enforced on requests. Requests over a limit get INVALID_ARGUMENT
 * (or RESOURCE_EXHAUSTED for the message size) naming the limit.
 */
export interface Limits__Output {
  /**
   * Most images accepted in one ClassifyRequest.
   */
  'max_images_per_request': (number);
  /**
   * Most pixels (width * height) accepted per image, after decoding.
   */
  'max_pixels_per_image': (string);
  /**
   * Largest accepted request message, in bytes.
   */
  'max_request_bytes': (string);
}
