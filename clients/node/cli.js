#!/usr/bin/env node
// The `emoflux` command: every native RPC of the three services and the gRPC health check from a shell.
'use strict';

const fs = require('node:fs');
const {parseArgs} = require('node:util');
const grpc = require('@grpc/grpc-js');
const calls = require('./lib/calls.js');
const {connect} = require('./lib/channel.js');
const {syntheticFacePng} = require('./lib/png.js');

const USAGE = `usage: emoflux <command> [options]

commands:
  classify         EmotionService.Classify        [--image FILE] [--top-k N]
  classify-stream  EmotionService.ClassifyStream  [--image FILE]... (one stream item per image)
  model-info       EmotionService.GetModelInfo
  generate         ImageService.GenerateStream    [--prompt TEXT] [--width N --height N --steps N --seed N]
                                                  [--variant NAME] [--out FILE] [--unary: ImageService.Generate]
  variants         ImageService.ListVariants
  models           RankerService.ListModels       [--artifact-type TYPE]
  model            RankerService.GetModel         --model ID
  score            RankerService.GetScore         --model ID [--as-of YYYY-MM-DD]
  compare          RankerService.Compare          [--a ID] [--b ID]
  leaderboard      RankerService.Leaderboard      [--artifact-type TYPE]
  evaluate         RankerService.Evaluate         [--model ID]... [--probe NAME]... [--match]  [write]
  submit-evidence  RankerService.SubmitEvidence   --evidence FILE (JSON list of Evidence objects)  [write]
  add-model        RankerService.AddModel         --hub-id OWNER/NAME [--model-id ID]
                                                  [--model-info FILE (hub model-info JSON snapshot)]  [write]
  retract-source   RankerService.RetractSource    --source-ref REF [--reason TEXT]  [admin]
  explain          RankerService.ExplainScore     --model ID [--limit N]
  history          RankerService.GetScoreHistory  --model ID
  health           grpc.health.v1.Health.Check    [--service emotion|image|ranker] (all three by default)
  all              classify, generate and compare with their defaults

options:
  --emotion-address, --image-address, --ranker-address ADDR[,ADDR...]
                   service addresses (env EMOFLUX_EMOTION_ADDRESS, ...; defaults 127.0.0.1:50051/50052/50053);
                   several comma-separated addresses are balanced round_robin
  --tls-ca PEM     verify the services with this CA (env EMOFLUX_TLS_CA); enables TLS
  --tls-cert PEM, --tls-key PEM
                   present a client certificate (mTLS; env EMOFLUX_TLS_CERT, EMOFLUX_TLS_KEY)
  --tls-server-name NAME
                   name expected in the server certificate (env EMOFLUX_TLS_SERVER_NAME)
  --token TOKEN    bearer token sent on every call (env EMOFLUX_TOKEN, which keeps it out of the
                   process list); [write] and [admin] commands need a token granting that role
  --timeout S      deadline of each call in seconds (default: 30, generate 600, evaluate 900)
  --json           print responses as JSON instead of a summary
  -h, --help       show this help

Calls are retried on UNAVAILABLE (3 attempts, 50 ms backoff doubling to 1 s), as the Python clients do.`;

const OPTIONS = {
  'emotion-address': {type: 'string'},
  'image-address': {type: 'string'},
  'ranker-address': {type: 'string'},
  'tls-ca': {type: 'string'},
  'tls-cert': {type: 'string'},
  'tls-key': {type: 'string'},
  'tls-server-name': {type: 'string'},
  token: {type: 'string'},
  timeout: {type: 'string'},
  json: {type: 'boolean', default: false},
  help: {type: 'boolean', short: 'h', default: false},
  image: {type: 'string', multiple: true},
  'top-k': {type: 'string'},
  prompt: {type: 'string', default: 'a happy face'},
  width: {type: 'string', default: '64'},
  height: {type: 'string', default: '64'},
  steps: {type: 'string', default: '4'},
  seed: {type: 'string'},
  variant: {type: 'string', default: ''},
  out: {type: 'string'},
  unary: {type: 'boolean', default: false},
  'artifact-type': {type: 'string', default: ''},
  model: {type: 'string', multiple: true},
  a: {type: 'string', default: 'facial-emotions-image-detection'},
  b: {type: 'string', default: 'flux-1-pro'},
  probe: {type: 'string', multiple: true},
  match: {type: 'boolean', default: false},
  evidence: {type: 'string'},
  'hub-id': {type: 'string'},
  'model-id': {type: 'string', default: ''},
  'model-info': {type: 'string'},
  'source-ref': {type: 'string'},
  reason: {type: 'string', default: ''},
  limit: {type: 'string'},
  'as-of': {type: 'string', default: ''},
  service: {type: 'string'},
};

/** Parse argv with node:util parseArgs; throws a TypeError naming the bad option. */
function parseCommandLine(argv) {
  const {values, positionals} = parseArgs({args: argv, options: OPTIONS, allowPositionals: true, strict: true});
  if (positionals.length > 1) throw new TypeError(`one command expected, got ${positionals.join(' ')}`);
  return {command: positionals[0] || (values.help ? 'help' : 'all'), options: values};
}

function number(options, name) {
  const value = Number(options[name]);
  if (!Number.isFinite(value)) throw new TypeError(`--${name} must be a number, got ${options[name]}`);
  return value;
}

function timeoutOf(options) {
  return options.timeout === undefined ? {} : {timeout: number(options, 'timeout')};
}

function print(options, value, summary) {
  console.log(options.json ? JSON.stringify(value, (k, v) => (Buffer.isBuffer(v) ? `<${v.length} bytes>` : v)) : summary);
}

function images(options) {
  return (options.image && options.image.length ? options.image : [null]).map((file) =>
    file ? fs.readFileSync(file) : syntheticFacePng(),
  );
}

function scoresLine(face) {
  return face.scores.map((s) => `${s.label} ${s.score.toFixed(3)}`).join(', ');
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
    default:
      return `event ${JSON.stringify(event)}`;
  }
}

const COMMANDS = {
  async classify(clients, options) {
    const request = {images: [{data: images(options)[0]}], face_mode: 'FACE_MODE_WHOLE'};
    if (options['top-k'] !== undefined) request.top_k = number(options, 'top-k');
    const response = await calls.classify(clients, request, timeoutOf(options));
    const lines = [`classify: model ${response.model} (${response.backend}/${response.precision}, ${response.weights_origin})`];
    for (const face of response.results[0].faces) lines.push(`  face ${face.box.width}x${face.box.height}: ${scoresLine(face)}`);
    print(options, response, lines.join('\n'));
  },
  async 'classify-stream'(clients, options) {
    const requests = images(options).map((data, i) => ({request_id: `item-${i}`, request: {images: [{data}]}}));
    const responses = await calls.classifyStream(clients, requests, timeoutOf(options));
    const lines = responses.map((r) =>
      r.outcome === 'error' ? `  ${r.request_id}: error ${r.error.message}` : `  ${r.request_id}: ${r.response.results[0].faces[0].top_label}`,
    );
    print(options, responses, [`classify-stream: ${responses.length} responses`, ...lines].join('\n'));
  },
  async 'model-info'(clients, options) {
    const info = await calls.getModelInfo(clients, timeoutOf(options));
    print(options, info, `model-info: ${info.model} labels ${info.labels.join(', ')}`);
  },
  async generate(clients, options) {
    const request = {
      variant: options.variant,
      prompt: options.prompt,
      width: number(options, 'width'),
      height: number(options, 'height'),
      num_inference_steps: number(options, 'steps'),
      num_images: 1,
      output_format: 'OUTPUT_FORMAT_PNG',
    };
    if (options.seed !== undefined) request.seed = String(options.seed);
    console.log(`generate: "${request.prompt}" ${request.width}x${request.height}, ${request.num_inference_steps} steps`);
    let response;
    if (options.unary) {
      response = await calls.generate(clients, request, timeoutOf(options));
      console.log(`  ${describeEvent({event: 'completed', completed: {response}})}`);
    } else {
      const events = await calls.generateStream(clients, request, {
        ...timeoutOf(options),
        onEvent: (e) => console.log(`  ${describeEvent(e)}`),
      });
      const last = events[events.length - 1];
      response = last && last.event === 'completed' ? last.completed.response : null;
    }
    if (options.out && response) {
      fs.writeFileSync(options.out, response.images[0].data);
      console.log(`  wrote ${options.out}`);
    }
  },
  async variants(clients, options) {
    const response = await calls.listVariants(clients, timeoutOf(options));
    print(options, response, `variants: ${response.variants.map((v) => v.name).join(', ')}`);
  },
  async models(clients, options) {
    const response = await calls.listModels(clients, {artifactType: options['artifact-type'], ...timeoutOf(options)});
    print(options, response, `models: ${response.models.map((m) => m.id).join(', ')}`);
  },
  async model(clients, options) {
    const response = await calls.getModel(clients, requireModel(options), timeoutOf(options));
    print(options, response, `model: ${response.model.id} (${response.model.display_name})`);
  },
  async score(clients, options) {
    const {score} = await calls.getScore(clients, requireModel(options), {asOf: options['as-of'], ...timeoutOf(options)});
    print(options, score, `score: ${scoreLine(score)}`);
  },
  async compare(clients, options) {
    const response = await calls.compare(clients, options.a, options.b, timeoutOf(options));
    const lines = [`compare: ${response.headline}`];
    for (const s of [response.score_a, response.score_b]) {
      lines.push(`  ${s.model_id}: ${s.score.toFixed(1)} [${s.low.toFixed(1)}, ${s.high.toFixed(1)}]`);
    }
    for (const row of response.rows) lines.push(`  ${row.name.padEnd(28)} ${row.value_a.padStart(12)} ${row.value_b.padStart(12)}  ${row.leader}`);
    lines.push(`  verdict: ${response.verdict}`);
    print(options, response, lines.join('\n'));
  },
  async leaderboard(clients, options) {
    const response = await calls.leaderboard(clients, {artifactType: options['artifact-type'], ...timeoutOf(options)});
    const lines = response.entries.map((e) => `  ${String(e.rank).padStart(2)} ${e.model_id.padEnd(36)} ${e.score.toFixed(1)}`);
    print(options, response, ['leaderboard:', ...lines].join('\n'));
  },
  async evaluate(clients, options) {
    const request = {model_ids: options.model || [], probes: options.probe || [], include_match: options.match};
    const events = await calls.evaluate(clients, request, {
      ...timeoutOf(options),
      onEvent: (e) => {
        if (e.event === 'progress') console.log(`  ${e.progress.done}/${e.progress.total} ${e.progress.model_id} ${e.progress.probe}: ${e.progress.message}`);
      },
    });
    const finished = events[events.length - 1].finished;
    print(options, finished, `evaluate: ${finished.probes_run} probes run, ${finished.probes_failed} failed, ${finished.evidence_recorded} records`);
  },
  async 'submit-evidence'(clients, options) {
    if (!options.evidence) throw new TypeError('--evidence FILE is required');
    const response = await calls.submitEvidence(clients, JSON.parse(fs.readFileSync(options.evidence, 'utf8')), timeoutOf(options));
    print(options, response, `submit-evidence: ${response.accepted} accepted`);
  },
  async 'add-model'(clients, options) {
    if (!options['hub-id']) throw new TypeError('--hub-id OWNER/NAME is required');
    const request = {hub_id: options['hub-id'], model_id: options['model-id']};
    if (options['model-info']) request.model_info_json = fs.readFileSync(options['model-info'], 'utf8');
    const response = await calls.addModel(clients, request, timeoutOf(options));
    const {model} = response;
    print(options, response, `add-model: ${model.id} (${model.artifact_type}), ${response.evidence_imported} records imported`);
  },
  async 'retract-source'(clients, options) {
    if (!options['source-ref']) throw new TypeError('--source-ref REF is required');
    const response = await calls.retractSource(clients, options['source-ref'], {reason: options.reason, ...timeoutOf(options)});
    print(options, response, `retract-source: ${options['source-ref']}: ${response.records} records no longer count`);
  },
  async explain(clients, options) {
    const limit = options.limit === undefined ? 0 : number(options, 'limit');
    const response = await calls.explainScore(clients, requireModel(options), {limit, ...timeoutOf(options)});
    const lines = [`explain: ${scoreLine(response.score)}`];
    for (const i of response.influences) {
      const e = i.evidence;
      const delta = `${i.delta >= 0 ? '+' : ''}${i.delta.toFixed(2)}`;
      lines.push(`  ${delta.padStart(7)} ${i.component.padEnd(12)} ${e.probe} = ${e.value} ${e.unit} (${e.source}${e.source_ref ? `, ${e.source_ref}` : ''})`);
    }
    print(options, response, lines.join('\n'));
  },
  async history(clients, options) {
    const {scores} = await calls.getScoreHistory(clients, requireModel(options), timeoutOf(options));
    const lines = scores.map((s) => `  ${timestamp(s.updated_at)} ${s.score.toFixed(1)} [${s.low.toFixed(1)}, ${s.high.toFixed(1)}]`);
    print(options, scores, [`history: ${scores.length} scores`, ...lines].join('\n'));
  },
  async health(clients, options) {
    const which = options.service ? [options.service] : ['emotion', 'image', 'ranker'];
    const statuses = {};
    for (const name of which) {
      statuses[name] = await calls.health(clients, name, '', timeoutOf(options)).catch((error) => grpc.status[error.code] || String(error));
    }
    print(options, statuses, Object.entries(statuses).map(([k, v]) => `health: ${k} ${v}`).join('\n'));
    if (Object.values(statuses).some((s) => s !== 'SERVING')) process.exitCode = 1;
  },
};

function scoreLine(score) {
  return `${score.model_id} ${score.score.toFixed(1)} [${score.low.toFixed(1)}, ${score.high.toFixed(1)}]`;
}

/** A google.protobuf.Timestamp (seconds as a string: int64) as ISO 8601 UTC. */
function timestamp(value) {
  if (!value) return '-';
  return new Date(Number(value.seconds) * 1000 + Math.round((value.nanos || 0) / 1e6)).toISOString();
}

function requireModel(options) {
  if (!options.model || options.model.length !== 1) throw new TypeError('--model ID is required (once)');
  return options.model[0];
}

async function main(argv) {
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    console.error(`emoflux: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const {command, options} = parsed;
  if (options.help || command === 'help') {
    console.log(USAGE);
    return;
  }
  const run = command === 'all' ? null : COMMANDS[command];
  if (command !== 'all' && !run) {
    console.error(`emoflux: unknown command ${command}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const tls = options['tls-ca'] || options['tls-cert'] || options['tls-key']
    ? {ca: options['tls-ca'], cert: options['tls-cert'], key: options['tls-key'], serverName: options['tls-server-name']}
    : undefined;
  const clients = connect({
    addresses: {emotion: options['emotion-address'], image: options['image-address'], ranker: options['ranker-address']},
    tls,
    // --token wins over EMOFLUX_TOKEN (read by connect when this is undefined).
    token: options.token,
  });
  try {
    if (run) {
      await run(clients, options);
    } else {
      for (const name of ['classify', 'generate', 'compare']) await COMMANDS[name](clients, options);
    }
  } finally {
    clients.close();
  }
}

module.exports = {COMMANDS, USAGE, describeEvent, main, parseCommandLine};

if (require.main === module) {
  main(process.argv.slice(2)).catch((error) => {
    const code = error.code !== undefined && grpc.status[error.code] ? ` (gRPC ${grpc.status[error.code]})` : '';
    console.error(`error${code}: ${error.details || error.message}`);
    process.exitCode = 1;
  });
}
