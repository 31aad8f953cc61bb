'use strict';
// parent-watch.js is preloaded (node --require) into a child that its parent started with
// an IPC channel: when the channel closes, the parent is gone (even by SIGKILL, which it
// cannot pass on), so the child exits rather than load a server for nobody. It first
// removes FLIPBENCH_CHILD_TMPDIR, the parent's temp folder, which the parent could not.

const fs = require('node:fs');
const path = require('node:path');

// TMPDIR_PREFIX guards the removal: only a folder of this name is ever removed.
const TMPDIR_PREFIX = 'flipbench-artillery-';

if (process.channel) {
  process.on('disconnect', () => {
    const dir = process.env.FLIPBENCH_CHILD_TMPDIR;
    if (dir && path.basename(dir).startsWith(TMPDIR_PREFIX)) {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    process.exit(1);
  });
  // The listener alone would keep the child alive after its work is done.
  process.channel.unref();
}

module.exports = { TMPDIR_PREFIX };
