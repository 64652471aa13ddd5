// Original file: ../../protos/emoflux/image/v1/image.proto

import type { OutputFormat as _emoflux_image_v1_OutputFormat, OutputFormat__Output as _emoflux_image_v1_OutputFormat__Output } from '../../../emoflux/image/v1/OutputFormat';
import type { AdapterWeight as _emoflux_image_v1_AdapterWeight, AdapterWeight__Output as _emoflux_image_v1_AdapterWeight__Output } from '../../../emoflux/image/v1/AdapterWeight';
import type { Long } from '@grpc/proto-loader';

/**
 * Request for ImageService.Generate.
 */
export interface GenerateRequest {
  /**
   * Variant name from ListVariants; "" (default) uses
   * `ListVariantsResponse.default_variant`.
   */
  'variant'?: (string);
  /**
   * What to draw. Required (non-empty). Prompts longer than the variant's
   * `max_prompt_tokens` are truncated, not rejected (see
   * `GenerateResponse.prompt_truncated`).
   */
  'prompt'?: (string);
  /**
   * What not to draw; only for variants with CAPABILITY_NEGATIVE_PROMPT. "" = none.
   */
  'negative_prompt'?: (string);
  /**
   * Output width in pixels; 0 (default) uses the variant's default. Must lie in
   * [min_width, max_width] and be a multiple of `size_multiple`.
   */
  'width'?: (number);
  /**
   * Output height in pixels; 0 (default) uses the variant's default. Must lie in
   * [min_height, max_height] and be a multiple of `size_multiple`.
   */
  'height'?: (number);
  /**
   * Number of denoising steps; 0 (default) uses the variant's default. Must lie in
   * [min_steps, max_steps].
   */
  'num_inference_steps'?: (number);
  /**
   * Guidance scale; unset uses the variant's default. Must lie in
   * [min_guidance_scale, max_guidance_scale].
   */
  'guidance_scale'?: (number | string);
  /**
   * Random seed for the initial noise. Unset: the server picks one and reports it
   * in `GeneratedImage.seed`. Image i of a request uses seed + i, so a returned
   * seed reproduces that image with num_images = 1 and otherwise equal options on
   * the same variant and backend.
   */
  'seed'?: (number | string | Long);
  /**
   * Number of images to generate for this prompt, 1 to `max_images`; 0 (default)
   * means 1.
   */
  'num_images'?: (number);
  /**
   * Encoding of the returned images; default PNG.
   */
  'output_format'?: (_emoflux_image_v1_OutputFormat);
  /**
   * JPEG/WebP quality 1..100; 0 (default) means 90. Ignored for PNG. Over 100 is
   * INVALID_ARGUMENT.
   */
  'quality'?: (number);
  /**
   * Encoded reference images (JPEG/PNG/WebP/BMP/GIF first frame), for variants with
   * CAPABILITY_IMAGE_EDITING, CAPABILITY_MULTI_REFERENCE or
   * CAPABILITY_IMAGE_TO_IMAGE; at most `max_reference_images`. Images are resized
   * to the output size as the variant's pipeline requires.
   */
  'reference_images'?: (Buffer | Uint8Array | string)[];
  /**
   * Image-to-image strength in [0, 1] (how much of the reference is replaced:
   * 0 keeps it, 1 ignores it). Only for CAPABILITY_IMAGE_TO_IMAGE variants, and
   * then it requires one reference image. Unset: the variant's default (0.6 unless
   * documented otherwise in `Variant.description`).
   * With a `mask` it is the inpainting strength in [0, 1]; unset means 1.0 (the
   * masked region is repainted from pure noise). The run skips the first
   * (1 - strength) share of the steps; strength * num_inference_steps must
   * leave at least one step.
   */
  'strength'?: (number | string);
  /**
   * Inpainting mask, an encoded image the size of the one reference image:
   * white pixels are repainted, black pixels are kept (grey levels are split at
   * 128, as the pipeline binarises the mask).
   * Only for variants with CAPABILITY_INPAINTING, with exactly one entry in
   * `reference_images`. Empty (default): no inpainting. Pixels outside the mask
   * are returned exactly as in the reference (resized to the output size).
   */
  'mask'?: (Buffer | Uint8Array | string);
  /**
   * LoRA adapters to apply, several at once, each with its scale; empty
   * (default): the base weights. Requests batch together only when their
   * adapters and scales are equal.
   */
  'adapters'?: (_emoflux_image_v1_AdapterWeight)[];
  '_guidance_scale'?: "guidance_scale";
  '_seed'?: "seed";
  '_strength'?: "strength";
}

/**
 * Request for ImageService.Generate.
 */
export interface GenerateRequest__Output {
  /**
   * Variant name from ListVariants; "" (default) uses
   * `ListVariantsResponse.default_variant`.
   */
  'variant': (string);
  /**
   * What to draw. Required (non-empty). Prompts longer than the variant's
   * `max_prompt_tokens` are truncated, not rejected (see
   * `GenerateResponse.prompt_truncated`).
   */
  'prompt': (string);
  /**
   * What not to draw; only for variants with CAPABILITY_NEGATIVE_PROMPT. "" = none.
   */
  'negative_prompt': (string);
  /**
   * Output width in pixels; 0 (default) uses the variant's default. Must lie in
   * [min_width, max_width] and be a multiple of `size_multiple`.
   */
  'width': (number);
  /**
   * Output height in pixels; 0 (default) uses the variant's default. Must lie in
   * [min_height, max_height] and be a multiple of `size_multiple`.
   */
  'height': (number);
  /**
   * Number of denoising steps; 0 (default) uses the variant's default. Must lie in
   * [min_steps, max_steps].
   */
  'num_inference_steps': (number);
  /**
   * Guidance scale; unset uses the variant's default. Must lie in
   * [min_guidance_scale, max_guidance_scale].
   */
  'guidance_scale'?: (number);
  /**
   * Random seed for the initial noise. Unset: the server picks one and reports it
   * in `GeneratedImage.seed`. Image i of a request uses seed + i, so a returned
   * seed reproduces that image with num_images = 1 and otherwise equal options on
   * the same variant and backend.
   */
  'seed'?: (string);
  /**
   * Number of images to generate for this prompt, 1 to `max_images`; 0 (default)
   * means 1.
   */
  'num_images': (number);
  /**
   * Encoding of the returned images; default PNG.
   */
  'output_format': (_emoflux_image_v1_OutputFormat__Output);
  /**
   * JPEG/WebP quality 1..100; 0 (default) means 90. Ignored for PNG. Over 100 is
   * INVALID_ARGUMENT.
   */
  'quality': (number);
  /**
   * Encoded reference images (JPEG/PNG/WebP/BMP/GIF first frame), for variants with
   * CAPABILITY_IMAGE_EDITING, CAPABILITY_MULTI_REFERENCE or
   * CAPABILITY_IMAGE_TO_IMAGE; at most `max_reference_images`. Images are resized
   * to the output size as the variant's pipeline requires.
   */
  'reference_images': (Buffer)[];
  /**
   * Image-to-image strength in [0, 1] (how much of the reference is replaced:
   * 0 keeps it, 1 ignores it). Only for CAPABILITY_IMAGE_TO_IMAGE variants, and
   * then it requires one reference image. Unset: the variant's default (0.6 unless
   * documented otherwise in `Variant.description`).
   * With a `mask` it is the inpainting strength in [0, 1]; unset means 1.0 (the
   * masked region is repainted from pure noise). The run skips the first
   * (1 - strength) share of the steps; strength * num_inference_steps must
   * leave at least one step.
   */
  'strength'?: (number);
  /**
   * Inpainting mask, an encoded image the size of the one reference image:
   * white pixels are repainted, black pixels are kept (grey levels are split at
   * 128, as the pipeline binarises the mask).
   * Only for variants with CAPABILITY_INPAINTING, with exactly one entry in
   * `reference_images`. Empty (default): no inpainting. Pixels outside the mask
   * are returned exactly as in the reference (resized to the output size).
   */
  'mask': (Buffer);
  /**
   * LoRA adapters to apply, several at once, each with its scale; empty
   * (default): the base weights. Requests batch together only when their
   * adapters and scales are equal.
   */
  'adapters': (_emoflux_image_v1_AdapterWeight__Output)[];
  '_guidance_scale'?: "guidance_scale";
  '_seed'?: "seed";
  '_strength'?: "strength";
}
