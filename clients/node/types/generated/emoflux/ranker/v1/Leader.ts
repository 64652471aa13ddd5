// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

/**
 * Which side of a comparison row is ahead.
 */
export const Leader = {
  /**
   * Not computed.
   */
  LEADER_UNSPECIFIED: 'LEADER_UNSPECIFIED',
  /**
   * model_a is ahead.
   */
  LEADER_A: 'LEADER_A',
  /**
   * model_b is ahead.
   */
  LEADER_B: 'LEADER_B',
  /**
   * Both are equal.
   */
  LEADER_TIE: 'LEADER_TIE',
  /**
   * Not comparable (a value is missing on one or both sides, or the row is
   * informational).
   */
  LEADER_NONE: 'LEADER_NONE',
} as const;

/**
 * Which side of a comparison row is ahead.
 */
export type Leader =
  /**
   * Not computed.
   */
  | 'LEADER_UNSPECIFIED'
  | 0
  /**
   * model_a is ahead.
   */
  | 'LEADER_A'
  | 1
  /**
   * model_b is ahead.
   */
  | 'LEADER_B'
  | 2
  /**
   * Both are equal.
   */
  | 'LEADER_TIE'
  | 3
  /**
   * Not comparable (a value is missing on one or both sides, or the row is
   * informational).
   */
  | 'LEADER_NONE'
  | 4

/**
 * Which side of a comparison row is ahead.
 */
export type Leader__Output = typeof Leader[keyof typeof Leader]
