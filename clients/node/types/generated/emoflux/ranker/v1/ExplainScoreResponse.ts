// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Score as _emoflux_ranker_v1_Score, Score__Output as _emoflux_ranker_v1_Score__Output } from '../../../emoflux/ranker/v1/Score';
import type { Influence as _emoflux_ranker_v1_Influence, Influence__Output as _emoflux_ranker_v1_Influence__Output } from '../../../emoflux/ranker/v1/Influence';

/**
 * Response for RankerService.ExplainScore.
 */
export interface ExplainScoreResponse {
  /**
   * The current score.
   */
  'score'?: (_emoflux_ranker_v1_Score | null);
  /**
   * Records by decreasing absolute influence.
   */
  'influences'?: (_emoflux_ranker_v1_Influence)[];
}

/**
 * Response for RankerService.ExplainScore.
 */
export interface ExplainScoreResponse__Output {
  /**
   * The current score.
   */
  'score': (_emoflux_ranker_v1_Score__Output | null);
  /**
   * Records by decreasing absolute influence.
   */
  'influences': (_emoflux_ranker_v1_Influence__Output)[];
}
