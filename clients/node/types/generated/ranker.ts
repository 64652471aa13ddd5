import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddModelRequest as _emoflux_ranker_v1_AddModelRequest, AddModelRequest__Output as _emoflux_ranker_v1_AddModelRequest__Output } from './emoflux/ranker/v1/AddModelRequest';
import type { AddModelResponse as _emoflux_ranker_v1_AddModelResponse, AddModelResponse__Output as _emoflux_ranker_v1_AddModelResponse__Output } from './emoflux/ranker/v1/AddModelResponse';
import type { Capability as _emoflux_ranker_v1_Capability, Capability__Output as _emoflux_ranker_v1_Capability__Output } from './emoflux/ranker/v1/Capability';
import type { CompareRequest as _emoflux_ranker_v1_CompareRequest, CompareRequest__Output as _emoflux_ranker_v1_CompareRequest__Output } from './emoflux/ranker/v1/CompareRequest';
import type { CompareResponse as _emoflux_ranker_v1_CompareResponse, CompareResponse__Output as _emoflux_ranker_v1_CompareResponse__Output } from './emoflux/ranker/v1/CompareResponse';
import type { ComparisonRow as _emoflux_ranker_v1_ComparisonRow, ComparisonRow__Output as _emoflux_ranker_v1_ComparisonRow__Output } from './emoflux/ranker/v1/ComparisonRow';
import type { Component as _emoflux_ranker_v1_Component, Component__Output as _emoflux_ranker_v1_Component__Output } from './emoflux/ranker/v1/Component';
import type { EvaluateRequest as _emoflux_ranker_v1_EvaluateRequest, EvaluateRequest__Output as _emoflux_ranker_v1_EvaluateRequest__Output } from './emoflux/ranker/v1/EvaluateRequest';
import type { EvaluateResponse as _emoflux_ranker_v1_EvaluateResponse, EvaluateResponse__Output as _emoflux_ranker_v1_EvaluateResponse__Output } from './emoflux/ranker/v1/EvaluateResponse';
import type { Evidence as _emoflux_ranker_v1_Evidence, Evidence__Output as _emoflux_ranker_v1_Evidence__Output } from './emoflux/ranker/v1/Evidence';
import type { EvidenceSummary as _emoflux_ranker_v1_EvidenceSummary, EvidenceSummary__Output as _emoflux_ranker_v1_EvidenceSummary__Output } from './emoflux/ranker/v1/EvidenceSummary';
import type { ExplainScoreRequest as _emoflux_ranker_v1_ExplainScoreRequest, ExplainScoreRequest__Output as _emoflux_ranker_v1_ExplainScoreRequest__Output } from './emoflux/ranker/v1/ExplainScoreRequest';
import type { ExplainScoreResponse as _emoflux_ranker_v1_ExplainScoreResponse, ExplainScoreResponse__Output as _emoflux_ranker_v1_ExplainScoreResponse__Output } from './emoflux/ranker/v1/ExplainScoreResponse';
import type { GetModelRequest as _emoflux_ranker_v1_GetModelRequest, GetModelRequest__Output as _emoflux_ranker_v1_GetModelRequest__Output } from './emoflux/ranker/v1/GetModelRequest';
import type { GetModelResponse as _emoflux_ranker_v1_GetModelResponse, GetModelResponse__Output as _emoflux_ranker_v1_GetModelResponse__Output } from './emoflux/ranker/v1/GetModelResponse';
import type { GetScoreHistoryRequest as _emoflux_ranker_v1_GetScoreHistoryRequest, GetScoreHistoryRequest__Output as _emoflux_ranker_v1_GetScoreHistoryRequest__Output } from './emoflux/ranker/v1/GetScoreHistoryRequest';
import type { GetScoreHistoryResponse as _emoflux_ranker_v1_GetScoreHistoryResponse, GetScoreHistoryResponse__Output as _emoflux_ranker_v1_GetScoreHistoryResponse__Output } from './emoflux/ranker/v1/GetScoreHistoryResponse';
import type { GetScoreRequest as _emoflux_ranker_v1_GetScoreRequest, GetScoreRequest__Output as _emoflux_ranker_v1_GetScoreRequest__Output } from './emoflux/ranker/v1/GetScoreRequest';
import type { GetScoreResponse as _emoflux_ranker_v1_GetScoreResponse, GetScoreResponse__Output as _emoflux_ranker_v1_GetScoreResponse__Output } from './emoflux/ranker/v1/GetScoreResponse';
import type { Influence as _emoflux_ranker_v1_Influence, Influence__Output as _emoflux_ranker_v1_Influence__Output } from './emoflux/ranker/v1/Influence';
import type { LeaderboardEntry as _emoflux_ranker_v1_LeaderboardEntry, LeaderboardEntry__Output as _emoflux_ranker_v1_LeaderboardEntry__Output } from './emoflux/ranker/v1/LeaderboardEntry';
import type { LeaderboardRequest as _emoflux_ranker_v1_LeaderboardRequest, LeaderboardRequest__Output as _emoflux_ranker_v1_LeaderboardRequest__Output } from './emoflux/ranker/v1/LeaderboardRequest';
import type { LeaderboardResponse as _emoflux_ranker_v1_LeaderboardResponse, LeaderboardResponse__Output as _emoflux_ranker_v1_LeaderboardResponse__Output } from './emoflux/ranker/v1/LeaderboardResponse';
import type { ListModelsRequest as _emoflux_ranker_v1_ListModelsRequest, ListModelsRequest__Output as _emoflux_ranker_v1_ListModelsRequest__Output } from './emoflux/ranker/v1/ListModelsRequest';
import type { ListModelsResponse as _emoflux_ranker_v1_ListModelsResponse, ListModelsResponse__Output as _emoflux_ranker_v1_ListModelsResponse__Output } from './emoflux/ranker/v1/ListModelsResponse';
import type { ModelCard as _emoflux_ranker_v1_ModelCard, ModelCard__Output as _emoflux_ranker_v1_ModelCard__Output } from './emoflux/ranker/v1/ModelCard';
import type { Provenance as _emoflux_ranker_v1_Provenance, Provenance__Output as _emoflux_ranker_v1_Provenance__Output } from './emoflux/ranker/v1/Provenance';
import type { RankerServiceClient as _emoflux_ranker_v1_RankerServiceClient, RankerServiceDefinition as _emoflux_ranker_v1_RankerServiceDefinition } from './emoflux/ranker/v1/RankerService';
import type { RetractSourceRequest as _emoflux_ranker_v1_RetractSourceRequest, RetractSourceRequest__Output as _emoflux_ranker_v1_RetractSourceRequest__Output } from './emoflux/ranker/v1/RetractSourceRequest';
import type { RetractSourceResponse as _emoflux_ranker_v1_RetractSourceResponse, RetractSourceResponse__Output as _emoflux_ranker_v1_RetractSourceResponse__Output } from './emoflux/ranker/v1/RetractSourceResponse';
import type { Score as _emoflux_ranker_v1_Score, Score__Output as _emoflux_ranker_v1_Score__Output } from './emoflux/ranker/v1/Score';
import type { SubmitEvidenceRequest as _emoflux_ranker_v1_SubmitEvidenceRequest, SubmitEvidenceRequest__Output as _emoflux_ranker_v1_SubmitEvidenceRequest__Output } from './emoflux/ranker/v1/SubmitEvidenceRequest';
import type { SubmitEvidenceResponse as _emoflux_ranker_v1_SubmitEvidenceResponse, SubmitEvidenceResponse__Output as _emoflux_ranker_v1_SubmitEvidenceResponse__Output } from './emoflux/ranker/v1/SubmitEvidenceResponse';
import type { Duration as _google_protobuf_Duration, Duration__Output as _google_protobuf_Duration__Output } from './google/protobuf/Duration';
import type { Timestamp as _google_protobuf_Timestamp, Timestamp__Output as _google_protobuf_Timestamp__Output } from './google/protobuf/Timestamp';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  emoflux: {
    ranker: {
      v1: {
        AddModelRequest: MessageTypeDefinition<_emoflux_ranker_v1_AddModelRequest, _emoflux_ranker_v1_AddModelRequest__Output>
        AddModelResponse: MessageTypeDefinition<_emoflux_ranker_v1_AddModelResponse, _emoflux_ranker_v1_AddModelResponse__Output>
        Capability: MessageTypeDefinition<_emoflux_ranker_v1_Capability, _emoflux_ranker_v1_Capability__Output>
        CompareRequest: MessageTypeDefinition<_emoflux_ranker_v1_CompareRequest, _emoflux_ranker_v1_CompareRequest__Output>
        CompareResponse: MessageTypeDefinition<_emoflux_ranker_v1_CompareResponse, _emoflux_ranker_v1_CompareResponse__Output>
        ComparisonRow: MessageTypeDefinition<_emoflux_ranker_v1_ComparisonRow, _emoflux_ranker_v1_ComparisonRow__Output>
        Component: MessageTypeDefinition<_emoflux_ranker_v1_Component, _emoflux_ranker_v1_Component__Output>
        EvaluateRequest: MessageTypeDefinition<_emoflux_ranker_v1_EvaluateRequest, _emoflux_ranker_v1_EvaluateRequest__Output>
        EvaluateResponse: MessageTypeDefinition<_emoflux_ranker_v1_EvaluateResponse, _emoflux_ranker_v1_EvaluateResponse__Output>
        Evidence: MessageTypeDefinition<_emoflux_ranker_v1_Evidence, _emoflux_ranker_v1_Evidence__Output>
        EvidenceSource: EnumTypeDefinition
        EvidenceSummary: MessageTypeDefinition<_emoflux_ranker_v1_EvidenceSummary, _emoflux_ranker_v1_EvidenceSummary__Output>
        ExplainScoreRequest: MessageTypeDefinition<_emoflux_ranker_v1_ExplainScoreRequest, _emoflux_ranker_v1_ExplainScoreRequest__Output>
        ExplainScoreResponse: MessageTypeDefinition<_emoflux_ranker_v1_ExplainScoreResponse, _emoflux_ranker_v1_ExplainScoreResponse__Output>
        GetModelRequest: MessageTypeDefinition<_emoflux_ranker_v1_GetModelRequest, _emoflux_ranker_v1_GetModelRequest__Output>
        GetModelResponse: MessageTypeDefinition<_emoflux_ranker_v1_GetModelResponse, _emoflux_ranker_v1_GetModelResponse__Output>
        GetScoreHistoryRequest: MessageTypeDefinition<_emoflux_ranker_v1_GetScoreHistoryRequest, _emoflux_ranker_v1_GetScoreHistoryRequest__Output>
        GetScoreHistoryResponse: MessageTypeDefinition<_emoflux_ranker_v1_GetScoreHistoryResponse, _emoflux_ranker_v1_GetScoreHistoryResponse__Output>
        GetScoreRequest: MessageTypeDefinition<_emoflux_ranker_v1_GetScoreRequest, _emoflux_ranker_v1_GetScoreRequest__Output>
        GetScoreResponse: MessageTypeDefinition<_emoflux_ranker_v1_GetScoreResponse, _emoflux_ranker_v1_GetScoreResponse__Output>
        Influence: MessageTypeDefinition<_emoflux_ranker_v1_Influence, _emoflux_ranker_v1_Influence__Output>
        Leader: EnumTypeDefinition
        LeaderboardEntry: MessageTypeDefinition<_emoflux_ranker_v1_LeaderboardEntry, _emoflux_ranker_v1_LeaderboardEntry__Output>
        LeaderboardRequest: MessageTypeDefinition<_emoflux_ranker_v1_LeaderboardRequest, _emoflux_ranker_v1_LeaderboardRequest__Output>
        LeaderboardResponse: MessageTypeDefinition<_emoflux_ranker_v1_LeaderboardResponse, _emoflux_ranker_v1_LeaderboardResponse__Output>
        ListModelsRequest: MessageTypeDefinition<_emoflux_ranker_v1_ListModelsRequest, _emoflux_ranker_v1_ListModelsRequest__Output>
        ListModelsResponse: MessageTypeDefinition<_emoflux_ranker_v1_ListModelsResponse, _emoflux_ranker_v1_ListModelsResponse__Output>
        ModelCard: MessageTypeDefinition<_emoflux_ranker_v1_ModelCard, _emoflux_ranker_v1_ModelCard__Output>
        Provenance: MessageTypeDefinition<_emoflux_ranker_v1_Provenance, _emoflux_ranker_v1_Provenance__Output>
        /**
         * RankerService ranks and compares models from recorded evidence.
         * 
         * Errors common to every RPC:
         * * UNAVAILABLE: the evidence store is not open yet or the server is draining.
         * * DEADLINE_EXCEEDED, CANCELLED: as usual for gRPC.
         * * INTERNAL: an unexpected server fault (the message says what failed).
         */
        RankerService: SubtypeConstructor<typeof grpc.Client, _emoflux_ranker_v1_RankerServiceClient> & { service: _emoflux_ranker_v1_RankerServiceDefinition }
        RetractSourceRequest: MessageTypeDefinition<_emoflux_ranker_v1_RetractSourceRequest, _emoflux_ranker_v1_RetractSourceRequest__Output>
        RetractSourceResponse: MessageTypeDefinition<_emoflux_ranker_v1_RetractSourceResponse, _emoflux_ranker_v1_RetractSourceResponse__Output>
        Score: MessageTypeDefinition<_emoflux_ranker_v1_Score, _emoflux_ranker_v1_Score__Output>
        SubmitEvidenceRequest: MessageTypeDefinition<_emoflux_ranker_v1_SubmitEvidenceRequest, _emoflux_ranker_v1_SubmitEvidenceRequest__Output>
        SubmitEvidenceResponse: MessageTypeDefinition<_emoflux_ranker_v1_SubmitEvidenceResponse, _emoflux_ranker_v1_SubmitEvidenceResponse__Output>
        WeightsOrigin: EnumTypeDefinition
      }
    }
  }
  google: {
    protobuf: {
      Duration: MessageTypeDefinition<_google_protobuf_Duration, _google_protobuf_Duration__Output>
      Timestamp: MessageTypeDefinition<_google_protobuf_Timestamp, _google_protobuf_Timestamp__Output>
    }
  }
}

