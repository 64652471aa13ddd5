// Types of the emoflux Node.js client. Message types come from types/generated, produced from the .proto
// files by `npm run generate` (proto-loader-gen-types with the loader options the client uses), so the
// objects the calls take and return match these declarations field for field.

import type * as grpc from '@grpc/grpc-js';
import type { EmotionServiceClient } from './generated/emoflux/emotion/v1/EmotionService';
import type { ClassifyRequest } from './generated/emoflux/emotion/v1/ClassifyRequest';
import type { ClassifyResponse__Output } from './generated/emoflux/emotion/v1/ClassifyResponse';
import type { ClassifyStreamRequest } from './generated/emoflux/emotion/v1/ClassifyStreamRequest';
import type { ClassifyStreamResponse__Output } from './generated/emoflux/emotion/v1/ClassifyStreamResponse';
import type { GetModelInfoResponse__Output } from './generated/emoflux/emotion/v1/GetModelInfoResponse';
import type { ImageServiceClient } from './generated/emoflux/image/v1/ImageService';
import type { GenerateRequest } from './generated/emoflux/image/v1/GenerateRequest';
import type { GenerateResponse__Output } from './generated/emoflux/image/v1/GenerateResponse';
import type { GenerateStreamResponse__Output } from './generated/emoflux/image/v1/GenerateStreamResponse';
import type { ListVariantsResponse__Output } from './generated/emoflux/image/v1/ListVariantsResponse';
import type { RankerServiceClient } from './generated/emoflux/ranker/v1/RankerService';
import type { CompareResponse__Output } from './generated/emoflux/ranker/v1/CompareResponse';
import type { EvaluateRequest } from './generated/emoflux/ranker/v1/EvaluateRequest';
import type { EvaluateResponse__Output } from './generated/emoflux/ranker/v1/EvaluateResponse';
import type { Evidence } from './generated/emoflux/ranker/v1/Evidence';
import type { AddModelRequest } from './generated/emoflux/ranker/v1/AddModelRequest';
import type { AddModelResponse__Output } from './generated/emoflux/ranker/v1/AddModelResponse';
import type { ExplainScoreResponse__Output } from './generated/emoflux/ranker/v1/ExplainScoreResponse';
import type { GetScoreHistoryResponse__Output } from './generated/emoflux/ranker/v1/GetScoreHistoryResponse';
import type { RetractSourceResponse__Output } from './generated/emoflux/ranker/v1/RetractSourceResponse';
import type { GetModelResponse__Output } from './generated/emoflux/ranker/v1/GetModelResponse';
import type { GetScoreResponse__Output } from './generated/emoflux/ranker/v1/GetScoreResponse';
import type { LeaderboardResponse__Output } from './generated/emoflux/ranker/v1/LeaderboardResponse';
import type { ListModelsResponse__Output } from './generated/emoflux/ranker/v1/ListModelsResponse';
import type { SubmitEvidenceResponse__Output } from './generated/emoflux/ranker/v1/SubmitEvidenceResponse';
import type { HealthClient } from './generated/grpc/health/v1/Health';
import type { HealthCheckResponse__Output } from './generated/grpc/health/v1/HealthCheckResponse';

// Every message type is importable from 'emoflux-client/types/generated/<package path>/<Message>'.
export type { ProtoGrpcType as EmotionProto } from './generated/emotion';
export type { ProtoGrpcType as ImageProto } from './generated/image';
export type { ProtoGrpcType as RankerProto } from './generated/ranker';

export type ServiceName = 'emotion' | 'image' | 'ranker';

/** PEM files for TLS; `cert` and `key` together present a client certificate (mTLS). */
export interface TlsOptions {
  ca: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

/** Addresses: one `host:port` or several comma-separated ones, balanced round_robin. */
export type Addresses = Partial<Record<ServiceName, string>>;

export interface ConnectOptions {
  addresses?: Addresses;
  /** `null` forces plaintext; undefined reads EMOFLUX_TLS_* from the environment. */
  tls?: TlsOptions | null;
  /** Retry UNAVAILABLE as the Python clients do (default true). */
  retry?: boolean;
  /**
   * Bearer token sent as `authorization: Bearer <token>` on every call (call credentials with TLS, per-call
   * metadata in plaintext). `null` sends none; undefined reads EMOFLUX_TOKEN from the environment.
   */
  token?: string | null;
}

export interface Clients {
  emotion: EmotionServiceClient;
  image: ImageServiceClient;
  ranker: RankerServiceClient;
  health: Record<ServiceName, HealthClient>;
  addresses: Record<ServiceName, string>;
  tls: TlsOptions | null;
  /** Whether every call carries a bearer token. */
  authenticated: boolean;
  close(): void;
}

export interface CallOptions {
  /** Deadline of the call, in seconds. */
  timeout?: number;
  /** Request metadata, e.g. {'x-request-id': 'abc'}. */
  metadata?: Record<string, string>;
}

export interface StreamOptions<Event> extends CallOptions {
  onEvent?: (event: Event) => void;
}

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoff: string;
  maxBackoff: string;
  backoffMultiplier: number;
  retryableStatusCodes: string[];
}

export const RETRY_POLICY: RetryPolicy;
export const DEFAULT_ADDRESSES: Record<ServiceName, string>;
export const MAX_MESSAGE_BYTES: number;

export function connect(options?: ConnectOptions): Clients;
export function channelFor(
  addresses: string | string[],
  options?: { retry?: boolean; tls?: TlsOptions | null },
): { target: string; options: grpc.ChannelOptions };
export function serviceConfig(options?: { retry?: boolean }): {
  loadBalancingConfig: object[];
  methodConfig?: { name: object[]; retryPolicy: RetryPolicy }[];
};
export function credentialsFor(tls: TlsOptions | null | undefined): grpc.ChannelCredentials;
export function splitAddresses(addresses: string | string[]): string[];
export function protoRoot(): string;
/** Addresses (EMOFLUX_*_ADDRESS), TLS files (EMOFLUX_TLS_*) and the token (EMOFLUX_TOKEN) of an environment. */
export function fromEnv(env?: Record<string, string | undefined>): {
  token: string | undefined;
  addresses: Addresses;
  tls: Partial<TlsOptions>;
};
export function loadPackages(): grpc.GrpcObject;

export const AUTHORIZATION_HEADER: 'authorization';
/** The token, checked to be one header value (non-empty printable ASCII, no spaces); throws a TypeError. */
export function checkToken(token: string): string;
/** `Bearer <token>`. */
export function bearerValue(token: string): string;
export function bearerCallCredentials(token: string): grpc.CallCredentials;
export function bearerInterceptor(token: string): grpc.Interceptor;
export function withToken(
  credentials: grpc.ChannelCredentials,
  token: string | null | undefined,
): { credentials: grpc.ChannelCredentials; interceptors: grpc.Interceptor[] };

export function classify(clients: Clients, request: ClassifyRequest, options?: CallOptions): Promise<ClassifyResponse__Output>;
export function classifyStream(
  clients: Clients,
  requests: Iterable<ClassifyStreamRequest>,
  options?: CallOptions & { onResponse?: (response: ClassifyStreamResponse__Output) => void },
): Promise<ClassifyStreamResponse__Output[]>;
export function getModelInfo(clients: Clients, options?: CallOptions): Promise<GetModelInfoResponse__Output>;

export function generate(clients: Clients, request: GenerateRequest, options?: CallOptions): Promise<GenerateResponse__Output>;
export function generateStream(
  clients: Clients,
  request: GenerateRequest,
  options?: StreamOptions<GenerateStreamResponse__Output> & { previews?: boolean },
): Promise<GenerateStreamResponse__Output[]>;
export function listVariants(clients: Clients, options?: CallOptions): Promise<ListVariantsResponse__Output>;

export function listModels(clients: Clients, options?: CallOptions & { artifactType?: string }): Promise<ListModelsResponse__Output>;
export function getModel(clients: Clients, modelId: string, options?: CallOptions): Promise<GetModelResponse__Output>;
/** `asOf`: 'YYYY-MM-DD', the score from the evidence observed by the end of that day ('' = now). */
export function getScore(clients: Clients, modelId: string, options?: CallOptions & { asOf?: string }): Promise<GetScoreResponse__Output>;
export function compare(clients: Clients, modelA: string, modelB: string, options?: CallOptions): Promise<CompareResponse__Output>;
export function leaderboard(clients: Clients, options?: CallOptions & { artifactType?: string }): Promise<LeaderboardResponse__Output>;
/** Needs the write role. */
export function evaluate(
  clients: Clients,
  request?: EvaluateRequest,
  options?: StreamOptions<EvaluateResponse__Output>,
): Promise<EvaluateResponse__Output[]>;
/** Needs the write role. */
export function submitEvidence(clients: Clients, evidence: Evidence[], options?: CallOptions): Promise<SubmitEvidenceResponse__Output>;
/** Needs the write role. */
export function addModel(clients: Clients, request: AddModelRequest, options?: CallOptions): Promise<AddModelResponse__Output>;
/** Needs the admin role. */
export function retractSource(
  clients: Clients,
  sourceRef: string,
  options?: CallOptions & { reason?: string },
): Promise<RetractSourceResponse__Output>;
/** `limit`: most records, 0 to 100 (0 = the server's default, 5). */
export function explainScore(
  clients: Clients,
  modelId: string,
  options?: CallOptions & { limit?: number },
): Promise<ExplainScoreResponse__Output>;
export function getScoreHistory(clients: Clients, modelId: string, options?: CallOptions): Promise<GetScoreHistoryResponse__Output>;

export function health(
  clients: Clients,
  which: ServiceName,
  service?: string,
  options?: CallOptions,
): Promise<HealthCheckResponse__Output['status']>;

export function crc32(buffer: Uint8Array): number;
export function encodePng(width: number, height: number, rgb: Buffer): Buffer;
export function pngSize(buffer: Buffer): { width: number; height: number } | null;
export function syntheticFacePng(size?: number): Buffer;
