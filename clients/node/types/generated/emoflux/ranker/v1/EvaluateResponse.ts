// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Evidence as _emoflux_ranker_v1_Evidence, Evidence__Output as _emoflux_ranker_v1_Evidence__Output } from '../../../emoflux/ranker/v1/Evidence';
import type { Score as _emoflux_ranker_v1_Score, Score__Output as _emoflux_ranker_v1_Score__Output } from '../../../emoflux/ranker/v1/Score';

/**
 * An evidence record was stored.
 */
export interface _emoflux_ranker_v1_EvaluateResponse_EvidenceRecorded {
  /**
   * The stored record.
   */
  'evidence'?: (_emoflux_ranker_v1_Evidence | null);
}

/**
 * An evidence record was stored.
 */
export interface _emoflux_ranker_v1_EvaluateResponse_EvidenceRecorded__Output {
  /**
   * The stored record.
   */
  'evidence': (_emoflux_ranker_v1_Evidence__Output | null);
}

/**
 * The evaluation ended.
 */
export interface _emoflux_ranker_v1_EvaluateResponse_Finished {
  /**
   * Probes run to completion (passed or failed).
   */
  'probes_run'?: (number);
  /**
   * Probes whose result did not meet the pass criterion or that errored.
   */
  'probes_failed'?: (number);
  /**
   * Probes not run because the deadline ran out.
   */
  'probes_skipped'?: (number);
  /**
   * Evidence records stored by this evaluation.
   */
  'evidence_recorded'?: (number);
  /**
   * Updated scores of the evaluated models, sorted by model id.
   */
  'scores'?: (_emoflux_ranker_v1_Score)[];
}

/**
 * The evaluation ended.
 */
export interface _emoflux_ranker_v1_EvaluateResponse_Finished__Output {
  /**
   * Probes run to completion (passed or failed).
   */
  'probes_run': (number);
  /**
   * Probes whose result did not meet the pass criterion or that errored.
   */
  'probes_failed': (number);
  /**
   * Probes not run because the deadline ran out.
   */
  'probes_skipped': (number);
  /**
   * Evidence records stored by this evaluation.
   */
  'evidence_recorded': (number);
  /**
   * Updated scores of the evaluated models, sorted by model id.
   */
  'scores': (_emoflux_ranker_v1_Score__Output)[];
}

/**
 * Progress of the evaluation.
 */
export interface _emoflux_ranker_v1_EvaluateResponse_Progress {
  /**
   * Probes finished so far.
   */
  'done'?: (number);
  /**
   * Probes planned in total.
   */
  'total'?: (number);
  /**
   * Model the current probe is about.
   */
  'model_id'?: (string);
  /**
   * Name of the current probe.
   */
  'probe'?: (string);
  /**
   * Human-readable status, e.g. "started", "passed in 0.12 s".
   */
  'message'?: (string);
}

/**
 * Progress of the evaluation.
 */
export interface _emoflux_ranker_v1_EvaluateResponse_Progress__Output {
  /**
   * Probes finished so far.
   */
  'done': (number);
  /**
   * Probes planned in total.
   */
  'total': (number);
  /**
   * Model the current probe is about.
   */
  'model_id': (string);
  /**
   * Name of the current probe.
   */
  'probe': (string);
  /**
   * Human-readable status, e.g. "started", "passed in 0.12 s".
   */
  'message': (string);
}

/**
 * One event of RankerService.Evaluate.
 */
export interface EvaluateResponse {
  /**
   * Progress update.
   */
  'progress'?: (_emoflux_ranker_v1_EvaluateResponse_Progress | null);
  /**
   * A stored evidence record.
   */
  'evidence_recorded'?: (_emoflux_ranker_v1_EvaluateResponse_EvidenceRecorded | null);
  /**
   * End of the evaluation.
   */
  'finished'?: (_emoflux_ranker_v1_EvaluateResponse_Finished | null);
  /**
   * Exactly one is set; Finished is always the last event.
   */
  'event'?: "progress"|"evidence_recorded"|"finished";
}

/**
 * One event of RankerService.Evaluate.
 */
export interface EvaluateResponse__Output {
  /**
   * Progress update.
   */
  'progress'?: (_emoflux_ranker_v1_EvaluateResponse_Progress__Output | null);
  /**
   * A stored evidence record.
   */
  'evidence_recorded'?: (_emoflux_ranker_v1_EvaluateResponse_EvidenceRecorded__Output | null);
  /**
   * End of the evaluation.
   */
  'finished'?: (_emoflux_ranker_v1_EvaluateResponse_Finished__Output | null);
  /**
   * Exactly one is set; Finished is always the last event.
   */
  'event'?: "progress"|"evidence_recorded"|"finished";
}
