// Original file: ../../protos/emoflux/ranker/v1/ranker.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddModelRequest as _emoflux_ranker_v1_AddModelRequest, AddModelRequest__Output as _emoflux_ranker_v1_AddModelRequest__Output } from '../../../emoflux/ranker/v1/AddModelRequest';
import type { AddModelResponse as _emoflux_ranker_v1_AddModelResponse, AddModelResponse__Output as _emoflux_ranker_v1_AddModelResponse__Output } from '../../../emoflux/ranker/v1/AddModelResponse';
import type { CompareRequest as _emoflux_ranker_v1_CompareRequest, CompareRequest__Output as _emoflux_ranker_v1_CompareRequest__Output } from '../../../emoflux/ranker/v1/CompareRequest';
import type { CompareResponse as _emoflux_ranker_v1_CompareResponse, CompareResponse__Output as _emoflux_ranker_v1_CompareResponse__Output } from '../../../emoflux/ranker/v1/CompareResponse';
import type { EvaluateRequest as _emoflux_ranker_v1_EvaluateRequest, EvaluateRequest__Output as _emoflux_ranker_v1_EvaluateRequest__Output } from '../../../emoflux/ranker/v1/EvaluateRequest';
import type { EvaluateResponse as _emoflux_ranker_v1_EvaluateResponse, EvaluateResponse__Output as _emoflux_ranker_v1_EvaluateResponse__Output } from '../../../emoflux/ranker/v1/EvaluateResponse';
import type { ExplainScoreRequest as _emoflux_ranker_v1_ExplainScoreRequest, ExplainScoreRequest__Output as _emoflux_ranker_v1_ExplainScoreRequest__Output } from '../../../emoflux/ranker/v1/ExplainScoreRequest';
import type { ExplainScoreResponse as _emoflux_ranker_v1_ExplainScoreResponse, ExplainScoreResponse__Output as _emoflux_ranker_v1_ExplainScoreResponse__Output } from '../../../emoflux/ranker/v1/ExplainScoreResponse';
import type { GetModelRequest as _emoflux_ranker_v1_GetModelRequest, GetModelRequest__Output as _emoflux_ranker_v1_GetModelRequest__Output } from '../../../emoflux/ranker/v1/GetModelRequest';
import type { GetModelResponse as _emoflux_ranker_v1_GetModelResponse, GetModelResponse__Output as _emoflux_ranker_v1_GetModelResponse__Output } from '../../../emoflux/ranker/v1/GetModelResponse';
import type { GetScoreHistoryRequest as _emoflux_ranker_v1_GetScoreHistoryRequest, GetScoreHistoryRequest__Output as _emoflux_ranker_v1_GetScoreHistoryRequest__Output } from '../../../emoflux/ranker/v1/GetScoreHistoryRequest';
import type { GetScoreHistoryResponse as _emoflux_ranker_v1_GetScoreHistoryResponse, GetScoreHistoryResponse__Output as _emoflux_ranker_v1_GetScoreHistoryResponse__Output } from '../../../emoflux/ranker/v1/GetScoreHistoryResponse';
import type { GetScoreRequest as _emoflux_ranker_v1_GetScoreRequest, GetScoreRequest__Output as _emoflux_ranker_v1_GetScoreRequest__Output } from '../../../emoflux/ranker/v1/GetScoreRequest';
import type { GetScoreResponse as _emoflux_ranker_v1_GetScoreResponse, GetScoreResponse__Output as _emoflux_ranker_v1_GetScoreResponse__Output } from '../../../emoflux/ranker/v1/GetScoreResponse';
import type { LeaderboardRequest as _emoflux_ranker_v1_LeaderboardRequest, LeaderboardRequest__Output as _emoflux_ranker_v1_LeaderboardRequest__Output } from '../../../emoflux/ranker/v1/LeaderboardRequest';
import type { LeaderboardResponse as _emoflux_ranker_v1_LeaderboardResponse, LeaderboardResponse__Output as _emoflux_ranker_v1_LeaderboardResponse__Output } from '../../../emoflux/ranker/v1/LeaderboardResponse';
import type { ListModelsRequest as _emoflux_ranker_v1_ListModelsRequest, ListModelsRequest__Output as _emoflux_ranker_v1_ListModelsRequest__Output } from '../../../emoflux/ranker/v1/ListModelsRequest';
import type { ListModelsResponse as _emoflux_ranker_v1_ListModelsResponse, ListModelsResponse__Output as _emoflux_ranker_v1_ListModelsResponse__Output } from '../../../emoflux/ranker/v1/ListModelsResponse';
import type { RetractSourceRequest as _emoflux_ranker_v1_RetractSourceRequest, RetractSourceRequest__Output as _emoflux_ranker_v1_RetractSourceRequest__Output } from '../../../emoflux/ranker/v1/RetractSourceRequest';
import type { RetractSourceResponse as _emoflux_ranker_v1_RetractSourceResponse, RetractSourceResponse__Output as _emoflux_ranker_v1_RetractSourceResponse__Output } from '../../../emoflux/ranker/v1/RetractSourceResponse';
import type { SubmitEvidenceRequest as _emoflux_ranker_v1_SubmitEvidenceRequest, SubmitEvidenceRequest__Output as _emoflux_ranker_v1_SubmitEvidenceRequest__Output } from '../../../emoflux/ranker/v1/SubmitEvidenceRequest';
import type { SubmitEvidenceResponse as _emoflux_ranker_v1_SubmitEvidenceResponse, SubmitEvidenceResponse__Output as _emoflux_ranker_v1_SubmitEvidenceResponse__Output } from '../../../emoflux/ranker/v1/SubmitEvidenceResponse';

/**
 * RankerService ranks and compares models from recorded evidence.
 * 
 * Errors common to every RPC:
 * * UNAVAILABLE: the evidence store is not open yet or the server is draining.
 * * DEADLINE_EXCEEDED, CANCELLED: as usual for gRPC.
 * * INTERNAL: an unexpected server fault (the message says what failed).
 */
export interface RankerServiceClient extends grpc.Client {
  /**
   * Add a model to the catalog from its Hugging Face model info: the pipeline tag
   * gives the artifact type, metadata the capabilities and facts (each with the
   * model page as source and the snapshot date), and its download, like and
   * last-modified figures are imported as evidence. The server fetches the info
   * from the hub unless `model_info_json` carries a snapshot.
   * 
   * Errors: INVALID_ARGUMENT for a malformed hub id or model id, a snapshot that is
   * not in the model-info shape or names another hub id; ALREADY_EXISTS when the
   * model id is taken; FAILED_PRECONDITION when the server has no writable catalog
   * folder (`--catalog-dir`) or cannot reach the hub without a snapshot.
   */
  AddModel(argument: _emoflux_ranker_v1_AddModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  AddModel(argument: _emoflux_ranker_v1_AddModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  AddModel(argument: _emoflux_ranker_v1_AddModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  AddModel(argument: _emoflux_ranker_v1_AddModelRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Add a model to the catalog from its Hugging Face model info: the pipeline tag
   * gives the artifact type, metadata the capabilities and facts (each with the
   * model page as source and the snapshot date), and its download, like and
   * last-modified figures are imported as evidence. The server fetches the info
   * from the hub unless `model_info_json` carries a snapshot.
   * 
   * Errors: INVALID_ARGUMENT for a malformed hub id or model id, a snapshot that is
   * not in the model-info shape or names another hub id; ALREADY_EXISTS when the
   * model id is taken; FAILED_PRECONDITION when the server has no writable catalog
   * folder (`--catalog-dir`) or cannot reach the hub without a snapshot.
   */
  addModel(argument: _emoflux_ranker_v1_AddModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  addModel(argument: _emoflux_ranker_v1_AddModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  addModel(argument: _emoflux_ranker_v1_AddModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  addModel(argument: _emoflux_ranker_v1_AddModelRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_AddModelResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Compare two models row by row (one row per score component and per shared
   * capability) and give a verdict.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id, or when both ids are
   * equal; NOT_FOUND naming the id that is not in the catalog.
   */
  Compare(argument: _emoflux_ranker_v1_CompareRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  Compare(argument: _emoflux_ranker_v1_CompareRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  Compare(argument: _emoflux_ranker_v1_CompareRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  Compare(argument: _emoflux_ranker_v1_CompareRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Compare two models row by row (one row per score component and per shared
   * capability) and give a verdict.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id, or when both ids are
   * equal; NOT_FOUND naming the id that is not in the catalog.
   */
  compare(argument: _emoflux_ranker_v1_CompareRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  compare(argument: _emoflux_ranker_v1_CompareRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  compare(argument: _emoflux_ranker_v1_CompareRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  compare(argument: _emoflux_ranker_v1_CompareRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_CompareResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Run live probes against the served models and record their results as
   * evidence, streaming progress. Progress events arrive as probes start and end,
   * one EvidenceRecorded event per stored record, and exactly one Finished event
   * last. Probes that fail (service unreachable, wrong answer) are recorded as
   * evidence with `passed` false, not as stream errors.
   * 
   * Errors: INVALID_ARGUMENT for a malformed model id, an unknown probe name or a
   * negative deadline; NOT_FOUND for a model id not in the catalog;
   * FAILED_PRECONDITION for a listed model that is not served here (nothing to
   * probe).
   */
  Evaluate(argument: _emoflux_ranker_v1_EvaluateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_ranker_v1_EvaluateResponse__Output>;
  Evaluate(argument: _emoflux_ranker_v1_EvaluateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_ranker_v1_EvaluateResponse__Output>;
  /**
   * Run live probes against the served models and record their results as
   * evidence, streaming progress. Progress events arrive as probes start and end,
   * one EvidenceRecorded event per stored record, and exactly one Finished event
   * last. Probes that fail (service unreachable, wrong answer) are recorded as
   * evidence with `passed` false, not as stream errors.
   * 
   * Errors: INVALID_ARGUMENT for a malformed model id, an unknown probe name or a
   * negative deadline; NOT_FOUND for a model id not in the catalog;
   * FAILED_PRECONDITION for a listed model that is not served here (nothing to
   * probe).
   */
  evaluate(argument: _emoflux_ranker_v1_EvaluateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_ranker_v1_EvaluateResponse__Output>;
  evaluate(argument: _emoflux_ranker_v1_EvaluateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_emoflux_ranker_v1_EvaluateResponse__Output>;
  
  /**
   * A model's score and the evidence records that moved it most.
   * 
   * Errors: as GetScore; INVALID_ARGUMENT for a limit above 100.
   */
  ExplainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  ExplainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  ExplainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  ExplainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A model's score and the evidence records that moved it most.
   * 
   * Errors: as GetScore; INVALID_ARGUMENT for a limit above 100.
   */
  explainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  explainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  explainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  explainScore(argument: _emoflux_ranker_v1_ExplainScoreRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_ExplainScoreResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Get one model card.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id; NOT_FOUND for an id not
   * in the catalog.
   */
  GetModel(argument: _emoflux_ranker_v1_GetModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _emoflux_ranker_v1_GetModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _emoflux_ranker_v1_GetModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  GetModel(argument: _emoflux_ranker_v1_GetModelRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Get one model card.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id; NOT_FOUND for an id not
   * in the catalog.
   */
  getModel(argument: _emoflux_ranker_v1_GetModelRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  getModel(argument: _emoflux_ranker_v1_GetModelRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  getModel(argument: _emoflux_ranker_v1_GetModelRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  getModel(argument: _emoflux_ranker_v1_GetModelRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_GetModelResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Compute a model's current score from all recorded evidence.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id; NOT_FOUND for an id not
   * in the catalog.
   */
  GetScore(argument: _emoflux_ranker_v1_GetScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  GetScore(argument: _emoflux_ranker_v1_GetScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  GetScore(argument: _emoflux_ranker_v1_GetScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  GetScore(argument: _emoflux_ranker_v1_GetScoreRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Compute a model's current score from all recorded evidence.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id; NOT_FOUND for an id not
   * in the catalog.
   */
  getScore(argument: _emoflux_ranker_v1_GetScoreRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  getScore(argument: _emoflux_ranker_v1_GetScoreRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  getScore(argument: _emoflux_ranker_v1_GetScoreRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  getScore(argument: _emoflux_ranker_v1_GetScoreRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Every score the ranker computed for a model, oldest first.
   * 
   * Errors: as GetScore.
   */
  GetScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  GetScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  GetScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  GetScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Every score the ranker computed for a model, oldest first.
   * 
   * Errors: as GetScore.
   */
  getScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  getScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  getScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  getScoreHistory(argument: _emoflux_ranker_v1_GetScoreHistoryRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_GetScoreHistoryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Rank models by score, best first.
   * 
   * Errors: INVALID_ARGUMENT when `artifact_type` is not empty and not a known
   * artifact type.
   */
  Leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  Leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  Leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  Leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Rank models by score, best first.
   * 
   * Errors: INVALID_ARGUMENT when `artifact_type` is not empty and not a known
   * artifact type.
   */
  leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  leaderboard(argument: _emoflux_ranker_v1_LeaderboardRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_LeaderboardResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * List the model cards of the catalog, sorted by id.
   * 
   * Errors: INVALID_ARGUMENT when `artifact_type` is not empty and not a known
   * artifact type.
   */
  ListModels(argument: _emoflux_ranker_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _emoflux_ranker_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _emoflux_ranker_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  ListModels(argument: _emoflux_ranker_v1_ListModelsRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * List the model cards of the catalog, sorted by id.
   * 
   * Errors: INVALID_ARGUMENT when `artifact_type` is not empty and not a known
   * artifact type.
   */
  listModels(argument: _emoflux_ranker_v1_ListModelsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _emoflux_ranker_v1_ListModelsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _emoflux_ranker_v1_ListModelsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  listModels(argument: _emoflux_ranker_v1_ListModelsRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_ListModelsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Retract an evidence source: its records stop counting in every score and
   * stay stored for audit. Retracting a source twice keeps the first retraction.
   * 
   * Errors: INVALID_ARGUMENT for an empty source; NOT_FOUND when no record has it.
   */
  RetractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  RetractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  RetractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  RetractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Retract an evidence source: its records stop counting in every score and
   * stay stored for audit. Retracting a source twice keeps the first retraction.
   * 
   * Errors: INVALID_ARGUMENT for an empty source; NOT_FOUND when no record has it.
   */
  retractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  retractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  retractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  retractSource(argument: _emoflux_ranker_v1_RetractSourceRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_RetractSourceResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Store externally gathered evidence. All-or-nothing: either every record is
   * stored or none is.
   * 
   * Errors: INVALID_ARGUMENT naming the first bad record's index and field, e.g.
   * "evidence[3].model_id: unknown model 'foo'" or "evidence[0].value: not finite";
   * records must have a known model_id, a non-empty capability and a finite
   * value (a source left UNSPECIFIED is stored as SUBMITTED). An empty request or
   * more than 1000 records is INVALID_ARGUMENT.
   */
  SubmitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  SubmitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  SubmitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  SubmitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Store externally gathered evidence. All-or-nothing: either every record is
   * stored or none is.
   * 
   * Errors: INVALID_ARGUMENT naming the first bad record's index and field, e.g.
   * "evidence[3].model_id: unknown model 'foo'" or "evidence[0].value: not finite";
   * records must have a known model_id, a non-empty capability and a finite
   * value (a source left UNSPECIFIED is stored as SUBMITTED). An empty request or
   * more than 1000 records is INVALID_ARGUMENT.
   */
  submitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  submitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  submitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  submitEvidence(argument: _emoflux_ranker_v1_SubmitEvidenceRequest, callback: grpc.requestCallback<_emoflux_ranker_v1_SubmitEvidenceResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * RankerService ranks and compares models from recorded evidence.
 * 
 * Errors common to every RPC:
 * * UNAVAILABLE: the evidence store is not open yet or the server is draining.
 * * DEADLINE_EXCEEDED, CANCELLED: as usual for gRPC.
 * * INTERNAL: an unexpected server fault (the message says what failed).
 */
export interface RankerServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Add a model to the catalog from its Hugging Face model info: the pipeline tag
   * gives the artifact type, metadata the capabilities and facts (each with the
   * model page as source and the snapshot date), and its download, like and
   * last-modified figures are imported as evidence. The server fetches the info
   * from the hub unless `model_info_json` carries a snapshot.
   * 
   * Errors: INVALID_ARGUMENT for a malformed hub id or model id, a snapshot that is
   * not in the model-info shape or names another hub id; ALREADY_EXISTS when the
   * model id is taken; FAILED_PRECONDITION when the server has no writable catalog
   * folder (`--catalog-dir`) or cannot reach the hub without a snapshot.
   */
  AddModel: grpc.handleUnaryCall<_emoflux_ranker_v1_AddModelRequest__Output, _emoflux_ranker_v1_AddModelResponse>;
  
  /**
   * Compare two models row by row (one row per score component and per shared
   * capability) and give a verdict.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id, or when both ids are
   * equal; NOT_FOUND naming the id that is not in the catalog.
   */
  Compare: grpc.handleUnaryCall<_emoflux_ranker_v1_CompareRequest__Output, _emoflux_ranker_v1_CompareResponse>;
  
  /**
   * Run live probes against the served models and record their results as
   * evidence, streaming progress. Progress events arrive as probes start and end,
   * one EvidenceRecorded event per stored record, and exactly one Finished event
   * last. Probes that fail (service unreachable, wrong answer) are recorded as
   * evidence with `passed` false, not as stream errors.
   * 
   * Errors: INVALID_ARGUMENT for a malformed model id, an unknown probe name or a
   * negative deadline; NOT_FOUND for a model id not in the catalog;
   * FAILED_PRECONDITION for a listed model that is not served here (nothing to
   * probe).
   */
  Evaluate: grpc.handleServerStreamingCall<_emoflux_ranker_v1_EvaluateRequest__Output, _emoflux_ranker_v1_EvaluateResponse>;
  
  /**
   * A model's score and the evidence records that moved it most.
   * 
   * Errors: as GetScore; INVALID_ARGUMENT for a limit above 100.
   */
  ExplainScore: grpc.handleUnaryCall<_emoflux_ranker_v1_ExplainScoreRequest__Output, _emoflux_ranker_v1_ExplainScoreResponse>;
  
  /**
   * Get one model card.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id; NOT_FOUND for an id not
   * in the catalog.
   */
  GetModel: grpc.handleUnaryCall<_emoflux_ranker_v1_GetModelRequest__Output, _emoflux_ranker_v1_GetModelResponse>;
  
  /**
   * Compute a model's current score from all recorded evidence.
   * 
   * Errors: INVALID_ARGUMENT for an empty or malformed id; NOT_FOUND for an id not
   * in the catalog.
   */
  GetScore: grpc.handleUnaryCall<_emoflux_ranker_v1_GetScoreRequest__Output, _emoflux_ranker_v1_GetScoreResponse>;
  
  /**
   * Every score the ranker computed for a model, oldest first.
   * 
   * Errors: as GetScore.
   */
  GetScoreHistory: grpc.handleUnaryCall<_emoflux_ranker_v1_GetScoreHistoryRequest__Output, _emoflux_ranker_v1_GetScoreHistoryResponse>;
  
  /**
   * Rank models by score, best first.
   * 
   * Errors: INVALID_ARGUMENT when `artifact_type` is not empty and not a known
   * artifact type.
   */
  Leaderboard: grpc.handleUnaryCall<_emoflux_ranker_v1_LeaderboardRequest__Output, _emoflux_ranker_v1_LeaderboardResponse>;
  
  /**
   * List the model cards of the catalog, sorted by id.
   * 
   * Errors: INVALID_ARGUMENT when `artifact_type` is not empty and not a known
   * artifact type.
   */
  ListModels: grpc.handleUnaryCall<_emoflux_ranker_v1_ListModelsRequest__Output, _emoflux_ranker_v1_ListModelsResponse>;
  
  /**
   * Retract an evidence source: its records stop counting in every score and
   * stay stored for audit. Retracting a source twice keeps the first retraction.
   * 
   * Errors: INVALID_ARGUMENT for an empty source; NOT_FOUND when no record has it.
   */
  RetractSource: grpc.handleUnaryCall<_emoflux_ranker_v1_RetractSourceRequest__Output, _emoflux_ranker_v1_RetractSourceResponse>;
  
  /**
   * Store externally gathered evidence. All-or-nothing: either every record is
   * stored or none is.
   * 
   * Errors: INVALID_ARGUMENT naming the first bad record's index and field, e.g.
   * "evidence[3].model_id: unknown model 'foo'" or "evidence[0].value: not finite";
   * records must have a known model_id, a non-empty capability and a finite
   * value (a source left UNSPECIFIED is stored as SUBMITTED). An empty request or
   * more than 1000 records is INVALID_ARGUMENT.
   */
  SubmitEvidence: grpc.handleUnaryCall<_emoflux_ranker_v1_SubmitEvidenceRequest__Output, _emoflux_ranker_v1_SubmitEvidenceResponse>;
  
}

export interface RankerServiceDefinition extends grpc.ServiceDefinition {
  AddModel: MethodDefinition<_emoflux_ranker_v1_AddModelRequest, _emoflux_ranker_v1_AddModelResponse, _emoflux_ranker_v1_AddModelRequest__Output, _emoflux_ranker_v1_AddModelResponse__Output>
  Compare: MethodDefinition<_emoflux_ranker_v1_CompareRequest, _emoflux_ranker_v1_CompareResponse, _emoflux_ranker_v1_CompareRequest__Output, _emoflux_ranker_v1_CompareResponse__Output>
  Evaluate: MethodDefinition<_emoflux_ranker_v1_EvaluateRequest, _emoflux_ranker_v1_EvaluateResponse, _emoflux_ranker_v1_EvaluateRequest__Output, _emoflux_ranker_v1_EvaluateResponse__Output>
  ExplainScore: MethodDefinition<_emoflux_ranker_v1_ExplainScoreRequest, _emoflux_ranker_v1_ExplainScoreResponse, _emoflux_ranker_v1_ExplainScoreRequest__Output, _emoflux_ranker_v1_ExplainScoreResponse__Output>
  GetModel: MethodDefinition<_emoflux_ranker_v1_GetModelRequest, _emoflux_ranker_v1_GetModelResponse, _emoflux_ranker_v1_GetModelRequest__Output, _emoflux_ranker_v1_GetModelResponse__Output>
  GetScore: MethodDefinition<_emoflux_ranker_v1_GetScoreRequest, _emoflux_ranker_v1_GetScoreResponse, _emoflux_ranker_v1_GetScoreRequest__Output, _emoflux_ranker_v1_GetScoreResponse__Output>
  GetScoreHistory: MethodDefinition<_emoflux_ranker_v1_GetScoreHistoryRequest, _emoflux_ranker_v1_GetScoreHistoryResponse, _emoflux_ranker_v1_GetScoreHistoryRequest__Output, _emoflux_ranker_v1_GetScoreHistoryResponse__Output>
  Leaderboard: MethodDefinition<_emoflux_ranker_v1_LeaderboardRequest, _emoflux_ranker_v1_LeaderboardResponse, _emoflux_ranker_v1_LeaderboardRequest__Output, _emoflux_ranker_v1_LeaderboardResponse__Output>
  ListModels: MethodDefinition<_emoflux_ranker_v1_ListModelsRequest, _emoflux_ranker_v1_ListModelsResponse, _emoflux_ranker_v1_ListModelsRequest__Output, _emoflux_ranker_v1_ListModelsResponse__Output>
  RetractSource: MethodDefinition<_emoflux_ranker_v1_RetractSourceRequest, _emoflux_ranker_v1_RetractSourceResponse, _emoflux_ranker_v1_RetractSourceRequest__Output, _emoflux_ranker_v1_RetractSourceResponse__Output>
  SubmitEvidence: MethodDefinition<_emoflux_ranker_v1_SubmitEvidenceRequest, _emoflux_ranker_v1_SubmitEvidenceResponse, _emoflux_ranker_v1_SubmitEvidenceRequest__Output, _emoflux_ranker_v1_SubmitEvidenceResponse__Output>
}
