// Original file: ../../protos/emoflux/image/v1/image.proto


/**
 * Server-side time spent on a generation, in seconds.
 */
export interface Timings {
  /**
   * Time waiting in the generation queue before the pipeline run started.
   */
  'queue_seconds'?: (number | string);
  /**
   * Time of the pipeline run (text encoding, denoising, VAE decoding), shared by
   * all requests of the batch.
   */
  'run_seconds'?: (number | string);
  /**
   * Total time from receiving the request to sending the response, including image
   * encoding.
   */
  'total_seconds'?: (number | string);
  /**
   * Mean time of one denoising step of the run.
   */
  'seconds_per_step'?: (number | string);
}

/**
 * Server-side time spent on a generation, in seconds.
 */
export interface Timings__Output {
  /**
   * Time waiting in the generation queue before the pipeline run started.
   */
  'queue_seconds': (number);
  /**
   * Time of the pipeline run (text encoding, denoising, VAE decoding), shared by
   * all requests of the batch.
   */
  'run_seconds': (number);
  /**
   * Total time from receiving the request to sending the response, including image
   * encoding.
   */
  'total_seconds': (number);
  /**
   * Mean time of one denoising step of the run.
   */
  'seconds_per_step': (number);
}
