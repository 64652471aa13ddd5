// Original file: ../../protos/emoflux/image/v1/image.proto

import type { GenerateResponse as _emoflux_image_v1_GenerateResponse, GenerateResponse__Output as _emoflux_image_v1_GenerateResponse__Output } from '../../../emoflux/image/v1/GenerateResponse';

/**
 * The generation finished.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Completed {
  /**
   * The same response Generate would have returned.
   */
  'response'?: (_emoflux_image_v1_GenerateResponse | null);
}

/**
 * The generation finished.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Completed__Output {
  /**
   * The same response Generate would have returned.
   */
  'response': (_emoflux_image_v1_GenerateResponse__Output | null);
}

/**
 * The generation failed after it was accepted.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Error {
  /**
   * gRPC status code as its numeric value (google.rpc.Code), e.g. 4 for
   * DEADLINE_EXCEEDED, 13 for INTERNAL.
   */
  'code'?: (number);
  /**
   * Human-readable description of the failure.
   */
  'message'?: (string);
}

/**
 * The generation failed after it was accepted.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Error__Output {
  /**
   * gRPC status code as its numeric value (google.rpc.Code), e.g. 4 for
   * DEADLINE_EXCEEDED, 13 for INTERNAL.
   */
  'code': (number);
  /**
   * Human-readable description of the failure.
   */
  'message': (string);
}

/**
 * The request is waiting in the generation queue.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Queued {
  /**
   * Number of requests ahead of this one (0 = next).
   */
  'position'?: (number);
}

/**
 * The request is waiting in the generation queue.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Queued__Output {
  /**
   * Number of requests ahead of this one (0 = next).
   */
  'position': (number);
}

/**
 * The pipeline run that includes this request started.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Started {
  /**
   * Number of requests sharing the run (1 = this request alone).
   */
  'batch_size'?: (number);
  /**
   * Number of denoising steps the run will take.
   */
  'total_steps'?: (number);
}

/**
 * The pipeline run that includes this request started.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Started__Output {
  /**
   * Number of requests sharing the run (1 = this request alone).
   */
  'batch_size': (number);
  /**
   * Number of denoising steps the run will take.
   */
  'total_steps': (number);
}

/**
 * A denoising step finished.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Step {
  /**
   * Number of the step that finished, 1-based (1..total_steps).
   */
  'step'?: (number);
  /**
   * Number of denoising steps of the run.
   */
  'total_steps'?: (number);
  /**
   * Seconds since the run started.
   */
  'elapsed_seconds'?: (number | string);
  /**
   * Low-resolution PNG of the current estimate of the first image, when
   * `GenerateStreamRequest.previews` is true; empty otherwise.
   */
  'preview'?: (Buffer | Uint8Array | string);
}

/**
 * A denoising step finished.
 */
export interface _emoflux_image_v1_GenerateStreamResponse_Step__Output {
  /**
   * Number of the step that finished, 1-based (1..total_steps).
   */
  'step': (number);
  /**
   * Number of denoising steps of the run.
   */
  'total_steps': (number);
  /**
   * Seconds since the run started.
   */
  'elapsed_seconds': (number);
  /**
   * Low-resolution PNG of the current estimate of the first image, when
   * `GenerateStreamRequest.previews` is true; empty otherwise.
   */
  'preview': (Buffer);
}

/**
 * One event of ImageService.GenerateStream.
 */
export interface GenerateStreamResponse {
  /**
   * Waiting in the queue (may repeat as the position changes).
   */
  'queued'?: (_emoflux_image_v1_GenerateStreamResponse_Queued | null);
  /**
   * The run began.
   */
  'started'?: (_emoflux_image_v1_GenerateStreamResponse_Started | null);
  /**
   * One step done.
   */
  'step'?: (_emoflux_image_v1_GenerateStreamResponse_Step | null);
  /**
   * Finished with images.
   */
  'completed'?: (_emoflux_image_v1_GenerateStreamResponse_Completed | null);
  /**
   * Finished with a failure.
   */
  'error'?: (_emoflux_image_v1_GenerateStreamResponse_Error | null);
  /**
   * Exactly one is set. Completed and Error are terminal: the stream ends after
   * them.
   */
  'event'?: "queued"|"started"|"step"|"completed"|"error";
}

/**
 * One event of ImageService.GenerateStream.
 */
export interface GenerateStreamResponse__Output {
  /**
   * Waiting in the queue (may repeat as the position changes).
   */
  'queued'?: (_emoflux_image_v1_GenerateStreamResponse_Queued__Output | null);
  /**
   * The run began.
   */
  'started'?: (_emoflux_image_v1_GenerateStreamResponse_Started__Output | null);
  /**
   * One step done.
   */
  'step'?: (_emoflux_image_v1_GenerateStreamResponse_Step__Output | null);
  /**
   * Finished with images.
   */
  'completed'?: (_emoflux_image_v1_GenerateStreamResponse_Completed__Output | null);
  /**
   * Finished with a failure.
   */
  'error'?: (_emoflux_image_v1_GenerateStreamResponse_Error__Output | null);
  /**
   * Exactly one is set. Completed and Error are terminal: the stream ends after
   * them.
   */
  'event'?: "queued"|"started"|"step"|"completed"|"error";
}
