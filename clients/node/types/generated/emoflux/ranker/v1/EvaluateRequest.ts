// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from '../../../google/protobuf/Duration';

/**
 * Request for RankerService.Evaluate.
 */
export interface EvaluateRequest {
  /**
   * Models to probe; empty (default) probes every model that is served here.
   */
  'model_ids'?: (string)[];
  /**
   * Probe names to run; empty (default) runs all probes that apply to each model.
   */
  'probes'?: (string)[];
  /**
   * Also run head-to-head matches between the probed models (recorded with source
   * MATCH). Default false.
   */
  'include_match'?: (boolean);
  /**
   * Time budget for the whole evaluation; probes not started when it runs out are
   * skipped and counted in `Finished.probes_skipped`. Unset: the server default
   * (300 s). Negative is INVALID_ARGUMENT.
   */
  'deadline'?: (_google_protobuf_Duration | null);
}

/**
 * Request for RankerService.Evaluate.
 */
export interface EvaluateRequest__Output {
  /**
   * Models to probe; empty (default) probes every model that is served here.
   */
  'model_ids': (string)[];
  /**
   * Probe names to run; empty (default) runs all probes that apply to each model.
   */
  'probes': (string)[];
  /**
   * Also run head-to-head matches between the probed models (recorded with source
   * MATCH). Default false.
   */
  'include_match': (boolean);
  /**
   * Time budget for the whole evaluation; probes not started when it runs out are
   * skipped and counted in `Finished.probes_skipped`. Unset: the server default
   * (300 s). Negative is INVALID_ARGUMENT.
   */
  'deadline': (_google_protobuf_Duration__Output | null);
}
