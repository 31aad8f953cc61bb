'use strict';
// artillery.js against a tiny server that answers by arrival order: 200, 200, 200, 503,
// then nothing (Artillery's timeout). Its figures must count each kind, and neither its
// temp folder nor Artillery may outlive it, however it ends.

const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const { APP_DIR, run, childrenOf, isRunning, waitFor } = require('./helpers');

const SCRIPT = path.join(APP_DIR, 'artillery.js');

// tempFolders lists artillery.js's folders in the temp directory.
function tempFolders() {
  return fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('flipbench-artillery-'));
}

// server answers the n-th request (from 0) by n % 5: 0-2 OK after 20 ms, 3 a 503, 4 never.
async function server(t) {
  let n = 0;
  const srv = http.createServer((req, res) => {
    req.resume();
    const kind = n++ % 5;
    if (kind === 4) return;
    setTimeout(() => {
      res.statusCode = kind === 3 ? 503 : 200;
      res.end('{}');
    }, 20);
  });
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  t.after(() => { srv.closeAllConnections(); srv.close(); });
  return { url: `http://127.0.0.1:${srv.address().port}/flip`, seen: () => n };
}

function runScript(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { timeout: 60000 },
      (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr }));
  });
}

test('artillery.js counts answers, codes, timeouts and latency', async (t) => {
  const { url, seen } = await server(t);
  const before = tempFolders();
  const { code, stdout, stderr } = await runScript([url, '5', '2', '1']);
  assert.equal(code, 0, stderr);
  const r = JSON.parse(stdout);
  const all = JSON.stringify(r);
  assert.equal(r.tool, 'artillery');
  assert.equal(r.version, '1.7.9');
  assert.equal(r.rate, 5);
  assert.equal(r.duration_seconds, 2);
  assert.equal(r.timeout_seconds, 1);
  assert.equal(seen(), 10, all);
  assert.equal(r.requests, 10, all);
  assert.deepEqual(r.codes, { 200: 6, 503: 2 }, all);
  assert.deepEqual(r.errors, { ETIMEDOUT: 2 }, all);
  assert.equal(r.answers, 6);
  assert.equal(r.throughput, 3);
  for (const k of ['p50_ms', 'p95_ms', 'p99_ms', 'max_ms']) {
    assert.ok(r[k] >= 20 && r[k] < 1000, `${k}: ${all}`);
  }
  assert.ok(r.p50_ms <= r.p99_ms && r.p99_ms <= r.max_ms, all);
  assert.deepEqual(tempFolders(), before);
});

test('artillery.js refuses bad input in one line before it starts', async () => {
  for (const args of [['http://127.0.0.1:1/flip', '0', '2'], ['http://127.0.0.1:1/flip', '5', '0.1'],
    ['not a url', '5', '2'], ['http://127.0.0.1:1/flip', '5', '2', '-1']]) {
    const { code, stdout, stderr } = await runScript(args);
    assert.equal(code, 2, `${args}: ${stderr}`);
    assert.equal(stdout, '');
    assert.match(stderr, /^[^\n]+\nusage: /, `${args}`);
  }
});

for (const signal of ['SIGTERM', 'SIGKILL']) {
  test(`artillery.js killed by ${signal} leaves neither Artillery nor its temp folder`, async (t) => {
    const { url, seen } = await server(t);
    const before = tempFolders();
    const proc = run(t, 'artillery.js', [url, '5', '30']);
    assert.ok(await waitFor(() => seen() > 0, 20000), `no request reached the server: ${proc.out.stderr}`);
    const kids = childrenOf(proc.child.pid);
    assert.equal(kids.length, 1, `children of ${proc.child.pid}: ${kids}`);
    assert.equal(tempFolders().length, before.length + 1);
    proc.child.kill(signal);
    const exit = await proc.exited;
    assert.equal(exit.signal === signal || exit.code === 128 + os.constants.signals[signal], true, JSON.stringify(exit));
    assert.ok(await waitFor(() => !isRunning(kids[0]), 10000), `artillery (pid ${kids[0]}) outlived its parent`);
    assert.ok(await waitFor(() => tempFolders().length === before.length, 10000), `left ${tempFolders()}`);
  });
}
