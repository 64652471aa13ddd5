// Original file: ../../protos/emoflux/image/v1/image.proto

/**
 * Where a variant's weights come from. Every response says it, so that nobody
 * mistakes a random or synthetic model for a real one.
 */
export const WeightsOrigin = {
  /**
   * Not reported (an older server); treat as unknown.
   */
  WEIGHTS_ORIGIN_UNSPECIFIED: 'WEIGHTS_ORIGIN_UNSPECIFIED',
  /**
   * Randomly initialised weights (deterministic seed). Images are noise-like; such
   * pipelines exist for speed measurements and plumbing tests.
   */
  WEIGHTS_ORIGIN_RANDOM: 'WEIGHTS_ORIGIN_RANDOM',
  /**
   * Weights trained by this project on synthetic, procedurally drawn expressive
   * faces. Quality figures hold only on that domain (see `quality_domain`).
   */
  WEIGHTS_ORIGIN_SYNTHETIC_TRAINED: 'WEIGHTS_ORIGIN_SYNTHETIC_TRAINED',
  /**
   * A published pretrained checkpoint (see `Variant.hub_id`).
   */
  WEIGHTS_ORIGIN_PRETRAINED: 'WEIGHTS_ORIGIN_PRETRAINED',
} as const;

/**
 * Where a variant's weights come from. Every response says it, so that nobody
 * mistakes a random or synthetic model for a real one.
 */
export type WeightsOrigin =
  /**
   * Not reported (an older server); treat as unknown.
   */
  | 'WEIGHTS_ORIGIN_UNSPECIFIED'
  | 0
  /**
   * Randomly initialised weights (deterministic seed). Images are noise-like; such
   * pipelines exist for speed measurements and plumbing tests.
   */
  | 'WEIGHTS_ORIGIN_RANDOM'
  | 1
  /**
   * Weights trained by this project on synthetic, procedurally drawn expressive
   * faces. Quality figures hold only on that domain (see `quality_domain`).
   */
  | 'WEIGHTS_ORIGIN_SYNTHETIC_TRAINED'
  | 2
  /**
   * A published pretrained checkpoint (see `Variant.hub_id`).
   */
  | 'WEIGHTS_ORIGIN_PRETRAINED'
  | 3

/**
 * Where a variant's weights come from. Every response says it, so that nobody
 * mistakes a random or synthetic model for a real one.
 */
export type WeightsOrigin__Output = typeof WeightsOrigin[keyof typeof WeightsOrigin]
