// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Evidence as _emoflux_ranker_v1_Evidence, Evidence__Output as _emoflux_ranker_v1_Evidence__Output } from '../../../emoflux/ranker/v1/Evidence';

/**
 * Request for RankerService.SubmitEvidence.
 */
export interface SubmitEvidenceRequest {
  /**
   * Records to store, 1 to 1000.
   */
  'evidence'?: (_emoflux_ranker_v1_Evidence)[];
}

/**
 * Request for RankerService.SubmitEvidence.
 */
export interface SubmitEvidenceRequest__Output {
  /**
   * Records to store, 1 to 1000.
   */
  'evidence': (_emoflux_ranker_v1_Evidence__Output)[];
}
