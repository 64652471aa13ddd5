// Original file: ../../protos/emoflux/emotion/v1/emotion.proto


/**
 * Dynamic batching settings: faces from concurrent requests are grouped into
 * batches of up to `max_batch_size`.
 */
export interface Batching {
  /**
   * Largest number of faces run in one model call.
   */
  'max_batch_size'?: (number);
  /**
   * Longest time, in seconds, the first face of a batch waits for more faces
   * before the batch runs anyway.
   */
  'max_queue_delay_seconds'?: (number | string);
  /**
   * Most faces that may wait in the queue; beyond it requests are rejected with
   * RESOURCE_EXHAUSTED.
   */
  'max_queue_size'?: (number);
}

/**
 * Dynamic batching settings: faces from concurrent requests are grouped into
 * batches of up to `max_batch_size`.
 */
export interface Batching__Output {
  /**
   * Largest number of faces run in one model call.
   */
  'max_batch_size': (number);
  /**
   * Longest time, in seconds, the first face of a batch waits for more faces
   * before the batch runs anyway.
   */
  'max_queue_delay_seconds': (number);
  /**
   * Most faces that may wait in the queue; beyond it requests are rejected with
   * RESOURCE_EXHAUSTED.
   */
  'max_queue_size': (number);
}
