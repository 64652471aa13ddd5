// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type { RawImage as _emoflux_emotion_v1_RawImage, RawImage__Output as _emoflux_emotion_v1_RawImage__Output } from '../../../emoflux/emotion/v1/RawImage';

/**
 * One input image.
 */
export interface Image {
  /**
   * An encoded image file: JPEG, PNG, WebP, BMP or GIF (only the first frame of
   * an animated GIF is used). The EXIF orientation tag, if present, is applied
   * before anything else, so boxes refer to the upright image. Any colour mode is
   * converted to RGB (alpha is discarded).
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * Already-decoded 8-bit RGB pixels.
   */
  'raw'?: (_emoflux_emotion_v1_RawImage | null);
  /**
   * The pixels, encoded or raw. Exactly one must be set, else INVALID_ARGUMENT.
   */
  'source'?: "data"|"raw";
}

/**
 * One input image.
 */
export interface Image__Output {
  /**
   * An encoded image file: JPEG, PNG, WebP, BMP or GIF (only the first frame of
   * an animated GIF is used). The EXIF orientation tag, if present, is applied
   * before anything else, so boxes refer to the upright image. Any colour mode is
   * converted to RGB (alpha is discarded).
   */
  'data'?: (Buffer);
  /**
   * Already-decoded 8-bit RGB pixels.
   */
  'raw'?: (_emoflux_emotion_v1_RawImage__Output | null);
  /**
   * The pixels, encoded or raw. Exactly one must be set, else INVALID_ARGUMENT.
   */
  'source'?: "data"|"raw";
}
