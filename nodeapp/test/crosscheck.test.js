'use strict';
// crosscheck.js against a tiny keep-alive server that answers only its first two
// connections: the per-connection counts must show the others never answered.

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { test } = require('node:test');

test('crosscheck.js counts answers per connection', async (t) => {
  let conns = 0;
  const server = http.createServer((req, res) => {
    if (req.socket.index >= 2) return; // never answered
    setTimeout(() => res.end('ok'), 5);
  });
  server.on('connection', (s) => { s.index = conns++; });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => { server.closeAllConnections(); server.close(); });
  const url = `http://127.0.0.1:${server.address().port}/flip`;

  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [path.join(__dirname, '..', 'crosscheck.js'), url, '4', '1'],
      { timeout: 20000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)));
  });
  const r = JSON.parse(out);
  assert.equal(r.tool, 'autocannon');
  assert.equal(r.connections, 4);
  assert.equal(r.per_client.length, 4);
  assert.equal(r.never_answered, 2, JSON.stringify(r));
  assert.ok(r.answers > 0 && r.throughput > 0, JSON.stringify(r));
});
