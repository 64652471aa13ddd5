// Original file: ../../protos/emoflux/image/v1/image.proto

import type { GenerateRequest as _emoflux_image_v1_GenerateRequest, GenerateRequest__Output as _emoflux_image_v1_GenerateRequest__Output } from '../../../emoflux/image/v1/GenerateRequest';

/**
 * Request for ImageService.GenerateStream.
 */
export interface GenerateStreamRequest {
  /**
   * The generation, validated exactly as for Generate.
   */
  'request'?: (_emoflux_image_v1_GenerateRequest | null);
  /**
   * Whether Step events carry a low-resolution preview image (costs one VAE decode
   * per step). Default false.
   */
  'previews'?: (boolean);
  /**
   * Longest side of the previews in pixels; 0 (default) means 128. At most 512;
   * larger is INVALID_ARGUMENT.
   */
  'preview_size'?: (number);
}

/**
 * Request for ImageService.GenerateStream.
 */
export interface GenerateStreamRequest__Output {
  /**
   * The generation, validated exactly as for Generate.
   */
  'request': (_emoflux_image_v1_GenerateRequest__Output | null);
  /**
   * Whether Step events carry a low-resolution preview image (costs one VAE decode
   * per step). Default false.
   */
  'previews': (boolean);
  /**
   * Longest side of the previews in pixels; 0 (default) means 128. At most 512;
   * larger is INVALID_ARGUMENT.
   */
  'preview_size': (number);
}
