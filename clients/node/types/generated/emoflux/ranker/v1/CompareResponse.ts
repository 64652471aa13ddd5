// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Score as _emoflux_ranker_v1_Score, Score__Output as _emoflux_ranker_v1_Score__Output } from '../../../emoflux/ranker/v1/Score';
import type { ComparisonRow as _emoflux_ranker_v1_ComparisonRow, ComparisonRow__Output as _emoflux_ranker_v1_ComparisonRow__Output } from '../../../emoflux/ranker/v1/ComparisonRow';

/**
 * Response for RankerService.Compare.
 */
export interface CompareResponse {
  /**
   * model_a's score.
   */
  'score_a'?: (_emoflux_ranker_v1_Score | null);
  /**
   * model_b's score.
   */
  'score_b'?: (_emoflux_ranker_v1_Score | null);
  /**
   * Comparison rows: score components first, then capabilities, then facts.
   */
  'rows'?: (_emoflux_ranker_v1_ComparisonRow)[];
  /**
   * Id of the model with the higher score, or "" when the scores tie (their
   * intervals overlap and the difference is under 1 point).
   */
  'winner'?: (string);
  /**
   * One sentence explaining the outcome, e.g. "flux-1-pro leads on quality and
   * adoption; the margin is within the uncertainty."
   */
  'verdict'?: (string);
  /**
   * Short title, e.g. "FLUX.1 [pro] vs FLUX.1 [schnell]".
   */
  'headline'?: (string);
}

/**
 * Response for RankerService.Compare.
 */
export interface CompareResponse__Output {
  /**
   * model_a's score.
   */
  'score_a': (_emoflux_ranker_v1_Score__Output | null);
  /**
   * model_b's score.
   */
  'score_b': (_emoflux_ranker_v1_Score__Output | null);
  /**
   * Comparison rows: score components first, then capabilities, then facts.
   */
  'rows': (_emoflux_ranker_v1_ComparisonRow__Output)[];
  /**
   * Id of the model with the higher score, or "" when the scores tie (their
   * intervals overlap and the difference is under 1 point).
   */
  'winner': (string);
  /**
   * One sentence explaining the outcome, e.g. "flux-1-pro leads on quality and
   * adoption; the margin is within the uncertainty."
   */
  'verdict': (string);
  /**
   * Short title, e.g. "FLUX.1 [pro] vs FLUX.1 [schnell]".
   */
  'headline': (string);
}
