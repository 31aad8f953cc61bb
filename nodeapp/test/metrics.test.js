'use strict';
// GET /metrics on standard.js and cluster.js: the Go servers' names and buckets, counted
// after real requests. One request at a time: a Jimp job holds a lot of memory.

const assert = require('node:assert/strict');
const { test } = require('node:test');

const h = require('./helpers');
const { BUCKETS, routeLabel } = require('../metrics');

// parse reads Prometheus text format into [{ name, labels, value }].
function parse(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels = {};
    for (const pair of (m[2] || '').match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) || []) {
      const i = pair.indexOf('=');
      labels[pair.slice(0, i)] = pair.slice(i + 2, -1);
    }
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

// pick is the samples named name whose labels include want.
function pick(samples, name, want = {}) {
  return samples.filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v));
}

function sum(samples) {
  return samples.reduce((a, s) => a + s.value, 0);
}

async function scrape(addr) {
  const res = await h.request(addr, 'GET', '/metrics');
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  return parse(res.body);
}

test('buckets: 5 ms doubling, 19 of them, as the Go servers', () => {
  assert.equal(BUCKETS.length, 19);
  assert.equal(BUCKETS[0], 0.005);
  for (let i = 1; i < BUCKETS.length; i++) assert.equal(BUCKETS[i], BUCKETS[i - 1] * 2);
  assert.ok(BUCKETS[18] > 1310 && BUCKETS[18] < 1311, `last bucket ${BUCKETS[18]}`);
});

test('route label: known routes, everything else "other"', () => {
  assert.deepEqual(['/flip', '/', '/healthz', '/metrics', '/x/1'].map(routeLabel), ['/flip', '/', '/healthz', 'other', 'other']);
});

test('standard: /metrics counts a flip, its job and the job counters', async (t) => {
  const srv = await h.start(t, 'standard.js');
  const before = await scrape(srv.addr);
  const zero = pick(before, 'flipbench_http_request_duration_seconds_count', { route: '/flip' });
  assert.deepEqual(zero.map((c) => [c.labels.code, c.value]), [['200', 0]], 'an answered flip at zero, before any flip');

  assert.equal((await h.request(srv.addr, 'POST', '/flip')).status, 200);
  assert.equal((await h.request(srv.addr, 'GET', '/nope')).status, 404);
  const s = await scrape(srv.addr);

  const flips = pick(s, 'flipbench_http_request_duration_seconds_count', { route: '/flip', code: '200' });
  assert.equal(flips.length, 1);
  assert.equal(flips[0].value, 1);
  assert.equal(sum(pick(s, 'flipbench_http_request_duration_seconds_count', { route: 'other', code: '404' })), 1);
  const buckets = pick(s, 'flipbench_http_request_duration_seconds_bucket', { route: '/flip', code: '200' });
  assert.equal(buckets.length, 20, '19 buckets and +Inf');
  assert.equal(buckets.find((b) => b.labels.le === '+Inf').value, 1);
  for (const b of buckets) assert.equal(b.labels.worker, undefined, 'no worker label on one process');

  const jobs = pick(s, 'flipbench_job_duration_seconds_count');
  assert.equal(sum(jobs), 1);
  const jobSecs = sum(pick(s, 'flipbench_job_duration_seconds_sum'));
  const reqSecs = sum(pick(s, 'flipbench_http_request_duration_seconds_sum', { route: '/flip' }));
  assert.ok(jobSecs > 0 && jobSecs <= reqSecs, `job ${jobSecs} s within its request ${reqSecs} s`);
  assert.equal(sum(pick(s, 'flipbench_jobs_done_total')), 1);
  assert.equal(sum(pick(s, 'flipbench_jobs_failed_total')), 0);
  assert.equal(sum(pick(s, 'flipbench_jobs_in_flight')), 0);
  assert.equal(pick(s, 'flipbench_worker_rss_bytes').length, 0, 'RSS per worker is a cluster series');
  srv.child.kill('SIGTERM');
  await h.withTimeout(srv.exited, 15000, 'exit after SIGTERM');
});

test('cluster: any worker answers /metrics with every worker, labelled', async (t) => {
  const srv = await h.start(t, 'cluster.js', ['--workers=2']);
  const flips = 4;
  const pids = new Set();
  for (let i = 0; i < flips; i++) {
    const res = await h.request(srv.addr, 'POST', '/flip');
    assert.equal(res.status, 200, res.body);
    pids.add(res.headers['x-worker-pid']);
  }
  const s = await scrape(srv.addr);

  const rss = pick(s, 'flipbench_worker_rss_bytes');
  assert.deepEqual(rss.map((x) => x.labels.worker).sort(), ['0', '1'], 'both workers in one scrape');
  for (const x of rss) assert.ok(x.value > 1e6, `worker ${x.labels.worker} RSS ${x.value}`);

  const counts = pick(s, 'flipbench_http_request_duration_seconds_count', { route: '/flip', code: '200' });
  assert.equal(sum(counts), flips, 'every flip counted once, over the workers');
  assert.equal(new Set(counts.map((c) => c.labels.worker)).size, counts.length, 'one series per worker');
  assert.equal(counts.length, pids.size, 'a series for each worker that answered a flip');
  assert.equal(sum(pick(s, 'flipbench_job_duration_seconds_count')), flips);
  assert.equal(sum(pick(s, 'flipbench_jobs_done_total')), flips);
  const inf = pick(s, 'flipbench_http_request_duration_seconds_bucket', { route: '/flip', le: '+Inf' });
  assert.equal(sum(inf), flips);
  srv.child.kill('SIGTERM');
  await h.withTimeout(srv.exited, 15000, 'exit after SIGTERM');
});
