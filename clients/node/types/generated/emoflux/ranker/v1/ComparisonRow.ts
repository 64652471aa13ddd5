// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Leader as _emoflux_ranker_v1_Leader, Leader__Output as _emoflux_ranker_v1_Leader__Output } from '../../../emoflux/ranker/v1/Leader';

/**
 * One row of a comparison table.
 */
export interface ComparisonRow {
  /**
   * Row name, e.g. "Quality", "Text to image", "License".
   */
  'name'?: (string);
  /**
   * model_a's value as display text, e.g. "0.82", "yes", "apache-2.0"; "—" when
   * missing.
   */
  'value_a'?: (string);
  /**
   * model_b's value as display text.
   */
  'value_b'?: (string);
  /**
   * Which side is ahead on this row.
   */
  'leader'?: (_emoflux_ranker_v1_Leader);
}

/**
 * One row of a comparison table.
 */
export interface ComparisonRow__Output {
  /**
   * Row name, e.g. "Quality", "Text to image", "License".
   */
  'name': (string);
  /**
   * model_a's value as display text, e.g. "0.82", "yes", "apache-2.0"; "—" when
   * missing.
   */
  'value_a': (string);
  /**
   * model_b's value as display text.
   */
  'value_b': (string);
  /**
   * Which side is ahead on this row.
   */
  'leader': (_emoflux_ranker_v1_Leader__Output);
}
