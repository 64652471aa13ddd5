// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * One leaderboard row.
 */
export interface LeaderboardEntry {
  /**
   * 1-based rank; models with equal scores share a rank.
   */
  'rank'?: (number);
  /**
   * Model id.
   */
  'model_id'?: (string);
  /**
   * Score in [0, 100].
   */
  'score'?: (number | string);
  /**
   * Lower end of the uncertainty interval.
   */
  'low'?: (number | string);
  /**
   * Upper end of the uncertainty interval.
   */
  'high'?: (number | string);
  /**
   * Display name of the model.
   */
  'display_name'?: (string);
}

/**
 * One leaderboard row.
 */
export interface LeaderboardEntry__Output {
  /**
   * 1-based rank; models with equal scores share a rank.
   */
  'rank': (number);
  /**
   * Model id.
   */
  'model_id': (string);
  /**
   * Score in [0, 100].
   */
  'score': (number);
  /**
   * Lower end of the uncertainty interval.
   */
  'low': (number);
  /**
   * Upper end of the uncertainty interval.
   */
  'high': (number);
  /**
   * Display name of the model.
   */
  'display_name': (string);
}
