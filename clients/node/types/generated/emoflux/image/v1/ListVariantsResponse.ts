// Original file: ../../protos/emoflux/image/v1/image.proto

import type { Variant as _emoflux_image_v1_Variant, Variant__Output as _emoflux_image_v1_Variant__Output } from '../../../emoflux/image/v1/Variant';

/**
 * Response for ImageService.ListVariants.
 */
export interface ListVariantsResponse {
  /**
   * All variants, sorted by name.
   */
  'variants'?: (_emoflux_image_v1_Variant)[];
  /**
   * Name of the variant used when `GenerateRequest.variant` is empty.
   */
  'default_variant'?: (string);
}

/**
 * Response for ImageService.ListVariants.
 */
export interface ListVariantsResponse__Output {
  /**
   * All variants, sorted by name.
   */
  'variants': (_emoflux_image_v1_Variant__Output)[];
  /**
   * Name of the variant used when `GenerateRequest.variant` is empty.
   */
  'default_variant': (string);
}
