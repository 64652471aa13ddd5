#!/usr/bin/env node
// Node.js client of the emoflux gRPC services, built from the .proto files in ../../protos at run time.
//
//   node client.js classify [--image face.png] [--top-k 3]
//   node client.js generate [--prompt "a happy face"] [--width 64 --height 64 --steps 4 --seed 7] [--out img.png]
//   node client.js compare [--a facial-emotions-image-detection] [--b flux-1-pro]
//   node client.js all                      (the three calls above with their defaults)
//
// Addresses come from --emotion-address/--image-address/--ranker-address or EMOFLUX_EMOTION_ADDRESS, EMOFLUX_IMAGE_ADDRESS,
// EMOFLUX_RANKER_ADDRESS (defaults 127.0.0.1:50051/50052/50053). Several comma-separated addresses are
// balanced with gRPC round_robin, as the Python services' own clients do.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = process.env.EMOFLUX_PROTO_ROOT || path.resolve(__dirname, '..', '..', 'protos');
const PROTO_FILES = [
  'emoflux/emotion/v1/emotion.proto',
  'emoflux/image/v1/image.proto',
  'emoflux/ranker/v1/ranker.proto',
];
const DEFAULT_ADDRESSES = {
  emotion: '127.0.0.1:50051',
  image: '127.0.0.1:50052',
  ranker: '127.0.0.1:50053',
};
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

// keepCase: field names as written in the .proto files (snake_case), like every other emoflux client.
// longs as strings: uint64 seeds do not fit a JS number. Enums as their names. oneofs name the set field.
const LOADER_OPTIONS = {keepCase: true, longs: String, enums: String, defaults: true, oneofs: true};

let cachedPackages = null;

/** The loaded gRPC package tree (emoflux.emotion.v1, emoflux.image.v1, emoflux.ranker.v1). */
function loadPackages() {
  if (cachedPackages === null) {
    const definition = protoLoader.loadSync(PROTO_FILES, {...LOADER_OPTIONS, includeDirs: [PROTO_ROOT]});
    cachedPackages = grpc.loadPackageDefinition(definition).emoflux;
  }
  return cachedPackages;
}

/** A gRPC target and channel options for one address or a comma-separated list (round_robin). */
function channelFor(addresses) {
  const list = String(addresses).split(',').map((a) => a.trim()).filter(Boolean);
  if (list.length === 0) {
    throw new Error('no address given');
  }
  const options = {
    'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
    'grpc.service_config': JSON.stringify({loadBalancingConfig: [{round_robin: {}}]}),
  };
  const target = list.length === 1 ? list[0] : `ipv4:${list.join(',')}`;
  return {target, options};
}

/** Stubs for the three services; close() releases their channels. */
function connect(addresses = {}) {
  const pkg = loadPackages();
  const make = (Service, address) => {
    const {target, options} = channelFor(address);
    return new Service(target, grpc.credentials.createInsecure(), options);
  };
  const resolved = {...DEFAULT_ADDRESSES, ...addressesFromEnv(), ...stripUndefined(addresses)};
  const clients = {
    emotion: make(pkg.emotion.v1.EmotionService, resolved.emotion),
    image: make(pkg.image.v1.ImageService, resolved.image),
    ranker: make(pkg.ranker.v1.RankerService, resolved.ranker),
  };
  return {
    ...clients,
    addresses: resolved,
    close() {
      for (const client of Object.values(clients)) {
        client.close();
      }
    },
  };
}

function addressesFromEnv() {
  return stripUndefined({
    emotion: process.env.EMOFLUX_EMOTION_ADDRESS,
    image: process.env.EMOFLUX_IMAGE_ADDRESS,
    ranker: process.env.EMOFLUX_RANKER_ADDRESS,
  });
}

function stripUndefined(object) {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined && v !== ''));
}

function deadline(seconds) {
  return new Date(Date.now() + seconds * 1000);
}

/** Promise wrapper of a unary call; rejects with the grpc-js error (code, details). */
function unary(client, method, request, seconds = 30) {
  return new Promise((resolve, reject) => {
    client[method](request, {deadline: deadline(seconds)}, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

// -- PNG -------------------------------------------------------------------------------------------------
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    }
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, as PNG uses) of a buffer. */
function crc32(buffer) {
  let crc = 0xffffffff;
  for (const byte of buffer) {
    crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function pngChunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encode 8-bit RGB pixels (width*height*3 bytes, row-major) as a PNG. */
function encodePng(width, height, rgb) {
  if (rgb.length !== width * height * 3) {
    throw new Error(`rgb must hold width*height*3 = ${width * height * 3} bytes, got ${rgb.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit depth, colour type 2 (RGB), deflate, no filter, no interlace
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    rows[y * (1 + width * 3)] = 0; // filter: none
    rgb.copy(rows, y * (1 + width * 3) + 1, y * width * 3, (y + 1) * width * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', zlib.deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Width and height from a PNG's IHDR, or null when the bytes are not a PNG. */
function pngSize(buffer) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buffer.length < 24 || !buffer.subarray(0, 8).equals(signature) || buffer.toString('ascii', 12, 16) !== 'IHDR') {
    return null;
  }
  return {width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20)};
}

/** A face-like test picture: skin-toned disc, dark eyes, a smile; deterministic. */
function syntheticFacePng(size = 64) {
  const rgb = Buffer.alloc(size * size * 3);
  const c = size / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const i = (y * size + x) * 3;
      const dx = (x - c) / c;
      const dy = (y - c) / c;
      let colour = [70 + y, 110, 160 - y]; // background gradient
      if (dx * dx + dy * dy < 0.75) colour = [224, 172, 105]; // face
      const eye = (ex) => (x - ex) ** 2 + (y - c * 0.75) ** 2 < (size / 14) ** 2;
      if (eye(c * 0.65) || eye(c * 1.35)) colour = [30, 30, 30];
      const mouth = Math.abs(Math.hypot(dx, dy + 0.1) - 0.45) < 0.06 && dy > 0.15;
      if (mouth) colour = [150, 40, 40];
      rgb[i] = colour[0];
      rgb[i + 1] = colour[1];
      rgb[i + 2] = colour[2];
    }
  }
  return encodePng(size, size, rgb);
}

// -- calls -----------------------------------------------------------------------------------------------
/** EmotionService.Classify on one image (bytes); resolves to the ClassifyResponse. */
function classify(clients, image, {topK = 0, faceMode = 'FACE_MODE_WHOLE', timeout = 30} = {}) {
  return unary(clients.emotion, 'Classify', {images: [{data: image}], top_k: topK, face_mode: faceMode}, timeout);
}

/**
 * ImageService.GenerateStream; calls onEvent(event) for every event and resolves to all events.
 * Rejects with the RPC error (validation errors arrive as the status before any event).
 */
function generateStream(clients, request, {onEvent = () => {}, previews = false, timeout = 300} = {}) {
  return new Promise((resolve, reject) => {
    const events = [];
    const call = clients.image.GenerateStream({request, previews}, {deadline: deadline(timeout)});
    call.on('data', (event) => {
      events.push(event);
      onEvent(event);
    });
    call.on('error', reject);
    call.on('end', () => resolve(events));
  });
}

/** RankerService.Compare of two model ids; resolves to the CompareResponse. */
function compare(clients, modelA, modelB, {timeout = 60} = {}) {
  return unary(clients.ranker, 'Compare', {model_a: modelA, model_b: modelB}, timeout);
}

/** One line describing a GenerateStream event. */
function describeEvent(event) {
  switch (event.event) {
    case 'queued':
      return `queued at position ${event.queued.position}`;
    case 'started':
      return `started: batch of ${event.started.batch_size}, ${event.started.total_steps} steps`;
    case 'step':
      return `step ${event.step.step}/${event.step.total_steps} at ${event.step.elapsed_seconds.toFixed(3)} s`;
    case 'completed': {
      const response = event.completed.response;
      const image = response.images[0];
      return `completed: ${image.width}x${image.height} ${image.format}, seed ${image.seed}, variant ${response.variant} (${response.backend}, ${response.weights_origin})`;
    }
    case 'error':
      return `error ${event.error.code}: ${event.error.message}`;
    default:
      return `unknown event ${JSON.stringify(event)}`;
  }
}

// -- command line ----------------------------------------------------------------------------------------
function parseArgs(argv) {
  const [command = 'all', ...rest] = argv;
  const options = {};
  for (let i = 0; i < rest.length; i++) {
    if (!rest[i].startsWith('--')) {
      throw new Error(`unexpected argument ${rest[i]}`);
    }
    const key = rest[i].slice(2);
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) {
      throw new Error(`--${key} needs a value`);
    }
    options[key] = value;
    i++;
  }
  return {command, options};
}

async function runClassify(clients, options) {
  const image = options.image ? fs.readFileSync(options.image) : syntheticFacePng();
  const response = await classify(clients, image, {topK: Number(options['top-k'] || 0)});
  console.log(`classify: model ${response.model} (${response.backend}/${response.precision}, ${response.weights_origin})`);
  for (const face of response.results[0].faces) {
    const scores = face.scores.map((s) => `${s.label} ${s.score.toFixed(3)}`).join(', ');
    console.log(`  face at ${face.box.x},${face.box.y} ${face.box.width}x${face.box.height}: ${scores}`);
  }
  return response;
}

async function runGenerate(clients, options) {
  const request = {
    variant: options.variant || '',
    prompt: options.prompt || 'a happy face',
    width: Number(options.width || 64),
    height: Number(options.height || 64),
    num_inference_steps: Number(options.steps || 4),
    num_images: 1,
    output_format: 'OUTPUT_FORMAT_PNG',
  };
  if (options.seed !== undefined) request.seed = String(options.seed);
  console.log(`generate: "${request.prompt}" ${request.width}x${request.height}, ${request.num_inference_steps} steps`);
  const events = await generateStream(clients, request, {onEvent: (e) => console.log(`  ${describeEvent(e)}`)});
  const last = events[events.length - 1];
  if (options.out && last && last.event === 'completed') {
    fs.writeFileSync(options.out, last.completed.response.images[0].data);
    console.log(`  wrote ${options.out}`);
  }
  return events;
}

async function runCompare(clients, options) {
  const a = options.a || 'facial-emotions-image-detection';
  const b = options.b || 'flux-1-pro';
  const response = await compare(clients, a, b);
  console.log(`compare: ${response.headline}`);
  console.log(`  ${a}: ${response.score_a.score.toFixed(1)} [${response.score_a.low.toFixed(1)}, ${response.score_a.high.toFixed(1)}]`);
  console.log(`  ${b}: ${response.score_b.score.toFixed(1)} [${response.score_b.low.toFixed(1)}, ${response.score_b.high.toFixed(1)}]`);
  for (const row of response.rows) {
    console.log(`  ${row.name.padEnd(28)} ${row.value_a.padStart(12)} ${row.value_b.padStart(12)}  ${row.leader}`);
  }
  console.log(`  verdict: ${response.verdict}`);
  return response;
}

async function main(argv) {
  const {command, options} = parseArgs(argv);
  const clients = connect({
    emotion: options['emotion-address'],
    image: options['image-address'],
    ranker: options['ranker-address'],
  });
  try {
    const commands = {classify: runClassify, generate: runGenerate, compare: runCompare};
    if (command === 'all') {
      for (const run of Object.values(commands)) {
        await run(clients, options);
      }
    } else if (commands[command]) {
      await commands[command](clients, options);
    } else {
      throw new Error(`unknown command ${command} (classify, generate, compare, all)`);
    }
  } finally {
    clients.close();
  }
}

module.exports = {
  PROTO_ROOT,
  loadPackages,
  channelFor,
  connect,
  classify,
  generateStream,
  compare,
  describeEvent,
  encodePng,
  pngSize,
  crc32,
  syntheticFacePng,
  parseArgs,
};

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    const code = error.code !== undefined ? ` (gRPC ${grpc.status[error.code] || error.code})` : '';
    console.error(`error${code}: ${error.details || error.message}`);
    process.exitCode = 1;
  });
}
