// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Response for RankerService.RetractSource.
 */
export interface RetractSourceResponse {
  /**
   * Records of the source that no longer count.
   */
  'records'?: (number);
}

/**
 * Response for RankerService.RetractSource.
 */
export interface RetractSourceResponse__Output {
  /**
   * Records of the source that no longer count.
   */
  'records': (number);
}
