// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../google/protobuf/Timestamp';

/**
 * Counts of the evidence recorded about a model.
 */
export interface EvidenceSummary {
  /**
   * Records from the catalog.
   */
  'catalog_count'?: (number);
  /**
   * Records from live probes.
   */
  'probe_count'?: (number);
  /**
   * Records submitted through SubmitEvidence.
   */
  'submitted_count'?: (number);
  /**
   * Records from head-to-head matches.
   */
  'match_count'?: (number);
  /**
   * All records (the sum of the counts above).
   */
  'total_count'?: (number);
  /**
   * Observation time of the newest record; unset when there is none.
   */
  'last_updated'?: (_google_protobuf_Timestamp | null);
  /**
   * Records imported from external data (also counted in total_count).
   */
  'imported_count'?: (number);
}

/**
 * Counts of the evidence recorded about a model.
 */
export interface EvidenceSummary__Output {
  /**
   * Records from the catalog.
   */
  'catalog_count': (number);
  /**
   * Records from live probes.
   */
  'probe_count': (number);
  /**
   * Records submitted through SubmitEvidence.
   */
  'submitted_count': (number);
  /**
   * Records from head-to-head matches.
   */
  'match_count': (number);
  /**
   * All records (the sum of the counts above).
   */
  'total_count': (number);
  /**
   * Observation time of the newest record; unset when there is none.
   */
  'last_updated': (_google_protobuf_Timestamp__Output | null);
  /**
   * Records imported from external data (also counted in total_count).
   */
  'imported_count': (number);
}
