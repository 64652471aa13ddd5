// Original file: ../../protos/emoflux/emotion/v1/emotion.proto


/**
 * How the server turns a face crop into model input; mirrors the model's own image
 * processor so that clients can reproduce it exactly.
 */
export interface Preprocessing {
  /**
   * Resampling filter used to resize the face crop to the input size, named as in
   * PIL: "bilinear", "bicubic", "nearest", "lanczos", ...
   */
  'resize_method'?: (string);
  /**
   * Per-channel mean subtracted after rescaling, in R, G, B order.
   */
  'image_mean'?: (number | string)[];
  /**
   * Per-channel standard deviation divided by after subtracting the mean, in R, G,
   * B order.
   */
  'image_std'?: (number | string)[];
  /**
   * Factor applied to 8-bit pixel values before normalisation (typically 1/255).
   */
  'rescale_factor'?: (number | string);
}

/**
 * How the server turns a face crop into model input; mirrors the model's own image
 * processor so that clients can reproduce it exactly.
 */
export interface Preprocessing__Output {
  /**
   * Resampling filter used to resize the face crop to the input size, named as in
   * PIL: "bilinear", "bicubic", "nearest", "lanczos", ...
   */
  'resize_method': (string);
  /**
   * Per-channel mean subtracted after rescaling, in R, G, B order.
   */
  'image_mean': (number)[];
  /**
   * Per-channel standard deviation divided by after subtracting the mean, in R, G,
   * B order.
   */
  'image_std': (number)[];
  /**
   * Factor applied to 8-bit pixel values before normalisation (typically 1/255).
   */
  'rescale_factor': (number);
}
