// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * One weighted part of a score.
 */
export interface Component {
  /**
   * Component name, e.g. "adoption", "quality", "ecosystem", "match_graph",
   * "freshness".
   */
  'name'?: (string);
  /**
   * Component value in [0, 1].
   */
  'value'?: (number | string);
  /**
   * Weight of the component in the score; the weights of a score sum to 1.
   */
  'weight'?: (number | string);
  /**
   * Number of evidence records the value was computed from.
   */
  'evidence_count'?: (number);
  /**
   * True when there was no evidence and the value is the documented prior.
   */
  'from_prior'?: (boolean);
}

/**
 * One weighted part of a score.
 */
export interface Component__Output {
  /**
   * Component name, e.g. "adoption", "quality", "ecosystem", "match_graph",
   * "freshness".
   */
  'name': (string);
  /**
   * Component value in [0, 1].
   */
  'value': (number);
  /**
   * Weight of the component in the score; the weights of a score sum to 1.
   */
  'weight': (number);
  /**
   * Number of evidence records the value was computed from.
   */
  'evidence_count': (number);
  /**
   * True when there was no evidence and the value is the documented prior.
   */
  'from_prior': (boolean);
}
