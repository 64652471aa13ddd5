// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.ExplainScore.
 */
export interface ExplainScoreRequest {
  /**
   * Model id.
   */
  'model_id'?: (string);
  /**
   * Most records to return, 0 to 100; 0 (default) means 5.
   */
  'limit'?: (number);
}

/**
 * Request for RankerService.ExplainScore.
 */
export interface ExplainScoreRequest__Output {
  /**
   * Model id.
   */
  'model_id': (string);
  /**
   * Most records to return, 0 to 100; 0 (default) means 5.
   */
  'limit': (number);
}
