// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Score as _emoflux_ranker_v1_Score, Score__Output as _emoflux_ranker_v1_Score__Output } from '../../../emoflux/ranker/v1/Score';

/**
 * Response for RankerService.GetScoreHistory.
 */
export interface GetScoreHistoryResponse {
  /**
   * Scores as computed, oldest first; `updated_at` is when each was computed.
   */
  'scores'?: (_emoflux_ranker_v1_Score)[];
}

/**
 * Response for RankerService.GetScoreHistory.
 */
export interface GetScoreHistoryResponse__Output {
  /**
   * Scores as computed, oldest first; `updated_at` is when each was computed.
   */
  'scores': (_emoflux_ranker_v1_Score__Output)[];
}
