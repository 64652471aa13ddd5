// Original file: ../../protos/emoflux/ranker/v1/ranker.proto


/**
 * Where a claimed capability comes from.
 */
export interface Provenance {
  /**
   * Where the claim was found: a URL, a paper, "model card", "probe:<name>", ...
   */
  'source'?: (string);
  /**
   * Date of the source, ISO 8601 "YYYY-MM-DD"; empty when unknown.
   */
  'date'?: (string);
}

/**
 * Where a claimed capability comes from.
 */
export interface Provenance__Output {
  /**
   * Where the claim was found: a URL, a paper, "model card", "probe:<name>", ...
   */
  'source': (string);
  /**
   * Date of the source, ISO 8601 "YYYY-MM-DD"; empty when unknown.
   */
  'date': (string);
}
