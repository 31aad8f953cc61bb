// PM2 ecosystem file for examples/pm2.toml: the article's app in PM2's
// cluster mode, FLIP_INSTANCES workers (2 by default) on one port.
'use strict';
const path = require('node:path');

module.exports = {
  apps: [{
    name: 'flip',
    script: path.join(__dirname, 'pm2-app.js'),
    exec_mode: 'cluster',
    instances: Number(process.env.FLIP_INSTANCES || 2),
  }],
};
