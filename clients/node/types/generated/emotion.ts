import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Batching as _emoflux_emotion_v1_Batching, Batching__Output as _emoflux_emotion_v1_Batching__Output } from './emoflux/emotion/v1/Batching';
import type { Box as _emoflux_emotion_v1_Box, Box__Output as _emoflux_emotion_v1_Box__Output } from './emoflux/emotion/v1/Box';
import type { BundleProvenance as _emoflux_emotion_v1_BundleProvenance, BundleProvenance__Output as _emoflux_emotion_v1_BundleProvenance__Output } from './emoflux/emotion/v1/BundleProvenance';
import type { ClassifyRequest as _emoflux_emotion_v1_ClassifyRequest, ClassifyRequest__Output as _emoflux_emotion_v1_ClassifyRequest__Output } from './emoflux/emotion/v1/ClassifyRequest';
import type { ClassifyResponse as _emoflux_emotion_v1_ClassifyResponse, ClassifyResponse__Output as _emoflux_emotion_v1_ClassifyResponse__Output } from './emoflux/emotion/v1/ClassifyResponse';
import type { ClassifyStreamRequest as _emoflux_emotion_v1_ClassifyStreamRequest, ClassifyStreamRequest__Output as _emoflux_emotion_v1_ClassifyStreamRequest__Output } from './emoflux/emotion/v1/ClassifyStreamRequest';
import type { ClassifyStreamResponse as _emoflux_emotion_v1_ClassifyStreamResponse, ClassifyStreamResponse__Output as _emoflux_emotion_v1_ClassifyStreamResponse__Output } from './emoflux/emotion/v1/ClassifyStreamResponse';
import type { EmotionServiceClient as _emoflux_emotion_v1_EmotionServiceClient, EmotionServiceDefinition as _emoflux_emotion_v1_EmotionServiceDefinition } from './emoflux/emotion/v1/EmotionService';
import type { Face as _emoflux_emotion_v1_Face, Face__Output as _emoflux_emotion_v1_Face__Output } from './emoflux/emotion/v1/Face';
import type { GetModelInfoRequest as _emoflux_emotion_v1_GetModelInfoRequest, GetModelInfoRequest__Output as _emoflux_emotion_v1_GetModelInfoRequest__Output } from './emoflux/emotion/v1/GetModelInfoRequest';
import type { GetModelInfoResponse as _emoflux_emotion_v1_GetModelInfoResponse, GetModelInfoResponse__Output as _emoflux_emotion_v1_GetModelInfoResponse__Output } from './emoflux/emotion/v1/GetModelInfoResponse';
import type { Image as _emoflux_emotion_v1_Image, Image__Output as _emoflux_emotion_v1_Image__Output } from './emoflux/emotion/v1/Image';
import type { ImageResult as _emoflux_emotion_v1_ImageResult, ImageResult__Output as _emoflux_emotion_v1_ImageResult__Output } from './emoflux/emotion/v1/ImageResult';
import type { LabelScore as _emoflux_emotion_v1_LabelScore, LabelScore__Output as _emoflux_emotion_v1_LabelScore__Output } from './emoflux/emotion/v1/LabelScore';
import type { Limits as _emoflux_emotion_v1_Limits, Limits__Output as _emoflux_emotion_v1_Limits__Output } from './emoflux/emotion/v1/Limits';
import type { Preprocessing as _emoflux_emotion_v1_Preprocessing, Preprocessing__Output as _emoflux_emotion_v1_Preprocessing__Output } from './emoflux/emotion/v1/Preprocessing';
import type { RawImage as _emoflux_emotion_v1_RawImage, RawImage__Output as _emoflux_emotion_v1_RawImage__Output } from './emoflux/emotion/v1/RawImage';
import type { Timings as _emoflux_emotion_v1_Timings, Timings__Output as _emoflux_emotion_v1_Timings__Output } from './emoflux/emotion/v1/Timings';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  emoflux: {
    emotion: {
      v1: {
        Batching: MessageTypeDefinition<_emoflux_emotion_v1_Batching, _emoflux_emotion_v1_Batching__Output>
        Box: MessageTypeDefinition<_emoflux_emotion_v1_Box, _emoflux_emotion_v1_Box__Output>
        BundleProvenance: MessageTypeDefinition<_emoflux_emotion_v1_BundleProvenance, _emoflux_emotion_v1_BundleProvenance__Output>
        ClassifyRequest: MessageTypeDefinition<_emoflux_emotion_v1_ClassifyRequest, _emoflux_emotion_v1_ClassifyRequest__Output>
        ClassifyResponse: MessageTypeDefinition<_emoflux_emotion_v1_ClassifyResponse, _emoflux_emotion_v1_ClassifyResponse__Output>
        ClassifyStreamRequest: MessageTypeDefinition<_emoflux_emotion_v1_ClassifyStreamRequest, _emoflux_emotion_v1_ClassifyStreamRequest__Output>
        ClassifyStreamResponse: MessageTypeDefinition<_emoflux_emotion_v1_ClassifyStreamResponse, _emoflux_emotion_v1_ClassifyStreamResponse__Output>
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
        EmotionService: SubtypeConstructor<typeof grpc.Client, _emoflux_emotion_v1_EmotionServiceClient> & { service: _emoflux_emotion_v1_EmotionServiceDefinition }
        Face: MessageTypeDefinition<_emoflux_emotion_v1_Face, _emoflux_emotion_v1_Face__Output>
        FaceMode: EnumTypeDefinition
        GetModelInfoRequest: MessageTypeDefinition<_emoflux_emotion_v1_GetModelInfoRequest, _emoflux_emotion_v1_GetModelInfoRequest__Output>
        GetModelInfoResponse: MessageTypeDefinition<_emoflux_emotion_v1_GetModelInfoResponse, _emoflux_emotion_v1_GetModelInfoResponse__Output>
        Image: MessageTypeDefinition<_emoflux_emotion_v1_Image, _emoflux_emotion_v1_Image__Output>
        ImageResult: MessageTypeDefinition<_emoflux_emotion_v1_ImageResult, _emoflux_emotion_v1_ImageResult__Output>
        LabelScore: MessageTypeDefinition<_emoflux_emotion_v1_LabelScore, _emoflux_emotion_v1_LabelScore__Output>
        Limits: MessageTypeDefinition<_emoflux_emotion_v1_Limits, _emoflux_emotion_v1_Limits__Output>
        Preprocessing: MessageTypeDefinition<_emoflux_emotion_v1_Preprocessing, _emoflux_emotion_v1_Preprocessing__Output>
        RawImage: MessageTypeDefinition<_emoflux_emotion_v1_RawImage, _emoflux_emotion_v1_RawImage__Output>
        Timings: MessageTypeDefinition<_emoflux_emotion_v1_Timings, _emoflux_emotion_v1_Timings__Output>
        WeightsOrigin: EnumTypeDefinition
      }
    }
  }
  google: {
    protobuf: {
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

