// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Provenance as _emoflux_ranker_v1_Provenance, Provenance__Output as _emoflux_ranker_v1_Provenance__Output } from '../../../emoflux/ranker/v1/Provenance';

/**
 * One capability of a model.
 */
export interface Capability {
  /**
   * Stable capability id, lower-case slug, e.g. "text-to-image",
   * "emotion-classification", "multi-reference".
   */
  'id'?: (string);
  /**
   * Display name, e.g. "Text to image".
   */
  'name'?: (string);
  /**
   * One-sentence description of what the capability means for this model.
   */
  'description'?: (string);
  /**
   * Where the capability claim comes from.
   */
  'provenance'?: (_emoflux_ranker_v1_Provenance | null);
  /**
   * Number of evidence records about this capability.
   */
  'evidence_count'?: (number);
  /**
   * True when at least one live probe has exercised this capability.
   */
  'probed'?: (boolean);
}

/**
 * One capability of a model.
 */
export interface Capability__Output {
  /**
   * Stable capability id, lower-case slug, e.g. "text-to-image",
   * "emotion-classification", "multi-reference".
   */
  'id': (string);
  /**
   * Display name, e.g. "Text to image".
   */
  'name': (string);
  /**
   * One-sentence description of what the capability means for this model.
   */
  'description': (string);
  /**
   * Where the capability claim comes from.
   */
  'provenance': (_emoflux_ranker_v1_Provenance__Output | null);
  /**
   * Number of evidence records about this capability.
   */
  'evidence_count': (number);
  /**
   * True when at least one live probe has exercised this capability.
   */
  'probed': (boolean);
}
