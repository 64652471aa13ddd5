// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.GetScore.
 */
export interface GetScoreRequest {
  /**
   * Model id.
   */
  'model_id'?: (string);
}

/**
 * Request for RankerService.GetScore.
 */
export interface GetScoreRequest__Output {
  /**
   * Model id.
   */
  'model_id': (string);
}
