// Original file: ../../protos/emoflux/image/v1/image.proto


/**
 * Values used when a request leaves an option at zero / unset.
 */
export interface VariantDefaults {
  /**
   * Default width in pixels.
   */
  'width'?: (number);
  /**
   * Default height in pixels.
   */
  'height'?: (number);
  /**
   * Default number of denoising steps.
   */
  'num_inference_steps'?: (number);
  /**
   * Default guidance scale (0 for variants without guidance).
   */
  'guidance_scale'?: (number | string);
  /**
   * Token length the prompt is padded or truncated to for the main (T5) text
   * encoder.
   */
  'max_sequence_length'?: (number);
}

/**
 * Values used when a request leaves an option at zero / unset.
 */
export interface VariantDefaults__Output {
  /**
   * Default width in pixels.
   */
  'width': (number);
  /**
   * Default height in pixels.
   */
  'height': (number);
  /**
   * Default number of denoising steps.
   */
  'num_inference_steps': (number);
  /**
   * Default guidance scale (0 for variants without guidance).
   */
  'guidance_scale': (number);
  /**
   * Token length the prompt is padded or truncated to for the main (T5) text
   * encoder.
   */
  'max_sequence_length': (number);
}
