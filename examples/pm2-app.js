// The article's app as a PM2 cluster-mode worker (see examples/pm2.toml).
// PM2's cluster workers see pm2-runtime's own arguments, which the app
// refuses, so this sets the app's command line from the environment the
// modes file gives, then runs it.
'use strict';
const path = require('node:path');

const env = process.env;
const app = path.resolve(env.FLIP_NODEAPP || 'nodeapp', 'standard.js');
process.argv = [process.argv[0], app, `--addr=127.0.0.1:${env.PORT}`]
  .concat(env.FLIP_IMAGE ? [`--image=${env.FLIP_IMAGE}`] : []);
require(app);
