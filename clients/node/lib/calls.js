// One promise-returning function per native RPC of the three services, plus the gRPC health check.
//
// Every call takes `clients` (from connect()), the request as a plain object with the .proto field names,
// and options: `timeout` (seconds; becomes the gRPC deadline) and `metadata` (an object of string headers,
// e.g. {'x-request-id': '...'}). Failures reject with the grpc-js error: `code` (grpc.status), `details`.
// The bearer token, when connect() was given one, rides on every call without any option here.
'use strict';

const grpc = require('@grpc/grpc-js');

const DEFAULT_TIMEOUT = {unary: 30, generate: 600, evaluate: 900};

function callOptions(timeout) {
  if (!(timeout > 0)) throw new Error(`timeout must be a positive number of seconds, got ${timeout}`);
  return {deadline: new Date(Date.now() + timeout * 1000)};
}

function toMetadata(headers = {}) {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers)) metadata.set(key, String(value));
  return metadata;
}

/** A unary call as a promise. */
function unary(stub, method, request, {timeout = DEFAULT_TIMEOUT.unary, metadata} = {}) {
  return new Promise((resolve, reject) => {
    stub[method](request, toMetadata(metadata), callOptions(timeout), (error, response) =>
      error ? reject(error) : resolve(response),
    );
  });
}

/** A server-streaming call: onEvent(message) for each message; resolves to all of them at the end. */
function serverStream(stub, method, request, {timeout, metadata, onEvent = () => {}} = {}) {
  return new Promise((resolve, reject) => {
    const events = [];
    const call = stub[method](request, toMetadata(metadata), callOptions(timeout));
    call.on('data', (event) => {
      events.push(event);
      onEvent(event);
    });
    call.on('error', reject);
    call.on('end', () => resolve(events));
  });
}

// -- EmotionService --------------------------------------------------------------------------------------
/** EmotionService.Classify: images (each {data} or {raw}), face_mode, top_k, precision. */
function classify(clients, request, options = {}) {
  return unary(clients.emotion, 'Classify', request, options);
}

/** EmotionService.GetModelInfo: labels, preprocessing, backend, precisions, provenance. */
function getModelInfo(clients, options = {}) {
  return unary(clients.emotion, 'GetModelInfo', {}, options);
}

/**
 * EmotionService.ClassifyStream (bidirectional): sends every {request_id, request} of `requests` (an
 * array or an iterable), half-closes, and resolves to the responses. Responses may arrive in any order;
 * each carries its request_id, and a failed item carries `error` in-band while the stream goes on.
 */
function classifyStream(clients, requests, {timeout = DEFAULT_TIMEOUT.unary, metadata, onResponse = () => {}} = {}) {
  return new Promise((resolve, reject) => {
    const responses = [];
    const call = clients.emotion.ClassifyStream(toMetadata(metadata), callOptions(timeout));
    call.on('data', (response) => {
      responses.push(response);
      onResponse(response);
    });
    call.on('error', reject);
    call.on('end', () => resolve(responses));
    for (const request of requests) call.write(request);
    call.end();
  });
}

// -- ImageService ----------------------------------------------------------------------------------------
/** ImageService.Generate: prompt, size, steps, seed (a string: uint64), output_format, ... */
function generate(clients, request, {timeout = DEFAULT_TIMEOUT.generate, metadata} = {}) {
  return unary(clients.image, 'Generate', request, {timeout, metadata});
}

/**
 * ImageService.GenerateStream: onEvent(event) for queued/started/step/completed events; resolves to all.
 * Validation errors arrive as the RPC status before any event.
 */
function generateStream(clients, request, {previews = false, timeout = DEFAULT_TIMEOUT.generate, ...rest} = {}) {
  return serverStream(clients.image, 'GenerateStream', {request, previews}, {timeout, ...rest});
}

/** ImageService.ListVariants: the variants served, with what each supports. */
function listVariants(clients, options = {}) {
  return unary(clients.image, 'ListVariants', {}, options);
}

// -- RankerService ---------------------------------------------------------------------------------------
/** RankerService.ListModels, optionally of one artifact_type. */
function listModels(clients, {artifactType = '', ...options} = {}) {
  return unary(clients.ranker, 'ListModels', {artifact_type: artifactType}, options);
}

/** RankerService.GetModel: one catalog card. */
function getModel(clients, modelId, options = {}) {
  return unary(clients.ranker, 'GetModel', {model_id: modelId}, options);
}

/**
 * RankerService.GetScore: a model's score, interval and components; `asOf` ('YYYY-MM-DD') scores the
 * evidence observed by the end of that day ('' = now).
 */
function getScore(clients, modelId, {asOf = '', ...options} = {}) {
  return unary(clients.ranker, 'GetScore', {model_id: modelId, as_of: asOf}, options);
}

/** RankerService.Compare of two model ids: scores, rows, winner and verdict. */
function compare(clients, modelA, modelB, options = {}) {
  return unary(clients.ranker, 'Compare', {model_a: modelA, model_b: modelB}, options);
}

/** RankerService.Leaderboard, optionally of one artifact_type. */
function leaderboard(clients, {artifactType = '', ...options} = {}) {
  return unary(clients.ranker, 'Leaderboard', {artifact_type: artifactType}, options);
}

/**
 * RankerService.Evaluate (server stream, write role): progress, evidence_recorded and a final `finished` event.
 * `request`: {model_ids, probes, include_match, deadline: {seconds, nanos}}.
 */
function evaluate(clients, request = {}, {timeout = DEFAULT_TIMEOUT.evaluate, ...rest} = {}) {
  return serverStream(clients.ranker, 'Evaluate', request, {timeout, ...rest});
}

/** RankerService.SubmitEvidence (write role): store 1 to 1000 evidence records; resolves to {accepted}. */
function submitEvidence(clients, evidence, options = {}) {
  return unary(clients.ranker, 'SubmitEvidence', {evidence}, options);
}

/**
 * RankerService.AddModel (write role): a catalog card from a hub model info. `request`: {hub_id, model_id
 * (optional), model_info_json (a snapshot; without it the server asks the hub)}. Resolves to
 * {model, evidence_imported}.
 */
function addModel(clients, request, options = {}) {
  return unary(clients.ranker, 'AddModel', request, options);
}

/**
 * RankerService.RetractSource (admin role): the records of one Evidence.source_ref stop counting (they stay
 * stored for audit); `reason` is kept with the retraction. Resolves to {records}.
 */
function retractSource(clients, sourceRef, {reason = '', ...options} = {}) {
  return unary(clients.ranker, 'RetractSource', {source_ref: sourceRef, reason}, options);
}

/** RankerService.ExplainScore: the score and the `limit` records that moved it most (0 = the server's 5). */
function explainScore(clients, modelId, {limit = 0, ...options} = {}) {
  return unary(clients.ranker, 'ExplainScore', {model_id: modelId, limit}, options);
}

/** RankerService.GetScoreHistory: every score computed for a model, oldest first. */
function getScoreHistory(clients, modelId, options = {}) {
  return unary(clients.ranker, 'GetScoreHistory', {model_id: modelId}, options);
}

// -- gRPC health -----------------------------------------------------------------------------------------
/**
 * grpc.health.v1.Health.Check on one service's channel (`which`: emotion, image or ranker); `service`
 * names the gRPC service asked about ('' = the whole server). Resolves to the status name, e.g. SERVING.
 */
async function health(clients, which, service = '', options = {}) {
  const stub = clients.health[which];
  if (!stub) throw new Error(`unknown service ${which} (emotion, image, ranker)`);
  const response = await unary(stub, 'Check', {service}, options);
  return response.status;
}

module.exports = {
  DEFAULT_TIMEOUT,
  addModel,
  classify,
  classifyStream,
  compare,
  evaluate,
  explainScore,
  generate,
  generateStream,
  getModel,
  getModelInfo,
  getScore,
  getScoreHistory,
  health,
  leaderboard,
  listModels,
  listVariants,
  retractSource,
  submitEvidence,
};
