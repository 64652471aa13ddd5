// node --test: the Node.js client, alone and against running emoflux services.
//
// EMOFLUX_EMOTION_ADDRESS, EMOFLUX_IMAGE_ADDRESS and EMOFLUX_RANKER_ADDRESS name the plaintext services;
// EMOFLUX_TEST_TLS_ADDRESS an emotion service that requires mTLS and a bearer token (its anonymous role is
// none), with EMOFLUX_TEST_TLS_CA/_CERT/_KEY the PEM files of its CA and of a client certificate.
// EMOFLUX_TEST_READ_TOKEN, _WRITE_TOKEN and _ADMIN_TOKEN are tokens the ranker's and the TLS service's
// tokens file grant those roles; EMOFLUX_TEST_HUB_DIR a folder of hub model-info snapshots for AddModel. Tests
// that need a service are skipped when its variable is unset (tests/clients/test_node_client.py starts
// them all on port 0 and sets them).
'use strict';

const assert = require('node:assert/strict');
const {execFile} = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {promisify} = require('node:util');
const {after, before, describe, test} = require('node:test');
const grpc = require('@grpc/grpc-js');
const emoflux = require('../index.js');
const cli = require('../cli.js');

const CLI = path.resolve(__dirname, '..', 'cli.js');
const ADDRESSES = {
  emotion: process.env.EMOFLUX_EMOTION_ADDRESS,
  image: process.env.EMOFLUX_IMAGE_ADDRESS,
  ranker: process.env.EMOFLUX_RANKER_ADDRESS,
};
const TLS = {
  address: process.env.EMOFLUX_TEST_TLS_ADDRESS,
  ca: process.env.EMOFLUX_TEST_TLS_CA,
  cert: process.env.EMOFLUX_TEST_TLS_CERT,
  key: process.env.EMOFLUX_TEST_TLS_KEY,
};
const TOKENS = {
  read: process.env.EMOFLUX_TEST_READ_TOKEN,
  write: process.env.EMOFLUX_TEST_WRITE_TOKEN,
  admin: process.env.EMOFLUX_TEST_ADMIN_TOKEN,
};
const HUB_DIR = process.env.EMOFLUX_TEST_HUB_DIR;
const HUB_SNAPSHOT = HUB_DIR && path.join(HUB_DIR, 'stabilityai--sdxl-turbo.json');
const skipUnless = (name) => (ADDRESSES[name] ? false : `EMOFLUX_${name.toUpperCase()}_ADDRESS is not set`);
const skipTls = TLS.address && TOKENS.read ? false : 'EMOFLUX_TEST_TLS_ADDRESS or EMOFLUX_TEST_READ_TOKEN is not set';
const skipAuth = ADDRESSES.ranker && TOKENS.read && TOKENS.write && TOKENS.admin ? false : 'the ranker or its test tokens are not set';
const skipAddModel = skipAuth || (HUB_DIR ? false : 'EMOFLUX_TEST_HUB_DIR is not set');
const run = promisify(execFile);

describe('png helpers', () => {
  test('crc32 matches the ISO-HDLC check value', () => {
    assert.equal(emoflux.crc32(Buffer.from('123456789')), 0xcbf43926);
  });

  test('encodePng round-trips its size and refuses a wrong buffer', () => {
    const png = emoflux.encodePng(3, 2, Buffer.alloc(18, 7));
    assert.deepEqual(emoflux.pngSize(png), {width: 3, height: 2});
    assert.throws(() => emoflux.encodePng(3, 2, Buffer.alloc(17)), /width\*height\*3 = 18/);
    assert.equal(emoflux.pngSize(Buffer.from('not a png at all, not at all')), null);
  });
});

describe('channels', () => {
  test('channelFor balances several addresses round_robin with the retry policy', () => {
    const {target, options} = emoflux.channelFor('127.0.0.1:1, 127.0.0.1:2');
    assert.equal(target, 'ipv4:127.0.0.1:1,127.0.0.1:2');
    const config = JSON.parse(options['grpc.service_config']);
    assert.deepEqual(config.loadBalancingConfig, [{round_robin: {}}]);
    assert.deepEqual(config.methodConfig, [{name: [{}], retryPolicy: emoflux.RETRY_POLICY}]);
    assert.equal(options['grpc.enable_retries'], 1);
    assert.equal(emoflux.channelFor('host:5').target, 'host:5');
    assert.equal(emoflux.channelFor('[::1]:1,[::1]:2').target, 'ipv6:[::1]:1,[::1]:2');
    assert.equal(JSON.parse(emoflux.channelFor('h:1', {retry: false}).options['grpc.service_config']).methodConfig, undefined);
    assert.throws(() => emoflux.channelFor(' , '), /no address/);
  });

  test('TLS options are checked before any call', () => {
    assert.throws(() => emoflux.credentialsFor({cert: 'c.pem', key: 'k.pem'}), /need tls.ca/);
    assert.throws(() => emoflux.credentialsFor({ca: __filename, cert: 'c.pem'}), /given together/);
    assert.equal(emoflux.credentialsFor(null)._isSecure(), false);
  });

  test('the emoflux protos and the health proto load, with every native RPC', () => {
    const pkg = emoflux.loadPackages();
    const methods = (Service) => Object.keys(Service.service).sort();
    assert.deepEqual(methods(pkg.emoflux.emotion.v1.EmotionService), ['Classify', 'ClassifyStream', 'GetModelInfo']);
    assert.deepEqual(methods(pkg.emoflux.image.v1.ImageService), ['Generate', 'GenerateStream', 'ListVariants']);
    assert.deepEqual(methods(pkg.emoflux.ranker.v1.RankerService), [
      'AddModel', 'Compare', 'Evaluate', 'ExplainScore', 'GetModel', 'GetScore', 'GetScoreHistory', 'Leaderboard',
      'ListModels', 'RetractSource', 'SubmitEvidence',
    ]);
    // Every native RPC has its function in the API.
    const functions = ['addModel', 'compare', 'evaluate', 'explainScore', 'getModel', 'getScore', 'getScoreHistory',
      'leaderboard', 'listModels', 'retractSource', 'submitEvidence'];
    for (const name of functions) assert.equal(typeof emoflux[name], 'function', name);
    assert.deepEqual(methods(pkg.grpc.health.v1.Health), ['Check', 'Watch']);
  });
});

describe('retries (a grpc-js server that fails on purpose)', () => {
  let server;
  let address;
  const attempts = {GetModelInfo: 0, Classify: 0};
  let failures = 0;

  before(async () => {
    const pkg = emoflux.loadPackages();
    server = new grpc.Server();
    server.addService(pkg.emoflux.emotion.v1.EmotionService.service, {
      GetModelInfo(call, callback) {
        attempts.GetModelInfo++;
        if (failures-- > 0) return callback({code: grpc.status.UNAVAILABLE, details: 'warming up'});
        return callback(null, {model: 'flaky', labels: ['happy']});
      },
      Classify(call, callback) {
        attempts.Classify++;
        callback({code: grpc.status.INVALID_ARGUMENT, details: 'images: at least one image is required'});
      },
    });
    const port = await promisify(server.bindAsync.bind(server))('127.0.0.1:0', grpc.ServerCredentials.createInsecure());
    address = `127.0.0.1:${port}`;
  });
  after(() => server && server.forceShutdown());

  test('UNAVAILABLE is retried up to maxAttempts, as the Python channels do', async () => {
    const clients = emoflux.connect({addresses: {emotion: address}, tls: null});
    try {
      attempts.GetModelInfo = 0;
      failures = emoflux.RETRY_POLICY.maxAttempts - 1;
      const info = await emoflux.getModelInfo(clients, {timeout: 10});
      assert.equal(info.model, 'flaky');
      assert.equal(attempts.GetModelInfo, emoflux.RETRY_POLICY.maxAttempts);
      attempts.GetModelInfo = 0;
      failures = emoflux.RETRY_POLICY.maxAttempts;
      await assert.rejects(emoflux.getModelInfo(clients, {timeout: 10}), {code: grpc.status.UNAVAILABLE});
      assert.equal(attempts.GetModelInfo, emoflux.RETRY_POLICY.maxAttempts);
    } finally {
      clients.close();
    }
  });

  test('other codes are not retried, and retry: false turns retries off', async () => {
    const clients = emoflux.connect({addresses: {emotion: address}, tls: null});
    const once = emoflux.connect({addresses: {emotion: address}, tls: null, retry: false});
    try {
      attempts.Classify = 0;
      await assert.rejects(emoflux.classify(clients, {images: []}), {code: grpc.status.INVALID_ARGUMENT});
      assert.equal(attempts.Classify, 1);
      attempts.GetModelInfo = 0;
      failures = 1;
      await assert.rejects(emoflux.getModelInfo(once, {timeout: 10}), {code: grpc.status.UNAVAILABLE});
      assert.equal(attempts.GetModelInfo, 1);
    } finally {
      clients.close();
      once.close();
    }
  });
});

describe('bearer token (a grpc-js server that reports the authorization header it got)', () => {
  let server;
  let address;
  const header = (call) => call.metadata.get('authorization').join('|');

  before(async () => {
    const pkg = emoflux.loadPackages();
    server = new grpc.Server();
    server.addService(pkg.emoflux.emotion.v1.EmotionService.service, {
      GetModelInfo(call, callback) {
        callback(null, {model: header(call)});
      },
    });
    server.addService(pkg.grpc.health.v1.Health.service, {
      Check(call, callback) {
        callback(null, {status: header(call) === 'Bearer health-token' ? 'SERVING' : 'NOT_SERVING'});
      },
    });
    const port = await promisify(server.bindAsync.bind(server))('127.0.0.1:0', grpc.ServerCredentials.createInsecure());
    address = `127.0.0.1:${port}`;
  });
  after(() => server && server.forceShutdown());

  test('a plaintext channel sends the token on every call, health checks included', async () => {
    const clients = emoflux.connect({addresses: {emotion: address}, tls: null, token: 'health-token'});
    try {
      assert.equal(clients.authenticated, true);
      assert.equal((await emoflux.getModelInfo(clients, {timeout: 10})).model, 'Bearer health-token');
      assert.equal((await emoflux.getModelInfo(clients, {timeout: 10, metadata: {'x-request-id': 'r'}})).model, 'Bearer health-token');
      assert.equal(await emoflux.health(clients, 'emotion', '', {timeout: 10}), 'SERVING');
    } finally {
      clients.close();
    }
  });

  test('EMOFLUX_TOKEN is the default token; null sends none', async () => {
    const saved = process.env.EMOFLUX_TOKEN;
    process.env.EMOFLUX_TOKEN = 'from-env';
    const fromEnv = emoflux.connect({addresses: {emotion: address}, tls: null});
    const without = emoflux.connect({addresses: {emotion: address}, tls: null, token: null});
    try {
      assert.equal((await emoflux.getModelInfo(fromEnv, {timeout: 10})).model, 'Bearer from-env');
      assert.equal((await emoflux.getModelInfo(without, {timeout: 10})).model, '');
      assert.equal(without.authenticated, false);
    } finally {
      if (saved === undefined) delete process.env.EMOFLUX_TOKEN;
      else process.env.EMOFLUX_TOKEN = saved;
      fromEnv.close();
      without.close();
    }
  });

  test('a token that is no header value is refused before any call, without echoing it', () => {
    for (const bad of ['', 'two words', 'line\nbreak', 42]) {
      assert.throws(() => emoflux.connect({addresses: {emotion: address}, tls: null, token: bad}), (error) => {
        assert.ok(error instanceof TypeError);
        assert.match(error.message, /^token: must be a non-empty string of printable ASCII without spaces/);
        assert.ok(typeof bad !== 'string' || !bad || !error.message.includes(bad));
        return true;
      });
    }
  });

  test('TLS carries the token as call credentials composed with the channel credentials', () => {
    const tls = grpc.credentials.createSsl();
    const {credentials, interceptors} = emoflux.withToken(tls, 'x');
    assert.deepEqual(interceptors, []);
    assert.notEqual(credentials, tls);
    assert.equal(credentials._isSecure(), true);
    const plain = emoflux.withToken(grpc.credentials.createInsecure(), 'x');
    assert.equal(plain.interceptors.length, 1);
    assert.deepEqual(emoflux.withToken(tls, null), {credentials: tls, interceptors: []});
  });
});

describe('command line', () => {
  test('--help lists every command and option (node:util parseArgs)', async () => {
    const {stdout} = await run(process.execPath, [CLI, '--help']);
    const words = ['classify-stream', 'model-info', 'variants', 'leaderboard', 'evaluate', 'submit-evidence', 'add-model',
      'retract-source', 'explain', 'history', 'health', '--tls-ca', '--token', 'EMOFLUX_TOKEN', '--timeout'];
    for (const word of words) {
      assert.ok(stdout.includes(word), `--help mentions ${word}`);
    }
    assert.deepEqual(cli.parseCommandLine(['score', '--model', 'x']).options.model, ['x']);
  });

  test('a missing required option or a bad token fails before any call, naming it', async () => {
    // Port 9 (discard) on loopback: nothing answers, so reaching the network would fail differently.
    const ranker = ['--ranker-address', '127.0.0.1:9'];
    const cases = [
      [['add-model', ...ranker], /^error: --hub-id OWNER\/NAME is required/],
      [['retract-source', '--reason', 'x', ...ranker], /^error: --source-ref REF is required/],
      [['explain', ...ranker], /^error: --model ID is required \(once\)/],
      [['history', '--model', 'a', '--model', 'b', ...ranker], /^error: --model ID is required \(once\)/],
      [['explain', '--model', 'a', '--limit', 'many', ...ranker], /^error: --limit must be a number, got many/],
      [['models', '--token', 'two words', ...ranker], /^error: token: must be a non-empty string of printable ASCII without spaces, got 9 characters/],
    ];
    for (const [args, message] of cases) {
      await assert.rejects(run(process.execPath, [CLI, ...args]), (error) => {
        assert.equal(error.code, 1, args.join(' '));
        assert.match(error.stderr, message);
        assert.ok(!error.stderr.includes('two words'), 'the token is not repeated');
        return true;
      });
    }
  });

  test('an unknown option is a usage error (exit 2)', async () => {
    await assert.rejects(run(process.execPath, [CLI, 'classify', '--top-kk', '3']), (error) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /Unknown option '--top-kk'/);
      return true;
    });
  });
});

describe('against running services', () => {
  // Anonymous (reads are open) and one client per role of the ranker's tokens file.
  let clients;
  const as = {};
  before(() => {
    clients = emoflux.connect({addresses: ADDRESSES, tls: null, token: null});
    for (const [role, token] of Object.entries(TOKENS)) {
      if (token) as[role] = emoflux.connect({addresses: ADDRESSES, tls: null, token});
    }
  });
  after(() => {
    for (const c of [clients, ...Object.values(as)]) if (c) c.close();
  });

  test('Classify returns the 7 label scores of the whole-image face', {skip: skipUnless('emotion')}, async () => {
    const response = await emoflux.classify(clients, {images: [{data: emoflux.syntheticFacePng(64)}], face_mode: 'FACE_MODE_WHOLE'});
    assert.equal(response.results.length, 1);
    const [face] = response.results[0].faces;
    assert.equal(face.scores.length, 7);
    const total = face.scores.reduce((sum, s) => sum + s.score, 0);
    assert.ok(Math.abs(total - 1) < 1e-3, `scores sum to ${total}`);
    for (let i = 1; i < face.scores.length; i++) assert.ok(face.scores[i - 1].score >= face.scores[i].score);
    assert.equal(face.top_label, face.scores[0].label);
    assert.deepEqual(face.box, {x: 0, y: 0, width: 64, height: 64});
    assert.ok(response.weights_origin.startsWith('WEIGHTS_ORIGIN_'));
  });

  test('Classify honours top_k and refuses bytes that are no image', {skip: skipUnless('emotion')}, async () => {
    const top2 = await emoflux.classify(clients, {images: [{data: emoflux.syntheticFacePng(32)}], top_k: 2});
    assert.equal(top2.results[0].faces[0].scores.length, 2);
    await assert.rejects(emoflux.classify(clients, {images: [{data: Buffer.from('definitely not an image')}]}), (error) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /images\[0\]/);
      return true;
    });
  });

  test('ClassifyStream answers every item by request_id, errors in-band', {skip: skipUnless('emotion')}, async () => {
    const good = {images: [{data: emoflux.syntheticFacePng(48)}]};
    const requests = [
      {request_id: 'a', request: good},
      {request_id: 'bad', request: {images: [{data: Buffer.from('nope')}]}},
      {request_id: 'c', request: good},
    ];
    const responses = await emoflux.classifyStream(clients, requests);
    const byId = Object.fromEntries(responses.map((r) => [r.request_id, r]));
    assert.deepEqual(Object.keys(byId).sort(), ['a', 'bad', 'c']);
    assert.equal(byId.a.outcome, 'response');
    assert.equal(byId.a.response.results[0].faces[0].scores.length, 7);
    assert.equal(byId.bad.outcome, 'error');
    assert.match(byId.bad.error.message, /images\[0\]/);
  });

  test('GetModelInfo describes the bundle', {skip: skipUnless('emotion')}, async () => {
    const info = await emoflux.getModelInfo(clients);
    assert.equal(info.labels.length, 7);
    assert.ok(info.preprocessing.image_mean.length === 3);
  });

  test('a deadline that cannot be met is DEADLINE_EXCEEDED', {skip: skipUnless('image')}, async () => {
    const request = {prompt: 'a slow face', width: 64, height: 64, num_inference_steps: 8};
    await assert.rejects(emoflux.generate(clients, request, {timeout: 0.001}), {code: grpc.status.DEADLINE_EXCEEDED});
  });

  test('Generate returns one PNG with the seed it used', {skip: skipUnless('image')}, async () => {
    const response = await emoflux.generate(clients, {prompt: 'a calm face', width: 64, height: 64, num_inference_steps: 2, seed: '9'});
    const [image] = response.images;
    assert.equal(image.seed, '9');
    assert.deepEqual(emoflux.pngSize(image.data), {width: 64, height: 64});
  });

  test('GenerateStream reports ordered steps, then the image', {skip: skipUnless('image')}, async () => {
    const request = {prompt: 'a surprised face', width: 64, height: 64, num_inference_steps: 3, seed: '42', num_images: 1};
    const seen = [];
    const events = await emoflux.generateStream(clients, request, {onEvent: (e) => seen.push(cli.describeEvent(e))});
    assert.equal(seen.length, events.length);
    assert.deepEqual(events.filter((e) => e.event === 'step').map((e) => e.step.step), [1, 2, 3]);
    const last = events[events.length - 1];
    assert.equal(last.event, 'completed');
    const [image] = last.completed.response.images;
    assert.equal(image.seed, '42');
    assert.deepEqual(emoflux.pngSize(image.data), {width: 64, height: 64});
    assert.match(seen[seen.length - 1], /^completed: 64x64 OUTPUT_FORMAT_PNG, seed 42/);
    await assert.rejects(
      emoflux.generateStream(clients, {prompt: 'x', width: 100, height: 64, num_inference_steps: 1}),
      (error) => error.code === grpc.status.INVALID_ARGUMENT && /width/.test(error.details),
    );
  });

  test('ListVariants names the embedded variant', {skip: skipUnless('image')}, async () => {
    const response = await emoflux.listVariants(clients);
    assert.ok(response.variants.some((v) => v.name === 'tiny-flux'), JSON.stringify(response.variants.map((v) => v.name)));
  });

  test('gRPC health answers SERVING per service and NOT_FOUND for unknown names', {skip: skipUnless('ranker')}, async () => {
    assert.equal(await emoflux.health(clients, 'emotion', 'emoflux.emotion.v1.EmotionService'), 'SERVING');
    assert.equal(await emoflux.health(clients, 'image'), 'SERVING');
    assert.equal(await emoflux.health(clients, 'ranker', 'emoflux.ranker.v1.RankerService'), 'SERVING');
    await assert.rejects(emoflux.health(clients, 'emotion', 'emoflux.nope.v1.Nope'), {code: grpc.status.NOT_FOUND});
  });

  test('ListModels, GetModel, GetScore and Leaderboard agree on the catalog', {skip: skipUnless('ranker')}, async () => {
    const {models} = await emoflux.listModels(clients);
    assert.ok(models.length >= 2);
    const {model} = await emoflux.getModel(clients, models[0].id);
    assert.equal(model.id, models[0].id);
    const {score} = await emoflux.getScore(clients, models[0].id);
    assert.equal(score.model_id, models[0].id);
    assert.ok(score.low <= score.score && score.score <= score.high);
    const {entries} = await emoflux.leaderboard(clients);
    assert.deepEqual(entries.map((e) => e.model_id).sort(), models.map((m) => m.id).sort());
    await assert.rejects(emoflux.getModel(clients, 'no-such-model'), {code: grpc.status.NOT_FOUND});
  });

  test('Compare ranks the two reference models', {skip: skipUnless('ranker')}, async () => {
    const response = await emoflux.compare(clients, 'facial-emotions-image-detection', 'flux-1-pro');
    for (const score of [response.score_a, response.score_b]) {
      assert.ok(score.low <= score.score && score.score <= score.high, JSON.stringify(score));
    }
    assert.ok(response.rows.length > 0 && response.verdict.length > 0);
    await assert.rejects(emoflux.compare(clients, 'flux-1-pro', 'flux-1-pro'), {code: grpc.status.INVALID_ARGUMENT});
  });

  test('SubmitEvidence needs the write role: refused without it, stored with it', {skip: skipAuth}, async () => {
    const evidence = [{
      model_id: 'flux-1-pro', capability: 'model', probe: 'quality.review', value: 1, unit: 'fraction', passed: true,
      source: 'EVIDENCE_SOURCE_SUBMITTED', source_ref: 'review:node-writer', detail: 'submitted by the Node client test',
    }];
    await assert.rejects(emoflux.submitEvidence(clients, evidence), (error) => {
      assert.equal(error.code, grpc.status.UNAUTHENTICATED);
      assert.match(error.details, /SubmitEvidence needs the write role/);
      return true;
    });
    const stranger = emoflux.connect({addresses: ADDRESSES, tls: null, token: 'not-a-granted-token'});
    try {
      await assert.rejects(emoflux.submitEvidence(stranger, evidence), (error) => {
        assert.equal(error.code, grpc.status.UNAUTHENTICATED);
        assert.match(error.details, /unknown or revoked bearer token/);
        return true;
      });
    } finally {
      stranger.close();
    }
    await assert.rejects(emoflux.submitEvidence(as.read, evidence), {code: grpc.status.PERMISSION_DENIED});
    const response = await emoflux.submitEvidence(as.write, evidence);
    assert.equal(response.accepted, 1);
    await assert.rejects(emoflux.submitEvidence(as.write, []), {code: grpc.status.INVALID_ARGUMENT});
    // The store records who wrote it: the writer's identity from the tokens file.
    const {influences} = await emoflux.explainScore(clients, 'flux-1-pro', {limit: 100});
    const mine = influences.map((i) => i.evidence).filter((e) => e.source_ref === 'review:node-writer');
    assert.deepEqual(mine.map((e) => [e.submitted_by, e.submitted_via]), [['token:node-writer', 'SubmitEvidence']]);
  });

  test('Evaluate needs the write role, then streams progress and ends with finished', {skip: skipAuth}, async () => {
    const request = {probes: ['classifier.p99-latency'], deadline: {seconds: '120'}};
    await assert.rejects(emoflux.evaluate(clients, request), {code: grpc.status.UNAUTHENTICATED});
    const progress = [];
    const events = await emoflux.evaluate(as.write, request, {
      onEvent: (e) => e.event === 'progress' && progress.push(e.progress),
    });
    const last = events[events.length - 1];
    assert.equal(last.event, 'finished');
    assert.ok(last.finished.probes_run >= 1, JSON.stringify(last.finished));
    assert.ok(progress.length >= 1 && progress.every((p) => p.probe === 'classifier.p99-latency'));
  });

  test('AddModel (write) adds a card from a hub snapshot; ExplainScore shows its imported records', {skip: skipAddModel}, async () => {
    const request = {hub_id: 'stabilityai/sdxl-turbo', model_info_json: fs.readFileSync(HUB_SNAPSHOT, 'utf8')};
    await assert.rejects(emoflux.addModel(clients, request), {code: grpc.status.UNAUTHENTICATED});
    await assert.rejects(emoflux.addModel(as.read, request), {code: grpc.status.PERMISSION_DENIED});
    const added = await emoflux.addModel(as.write, request);
    assert.equal(added.model.id, 'sdxl-turbo');
    assert.equal(added.model.artifact_type, 'text-to-image');
    assert.equal(added.evidence_imported, 4);
    assert.equal(added.model.evidence_summary.imported_count, 4);
    assert.ok((await emoflux.listModels(clients)).models.some((m) => m.id === 'sdxl-turbo'));
    await assert.rejects(emoflux.addModel(as.write, request), (error) => {
      assert.equal(error.code, grpc.status.ALREADY_EXISTS);
      assert.match(error.details, /already in the catalog/);
      return true;
    });
    await assert.rejects(emoflux.addModel(as.write, {hub_id: 'no-slash'}), (error) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /hub_id/);
      return true;
    });

    const explained = await emoflux.explainScore(clients, 'sdxl-turbo', {limit: 3});
    assert.equal(explained.score.model_id, 'sdxl-turbo');
    assert.equal(explained.influences.length, 3);
    const [top] = explained.influences;
    assert.equal(top.evidence.source, 'EVIDENCE_SOURCE_IMPORTED');
    assert.equal(top.evidence.source_ref, 'huggingface:stabilityai/sdxl-turbo');
    assert.equal(top.evidence.submitted_by, 'token:node-writer');
    const deltas = explained.influences.map((i) => Math.abs(i.delta));
    assert.deepEqual(deltas, [...deltas].sort((a, b) => b - a), 'by decreasing absolute influence');
    const all = await emoflux.explainScore(clients, 'sdxl-turbo', {limit: 100});
    const byDefault = await emoflux.explainScore(clients, 'sdxl-turbo');
    assert.equal(byDefault.influences.length, Math.min(5, all.influences.length), 'limit 0 means 5');
    await assert.rejects(emoflux.explainScore(clients, 'sdxl-turbo', {limit: 101}), (error) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /limit: at most 100, got 101/);
      return true;
    });
    await assert.rejects(emoflux.explainScore(clients, 'no-such-model'), {code: grpc.status.NOT_FOUND});
  });

  test('RetractSource needs the admin role; the retracted records stop counting', {skip: skipAddModel}, async () => {
    const ref = 'huggingface:stabilityai/sdxl-turbo';
    const {models} = await emoflux.listModels(clients);
    if (!models.some((m) => m.id === 'sdxl-turbo')) {
      const snapshot = fs.readFileSync(HUB_SNAPSHOT, 'utf8');
      await emoflux.addModel(as.write, {hub_id: 'stabilityai/sdxl-turbo', model_info_json: snapshot});
    }
    const before = (await emoflux.getScore(clients, 'sdxl-turbo')).score;
    assert.equal(before.components.find((c) => c.name === 'adoption').from_prior, false);
    await assert.rejects(emoflux.retractSource(clients, ref), {code: grpc.status.UNAUTHENTICATED});
    await assert.rejects(emoflux.retractSource(as.write, ref), (error) => {
      assert.equal(error.code, grpc.status.PERMISSION_DENIED);
      assert.match(error.details, /RetractSource needs the admin role; token:node-writer has write/);
      return true;
    });
    const retracted = await emoflux.retractSource(as.admin, ref, {reason: 'node client test'});
    assert.equal(retracted.records, 4);
    const after = (await emoflux.getScore(clients, 'sdxl-turbo')).score;
    assert.notEqual(after.score, before.score);
    assert.equal(after.components.find((c) => c.name === 'adoption').from_prior, true);
    await assert.rejects(emoflux.retractSource(as.admin, 'nobody:nothing'), {code: grpc.status.NOT_FOUND});
    await assert.rejects(emoflux.retractSource(as.admin, ' '), (error) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /source_ref: must not be empty/);
      return true;
    });
  });

  test('GetScoreHistory lists the recorded scores oldest first; GetScore takes a date', {skip: skipUnless('ranker')}, async () => {
    const {scores} = await emoflux.getScoreHistory(clients, 'flux-1-pro');
    // tests/clients records the history twice before the node tests start (the schedule's step).
    assert.ok(scores.length >= 2, JSON.stringify(scores));
    const times = scores.map((s) => Number(s.updated_at.seconds) * 1e9 + s.updated_at.nanos);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
    for (const s of scores) {
      assert.equal(s.model_id, 'flux-1-pro');
      assert.ok(s.low <= s.score && s.score <= s.high, JSON.stringify(s));
      assert.equal(s.components.length, 5);
    }
    await assert.rejects(emoflux.getScoreHistory(clients, 'no-such-model'), {code: grpc.status.NOT_FOUND});
    const early = (await emoflux.getScore(clients, 'flux-1-pro', {asOf: '2024-01-01'})).score;
    assert.ok(early.components.filter((c) => c.name !== 'freshness').every((c) => c.from_prior), JSON.stringify(early));
    await assert.rejects(emoflux.getScore(clients, 'flux-1-pro', {asOf: '2999-01-01'}), (error) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /as_of/);
      return true;
    });
  });

  test('the command line sends --token or EMOFLUX_TOKEN, and names the refusal without one', {skip: skipAddModel}, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emoflux-node-'));
    t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
    const file = path.join(dir, 'evidence.json');
    fs.writeFileSync(file, JSON.stringify([{
      model_id: 'tiny-flux', capability: 'model', probe: 'quality.review', value: 0.9, unit: 'fraction', source_ref: 'review:node-cli',
    }]));
    const ranker = ['--ranker-address', ADDRESSES.ranker];
    const env = {...process.env};
    delete env.EMOFLUX_TOKEN;
    await assert.rejects(run(process.execPath, [CLI, 'submit-evidence', '--evidence', file, ...ranker], {env}), (error) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /error \(gRPC UNAUTHENTICATED\): SubmitEvidence needs the write role/);
      return true;
    });
    const submitted = await run(process.execPath, [CLI, 'submit-evidence', '--evidence', file, ...ranker], {env: {...env, EMOFLUX_TOKEN: TOKENS.write}});
    assert.match(submitted.stdout, /submit-evidence: 1 accepted/);
    const explained = await run(process.execPath, [CLI, 'explain', '--model', 'tiny-flux', '--limit', '100', ...ranker], {env});
    assert.match(explained.stdout, /^explain: tiny-flux \d+\.\d \[/);
    assert.match(explained.stdout, /quality\.review = 0\.9 fraction \(EVIDENCE_SOURCE_SUBMITTED, review:node-cli\)/);
    // --token wins over EMOFLUX_TOKEN: the writer's token in the environment, the admin's on the command line.
    const retract = ['retract-source', '--source-ref', 'review:node-cli', '--reason', 'cli test', ...ranker];
    await assert.rejects(run(process.execPath, [CLI, ...retract], {env: {...env, EMOFLUX_TOKEN: TOKENS.write}}), /PERMISSION_DENIED/);
    const retracted = await run(process.execPath, [CLI, ...retract, '--token', TOKENS.admin], {env: {...env, EMOFLUX_TOKEN: TOKENS.write}});
    assert.match(retracted.stdout, /retract-source: review:node-cli: 1 records no longer count/);
    // A snapshot of a hub id no card has yet (the sdxl-turbo one, renamed).
    const snapshot = path.join(dir, 'model-info.json');
    const info = JSON.parse(fs.readFileSync(HUB_SNAPSHOT, 'utf8'));
    fs.writeFileSync(snapshot, JSON.stringify({...info, id: 'node-cli/turbo-copy', author: 'node-cli'}));
    const addModel = ['add-model', '--hub-id', 'node-cli/turbo-copy', '--model-id', 'turbo-from-node', '--model-info', snapshot];
    await assert.rejects(run(process.execPath, [CLI, ...addModel, ...ranker], {env}), /UNAUTHENTICATED/);
    const added = await run(process.execPath, [CLI, ...addModel, ...ranker, '--token', TOKENS.write], {env});
    assert.match(added.stdout, /^add-model: turbo-from-node \(text-to-image\), 4 records imported/);
    const history = await run(process.execPath, [CLI, 'history', '--model', 'flux-1-pro', '--json', ...ranker], {env});
    assert.ok(JSON.parse(history.stdout).length >= 2);
    const plain = await run(process.execPath, [CLI, 'history', '--model', 'flux-1-pro', ...ranker], {env});
    assert.match(plain.stdout, /^history: \d+ scores\n  \d{4}-\d\d-\d\dT[\d:.]+Z \d+\.\d \[/);
  });
});

describe('TLS and mTLS', () => {
  // The TLS service requires a client certificate, and its anonymous role is none: the certificate alone
  // (granted no role) is PERMISSION_DENIED; the read token, sent as call credentials over TLS, gets through.
  test('mTLS with the client certificate and a token works; without either, it does not', {skip: skipTls}, async () => {
    const tls = {ca: TLS.ca, cert: TLS.cert, key: TLS.key, serverName: 'localhost'};
    const mutual = emoflux.connect({addresses: {emotion: TLS.address}, tls, token: TOKENS.read});
    const certificateOnly = emoflux.connect({addresses: {emotion: TLS.address}, tls, token: null, retry: false});
    const anonymous = emoflux.connect({addresses: {emotion: TLS.address}, tls: {ca: TLS.ca, serverName: 'localhost'}, token: TOKENS.read, retry: false});
    const plain = emoflux.connect({addresses: {emotion: TLS.address}, tls: null, token: TOKENS.read, retry: false});
    try {
      const info = await emoflux.getModelInfo(mutual, {timeout: 10});
      assert.equal(info.labels.length, 7);
      assert.equal(await emoflux.health(mutual, 'emotion'), 'SERVING');
      await assert.rejects(emoflux.getModelInfo(certificateOnly, {timeout: 5}), (error) => {
        assert.equal(error.code, grpc.status.PERMISSION_DENIED);
        assert.match(error.details, /GetModelInfo needs the read role; certificate:client has none/);
        return true;
      });
      await assert.rejects(emoflux.getModelInfo(anonymous, {timeout: 5}), {code: grpc.status.UNAVAILABLE});
      await assert.rejects(emoflux.getModelInfo(plain, {timeout: 5}), {code: grpc.status.UNAVAILABLE});
    } finally {
      for (const c of [mutual, certificateOnly, anonymous, plain]) c.close();
    }
  });

  test('the command line takes the TLS flags and the token', {skip: skipTls}, async () => {
    const args = [
      CLI, 'model-info', '--emotion-address', TLS.address,
      '--tls-ca', TLS.ca, '--tls-cert', TLS.cert, '--tls-key', TLS.key, '--tls-server-name', 'localhost',
    ];
    const env = {...process.env};
    delete env.EMOFLUX_TOKEN;
    await assert.rejects(run(process.execPath, args, {env}), /PERMISSION_DENIED/);
    const {stdout} = await run(process.execPath, [...args, '--token', TOKENS.read], {env});
    assert.match(stdout, /^model-info: .+ labels /);
    const health = await run(process.execPath, [...args.slice(0, 1), 'health', '--service', 'emotion', ...args.slice(2)], {env});
    assert.match(health.stdout, /health: emotion SERVING/);
  });
});
