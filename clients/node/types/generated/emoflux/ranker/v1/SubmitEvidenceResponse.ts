// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Response for RankerService.SubmitEvidence.
 */
export interface SubmitEvidenceResponse {
  /**
   * Number of records stored (all of them).
   */
  'accepted'?: (number);
}

/**
 * Response for RankerService.SubmitEvidence.
 */
export interface SubmitEvidenceResponse__Output {
  /**
   * Number of records stored (all of them).
   */
  'accepted': (number);
}
