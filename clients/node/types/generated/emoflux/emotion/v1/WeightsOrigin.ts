// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

/**
 * Where the served weights come from. Every response that carries scores says which
 * kind of weights produced them, so that nobody mistakes a random or synthetic model
 * for a real one.
 */
export const WeightsOrigin = {
  /**
   * Not reported (an older server); treat as unknown.
   */
  WEIGHTS_ORIGIN_UNSPECIFIED: 'WEIGHTS_ORIGIN_UNSPECIFIED',
  /**
   * Randomly initialised weights (deterministic seed). Outputs are meaningless; such
   * models exist for speed measurements, where the weights do not matter.
   */
  WEIGHTS_ORIGIN_RANDOM: 'WEIGHTS_ORIGIN_RANDOM',
  /**
   * Weights trained by this project on synthetic, procedurally drawn expressive
   * faces. Quality figures hold only on that domain (see `quality_domain`).
   */
  WEIGHTS_ORIGIN_SYNTHETIC_TRAINED: 'WEIGHTS_ORIGIN_SYNTHETIC_TRAINED',
  /**
   * A published pretrained checkpoint (named in `BundleProvenance.source`).
   */
  WEIGHTS_ORIGIN_PRETRAINED: 'WEIGHTS_ORIGIN_PRETRAINED',
} as const;

/**
 * Where the served weights come from. Every response that carries scores says which
 * kind of weights produced them, so that nobody mistakes a random or synthetic model
 * for a real one.
 */
export type WeightsOrigin =
  /**
   * Not reported (an older server); treat as unknown.
   */
  | 'WEIGHTS_ORIGIN_UNSPECIFIED'
  | 0
  /**
   * Randomly initialised weights (deterministic seed). Outputs are meaningless; such
   * models exist for speed measurements, where the weights do not matter.
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
   * A published pretrained checkpoint (named in `BundleProvenance.source`).
   */
  | 'WEIGHTS_ORIGIN_PRETRAINED'
  | 3

/**
 * Where the served weights come from. Every response that carries scores says which
 * kind of weights produced them, so that nobody mistakes a random or synthetic model
 * for a real one.
 */
export type WeightsOrigin__Output = typeof WeightsOrigin[keyof typeof WeightsOrigin]
