'use strict';
// standard.js and cluster.js as child processes on 127.0.0.1:0, with the 1 MP photo.
// Never more than 2 requests at once: a Jimp job holds a lot of memory.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const h = require('./helpers');

const HEALTH_KEYS = ['capacity', 'done', 'failed', 'in_flight', 'mode', 'pid', 'queued', 'uptime_seconds', 'worker', 'workers'];

function checkFlipAnswer(res, pid) {
  assert.equal(res.status, 200, res.body);
  const body = JSON.parse(res.body);
  assert.deepEqual(Object.keys(body).sort(), ['job_ms', 'pid', 'worker']);
  assert.equal(res.headers['x-worker-pid'], String(body.pid));
  if (pid !== undefined) assert.equal(body.pid, pid);
  assert.ok(body.job_ms > 0, `job_ms ${body.job_ms}`);
  assert.match(res.headers['x-response-time'], h.GO_DURATION);
  assert.match(res.headers['x-job-time'], h.GO_DURATION);
  assert.ok(Math.abs(parseFloat(res.headers['x-job-time']) - body.job_ms) < 0.01, `${res.headers['x-job-time']} vs ${body.job_ms}`);
  assert.ok(parseFloat(res.headers['x-response-time']) >= body.job_ms, 'the response takes at least the job');
  assert.match(res.headers['content-type'], /^application\/json/);
  return body;
}

// stopCleanly sends SIGTERM and expects exit 0 and an empty tmpdir.
async function stopCleanly(srv, signal = 'SIGTERM') {
  srv.child.kill(signal);
  const { code, signal: sig } = await h.withTimeout(srv.exited, 15000, `exit after ${signal}`);
  assert.equal(code, 0, `exit code after ${signal} (signal ${sig}):\n${srv.out.stderr}`);
  assert.deepEqual(fs.readdirSync(srv.tmpdir), [], 'tmpdir empty after a clean stop');
}

test('standard: routes, headers, the job, and a clean stop', async (t) => {
  const srv = await h.start(t, 'standard.js');
  assert.match(srv.addrFileText, /^127\.0\.0\.1:\d+\n$/);
  assert.notEqual(srv.addr, '127.0.0.1:0');
  assert.deepEqual(fs.readdirSync(srv.tmpdir), [`flipbench-node-${srv.pid}`]);

  const root = await h.request(srv.addr, 'GET', '/');
  assert.equal(root.status, 200);
  assert.equal(root.body, String(srv.pid));
  assert.match(root.headers['content-type'], /^text\/plain/);
  assert.equal(root.headers['x-worker-pid'], String(srv.pid));
  assert.match(root.headers['x-response-time'], h.GO_DURATION);

  const health = await h.getJSON(srv.addr, '/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(Object.keys(health.json).sort(), HEALTH_KEYS);
  assert.deepEqual(
    { ...health.json, uptime_seconds: 0 },
    { pid: srv.pid, mode: 'node-standard', worker: -1, capacity: 1, workers: 1, uptime_seconds: 0, in_flight: 0, queued: 0, done: 0, failed: 0 },
  );
  assert.ok(health.json.uptime_seconds > 0);

  for (let i = 0; i < 2; i++) {
    const body = checkFlipAnswer(await h.request(srv.addr, 'POST', '/flip'), srv.pid);
    assert.equal(body.worker, -1);
  }
  // Two at once: Node interleaves them.
  const both = await Promise.all([h.request(srv.addr, 'POST', '/flip'), h.request(srv.addr, 'POST', '/flip')]);
  for (const res of both) checkFlipAnswer(res, srv.pid);
  assert.deepEqual(fs.readdirSync(path.join(srv.tmpdir, `flipbench-node-${srv.pid}`)), [], 'no job file left behind');
  const after = await h.getJSON(srv.addr, '/healthz');
  assert.equal(after.json.done, 4);
  assert.equal(after.json.failed, 0);

  const missing = await h.request(srv.addr, 'GET', '/nope');
  assert.equal(missing.status, 404);
  assert.ok(JSON.parse(missing.body).error);
  assert.equal(missing.headers['x-worker-pid'], String(srv.pid));
  const wrongMethod = await h.request(srv.addr, 'GET', '/flip');
  assert.equal(wrongMethod.status, 405);

  await stopCleanly(srv);
});

test('standard: SIGTERM finishes the request in flight, then exits 0', async (t) => {
  const srv = await h.start(t, 'standard.js');
  const inFlight = h.request(srv.addr, 'POST', '/flip');
  await h.sleep(150); // the job takes several hundred ms on this photo
  srv.child.kill('SIGTERM');
  checkFlipAnswer(await inFlight, srv.pid);
  const { code } = await h.withTimeout(srv.exited, 15000, 'exit after SIGTERM');
  assert.equal(code, 0, srv.out.stderr);
  assert.deepEqual(fs.readdirSync(srv.tmpdir), []);
  await assert.rejects(h.request(srv.addr, 'GET', '/'), /ECONNREFUSED/);
});

test('standard: a photo that will not decode is a 500, and its copy is removed', async (t) => {
  const bad = path.join(h.tempDir(t), 'bad.jpg');
  fs.writeFileSync(bad, 'this is not a JPEG');
  const srv = await h.start(t, 'standard.js', [], { image: bad });
  const res = await h.request(srv.addr, 'POST', '/flip');
  assert.equal(res.status, 500);
  assert.match(res.headers['content-type'], /^application\/json/);
  assert.ok(JSON.parse(res.body).error);
  assert.match(res.headers['x-job-time'], h.GO_DURATION);
  assert.match(res.headers['x-response-time'], h.GO_DURATION);
  assert.deepEqual(fs.readdirSync(path.join(srv.tmpdir, `flipbench-node-${srv.pid}`)), []);
  const health = await h.getJSON(srv.addr, '/healthz');
  assert.equal(health.json.failed, 1);
  assert.equal(health.json.done, 0);
  await stopCleanly(srv, 'SIGINT');
});

for (const script of ['standard.js', 'cluster.js']) {
  test(`${script}: a missing photo is exit 1 with a message, before listening`, async (t) => {
    const dir = h.tempDir(t);
    const image = path.join(dir, 'no-such-photo.jpg');
    const p = h.run(t, script, ['--addr=127.0.0.1:0', `--addr-file=${dir}/addr`, `--image=${image}`, `--tmpdir=${dir}`]);
    const { code } = await h.withTimeout(p.exited, 10000, 'exit');
    assert.equal(code, 1, p.out.stderr);
    assert.match(p.out.stderr, /no-such-photo\.jpg: no such file/);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing made, no addr file');
  });

  test(`${script}: a bad command line is exit 2 with one line`, async (t) => {
    const cases = [['--bogus=1'], ['--addr=3000'], ['stray']];
    if (script === 'standard.js') cases.push(['--workers=2']);
    else cases.push(['--workers=0']);
    for (const args of cases) {
      const p = h.run(t, script, args);
      const { code } = await h.withTimeout(p.exited, 10000, 'exit');
      assert.equal(code, 2, `${args}: ${p.out.stderr}`);
      const lines = p.out.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, p.out.stderr);
      assert.match(lines[0], new RegExp(`^${script}: `));
    }
    const unknown = h.run(t, script, ['--bogus=1']);
    await unknown.exited;
    assert.match(unknown.out.stderr, /unknown flag --bogus/);
  });
}

test('cluster: two workers on one port answer, a killed worker is replaced, SIGTERM stops all', async (t) => {
  const srv = await h.start(t, 'cluster.js', ['--workers=2']);
  assert.match(srv.addrFileText, /^127\.0\.0\.1:\d+\n$/);
  assert.match(srv.out.stderr, /sched_policy=rr/);
  const workers = h.childrenOf(srv.pid);
  assert.equal(workers.length, 2, `worker processes: ${workers}`);

  // Fresh connections: the master hands them out round-robin; assert only that both answer.
  const seen = new Map();
  for (let i = 0; i < 6; i++) {
    const res = await h.request(srv.addr, 'GET', '/');
    assert.equal(res.status, 200);
    assert.equal(res.body, res.headers['x-worker-pid']);
    seen.set(Number(res.body), (seen.get(Number(res.body)) || 0) + 1);
  }
  for (let round = 0; round < 2; round++) {
    const pair = await Promise.all([h.request(srv.addr, 'POST', '/flip'), h.request(srv.addr, 'POST', '/flip')]);
    for (const res of pair) {
      const body = checkFlipAnswer(res);
      assert.ok(body.worker === 0 || body.worker === 1, `worker ${body.worker}`);
      seen.set(body.pid, (seen.get(body.pid) || 0) + 1);
    }
  }
  assert.deepEqual([...seen.keys()].sort(), [...workers].sort(), `answers per pid: ${JSON.stringify([...seen])}`);
  assert.ok(!seen.has(srv.pid), 'the master serves nothing');

  const indexes = new Set();
  for (let i = 0; i < 4; i++) {
    const health = await h.getJSON(srv.addr, '/healthz');
    assert.deepEqual(Object.keys(health.json).sort(), HEALTH_KEYS);
    assert.equal(health.json.mode, 'node-cluster');
    assert.equal(health.json.workers, 2);
    assert.equal(health.json.capacity, 1);
    assert.equal(health.json.queued, 0);
    assert.equal(h.parentOf(health.json.pid), srv.pid);
    indexes.add(health.json.worker);
  }
  assert.deepEqual([...indexes].sort(), [0, 1]);

  // A worker that dies is replaced, and its work dir does not outlive it.
  const [victim, survivor] = workers;
  process.kill(victim, 'SIGKILL');
  const replaced = await h.waitFor(() => {
    const now = h.childrenOf(srv.pid);
    return now.length === 2 && now.includes(survivor) && !now.includes(victim);
  }, 10000);
  assert.ok(replaced, `no new worker: ${h.childrenOf(srv.pid)}\n${srv.out.stderr}`);
  assert.ok(!fs.existsSync(path.join(srv.tmpdir, `flipbench-node-${victim}`)), "the killed worker's work dir is removed");
  const fresh = h.childrenOf(srv.pid).find((p) => p !== survivor);
  const answered = await h.waitFor(async () => {
    const res = await h.request(srv.addr, 'GET', '/');
    return res.body === String(fresh);
  }, 10000);
  assert.ok(answered, 'the new worker answers on the same port');

  const all = h.childrenOf(srv.pid);
  await stopCleanly(srv);
  for (const pid of all) assert.ok(!h.isRunning(pid), `worker ${pid} still running after the master exited`);
  assert.ok(!fs.existsSync(srv.tmpdir + '/../addr.tmp'));
});

test('sharp: standard and cluster name their mode and report libuv\'s pool as capacity', async (t) => {
  const srv = await h.start(t, 'standard.js', ['--engine=sharp'], { env: { UV_THREADPOOL_SIZE: '3' } });
  const health = await h.getJSON(srv.addr, '/healthz');
  assert.equal(health.json.mode, 'node-sharp-standard');
  assert.equal(health.json.capacity, 3);
  assert.equal(health.json.workers, 1);
  // Three at once: all three run on the pool.
  const three = await Promise.all([1, 2, 3].map(() => h.request(srv.addr, 'POST', '/flip')));
  for (const res of three) checkFlipAnswer(res, srv.pid);
  assert.equal((await h.getJSON(srv.addr, '/healthz')).json.done, 3);
  await stopCleanly(srv);

  const cl = await h.start(t, 'cluster.js', ['--engine=sharp', '--workers=2'], { env: { UV_THREADPOOL_SIZE: '1' } });
  assert.match(cl.out.stderr, /engine=sharp/);
  const ch = await h.getJSON(cl.addr, '/healthz');
  assert.equal(ch.json.mode, 'node-sharp-cluster');
  assert.equal(ch.json.capacity, 1, 'UV_THREADPOOL_SIZE reaches the workers');
  assert.equal(ch.json.workers, 2);
  checkFlipAnswer(await h.request(cl.addr, 'POST', '/flip'));
  await stopCleanly(cl);
});

test('cluster: when the master is SIGKILLed its workers exit and clean up', async (t) => {
  const srv = await h.start(t, 'cluster.js', ['--workers=2'], { env: { NODE_CLUSTER_SCHED_POLICY: 'none' } });
  assert.match(srv.out.stderr, /sched_policy=none/);
  const workers = h.childrenOf(srv.pid);
  assert.equal(workers.length, 2);
  t.after(() => {
    for (const pid of workers) if (h.isRunning(pid)) process.kill(pid, 'SIGKILL');
  });
  const res = await h.request(srv.addr, 'GET', '/');
  assert.ok(workers.includes(Number(res.body)));

  srv.child.kill('SIGKILL');
  await srv.exited;
  const gone = await h.waitFor(() => workers.every((pid) => !h.isRunning(pid)), 5000);
  assert.ok(gone, `workers still running 5 s after the master died: ${workers.filter(h.isRunning)}`);
  // They remove their work dirs on the way out.
  assert.ok(await h.waitFor(() => fs.readdirSync(srv.tmpdir).length === 0, 2000), `left: ${fs.readdirSync(srv.tmpdir)}`);
});
