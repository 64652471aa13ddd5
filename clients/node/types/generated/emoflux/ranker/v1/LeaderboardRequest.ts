// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.Leaderboard.
 */
export interface LeaderboardRequest {
  /**
   * Only models with this artifact type; "" (default) ranks all models together.
   */
  'artifact_type'?: (string);
  /**
   * Most entries to return; 0 (default) returns all.
   */
  'limit'?: (number);
}

/**
 * Request for RankerService.Leaderboard.
 */
export interface LeaderboardRequest__Output {
  /**
   * Only models with this artifact type; "" (default) ranks all models together.
   */
  'artifact_type': (string);
  /**
   * Most entries to return; 0 (default) returns all.
   */
  'limit': (number);
}
