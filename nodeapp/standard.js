#!/usr/bin/env node
'use strict';
// One process, one JS thread: the article's "standard" server.

const log = require('./log');
const { parseCommandLine, UsageError, modeName } = require('./config');
const { serve } = require('./serve');

function main() {
  let cfg;
  try {
    cfg = parseCommandLine(process.argv.slice(2), { prog: 'standard.js', withWorkers: false });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`standard.js: ${err.message}\n`);
    process.exit(2);
  }
  if (cfg === null) return; // --help
  log.setRole('standard');
  serve({ cfg, mode: modeName('standard', cfg.engine), worker: -1, workers: 1, writeAddr: true, standalone: true });
}

main();
