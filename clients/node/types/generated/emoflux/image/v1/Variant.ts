// Original file: ../../protos/emoflux/image/v1/image.proto

import type { Capability as _emoflux_image_v1_Capability, Capability__Output as _emoflux_image_v1_Capability__Output } from '../../../emoflux/image/v1/Capability';
import type { VariantDefaults as _emoflux_image_v1_VariantDefaults, VariantDefaults__Output as _emoflux_image_v1_VariantDefaults__Output } from '../../../emoflux/image/v1/VariantDefaults';
import type { VariantLimits as _emoflux_image_v1_VariantLimits, VariantLimits__Output as _emoflux_image_v1_VariantLimits__Output } from '../../../emoflux/image/v1/VariantLimits';
import type { WeightsOrigin as _emoflux_image_v1_WeightsOrigin, WeightsOrigin__Output as _emoflux_image_v1_WeightsOrigin__Output } from '../../../emoflux/image/v1/WeightsOrigin';
import type { Adapter as _emoflux_image_v1_Adapter, Adapter__Output as _emoflux_image_v1_Adapter__Output } from '../../../emoflux/image/v1/Adapter';

/**
 * A model configuration the server can run.
 */
export interface Variant {
  /**
   * Unique name used in `GenerateRequest.variant`, e.g. "tiny", "flux-1-schnell".
   */
  'name'?: (string);
  /**
   * One-paragraph description for people.
   */
  'description'?: (string);
  /**
   * diffusers pipeline class, e.g. "FluxPipeline", "FluxKontextPipeline".
   */
  'pipeline_class'?: (string);
  /**
   * Hugging Face hub id of the checkpoint, e.g. "black-forest-labs/FLUX.1-schnell";
   * empty for embedded builtin models.
   */
  'hub_id'?: (string);
  /**
   * License of the weights (SPDX id or name), e.g. "apache-2.0".
   */
  'license'?: (string);
  /**
   * What the variant can do.
   */
  'capabilities'?: (_emoflux_image_v1_Capability)[];
  /**
   * Values used for options a request leaves unset.
   */
  'defaults'?: (_emoflux_image_v1_VariantDefaults | null);
  /**
   * Bounds requests must respect.
   */
  'limits'?: (_emoflux_image_v1_VariantLimits | null);
  /**
   * Backend that runs the transformer (see `GenerateResponse.backend`).
   */
  'backend'?: (string);
  /**
   * Whether the pipeline is loaded and can serve requests now.
   */
  'loaded'?: (boolean);
  /**
   * Where the weights come from.
   */
  'weights_origin'?: (_emoflux_image_v1_WeightsOrigin);
  /**
   * True when the weights are random (same as weights_origin ==
   * WEIGHTS_ORIGIN_RANDOM, repeated for clients that only check a flag).
   */
  'random_weights'?: (boolean);
  /**
   * The domain on which any published quality figure of these weights was
   * measured, e.g. "synthetic faces"; empty when none was measured.
   */
  'quality_domain'?: (string);
  /**
   * LoRA adapters loaded for this variant, sorted by name.
   */
  'adapters'?: (_emoflux_image_v1_Adapter)[];
}

/**
 * A model configuration the server can run.
 */
export interface Variant__Output {
  /**
   * Unique name used in `GenerateRequest.variant`, e.g. "tiny", "flux-1-schnell".
   */
  'name': (string);
  /**
   * One-paragraph description for people.
   */
  'description': (string);
  /**
   * diffusers pipeline class, e.g. "FluxPipeline", "FluxKontextPipeline".
   */
  'pipeline_class': (string);
  /**
   * Hugging Face hub id of the checkpoint, e.g. "black-forest-labs/FLUX.1-schnell";
   * empty for embedded builtin models.
   */
  'hub_id': (string);
  /**
   * License of the weights (SPDX id or name), e.g. "apache-2.0".
   */
  'license': (string);
  /**
   * What the variant can do.
   */
  'capabilities': (_emoflux_image_v1_Capability__Output)[];
  /**
   * Values used for options a request leaves unset.
   */
  'defaults': (_emoflux_image_v1_VariantDefaults__Output | null);
  /**
   * Bounds requests must respect.
   */
  'limits': (_emoflux_image_v1_VariantLimits__Output | null);
  /**
   * Backend that runs the transformer (see `GenerateResponse.backend`).
   */
  'backend': (string);
  /**
   * Whether the pipeline is loaded and can serve requests now.
   */
  'loaded': (boolean);
  /**
   * Where the weights come from.
   */
  'weights_origin': (_emoflux_image_v1_WeightsOrigin__Output);
  /**
   * True when the weights are random (same as weights_origin ==
   * WEIGHTS_ORIGIN_RANDOM, repeated for clients that only check a flag).
   */
  'random_weights': (boolean);
  /**
   * The domain on which any published quality figure of these weights was
   * measured, e.g. "synthetic faces"; empty when none was measured.
   */
  'quality_domain': (string);
  /**
   * LoRA adapters loaded for this variant, sorted by name.
   */
  'adapters': (_emoflux_image_v1_Adapter__Output)[];
}
