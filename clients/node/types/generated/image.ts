import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Adapter as _emoflux_image_v1_Adapter, Adapter__Output as _emoflux_image_v1_Adapter__Output } from './emoflux/image/v1/Adapter';
import type { AdapterWeight as _emoflux_image_v1_AdapterWeight, AdapterWeight__Output as _emoflux_image_v1_AdapterWeight__Output } from './emoflux/image/v1/AdapterWeight';
import type { GenerateRequest as _emoflux_image_v1_GenerateRequest, GenerateRequest__Output as _emoflux_image_v1_GenerateRequest__Output } from './emoflux/image/v1/GenerateRequest';
import type { GenerateResponse as _emoflux_image_v1_GenerateResponse, GenerateResponse__Output as _emoflux_image_v1_GenerateResponse__Output } from './emoflux/image/v1/GenerateResponse';
import type { GenerateStreamRequest as _emoflux_image_v1_GenerateStreamRequest, GenerateStreamRequest__Output as _emoflux_image_v1_GenerateStreamRequest__Output } from './emoflux/image/v1/GenerateStreamRequest';
import type { GenerateStreamResponse as _emoflux_image_v1_GenerateStreamResponse, GenerateStreamResponse__Output as _emoflux_image_v1_GenerateStreamResponse__Output } from './emoflux/image/v1/GenerateStreamResponse';
import type { GeneratedImage as _emoflux_image_v1_GeneratedImage, GeneratedImage__Output as _emoflux_image_v1_GeneratedImage__Output } from './emoflux/image/v1/GeneratedImage';
import type { ImageServiceClient as _emoflux_image_v1_ImageServiceClient, ImageServiceDefinition as _emoflux_image_v1_ImageServiceDefinition } from './emoflux/image/v1/ImageService';
import type { ListVariantsRequest as _emoflux_image_v1_ListVariantsRequest, ListVariantsRequest__Output as _emoflux_image_v1_ListVariantsRequest__Output } from './emoflux/image/v1/ListVariantsRequest';
import type { ListVariantsResponse as _emoflux_image_v1_ListVariantsResponse, ListVariantsResponse__Output as _emoflux_image_v1_ListVariantsResponse__Output } from './emoflux/image/v1/ListVariantsResponse';
import type { Timings as _emoflux_image_v1_Timings, Timings__Output as _emoflux_image_v1_Timings__Output } from './emoflux/image/v1/Timings';
import type { Variant as _emoflux_image_v1_Variant, Variant__Output as _emoflux_image_v1_Variant__Output } from './emoflux/image/v1/Variant';
import type { VariantDefaults as _emoflux_image_v1_VariantDefaults, VariantDefaults__Output as _emoflux_image_v1_VariantDefaults__Output } from './emoflux/image/v1/VariantDefaults';
import type { VariantLimits as _emoflux_image_v1_VariantLimits, VariantLimits__Output as _emoflux_image_v1_VariantLimits__Output } from './emoflux/image/v1/VariantLimits';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  emoflux: {
    image: {
      v1: {
        Adapter: MessageTypeDefinition<_emoflux_image_v1_Adapter, _emoflux_image_v1_Adapter__Output>
        AdapterWeight: MessageTypeDefinition<_emoflux_image_v1_AdapterWeight, _emoflux_image_v1_AdapterWeight__Output>
        Capability: EnumTypeDefinition
        GenerateRequest: MessageTypeDefinition<_emoflux_image_v1_GenerateRequest, _emoflux_image_v1_GenerateRequest__Output>
        GenerateResponse: MessageTypeDefinition<_emoflux_image_v1_GenerateResponse, _emoflux_image_v1_GenerateResponse__Output>
        GenerateStreamRequest: MessageTypeDefinition<_emoflux_image_v1_GenerateStreamRequest, _emoflux_image_v1_GenerateStreamRequest__Output>
        GenerateStreamResponse: MessageTypeDefinition<_emoflux_image_v1_GenerateStreamResponse, _emoflux_image_v1_GenerateStreamResponse__Output>
        GeneratedImage: MessageTypeDefinition<_emoflux_image_v1_GeneratedImage, _emoflux_image_v1_GeneratedImage__Output>
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
        ImageService: SubtypeConstructor<typeof grpc.Client, _emoflux_image_v1_ImageServiceClient> & { service: _emoflux_image_v1_ImageServiceDefinition }
        ListVariantsRequest: MessageTypeDefinition<_emoflux_image_v1_ListVariantsRequest, _emoflux_image_v1_ListVariantsRequest__Output>
        ListVariantsResponse: MessageTypeDefinition<_emoflux_image_v1_ListVariantsResponse, _emoflux_image_v1_ListVariantsResponse__Output>
        OutputFormat: EnumTypeDefinition
        Timings: MessageTypeDefinition<_emoflux_image_v1_Timings, _emoflux_image_v1_Timings__Output>
        Variant: MessageTypeDefinition<_emoflux_image_v1_Variant, _emoflux_image_v1_Variant__Output>
        VariantDefaults: MessageTypeDefinition<_emoflux_image_v1_VariantDefaults, _emoflux_image_v1_VariantDefaults__Output>
        VariantLimits: MessageTypeDefinition<_emoflux_image_v1_VariantLimits, _emoflux_image_v1_VariantLimits__Output>
        WeightsOrigin: EnumTypeDefinition
      }
    }
  }
}

