// node --test: the Node.js client against running emoflux services.
//
// EMOFLUX_EMOTION_ADDRESS, EMOFLUX_IMAGE_ADDRESS and EMOFLUX_RANKER_ADDRESS name the services; the tests
// that need a service are skipped when its variable is unset (tests/clients/test_node_client.py starts
// all three on port 0 and sets them).
'use strict';

const assert = require('node:assert/strict');
const {after, before, describe, test} = require('node:test');
const grpc = require('@grpc/grpc-js');
const client = require('../client.js');

const ADDRESSES = {
  emotion: process.env.EMOFLUX_EMOTION_ADDRESS,
  image: process.env.EMOFLUX_IMAGE_ADDRESS,
  ranker: process.env.EMOFLUX_RANKER_ADDRESS,
};
const skipUnless = (name) => (ADDRESSES[name] ? false : `EMOFLUX_${name.toUpperCase()}_ADDRESS is not set`);

describe('png helpers', () => {
  test('crc32 matches the ISO-HDLC check value', () => {
    assert.equal(client.crc32(Buffer.from('123456789')), 0xcbf43926);
  });

  test('encodePng round-trips its size and refuses a wrong buffer', () => {
    const png = client.encodePng(3, 2, Buffer.alloc(18, 7));
    assert.deepEqual(client.pngSize(png), {width: 3, height: 2});
    assert.throws(() => client.encodePng(3, 2, Buffer.alloc(17)), /width\*height\*3 = 18/);
    assert.equal(client.pngSize(Buffer.from('not a png at all, not at all')), null);
  });

  test('channelFor balances several addresses round_robin', () => {
    const {target, options} = client.channelFor('127.0.0.1:1, 127.0.0.1:2');
    assert.equal(target, 'ipv4:127.0.0.1:1,127.0.0.1:2');
    assert.deepEqual(JSON.parse(options['grpc.service_config']).loadBalancingConfig, [{round_robin: {}}]);
    assert.equal(client.channelFor('host:5').target, 'host:5');
  });
});

describe('against running services', () => {
  let clients;
  before(() => {
    clients = client.connect(ADDRESSES);
  });
  after(() => clients && clients.close());

  test('Classify returns the 7 label scores of the whole-image face', {skip: skipUnless('emotion')}, async () => {
    const response = await client.classify(clients, client.syntheticFacePng(64));
    assert.equal(response.results.length, 1);
    const [face] = response.results[0].faces;
    assert.equal(face.scores.length, 7);
    const total = face.scores.reduce((sum, s) => sum + s.score, 0);
    assert.ok(Math.abs(total - 1) < 1e-3, `scores sum to ${total}`);
    for (let i = 1; i < face.scores.length; i++) {
      assert.ok(face.scores[i - 1].score >= face.scores[i].score, 'scores are sorted best first');
    }
    assert.equal(face.top_label, face.scores[0].label);
    assert.deepEqual(face.box, {x: 0, y: 0, width: 64, height: 64});
    assert.ok(response.weights_origin.startsWith('WEIGHTS_ORIGIN_'));
  });

  test('Classify honours top_k and refuses bytes that are no image', {skip: skipUnless('emotion')}, async () => {
    const top2 = await client.classify(clients, client.syntheticFacePng(32), {topK: 2});
    assert.equal(top2.results[0].faces[0].scores.length, 2);
    await assert.rejects(client.classify(clients, Buffer.from('definitely not an image')), (error) => {
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.match(error.details, /images\[0\]/);
      return true;
    });
  });

  test('GenerateStream reports ordered steps, then the image', {skip: skipUnless('image')}, async () => {
    const request = {prompt: 'a surprised face', width: 64, height: 64, num_inference_steps: 3, seed: '42', num_images: 1};
    const seen = [];
    const events = await client.generateStream(clients, request, {onEvent: (e) => seen.push(client.describeEvent(e))});
    assert.equal(seen.length, events.length);
    const steps = events.filter((e) => e.event === 'step').map((e) => e.step.step);
    assert.deepEqual(steps, [1, 2, 3]);
    const last = events[events.length - 1];
    assert.equal(last.event, 'completed');
    assert.equal(events.filter((e) => e.event === 'completed').length, 1);
    const [image] = last.completed.response.images;
    assert.equal(image.seed, '42');
    assert.deepEqual(client.pngSize(image.data), {width: 64, height: 64});
    assert.match(seen[seen.length - 1], /^completed: 64x64 OUTPUT_FORMAT_PNG, seed 42/);
  });

  test('GenerateStream validation errors arrive as the RPC status', {skip: skipUnless('image')}, async () => {
    await assert.rejects(
      client.generateStream(clients, {prompt: 'x', width: 100, height: 64, num_inference_steps: 1}),
      (error) => error.code === grpc.status.INVALID_ARGUMENT && /width/.test(error.details),
    );
  });

  test('Compare ranks the two reference models', {skip: skipUnless('ranker')}, async () => {
    const response = await client.compare(clients, 'facial-emotions-image-detection', 'flux-1-pro');
    for (const score of [response.score_a, response.score_b]) {
      assert.ok(score.low <= score.score && score.score <= score.high, JSON.stringify(score));
      assert.ok(score.score >= 0 && score.score <= 100);
    }
    assert.equal(response.score_a.model_id, 'facial-emotions-image-detection');
    assert.ok(response.rows.length > 0);
    assert.ok(['', 'facial-emotions-image-detection', 'flux-1-pro'].includes(response.winner));
    assert.ok(response.verdict.length > 0);
    await assert.rejects(client.compare(clients, 'flux-1-pro', 'flux-1-pro'), {code: grpc.status.INVALID_ARGUMENT});
    await assert.rejects(client.compare(clients, 'flux-1-pro', 'no-such-model'), {code: grpc.status.NOT_FOUND});
  });
});
