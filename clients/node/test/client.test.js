// node --test: the Node.js client, alone and against running emoflux services.
//
// EMOFLUX_EMOTION_ADDRESS, EMOFLUX_IMAGE_ADDRESS and EMOFLUX_RANKER_ADDRESS name the plaintext services;
// EMOFLUX_TEST_TLS_ADDRESS an emotion service that requires mTLS, with EMOFLUX_TEST_TLS_CA/_CERT/_KEY the
// PEM files of its CA and of a client certificate. Tests that need a service are skipped when its
// variable is unset (tests/clients/test_node_client.py starts them all on port 0 and sets them).
'use strict';

const assert = require('node:assert/strict');
const {execFile} = require('node:child_process');
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
const skipUnless = (name) => (ADDRESSES[name] ? false : `EMOFLUX_${name.toUpperCase()}_ADDRESS is not set`);
const skipTls = TLS.address ? false : 'EMOFLUX_TEST_TLS_ADDRESS is not set';
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
      'Compare', 'Evaluate', 'GetModel', 'GetScore', 'Leaderboard', 'ListModels', 'SubmitEvidence',
    ]);
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

describe('command line', () => {
  test('--help lists every command and option (node:util parseArgs)', async () => {
    const {stdout} = await run(process.execPath, [CLI, '--help']);
    for (const word of ['classify-stream', 'model-info', 'variants', 'leaderboard', 'evaluate', 'submit-evidence', 'health', '--tls-ca', '--timeout']) {
      assert.ok(stdout.includes(word), `--help mentions ${word}`);
    }
    assert.deepEqual(cli.parseCommandLine(['score', '--model', 'x']).options.model, ['x']);
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
  let clients;
  before(() => {
    clients = emoflux.connect({addresses: ADDRESSES, tls: null});
  });
  after(() => clients && clients.close());

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

  test('SubmitEvidence stores a record and refuses an empty list', {skip: skipUnless('ranker')}, async () => {
    const evidence = [{
      model_id: 'flux-1-pro', capability: 'text-to-image', probe: 'node-client-check', value: 1, unit: 'count',
      passed: true, source: 'EVIDENCE_SOURCE_SUBMITTED', detail: 'submitted by the Node client test',
    }];
    const response = await emoflux.submitEvidence(clients, evidence);
    assert.equal(response.accepted, 1);
    await assert.rejects(emoflux.submitEvidence(clients, []), {code: grpc.status.INVALID_ARGUMENT});
  });

  test('Evaluate streams progress and ends with finished', {skip: skipUnless('ranker')}, async () => {
    const progress = [];
    const events = await emoflux.evaluate(clients, {probes: ['classifier.p99-latency'], deadline: {seconds: '120'}}, {
      onEvent: (e) => e.event === 'progress' && progress.push(e.progress),
    });
    const last = events[events.length - 1];
    assert.equal(last.event, 'finished');
    assert.ok(last.finished.probes_run >= 1, JSON.stringify(last.finished));
    assert.ok(progress.length >= 1 && progress.every((p) => p.probe === 'classifier.p99-latency'));
  });
});

describe('TLS and mTLS', () => {
  test('mTLS with the client certificate works; without it, or in plaintext, it does not', {skip: skipTls}, async () => {
    const mutual = emoflux.connect({addresses: {emotion: TLS.address}, tls: {ca: TLS.ca, cert: TLS.cert, key: TLS.key, serverName: 'localhost'}});
    const anonymous = emoflux.connect({addresses: {emotion: TLS.address}, tls: {ca: TLS.ca, serverName: 'localhost'}, retry: false});
    const plain = emoflux.connect({addresses: {emotion: TLS.address}, tls: null, retry: false});
    try {
      const info = await emoflux.getModelInfo(mutual, {timeout: 10});
      assert.equal(info.labels.length, 7);
      assert.equal(await emoflux.health(mutual, 'emotion'), 'SERVING');
      await assert.rejects(emoflux.getModelInfo(anonymous, {timeout: 5}), {code: grpc.status.UNAVAILABLE});
      await assert.rejects(emoflux.getModelInfo(plain, {timeout: 5}), {code: grpc.status.UNAVAILABLE});
    } finally {
      for (const c of [mutual, anonymous, plain]) c.close();
    }
  });

  test('the command line takes the TLS flags', {skip: skipTls}, async () => {
    const {stdout} = await run(process.execPath, [
      CLI, 'health', '--service', 'emotion', '--emotion-address', TLS.address,
      '--tls-ca', TLS.ca, '--tls-cert', TLS.cert, '--tls-key', TLS.key, '--tls-server-name', 'localhost',
    ]);
    assert.match(stdout, /health: emotion SERVING/);
  });
});
