// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Score as _emoflux_ranker_v1_Score, Score__Output as _emoflux_ranker_v1_Score__Output } from '../../../emoflux/ranker/v1/Score';

/**
 * Response for RankerService.GetScore.
 */
export interface GetScoreResponse {
  /**
   * The score.
   */
  'score'?: (_emoflux_ranker_v1_Score | null);
}

/**
 * Response for RankerService.GetScore.
 */
export interface GetScoreResponse__Output {
  /**
   * The score.
   */
  'score': (_emoflux_ranker_v1_Score__Output | null);
}
