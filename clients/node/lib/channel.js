// Channels to the emoflux services: the contract loaded from .proto files, round_robin over several
// addresses, the retry policy of the Python channels (servicekit/channels.py), message limits, TLS/mTLS,
// and the bearer token sent on every call.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const {withToken} = require('./auth.js');

const PACKAGE_ROOT = path.resolve(__dirname, '..');
// The published package carries its protos in proto/ (npm pack copies them there); a checkout of the
// repository loads them from protos/ at the top. EMOFLUX_PROTO_ROOT overrides both.
const BUNDLED_PROTOS = path.join(PACKAGE_ROOT, 'proto');
const REPOSITORY_PROTOS = path.resolve(PACKAGE_ROOT, '..', '..', 'protos');
const VENDOR_PROTOS = path.join(PACKAGE_ROOT, 'vendor');
const PROTO_FILES = [
  'emoflux/emotion/v1/emotion.proto',
  'emoflux/image/v1/image.proto',
  'emoflux/ranker/v1/ranker.proto',
  'grpc/health/v1/health.proto',
];
const DEFAULT_ADDRESSES = {emotion: '127.0.0.1:50051', image: '127.0.0.1:50052', ranker: '127.0.0.1:50053'};
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

// keepCase: field names as written in the .proto files (snake_case), like every other emoflux client.
// longs as strings: uint64 seeds do not fit a JS number. Enums as their names. oneofs name the set field.
// types/generated is produced with the same options (npm run generate), so the types match the objects.
const LOADER_OPTIONS = {keepCase: true, longs: String, enums: String, defaults: true, oneofs: true};

// The same policy as servicekit/channels.py: retry only what is safe to retry, the server was
// unreachable or refused before doing work. tests/clients checks that both stay equal.
const RETRY_POLICY = {
  maxAttempts: 3,
  initialBackoff: '0.05s',
  maxBackoff: '1s',
  backoffMultiplier: 2,
  retryableStatusCodes: ['UNAVAILABLE'],
};

/** Where the emoflux .proto files are read from. */
function protoRoot() {
  if (process.env.EMOFLUX_PROTO_ROOT) return process.env.EMOFLUX_PROTO_ROOT;
  return fs.existsSync(path.join(BUNDLED_PROTOS, PROTO_FILES[0])) ? BUNDLED_PROTOS : REPOSITORY_PROTOS;
}

let cachedPackages = null;

/** The loaded gRPC package tree: {emoflux: {emotion, image, ranker}, grpc: {health}}. */
function loadPackages() {
  if (cachedPackages === null) {
    const definition = protoLoader.loadSync(PROTO_FILES, {...LOADER_OPTIONS, includeDirs: [protoRoot(), VENDOR_PROTOS]});
    cachedPackages = grpc.loadPackageDefinition(definition);
  }
  return cachedPackages;
}

/** The JSON service config: round_robin over all resolved addresses, plus the retry policy. */
function serviceConfig({retry = true} = {}) {
  const config = {loadBalancingConfig: [{round_robin: {}}]};
  if (retry) config.methodConfig = [{name: [{}], retryPolicy: RETRY_POLICY}];
  return config;
}

/** The addresses of a comma-separated string (or an array), blanks dropped. */
function splitAddresses(addresses) {
  const list = Array.isArray(addresses) ? addresses : String(addresses).split(',');
  return list.map((a) => String(a).trim()).filter(Boolean);
}

/** A gRPC target and channel options for one address or a static list (ipv4:/ipv6: resolver syntax). */
function channelFor(addresses, {retry = true, tls = null} = {}) {
  const list = splitAddresses(addresses);
  if (list.length === 0) throw new Error('no address given');
  const options = {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.service_config': JSON.stringify(serviceConfig({retry})),
    'grpc.enable_retries': retry ? 1 : 0,
  };
  if (tls && tls.serverName) options['grpc.ssl_target_name_override'] = tls.serverName;
  const scheme = list.every((a) => a.startsWith('[')) ? 'ipv6' : 'ipv4';
  const target = list.length === 1 ? list[0] : `${scheme}:${list.join(',')}`;
  return {target, options};
}

/**
 * Channel credentials: plaintext without `tls`; with `tls.ca` (PEM path) a TLS channel that verifies the
 * server; with `tls.cert` and `tls.key` too, the client presents its certificate (mTLS).
 */
function credentialsFor(tls) {
  if (!tls || !tls.ca) {
    if (tls && (tls.cert || tls.key)) throw new Error('tls.cert/tls.key (mTLS) need tls.ca');
    return grpc.credentials.createInsecure();
  }
  if (Boolean(tls.cert) !== Boolean(tls.key)) throw new Error('tls.cert and tls.key must be given together');
  const read = (file) => (file ? fs.readFileSync(file) : null);
  return grpc.credentials.createSsl(read(tls.ca), read(tls.key), read(tls.cert));
}

function stripUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== null && v !== ''));
}

/** Addresses, TLS files and the bearer token from EMOFLUX_* environment variables. */
function fromEnv(env = process.env) {
  return {
    token: env.EMOFLUX_TOKEN || undefined,
    addresses: stripUndefined({
      emotion: env.EMOFLUX_EMOTION_ADDRESS,
      image: env.EMOFLUX_IMAGE_ADDRESS,
      ranker: env.EMOFLUX_RANKER_ADDRESS,
    }),
    tls: stripUndefined({
      ca: env.EMOFLUX_TLS_CA,
      cert: env.EMOFLUX_TLS_CERT,
      key: env.EMOFLUX_TLS_KEY,
      serverName: env.EMOFLUX_TLS_SERVER_NAME,
    }),
  };
}

/**
 * Stubs for the three services and their health services on one channel each; close() releases them.
 * `addresses` overrides EMOFLUX_*_ADDRESS, which override the defaults; `tls` likewise EMOFLUX_TLS_*;
 * `token` (sent as `authorization: Bearer <token>` on every call) EMOFLUX_TOKEN, and `null` sends none.
 */
function connect({addresses = {}, tls = undefined, retry = true, token = undefined} = {}) {
  const pkg = loadPackages();
  const env = fromEnv();
  const resolved = {...DEFAULT_ADDRESSES, ...env.addresses, ...stripUndefined(addresses)};
  const tlsOptions = tls === undefined ? (Object.keys(env.tls).length ? env.tls : null) : tls;
  const bearerToken = token === undefined ? env.token : token;
  const {credentials, interceptors} = withToken(credentialsFor(tlsOptions), bearerToken);
  const services = {
    emotion: pkg.emoflux.emotion.v1.EmotionService,
    image: pkg.emoflux.image.v1.ImageService,
    ranker: pkg.emoflux.ranker.v1.RankerService,
  };
  const stubs = {};
  const health = {};
  for (const [name, Service] of Object.entries(services)) {
    const {target, options} = channelFor(resolved[name], {retry, tls: tlsOptions});
    stubs[name] = new Service(target, credentials, {...options, interceptors});
    // The health stub shares the service stub's channel (same target, credentials and options); the
    // interceptors belong to a stub, not to the channel, so it takes them too.
    health[name] = new pkg.grpc.health.v1.Health(target, null, {channelOverride: stubs[name].getChannel(), interceptors});
  }
  return {
    ...stubs,
    health,
    addresses: resolved,
    tls: tlsOptions,
    // Whether calls carry a bearer token (the token itself is not kept here, so it is not logged by accident).
    authenticated: bearerToken !== undefined && bearerToken !== null,
    close() {
      for (const stub of Object.values(stubs)) stub.close();
    },
  };
}

module.exports = {
  DEFAULT_ADDRESSES,
  LOADER_OPTIONS,
  MAX_MESSAGE_BYTES,
  PROTO_FILES,
  RETRY_POLICY,
  VENDOR_PROTOS,
  channelFor,
  connect,
  credentialsFor,
  fromEnv,
  loadPackages,
  protoRoot,
  serviceConfig,
  splitAddresses,
};
