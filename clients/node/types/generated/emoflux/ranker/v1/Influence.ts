// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Evidence as _emoflux_ranker_v1_Evidence, Evidence__Output as _emoflux_ranker_v1_Evidence__Output } from '../../../emoflux/ranker/v1/Evidence';

/**
 * How much one record moved a score.
 */
export interface Influence {
  /**
   * The record.
   */
  'evidence'?: (_emoflux_ranker_v1_Evidence | null);
  /**
   * Score with the record minus score without it, in points.
   */
  'delta'?: (number | string);
  /**
   * Component the record feeds.
   */
  'component'?: (string);
}

/**
 * How much one record moved a score.
 */
export interface Influence__Output {
  /**
   * The record.
   */
  'evidence': (_emoflux_ranker_v1_Evidence__Output | null);
  /**
   * Score with the record minus score without it, in points.
   */
  'delta': (number);
  /**
   * Component the record feeds.
   */
  'component': (string);
}
