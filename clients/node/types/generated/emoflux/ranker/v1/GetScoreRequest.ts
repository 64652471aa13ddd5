// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.GetScore.
 */
export interface GetScoreRequest {
  /**
   * Model id.
   */
  'model_id'?: (string);
  /**
   * Date "YYYY-MM-DD": the score from the evidence observed by the end of that
   * day (UTC), freshness measured at that day. Empty (default): now. A malformed
   * or future date is INVALID_ARGUMENT.
   */
  'as_of'?: (string);
}

/**
 * Request for RankerService.GetScore.
 */
export interface GetScoreRequest__Output {
  /**
   * Model id.
   */
  'model_id': (string);
  /**
   * Date "YYYY-MM-DD": the score from the evidence observed by the end of that
   * day (UTC), freshness measured at that day. Empty (default): now. A malformed
   * or future date is INVALID_ARGUMENT.
   */
  'as_of': (string);
}
