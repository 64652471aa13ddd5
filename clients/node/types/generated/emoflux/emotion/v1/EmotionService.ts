// Original file: ../../protos/emoflux/emotion/v1/emotion.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ClassifyRequest as _emoflux_emotion_v1_ClassifyRequest, ClassifyRequest__Output as _emoflux_emotion_v1_ClassifyRequest__Output } from '../../../emoflux/emotion/v1/ClassifyRequest';
import type { ClassifyResponse as _emoflux_emotion_v1_ClassifyResponse, ClassifyResponse__Output as _emoflux_emotion_v1_ClassifyResponse__Output } from '../../../emoflux/emotion/v1/ClassifyResponse';
import type { ClassifyStreamRequest as _emoflux_emotion_v1_ClassifyStreamRequest, ClassifyStreamRequest__Output as _emoflux_emotion_v1_ClassifyStreamRequest__Output } from '../../../emoflux/emotion/v1/ClassifyStreamRequest';
import type { ClassifyStreamResponse as _emoflux_emotion_v1_ClassifyStreamResponse, ClassifyStreamResponse__Output as _emoflux_emotion_v1_ClassifyStreamResponse__Output } from '../../../emoflux/emotion/v1/ClassifyStreamResponse';
import type { GetModelInfoRequest as _emoflux_emotion_v1_GetModelInfoRequest, GetModelInfoRequest__Output as _emoflux_emotion_v1_GetModelInfoRequest__Output } from '../../../emoflux/emotion/v1/GetModelInfoRequest';
import type { GetModelInfoResponse as _emoflux_emotion_v1_GetModelInfoResponse, GetModelInfoResponse__Output as _emoflux_emotion_v1_GetModelInfoResponse__Output } from '../../../emoflux/emotion/v1/GetModelInfoResponse';

/**
 * EmotionService classifies facial expressions in still images and frame sequences.
 * 
 * Errors common to every RPC:
 * * UNAVAILABLE: the model is still loading or the server is draining for shutdown;
 * retry with backoff.
 * * RESOURCE_EXHAUSTED: the batching queue is full (see `Batching.max_queue_size`)
 * or the request is larger than `Limits.max_request_bytes`; retry later or send
 * smaller requests.
 * * DEADLINE_EXCEEDED: the client deadline passed before the result was ready; work
 * for a request whose deadline passed while queued is skipped, not computed.
 * * CANCELLED: the client went away; queued work for it is dropped.
 * * INTERNAL: an unexpected server fault (the message says what failed).
 */
export interface EmotionServiceClient extends grpc.Client {
  /**
   * Classify the expressions of the faces in one or more images.
   * 
   * All images of one request are processed with the same options and their faces
   * may share batches with other requests; results keep the input order.
   * 
   * Errors:
   * * INVALID_ARGUMENT: no images; more than `Limits.max_images_per_request`
   * images; an image with no source set; bytes that are not a decodable
   * JPEG/PNG/WebP/BMP/GIF; a raw image whose `rgb` length is not
   * width*height*3 or whose width or height is 0; an image with more than
   * `Limits.max_pixels_per_image` pixels; `threshold` outside [0, 1]; an unknown
   * `face_mode` value.
   * * NOT_FOUND: `precision` is not empty and is not one of the precisions loaded
   * on this server (see `GetModelInfoResponse.precisions`).
   */
  Classify(argument: _emoflux_emotion_v1_ClassifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _emoflux_emotion_v1_ClassifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _emoflux_emotion_v1_ClassifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  Classify(argument: _emoflux_emotion_v1_ClassifyRequest, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Classify the expressions of the faces in one or more images.
   * 
   * All images of one request are processed with the same options and their faces
   * may share batches with other requests; results keep the input order.
   * 
   * Errors:
   * * INVALID_ARGUMENT: no images; more than `Limits.max_images_per_request`
   * images; an image with no source set; bytes that are not a decodable
   * JPEG/PNG/WebP/BMP/GIF; a raw image whose `rgb` length is not
   * width*height*3 or whose width or height is 0; an image with more than
   * `Limits.max_pixels_per_image` pixels; `threshold` outside [0, 1]; an unknown
   * `face_mode` value.
   * * NOT_FOUND: `precision` is not empty and is not one of the precisions loaded
   * on this server (see `GetModelInfoResponse.precisions`).
   */
  classify(argument: _emoflux_emotion_v1_ClassifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _emoflux_emotion_v1_ClassifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _emoflux_emotion_v1_ClassifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  classify(argument: _emoflux_emotion_v1_ClassifyRequest, callback: grpc.requestCallback<_emoflux_emotion_v1_ClassifyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Classify a sequence of frames (for example a video or a webcam feed) over one
   * bidirectional stream.
   * 
   * Each request carries a client-chosen `request_id` and a full ClassifyRequest.
   * Requests are processed concurrently and responses are sent as soon as they are
   * ready, so they may arrive out of order: match them by `request_id`. A request
   * that fails (bad image, unloaded precision, ...) produces a response carrying an
   * `error` for that item only; the stream itself stays open. The stream ends with
   * OK after the client half-closes and every pending item has been answered.
   * 
   * Stream-level errors (they end the stream): UNAVAILABLE, CANCELLED,
   * DEADLINE_EXCEEDED as for every RPC, and RESOURCE_EXHAUSTED when the client has
   * more than `Batching.max_queue_size` items outstanding on the stream.
   */
  ClassifyStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_emoflux_emotion_v1_ClassifyStreamRequest, _emoflux_emotion_v1_ClassifyStreamResponse__Output>;
  ClassifyStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_emoflux_emotion_v1_ClassifyStreamRequest, _emoflux_emotion_v1_ClassifyStreamResponse__Output>;
  /**
   * Classify a sequence of frames (for example a video or a webcam feed) over one
   * bidirectional stream.
   * 
   * Each request carries a client-chosen `request_id` and a full ClassifyRequest.
   * Requests are processed concurrently and responses are sent as soon as they are
   * ready, so they may arrive out of order: match them by `request_id`. A request
   * that fails (bad image, unloaded precision, ...) produces a response carrying an
   * `error` for that item only; the stream itself stays open. The stream ends with
   * OK after the client half-closes and every pending item has been answered.
   * 
   * Stream-level errors (they end the stream): UNAVAILABLE, CANCELLED,
   * DEADLINE_EXCEEDED as for every RPC, and RESOURCE_EXHAUSTED when the client has
   * more than `Batching.max_queue_size` items outstanding on the stream.
   */
  classifyStream(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_emoflux_emotion_v1_ClassifyStreamRequest, _emoflux_emotion_v1_ClassifyStreamResponse__Output>;
  classifyStream(options?: grpc.CallOptions): grpc.ClientDuplexStream<_emoflux_emotion_v1_ClassifyStreamRequest, _emoflux_emotion_v1_ClassifyStreamResponse__Output>;
  
  /**
   * Describe the loaded model: labels, input size, preprocessing, backend,
   * precisions, provenance of the weights, limits and batching settings.
   * 
   * Errors: UNAVAILABLE while the model is loading.
   */
  GetModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  GetModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  GetModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  GetModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Describe the loaded model: labels, input size, preprocessing, backend,
   * precisions, provenance of the weights, limits and batching settings.
   * 
   * Errors: UNAVAILABLE while the model is loading.
   */
  getModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  getModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  getModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  getModelInfo(argument: _emoflux_emotion_v1_GetModelInfoRequest, callback: grpc.requestCallback<_emoflux_emotion_v1_GetModelInfoResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * EmotionService classifies facial expressions in still images and frame sequences.
 * 
 * Errors common to every RPC:
 * * UNAVAILABLE: the model is still loading or the server is draining for shutdown;
 * retry with backoff.
 * * RESOURCE_EXHAUSTED: the batching queue is full (see `Batching.max_queue_size`)
 * or the request is larger than `Limits.max_request_bytes`; retry later or send
 * smaller requests.
 * * DEADLINE_EXCEEDED: the client deadline passed before the result was ready; work
 * for a request whose deadline passed while queued is skipped, not computed.
 * * CANCELLED: the client went away; queued work for it is dropped.
 * * INTERNAL: an unexpected server fault (the message says what failed).
 */
export interface EmotionServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Classify the expressions of the faces in one or more images.
   * 
   * All images of one request are processed with the same options and their faces
   * may share batches with other requests; results keep the input order.
   * 
   * Errors:
   * * INVALID_ARGUMENT: no images; more than `Limits.max_images_per_request`
   * images; an image with no source set; bytes that are not a decodable
   * JPEG/PNG/WebP/BMP/GIF; a raw image whose `rgb` length is not
   * width*height*3 or whose width or height is 0; an image with more than
   * `Limits.max_pixels_per_image` pixels; `threshold` outside [0, 1]; an unknown
   * `face_mode` value.
   * * NOT_FOUND: `precision` is not empty and is not one of the precisions loaded
   * on this server (see `GetModelInfoResponse.precisions`).
   */
  Classify: grpc.handleUnaryCall<_emoflux_emotion_v1_ClassifyRequest__Output, _emoflux_emotion_v1_ClassifyResponse>;
  
  /**
   * Classify a sequence of frames (for example a video or a webcam feed) over one
   * bidirectional stream.
   * 
   * Each request carries a client-chosen `request_id` and a full ClassifyRequest.
   * Requests are processed concurrently and responses are sent as soon as they are
   * ready, so they may arrive out of order: match them by `request_id`. A request
   * that fails (bad image, unloaded precision, ...) produces a response carrying an
   * `error` for that item only; the stream itself stays open. The stream ends with
   * OK after the client half-closes and every pending item has been answered.
   * 
   * Stream-level errors (they end the stream): UNAVAILABLE, CANCELLED,
   * DEADLINE_EXCEEDED as for every RPC, and RESOURCE_EXHAUSTED when the client has
   * more than `Batching.max_queue_size` items outstanding on the stream.
   */
  ClassifyStream: grpc.handleBidiStreamingCall<_emoflux_emotion_v1_ClassifyStreamRequest__Output, _emoflux_emotion_v1_ClassifyStreamResponse>;
  
  /**
   * Describe the loaded model: labels, input size, preprocessing, backend,
   * precisions, provenance of the weights, limits and batching settings.
   * 
   * Errors: UNAVAILABLE while the model is loading.
   */
  GetModelInfo: grpc.handleUnaryCall<_emoflux_emotion_v1_GetModelInfoRequest__Output, _emoflux_emotion_v1_GetModelInfoResponse>;
  
}

export interface EmotionServiceDefinition extends grpc.ServiceDefinition {
  Classify: MethodDefinition<_emoflux_emotion_v1_ClassifyRequest, _emoflux_emotion_v1_ClassifyResponse, _emoflux_emotion_v1_ClassifyRequest__Output, _emoflux_emotion_v1_ClassifyResponse__Output>
  ClassifyStream: MethodDefinition<_emoflux_emotion_v1_ClassifyStreamRequest, _emoflux_emotion_v1_ClassifyStreamResponse, _emoflux_emotion_v1_ClassifyStreamRequest__Output, _emoflux_emotion_v1_ClassifyStreamResponse__Output>
  GetModelInfo: MethodDefinition<_emoflux_emotion_v1_GetModelInfoRequest, _emoflux_emotion_v1_GetModelInfoResponse, _emoflux_emotion_v1_GetModelInfoRequest__Output, _emoflux_emotion_v1_GetModelInfoResponse__Output>
}
