// Original file: ../../protos/emoflux/emotion/v1/emotion.proto


/**
 * An axis-aligned rectangle in source-image pixels (see the file conventions).
 */
export interface Box {
  /**
   * Left edge, in pixels from the left of the image.
   */
  'x'?: (number);
  /**
   * Top edge, in pixels from the top of the image.
   */
  'y'?: (number);
  /**
   * Width in pixels (>= 1); x + width <= image width.
   */
  'width'?: (number);
  /**
   * Height in pixels (>= 1); y + height <= image height.
   */
  'height'?: (number);
}

/**
 * An axis-aligned rectangle in source-image pixels (see the file conventions).
 */
export interface Box__Output {
  /**
   * Left edge, in pixels from the left of the image.
   */
  'x': (number);
  /**
   * Top edge, in pixels from the top of the image.
   */
  'y': (number);
  /**
   * Width in pixels (>= 1); x + width <= image width.
   */
  'width': (number);
  /**
   * Height in pixels (>= 1); y + height <= image height.
   */
  'height': (number);
}
