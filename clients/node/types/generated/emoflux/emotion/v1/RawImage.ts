// Original file: ../../protos/emoflux/emotion/v1/emotion.proto


/**
 * Decoded pixels: 8-bit RGB, row-major, no padding between rows.
 */
export interface RawImage {
  /**
   * Width in pixels; must be >= 1.
   */
  'width'?: (number);
  /**
   * Height in pixels; must be >= 1.
   */
  'height'?: (number);
  /**
   * Exactly width * height * 3 bytes: R, G, B of pixel (0, 0), then (1, 0), ...,
   * row by row from the top. Any other length is INVALID_ARGUMENT.
   */
  'rgb'?: (Buffer | Uint8Array | string);
}

/**
 * Decoded pixels: 8-bit RGB, row-major, no padding between rows.
 */
export interface RawImage__Output {
  /**
   * Width in pixels; must be >= 1.
   */
  'width': (number);
  /**
   * Height in pixels; must be >= 1.
   */
  'height': (number);
  /**
   * Exactly width * height * 3 bytes: R, G, B of pixel (0, 0), then (1, 0), ...,
   * row by row from the top. Any other length is INVALID_ARGUMENT.
   */
  'rgb': (Buffer);
}
