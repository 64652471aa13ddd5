// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.GetScoreHistory.
 */
export interface GetScoreHistoryRequest {
  /**
   * Model id.
   */
  'model_id'?: (string);
}

/**
 * Request for RankerService.GetScoreHistory.
 */
export interface GetScoreHistoryRequest__Output {
  /**
   * Model id.
   */
  'model_id': (string);
}
