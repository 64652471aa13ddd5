// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

/**
 * Where the weights of a model come from.
 */
export const WeightsOrigin = {
  /**
   * Not known (typical for third-party models known only from the catalog).
   */
  WEIGHTS_ORIGIN_UNSPECIFIED: 'WEIGHTS_ORIGIN_UNSPECIFIED',
  /**
   * Randomly initialised weights; outputs carry no meaning.
   */
  WEIGHTS_ORIGIN_RANDOM: 'WEIGHTS_ORIGIN_RANDOM',
  /**
   * Weights trained by this project on synthetic data.
   */
  WEIGHTS_ORIGIN_SYNTHETIC_TRAINED: 'WEIGHTS_ORIGIN_SYNTHETIC_TRAINED',
  /**
   * A published pretrained checkpoint.
   */
  WEIGHTS_ORIGIN_PRETRAINED: 'WEIGHTS_ORIGIN_PRETRAINED',
} as const;

/**
 * Where the weights of a model come from.
 */
export type WeightsOrigin =
  /**
   * Not known (typical for third-party models known only from the catalog).
   */
  | 'WEIGHTS_ORIGIN_UNSPECIFIED'
  | 0
  /**
   * Randomly initialised weights; outputs carry no meaning.
   */
  | 'WEIGHTS_ORIGIN_RANDOM'
  | 1
  /**
   * Weights trained by this project on synthetic data.
   */
  | 'WEIGHTS_ORIGIN_SYNTHETIC_TRAINED'
  | 2
  /**
   * A published pretrained checkpoint.
   */
  | 'WEIGHTS_ORIGIN_PRETRAINED'
  | 3

/**
 * Where the weights of a model come from.
 */
export type WeightsOrigin__Output = typeof WeightsOrigin[keyof typeof WeightsOrigin]
