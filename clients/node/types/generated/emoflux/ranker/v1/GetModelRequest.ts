// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.GetModel.
 */
export interface GetModelRequest {
  /**
   * Model id.
   */
  'model_id'?: (string);
}

/**
 * Request for RankerService.GetModel.
 */
export interface GetModelRequest__Output {
  /**
   * Model id.
   */
  'model_id': (string);
}
