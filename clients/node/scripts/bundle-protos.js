#!/usr/bin/env node
// Copy the emoflux .proto files the client loads from ../../protos into proto/, so the packed package
// carries its contract (npm pack runs this as prepack; postpack removes the copy with --clean).
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const SOURCE = path.resolve(ROOT, '..', '..', 'protos');
const TARGET = path.join(ROOT, 'proto');

fs.rmSync(TARGET, {recursive: true, force: true});
if (!process.argv.includes('--clean')) {
  for (const file of ['emoflux/emotion/v1/emotion.proto', 'emoflux/image/v1/image.proto', 'emoflux/ranker/v1/ranker.proto']) {
    fs.mkdirSync(path.dirname(path.join(TARGET, file)), {recursive: true});
    fs.copyFileSync(path.join(SOURCE, file), path.join(TARGET, file));
  }
}
