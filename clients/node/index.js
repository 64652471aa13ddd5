// emoflux Node.js client: typed (types/index.d.ts), generated from the emoflux .proto files, covering every
// native RPC of emotion_service, image_service and the ranker, plus gRPC health, TLS/mTLS, bearer tokens,
// deadlines and the retry policy of the Python clients.
'use strict';

const auth = require('./lib/auth.js');
const calls = require('./lib/calls.js');
const channel = require('./lib/channel.js');
const png = require('./lib/png.js');

module.exports = {...auth, ...channel, ...calls, ...png};
