// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Component as _emoflux_ranker_v1_Component, Component__Output as _emoflux_ranker_v1_Component__Output } from '../../../emoflux/ranker/v1/Component';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../google/protobuf/Timestamp';

/**
 * A model's score.
 */
export interface Score {
  /**
   * Model id.
   */
  'model_id'?: (string);
  /**
   * Score in [0, 100]: 100 * the weighted sum of the component values.
   */
  'score'?: (number | string);
  /**
   * Lower end of the uncertainty interval, in [0, score].
   */
  'low'?: (number | string);
  /**
   * Upper end of the uncertainty interval, in [score, 100].
   */
  'high'?: (number | string);
  /**
   * The components, in a fixed documented order.
   */
  'components'?: (_emoflux_ranker_v1_Component)[];
  /**
   * When the score was computed.
   */
  'updated_at'?: (_google_protobuf_Timestamp | null);
}

/**
 * A model's score.
 */
export interface Score__Output {
  /**
   * Model id.
   */
  'model_id': (string);
  /**
   * Score in [0, 100]: 100 * the weighted sum of the component values.
   */
  'score': (number);
  /**
   * Lower end of the uncertainty interval, in [0, score].
   */
  'low': (number);
  /**
   * Upper end of the uncertainty interval, in [score, 100].
   */
  'high': (number);
  /**
   * The components, in a fixed documented order.
   */
  'components': (_emoflux_ranker_v1_Component__Output)[];
  /**
   * When the score was computed.
   */
  'updated_at': (_google_protobuf_Timestamp__Output | null);
}
