// Original file: ../../protos/emoflux/image/v1/image.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GenerateRequest as _emoflux_image_v1_GenerateRequest, GenerateRequest__Output as _emoflux_image_v1_GenerateRequest__Output } from '../../../emoflux/image/v1/GenerateRequest';
import type { GenerateResponse as _emoflux_image_v1_GenerateResponse, GenerateResponse__Output as _emoflux_image_v1_GenerateResponse__Output } from '../../../emoflux/image/v1/GenerateResponse';
import type { GenerateStreamRequest as _emoflux_image_v1_GenerateStreamRequest, GenerateStreamRequest__Output as _emoflux_image_v1_GenerateStreamRequest__Output } from '../../../emoflux/image/v1/GenerateStreamRequest';
import type { GenerateStreamResponse as _emoflux_image_v1_GenerateStreamResponse, GenerateStreamResponse__Output as _emoflux_image_v1_GenerateStreamResponse__Output } from '../../../emoflux/image/v1/GenerateStreamResponse';
import type { ListVariantsRequest as _emoflux_image_v1_ListVariantsRequest, ListVariantsRequest__Output as _emoflux_image_v1_ListVariantsRequest__Output } from '../../../emoflux/image/v1/ListVariantsRequest';
import type { ListVariantsResponse as _emoflux_image_v1_ListVariantsResponse, ListVariantsResponse__Output as _emoflux_image_v1_ListVariantsResponse__Output } from '../../../emoflux/image/v1/ListVariantsResponse';

/**
 * ImageService generates images from text prompts, optionally conditioned on
 * reference images.
 * 
 * Errors common to every RPC:
 * * UNAVAILABLE: the variant's pipeline is still loading or the server is draining
 * for shutdown; retry with backoff.
 * * RESOURCE_EXHAUSTED: the generation queue is full or the request message is too
 * large; retry later.
 * * DEADLINE_EXCEEDED: the client deadline passed; queued work for the request is
 * dropped and a running pipeline stops at the next step boundary.
 * * CANCELLED: the client went away; its work is dropped as above.
 * * INTERNAL: an unexpected server fault (the message says what failed).
 */
export interface ImageServiceClient extends grpc.Client {
  /**
   * Generate `num_images` images for one prompt and return them when all are done.
   * 
   * Compatible concurrent requests (same variant, size, steps and guidance) may share
   * one pipeline run; `GenerateResponse.batch_size` says how many did.
   * 
   * Errors:
   * * NOT_FOUND: `variant` is not a variant of this server.
   * * FAILED_PRECONDITION: the variant exists but is not loaded
   * (`Variant.loaded` is false).
   * * INVALID_ARGUMENT: an empty prompt; width or height outside the variant's
   * limits or not a multiple of `size_multiple`; width*height over `max_pixels`;
   * steps or guidance outside the limits; `num_images` over `max_images`; an
   * unknown `output_format`; `quality` over 100; more reference images than
   * `max_reference_images` (0 for text-only variants) or one that cannot be
   * decoded; `strength` outside [0, 1] or set for a variant without
   * CAPABILITY_IMAGE_TO_IMAGE or CAPABILITY_INPAINTING; `negative_prompt` set
   * for a variant without CAPABILITY_NEGATIVE_PROMPT; a `mask` for a variant
   * without CAPABILITY_INPAINTING, without exactly one reference image, that
   * cannot be decoded, whose size differs from the reference image's, or that
   * has no white pixel; an adapter name that is not one of the variant's
   * `Variant.adapters`, named twice, or a scale that is not finite or outside
   * [-8, 8].
   * * FAILED_PRECONDITION: adapters requested from a server whose transformer
   * backend cannot apply LoRA adapters (ONNX Runtime, TensorRT), or more than
   * one adapter on the torch-compile backend (it hot-swaps one at a time); the
   * message names the backend.
   */
  Generate(argument: _emoflux_image_v1_GenerateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _emoflux_image_v1_GenerateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _emoflux_image_v1_GenerateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  Generate(argument: _emoflux_image_v1_GenerateRequest, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Generate `num_images` images for one prompt and return them when all are done.
   * 
   * Compatible concurrent requests (same variant, size, steps and guidance) may share
   * one pipeline run; `GenerateResponse.batch_size` says how many did.
   * 
   * Errors:
   * * NOT_FOUND: `variant` is not a variant of this server.
   * * FAILED_PRECONDITION: the variant exists but is not loaded
   * (`Variant.loaded` is false).
   * * INVALID_ARGUMENT: an empty prompt; width or height outside the variant's
   * limits or not a multiple of `size_multiple`; width*height over `max_pixels`;
   * steps or guidance outside the limits; `num_images` over `max_images`; an
   * unknown `output_format`; `quality` over 100; more reference images than
   * `max_reference_images` (0 for text-only variants) or one that cannot be
   * decoded; `strength` outside [0, 1] or set for a variant without
   * CAPABILITY_IMAGE_TO_IMAGE or CAPABILITY_INPAINTING; `negative_prompt` set
   * for a variant without CAPABILITY_NEGATIVE_PROMPT; a `mask` for a variant
   * without CAPABILITY_INPAINTING, without exactly one reference image, that
   * cannot be decoded, whose size differs from the reference image's, or that
   * has no white pixel; an adapter name that is not one of the variant's
   * `Variant.adapters`, named twice, or a scale that is not finite or outside
   * [-8, 8].
   * * FAILED_PRECONDITION: adapters requested from a server whose transformer
   * backend cannot apply LoRA adapters (ONNX Runtime, TensorRT), or more than
   * one adapter on the torch-compile backend (it hot-swaps one at a time); the
   * message names the backend.
   */
  generate(argument: _emoflux_image_v1_GenerateRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _emoflux_image_v1_GenerateRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _emoflux_image_v1_GenerateRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  generate(argument: _emoflux_image_v1_GenerateRequest, callback: grpc.requestCallback<_emoflux_image_v1_GenerateResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Generate like Generate, streaming progress: a Queued event while waiting, a
   * Started event when the pipeline run begins, one Step event per denoising step
   * (with an optional low-resolution preview), then exactly one terminal event:
   * Completed with the full GenerateResponse, or Error.
   * 
   * Validation errors (the same as Generate) are returned as the RPC status before
   * any event is sent. Failures after the first event are sent as an Error event,
   * after which the server ends the stream with OK.
   */
  GenerateStream(argument: _emoflux_image_v1_GenerateStreamRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_image_v1_GenerateStreamResponse__Output>;
  GenerateStream(argument: _emoflux_image_v1_GenerateStreamRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_image_v1_GenerateStreamResponse__Output>;
  /**
   * Generate like Generate, streaming progress: a Queued event while waiting, a
   * Started event when the pipeline run begins, one Step event per denoising step
   * (with an optional low-resolution preview), then exactly one terminal event:
   * Completed with the full GenerateResponse, or Error.
   * 
   * Validation errors (the same as Generate) are returned as the RPC status before
   * any event is sent. Failures after the first event are sent as an Error event,
   * after which the server ends the stream with OK.
   */
  generateStream(argument: _emoflux_image_v1_GenerateStreamRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_image_v1_GenerateStreamResponse__Output>;
  generateStream(argument: _emoflux_image_v1_GenerateStreamRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_image_v1_GenerateStreamResponse__Output>;
  
  /**
   * List the variants this server knows, with their capabilities, defaults and
   * limits, and which one is the default.
   */
  ListVariants(argument: _emoflux_image_v1_ListVariantsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  ListVariants(argument: _emoflux_image_v1_ListVariantsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  ListVariants(argument: _emoflux_image_v1_ListVariantsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  ListVariants(argument: _emoflux_image_v1_ListVariantsRequest, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * List the variants this server knows, with their capabilities, defaults and
   * limits, and which one is the default.
   */
  listVariants(argument: _emoflux_image_v1_ListVariantsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  listVariants(argument: _emoflux_image_v1_ListVariantsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  listVariants(argument: _emoflux_image_v1_ListVariantsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  listVariants(argument: _emoflux_image_v1_ListVariantsRequest, callback: grpc.requestCallback<_emoflux_image_v1_ListVariantsResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * ImageService generates images from text prompts, optionally conditioned on
 * reference images.
 * 
 * Errors common to every RPC:
 * * UNAVAILABLE: the variant's pipeline is still loading or the server is draining
 * for shutdown; retry with backoff.
 * * RESOURCE_EXHAUSTED: the generation queue is full or the request message is too
 * large; retry later.
 * * DEADLINE_EXCEEDED: the client deadline passed; queued work for the request is
 * dropped and a running pipeline stops at the next step boundary.
 * * CANCELLED: the client went away; its work is dropped as above.
 * * INTERNAL: an unexpected server fault (the message says what failed).
 */
export interface ImageServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Generate `num_images` images for one prompt and return them when all are done.
   * 
   * Compatible concurrent requests (same variant, size, steps and guidance) may share
   * one pipeline run; `GenerateResponse.batch_size` says how many did.
   * 
   * Errors:
   * * NOT_FOUND: `variant` is not a variant of this server.
   * * FAILED_PRECONDITION: the variant exists but is not loaded
   * (`Variant.loaded` is false).
   * * INVALID_ARGUMENT: an empty prompt; width or height outside the variant's
   * limits or not a multiple of `size_multiple`; width*height over `max_pixels`;
   * steps or guidance outside the limits; `num_images` over `max_images`; an
   * unknown `output_format`; `quality` over 100; more reference images than
   * `max_reference_images` (0 for text-only variants) or one that cannot be
   * decoded; `strength` outside [0, 1] or set for a variant without
   * CAPABILITY_IMAGE_TO_IMAGE or CAPABILITY_INPAINTING; `negative_prompt` set
   * for a variant without CAPABILITY_NEGATIVE_PROMPT; a `mask` for a variant
   * without CAPABILITY_INPAINTING, without exactly one reference image, that
   * cannot be decoded, whose size differs from the reference image's, or that
   * has no white pixel; an adapter name that is not one of the variant's
   * `Variant.adapters`, named twice, or a scale that is not finite or outside
   * [-8, 8].
   * * FAILED_PRECONDITION: adapters requested from a server whose transformer
   * backend cannot apply LoRA adapters (ONNX Runtime, TensorRT), or more than
   * one adapter on the torch-compile backend (it hot-swaps one at a time); the
   * message names the backend.
   */
  Generate: grpc.handleUnaryCall<_emoflux_image_v1_GenerateRequest__Output, _emoflux_image_v1_GenerateResponse>;
  
  /**
   * Generate like Generate, streaming progress: a Queued event while waiting, a
   * Started event when the pipeline run begins, one Step event per denoising step
   * (with an optional low-resolution preview), then exactly one terminal event:
   * Completed with the full GenerateResponse, or Error.
   * 
   * Validation errors (the same as Generate) are returned as the RPC status before
   * any event is sent. Failures after the first event are sent as an Error event,
   * after which the server ends the stream with OK.
   */
  GenerateStream: grpc.handleServerStreamingCall<_emoflux_image_v1_GenerateStreamRequest__Output, _emoflux_image_v1_GenerateStreamResponse>;
  
  /**
   * List the variants this server knows, with their capabilities, defaults and
   * limits, and which one is the default.
   */
  ListVariants: grpc.handleUnaryCall<_emoflux_image_v1_ListVariantsRequest__Output, _emoflux_image_v1_ListVariantsResponse>;
  
}

export interface ImageServiceDefinition extends grpc.ServiceDefinition {
  Generate: MethodDefinition<_emoflux_image_v1_GenerateRequest, _emoflux_image_v1_GenerateResponse, _emoflux_image_v1_GenerateRequest__Output, _emoflux_image_v1_GenerateResponse__Output>
  GenerateStream: MethodDefinition<_emoflux_image_v1_GenerateStreamRequest, _emoflux_image_v1_GenerateStreamResponse, _emoflux_image_v1_GenerateStreamRequest__Output, _emoflux_image_v1_GenerateStreamResponse__Output>
  ListVariants: MethodDefinition<_emoflux_image_v1_ListVariantsRequest, _emoflux_image_v1_ListVariantsResponse, _emoflux_image_v1_ListVariantsRequest__Output, _emoflux_image_v1_ListVariantsResponse__Output>
}
