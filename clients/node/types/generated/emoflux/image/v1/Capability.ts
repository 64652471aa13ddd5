// Original file: ../../protos/emoflux/image/v1/image.proto

/**
 * Something a variant can do.
 */
export const Capability = {
  /**
   * Not a capability; never listed.
   */
  CAPABILITY_UNSPECIFIED: 'CAPABILITY_UNSPECIFIED',
  /**
   * Generates an image from a text prompt alone.
   */
  CAPABILITY_TEXT_TO_IMAGE: 'CAPABILITY_TEXT_TO_IMAGE',
  /**
   * Edits one reference image as the prompt instructs (e.g. FLUX.1 Kontext):
   * accepts exactly one entry in `reference_images`.
   */
  CAPABILITY_IMAGE_EDITING: 'CAPABILITY_IMAGE_EDITING',
  /**
   * Conditions on several reference images at once (e.g. FLUX.2): accepts up to
   * `VariantLimits.max_reference_images` entries.
   */
  CAPABILITY_MULTI_REFERENCE: 'CAPABILITY_MULTI_REFERENCE',
  /**
   * Guidance is an embedded input of a guidance-distilled model (e.g. FLUX.1-dev):
   * one transformer pass per step, `negative_prompt` not supported.
   */
  CAPABILITY_GUIDANCE_DISTILLED: 'CAPABILITY_GUIDANCE_DISTILLED',
  /**
   * Designed for few steps (e.g. FLUX.1-schnell, 1 to 4 steps, guidance 0).
   */
  CAPABILITY_FEW_STEP: 'CAPABILITY_FEW_STEP',
  /**
   * Image-to-image with `strength`: the first reference image is noised to
   * `strength` and denoised towards the prompt.
   */
  CAPABILITY_IMAGE_TO_IMAGE: 'CAPABILITY_IMAGE_TO_IMAGE',
  /**
   * True classifier-free guidance with a `negative_prompt` (two transformer passes
   * per step).
   */
  CAPABILITY_NEGATIVE_PROMPT: 'CAPABILITY_NEGATIVE_PROMPT',
  /**
   * Repaints the white region of `GenerateRequest.mask` in the one reference
   * image and keeps the rest (FluxInpaintPipeline for ordinary FLUX weights,
   * FluxFillPipeline for FLUX.1 Fill).
   */
  CAPABILITY_INPAINTING: 'CAPABILITY_INPAINTING',
} as const;

/**
 * Something a variant can do.
 */
export type Capability =
  /**
   * Not a capability; never listed.
   */
  | 'CAPABILITY_UNSPECIFIED'
  | 0
  /**
   * Generates an image from a text prompt alone.
   */
  | 'CAPABILITY_TEXT_TO_IMAGE'
  | 1
  /**
   * Edits one reference image as the prompt instructs (e.g. FLUX.1 Kontext):
   * accepts exactly one entry in `reference_images`.
   */
  | 'CAPABILITY_IMAGE_EDITING'
  | 2
  /**
   * Conditions on several reference images at once (e.g. FLUX.2): accepts up to
   * `VariantLimits.max_reference_images` entries.
   */
  | 'CAPABILITY_MULTI_REFERENCE'
  | 3
  /**
   * Guidance is an embedded input of a guidance-distilled model (e.g. FLUX.1-dev):
   * one transformer pass per step, `negative_prompt` not supported.
   */
  | 'CAPABILITY_GUIDANCE_DISTILLED'
  | 4
  /**
   * Designed for few steps (e.g. FLUX.1-schnell, 1 to 4 steps, guidance 0).
   */
  | 'CAPABILITY_FEW_STEP'
  | 5
  /**
   * Image-to-image with `strength`: the first reference image is noised to
   * `strength` and denoised towards the prompt.
   */
  | 'CAPABILITY_IMAGE_TO_IMAGE'
  | 6
  /**
   * True classifier-free guidance with a `negative_prompt` (two transformer passes
   * per step).
   */
  | 'CAPABILITY_NEGATIVE_PROMPT'
  | 7
  /**
   * Repaints the white region of `GenerateRequest.mask` in the one reference
   * image and keeps the rest (FluxInpaintPipeline for ordinary FLUX weights,
   * FluxFillPipeline for FLUX.1 Fill).
   */
  | 'CAPABILITY_INPAINTING'
  | 8

/**
 * Something a variant can do.
 */
export type Capability__Output = typeof Capability[keyof typeof Capability]
