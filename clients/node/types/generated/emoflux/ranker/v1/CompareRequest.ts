// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Request for RankerService.Compare.
 */
export interface CompareRequest {
  /**
   * First model id ("A" in rows).
   */
  'model_a'?: (string);
  /**
   * Second model id ("B" in rows); must differ from model_a.
   */
  'model_b'?: (string);
}

/**
 * Request for RankerService.Compare.
 */
export interface CompareRequest__Output {
  /**
   * First model id ("A" in rows).
   */
  'model_a': (string);
  /**
   * Second model id ("B" in rows); must differ from model_a.
   */
  'model_b': (string);
}
