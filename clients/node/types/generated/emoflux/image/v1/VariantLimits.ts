// Original file: ../../protos/emoflux/image/v1/image.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Limits a request must respect (inclusive bounds).
 */
export interface VariantLimits {
  /**
   * Smallest accepted width in pixels.
   */
  'min_width'?: (number);
  /**
   * Largest accepted width in pixels.
   */
  'max_width'?: (number);
  /**
   * Smallest accepted height in pixels.
   */
  'min_height'?: (number);
  /**
   * Largest accepted height in pixels.
   */
  'max_height'?: (number);
  /**
   * Width and height must be multiples of this (16 for FLUX: VAE factor 8 times
   * 2x2 patch packing).
   */
  'size_multiple'?: (number);
  /**
   * Largest accepted width * height.
   */
  'max_pixels'?: (number | string | Long);
  /**
   * Fewest accepted denoising steps.
   */
  'min_steps'?: (number);
  /**
   * Most accepted denoising steps.
   */
  'max_steps'?: (number);
  /**
   * Smallest accepted guidance scale.
   */
  'min_guidance_scale'?: (number | string);
  /**
   * Largest accepted guidance scale.
   */
  'max_guidance_scale'?: (number | string);
  /**
   * Most images per request (`num_images`).
   */
  'max_images'?: (number);
  /**
   * Most reference images per request; 0 for text-only variants.
   */
  'max_reference_images'?: (number);
  /**
   * Prompt tokens kept by the main text encoder; longer prompts are truncated.
   */
  'max_prompt_tokens'?: (number);
}

/**
 * Limits a request must respect (inclusive bounds).
 */
export interface VariantLimits__Output {
  /**
   * Smallest accepted width in pixels.
   */
  'min_width': (number);
  /**
   * Largest accepted width in pixels.
   */
  'max_width': (number);
  /**
   * Smallest accepted height in pixels.
   */
  'min_height': (number);
  /**
   * Largest accepted height in pixels.
   */
  'max_height': (number);
  /**
   * Width and height must be multiples of this (16 for FLUX: VAE factor 8 times
   * 2x2 patch packing).
   */
  'size_multiple': (number);
  /**
   * Largest accepted width * height.
   */
  'max_pixels': (string);
  /**
   * Fewest accepted denoising steps.
   */
  'min_steps': (number);
  /**
   * Most accepted denoising steps.
   */
  'max_steps': (number);
  /**
   * Smallest accepted guidance scale.
   */
  'min_guidance_scale': (number);
  /**
   * Largest accepted guidance scale.
   */
  'max_guidance_scale': (number);
  /**
   * Most images per request (`num_images`).
   */
  'max_images': (number);
  /**
   * Most reference images per request; 0 for text-only variants.
   */
  'max_reference_images': (number);
  /**
   * Prompt tokens kept by the main text encoder; longer prompts are truncated.
   */
  'max_prompt_tokens': (number);
}
