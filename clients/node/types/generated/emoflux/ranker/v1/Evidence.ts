// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from '../../../google/protobuf/Timestamp';
import type { EvidenceSource as _emoflux_ranker_v1_EvidenceSource, EvidenceSource__Output as _emoflux_ranker_v1_EvidenceSource__Output } from '../../../emoflux/ranker/v1/EvidenceSource';

/**
 * A single observation about a model.
 */
export interface Evidence {
  /**
   * Model id the observation is about.
   */
  'model_id'?: (string);
  /**
   * Capability id the observation is about (see `Capability.id`).
   */
  'capability'?: (string);
  /**
   * Name of the probe or measurement, e.g. "emotion-accuracy-synthetic",
   * "latency-p50"; free text for submitted evidence.
   */
  'probe'?: (string);
  /**
   * Measured value in `unit`; must be finite.
   */
  'value'?: (number | string);
  /**
   * Unit of `value`, e.g. "fraction", "seconds", "images/s", "count".
   */
  'unit'?: (string);
  /**
   * Whether the observation met the probe's pass criterion.
   */
  'passed'?: (boolean);
  /**
   * When the observation was made; unset on submission means "now".
   */
  'observed_at'?: (_google_protobuf_Timestamp | null);
  /**
   * How the observation was obtained.
   */
  'source'?: (_emoflux_ranker_v1_EvidenceSource);
  /**
   * Version of the service that was observed (for probes), e.g. "emoflux 0.1.0".
   */
  'service_version'?: (string);
  /**
   * True when the observed model had random weights (the observation then says
   * nothing about quality and the scorer ignores it for quality).
   */
  'random_weights'?: (boolean);
  /**
   * Free-form details (e.g. the request options used), at most 4096 bytes.
   */
  'detail'?: (string);
  /**
   * External source the record was imported from, e.g.
   * "huggingface:dima806/facial_emotions_image_detection" or "pairwise:arena";
   * empty for probes. A submission may set it (at most 200 bytes) so that its
   * records can be retracted together. RetractSource takes this value.
   */
  'source_ref'?: (string);
  /**
   * Output only (ignored in SubmitEvidence): who stored the record, e.g.
   * "token:ci-importer", "certificate:ingest-bot", "local:alice" (a ranker
   * command on its host), "ranker" (its schedule); empty for records stored
   * before the store kept it.
   */
  'submitted_by'?: (string);
  /**
   * Output only: how it was stored, e.g. "SubmitEvidence", "Evaluate",
   * "AddModel", "ranker import-pairwise", "schedule".
   */
  'submitted_via'?: (string);
  /**
   * Output only: when the ranker stored it.
   */
  'submitted_at'?: (_google_protobuf_Timestamp | null);
}

/**
 * A single observation about a model.
 */
export interface Evidence__Output {
  /**
   * Model id the observation is about.
   */
  'model_id': (string);
  /**
   * Capability id the observation is about (see `Capability.id`).
   */
  'capability': (string);
  /**
   * Name of the probe or measurement, e.g. "emotion-accuracy-synthetic",
   * "latency-p50"; free text for submitted evidence.
   */
  'probe': (string);
  /**
   * Measured value in `unit`; must be finite.
   */
  'value': (number);
  /**
   * Unit of `value`, e.g. "fraction", "seconds", "images/s", "count".
   */
  'unit': (string);
  /**
   * Whether the observation met the probe's pass criterion.
   */
  'passed': (boolean);
  /**
   * When the observation was made; unset on submission means "now".
   */
  'observed_at': (_google_protobuf_Timestamp__Output | null);
  /**
   * How the observation was obtained.
   */
  'source': (_emoflux_ranker_v1_EvidenceSource__Output);
  /**
   * Version of the service that was observed (for probes), e.g. "emoflux 0.1.0".
   */
  'service_version': (string);
  /**
   * True when the observed model had random weights (the observation then says
   * nothing about quality and the scorer ignores it for quality).
   */
  'random_weights': (boolean);
  /**
   * Free-form details (e.g. the request options used), at most 4096 bytes.
   */
  'detail': (string);
  /**
   * External source the record was imported from, e.g.
   * "huggingface:dima806/facial_emotions_image_detection" or "pairwise:arena";
   * empty for probes. A submission may set it (at most 200 bytes) so that its
   * records can be retracted together. RetractSource takes this value.
   */
  'source_ref': (string);
  /**
   * Output only (ignored in SubmitEvidence): who stored the record, e.g.
   * "token:ci-importer", "certificate:ingest-bot", "local:alice" (a ranker
   * command on its host), "ranker" (its schedule); empty for records stored
   * before the store kept it.
   */
  'submitted_by': (string);
  /**
   * Output only: how it was stored, e.g. "SubmitEvidence", "Evaluate",
   * "AddModel", "ranker import-pairwise", "schedule".
   */
  'submitted_via': (string);
  /**
   * Output only: when the ranker stored it.
   */
  'submitted_at': (_google_protobuf_Timestamp__Output | null);
}
