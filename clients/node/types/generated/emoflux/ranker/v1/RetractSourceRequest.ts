// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.RetractSource.
 */
export interface RetractSourceRequest {
  /**
   * The `Evidence.source_ref` to retract.
   */
  'source_ref'?: (string);
  /**
   * Why, kept with the retraction.
   */
  'reason'?: (string);
}

/**
 * Request for RankerService.RetractSource.
 */
export interface RetractSourceRequest__Output {
  /**
   * The `Evidence.source_ref` to retract.
   */
  'source_ref': (string);
  /**
   * Why, kept with the retraction.
   */
  'reason': (string);
}
