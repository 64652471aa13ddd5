// Original file: ../../protos/emoflux/image/v1/image.proto

import type { OutputFormat as _emoflux_image_v1_OutputFormat, OutputFormat__Output as _emoflux_image_v1_OutputFormat__Output } from '../../../emoflux/image/v1/OutputFormat';
import type { Long } from '@grpc/proto-loader';

/**
 * One generated image.
 */
export interface GeneratedImage {
  /**
   * The encoded image in `format`.
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Width in pixels.
   */
  'width'?: (number);
  /**
   * Height in pixels.
   */
  'height'?: (number);
  /**
   * The seed that produced this image (see `GenerateRequest.seed`).
   */
  'seed'?: (number | string | Long);
  /**
   * Encoding of `data` (never UNSPECIFIED).
   */
  'format'?: (_emoflux_image_v1_OutputFormat);
}

/**
 * One generated image.
 */
export interface GeneratedImage__Output {
  /**
   * The encoded image in `format`.
   */
  'data': (Buffer);
  /**
   * Width in pixels.
   */
  'width': (number);
  /**
   * Height in pixels.
   */
  'height': (number);
  /**
   * The seed that produced this image (see `GenerateRequest.seed`).
   */
  'seed': (string);
  /**
   * Encoding of `data` (never UNSPECIFIED).
   */
  'format': (_emoflux_image_v1_OutputFormat__Output);
}
