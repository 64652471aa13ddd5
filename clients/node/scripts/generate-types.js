#!/usr/bin/env node
// Generate the TypeScript types of every message and service from the .proto files, with the loader
// options lib/channel.js uses (so the declared shapes are the objects the calls take and return).
//   node scripts/generate-types.js [OUT_DIR]     (default types/generated; npm run generate)
'use strict';

const {execFileSync} = require('node:child_process');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const out = process.argv[2] || 'types/generated';
const {PROTO_FILES} = require('../lib/channel.js');
const bin = path.join(ROOT, 'node_modules', '.bin', 'proto-loader-gen-types');
execFileSync(
  bin,
  [
    '--keepCase', '--longs=String', '--enums=String', '--defaults', '--oneofs', '--includeComments',
    '--grpcLib=@grpc/grpc-js', '-I', '../../protos', '-I', 'vendor', '-O', out, ...PROTO_FILES,
  ],
  {cwd: ROOT, stdio: 'inherit'},
);
