// Original file: ../../protos/emoflux/emotion/v1/emotion.proto


/**
 * Server-side time spent on a request, in seconds.
 */
export interface Timings {
  /**
   * Time the request's faces waited in the batching queue before their batch
   * started (the longest wait among its faces).
   */
  'queue_seconds'?: (number | string);
  /**
   * Time spent preprocessing and running the model for the request's faces (the
   * batches they were part of; shared batches are counted once per request).
   */
  'compute_seconds'?: (number | string);
  /**
   * Total time from receiving the request to sending the response, including
   * image decoding and face detection.
   */
  'total_seconds'?: (number | string);
}

/**
 * Server-side time spent on a request, in seconds.
 */
export interface Timings__Output {
  /**
   * Time the request's faces waited in the batching queue before their batch
   * started (the longest wait among its faces).
   */
  'queue_seconds': (number);
  /**
   * Time spent preprocessing and running the model for the request's faces (the
   * batches they were part of; shared batches are counted once per request).
   */
  'compute_seconds': (number);
  /**
   * Total time from receiving the request to sending the response, including
   * image decoding and face detection.
   */
  'total_seconds': (number);
}
