// Original file: ../../protos/emoflux/image/v1/image.proto

import type { GeneratedImage as _emoflux_image_v1_GeneratedImage, GeneratedImage__Output as _emoflux_image_v1_GeneratedImage__Output } from '../../../emoflux/image/v1/GeneratedImage';
import type { WeightsOrigin as _emoflux_image_v1_WeightsOrigin, WeightsOrigin__Output as _emoflux_image_v1_WeightsOrigin__Output } from '../../../emoflux/image/v1/WeightsOrigin';
import type { Timings as _emoflux_image_v1_Timings, Timings__Output as _emoflux_image_v1_Timings__Output } from '../../../emoflux/image/v1/Timings';
import type { AdapterWeight as _emoflux_image_v1_AdapterWeight, AdapterWeight__Output as _emoflux_image_v1_AdapterWeight__Output } from '../../../emoflux/image/v1/AdapterWeight';

/**
 * Response for ImageService.Generate.
 */
export interface GenerateResponse {
  /**
   * The images, `num_images` of them, in seed order.
   */
  'images'?: (_emoflux_image_v1_GeneratedImage)[];
  /**
   * Variant that produced the images.
   */
  'variant'?: (string);
  /**
   * Backend that ran the transformer, e.g. "torch", "torch-compile",
   * "onnxruntime-cpu", "onnxruntime-cuda", "tensorrt".
   */
  'backend'?: (string);
  /**
   * Where the variant's weights come from; read this before judging the images.
   */
  'weights_origin'?: (_emoflux_image_v1_WeightsOrigin);
  /**
   * Denoising steps actually run.
   */
  'num_inference_steps'?: (number);
  /**
   * Guidance scale actually used.
   */
  'guidance_scale'?: (number | string);
  /**
   * True when the prompt was longer than the variant's `max_prompt_tokens` and was
   * cut.
   */
  'prompt_truncated'?: (boolean);
  /**
   * Number of prompt tokens given to the main text encoder (after truncation).
   */
  'prompt_tokens'?: (number);
  /**
   * How many requests shared the pipeline run that produced these images (1 = this
   * request ran alone).
   */
  'batch_size'?: (number);
  /**
   * Server-side timings.
   */
  'timings'?: (_emoflux_image_v1_Timings | null);
  /**
   * Adapters that produced the images, with the scales used (empty: base
   * weights). PNG images carry the same list in their `adapters` text chunk.
   */
  'adapters'?: (_emoflux_image_v1_AdapterWeight)[];
}

/**
 * Response for ImageService.Generate.
 */
export interface GenerateResponse__Output {
  /**
   * The images, `num_images` of them, in seed order.
   */
  'images': (_emoflux_image_v1_GeneratedImage__Output)[];
  /**
   * Variant that produced the images.
   */
  'variant': (string);
  /**
   * Backend that ran the transformer, e.g. "torch", "torch-compile",
   * "onnxruntime-cpu", "onnxruntime-cuda", "tensorrt".
   */
  'backend': (string);
  /**
   * Where the variant's weights come from; read this before judging the images.
   */
  'weights_origin': (_emoflux_image_v1_WeightsOrigin__Output);
  /**
   * Denoising steps actually run.
   */
  'num_inference_steps': (number);
  /**
   * Guidance scale actually used.
   */
  'guidance_scale': (number);
  /**
   * True when the prompt was longer than the variant's `max_prompt_tokens` and was
   * cut.
   */
  'prompt_truncated': (boolean);
  /**
   * Number of prompt tokens given to the main text encoder (after truncation).
   */
  'prompt_tokens': (number);
  /**
   * How many requests shared the pipeline run that produced these images (1 = this
   * request ran alone).
   */
  'batch_size': (number);
  /**
   * Server-side timings.
   */
  'timings': (_emoflux_image_v1_Timings__Output | null);
  /**
   * Adapters that produced the images, with the scales used (empty: base
   * weights). PNG images carry the same list in their `adapters` text chunk.
   */
  'adapters': (_emoflux_image_v1_AdapterWeight__Output)[];
}
