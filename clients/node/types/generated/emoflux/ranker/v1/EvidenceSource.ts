// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

/**
 * How a piece of evidence was obtained.
 */
export const EvidenceSource = {
  /**
   * Not given. SubmitEvidence stores it as EVIDENCE_SOURCE_SUBMITTED.
   */
  EVIDENCE_SOURCE_UNSPECIFIED: 'EVIDENCE_SOURCE_UNSPECIFIED',
  /**
   * Read from the curated catalog (model cards, published figures).
   */
  EVIDENCE_SOURCE_CATALOG: 'EVIDENCE_SOURCE_CATALOG',
  /**
   * Measured by a live probe of a served model.
   */
  EVIDENCE_SOURCE_PROBE: 'EVIDENCE_SOURCE_PROBE',
  /**
   * Submitted by a client through SubmitEvidence.
   */
  EVIDENCE_SOURCE_SUBMITTED: 'EVIDENCE_SOURCE_SUBMITTED',
  /**
   * Outcome of a head-to-head match between two models.
   */
  EVIDENCE_SOURCE_MATCH: 'EVIDENCE_SOURCE_MATCH',
  /**
   * Imported from an external data source (hub download and like counts).
   */
  EVIDENCE_SOURCE_IMPORTED: 'EVIDENCE_SOURCE_IMPORTED',
} as const;

/**
 * How a piece of evidence was obtained.
 */
export type EvidenceSource =
  /**
   * Not given. SubmitEvidence stores it as EVIDENCE_SOURCE_SUBMITTED.
   */
  | 'EVIDENCE_SOURCE_UNSPECIFIED'
  | 0
  /**
   * Read from the curated catalog (model cards, published figures).
   */
  | 'EVIDENCE_SOURCE_CATALOG'
  | 1
  /**
   * Measured by a live probe of a served model.
   */
  | 'EVIDENCE_SOURCE_PROBE'
  | 2
  /**
   * Submitted by a client through SubmitEvidence.
   */
  | 'EVIDENCE_SOURCE_SUBMITTED'
  | 3
  /**
   * Outcome of a head-to-head match between two models.
   */
  | 'EVIDENCE_SOURCE_MATCH'
  | 4
  /**
   * Imported from an external data source (hub download and like counts).
   */
  | 'EVIDENCE_SOURCE_IMPORTED'
  | 5

/**
 * How a piece of evidence was obtained.
 */
export type EvidenceSource__Output = typeof EvidenceSource[keyof typeof EvidenceSource]
