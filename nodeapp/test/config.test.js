'use strict';
// The command line and the duration format, without starting a server.

const assert = require('node:assert/strict');
const path = require('node:path');
const { test } = require('node:test');

const { parseAddr, parseCommandLine, goDuration, joinHostPort, modeName, UsageError, DEFAULT_IMAGE } = require('../config');
const { poolSize } = require('../engines');
const { GO_DURATION } = require('./helpers');

test('addresses', () => {
  assert.deepEqual(parseAddr(':3000'), { host: undefined, port: 3000 });
  assert.deepEqual(parseAddr('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseAddr('[::1]:8080'), { host: '::1', port: 8080 });
  assert.deepEqual(parseAddr('localhost:65535'), { host: 'localhost', port: 65535 });
  for (const bad of ['3000', '127.0.0.1', ':', ':http', ':65536', '::1:80', ':-1']) {
    assert.throws(() => parseAddr(bad), UsageError, bad);
  }
  assert.equal(joinHostPort('127.0.0.1', 80), '127.0.0.1:80');
  assert.equal(joinHostPort('::', 80), '[::]:80');
});

test('flags, defaults and errors', () => {
  const env = {};
  const d = parseCommandLine([], { prog: 'x', withWorkers: false, env });
  assert.equal(d.addrText, ':3000');
  assert.equal(d.image, DEFAULT_IMAGE);
  assert.equal(path.basename(DEFAULT_IMAGE), 'photo-6.7mb.jpg');
  assert.equal(d.addrFile, null);
  assert.equal(d.workers, 1);
  assert.equal(d.engine, 'jimp');
  assert.equal(parseCommandLine(['--engine=sharp'], { prog: 'x', withWorkers: false, env }).engine, 'sharp');
  assert.throws(() => parseCommandLine(['--engine=vips'], { prog: 'x', withWorkers: false, env }), /--engine "vips": want jimp or sharp/);

  const c = parseCommandLine(['--addr=127.0.0.1:0', '--image', 'a.jpg', '--tmpdir=/tmp', '--addr-file=f', '--workers=3'], {
    prog: 'x',
    withWorkers: true,
    env,
  });
  assert.deepEqual(c.addr, { host: '127.0.0.1', port: 0 });
  assert.equal(c.image, path.resolve('a.jpg'));
  assert.equal(c.addrFile, path.resolve('f'));
  assert.equal(c.workers, 3);
  assert.ok(parseCommandLine([], { prog: 'x', withWorkers: true, env }).workers >= 1);

  const e = parseCommandLine([], { prog: 'x', withWorkers: false, env: { PORT: '8080', IMAGE: '/p.jpg' } });
  assert.equal(e.addrText, ':8080');
  assert.equal(e.image, '/p.jpg');

  assert.throws(() => parseCommandLine(['--bogus=1'], { prog: 'x', withWorkers: false, env }), /unknown flag --bogus/);
  assert.throws(() => parseCommandLine(['--workers=2'], { prog: 'x', withWorkers: false, env }), /unknown flag --workers/);
  assert.throws(() => parseCommandLine(['stray'], { prog: 'x', withWorkers: false, env }), UsageError);
  assert.throws(() => parseCommandLine(['--addr'], { prog: 'x', withWorkers: false, env }), UsageError);
  for (const w of ['0', '-1', 'two', '1.5', '']) {
    assert.throws(() => parseCommandLine([`--workers=${w}`], { prog: 'x', withWorkers: true, env }), UsageError, w);
  }
});

test('mode names and the thread pool size', () => {
  assert.equal(modeName('standard', 'jimp'), 'node-standard');
  assert.equal(modeName('cluster', 'jimp'), 'node-cluster');
  assert.equal(modeName('standard', 'sharp'), 'node-sharp-standard');
  assert.equal(modeName('cluster', 'sharp'), 'node-sharp-cluster');
  assert.equal(poolSize({}), 4, "libuv's default");
  assert.equal(poolSize({ UV_THREADPOOL_SIZE: '1' }), 1);
  assert.equal(poolSize({ UV_THREADPOOL_SIZE: '5000' }), 1024, "libuv's ceiling");
  for (const zero of ['0', 'x', '']) assert.equal(poolSize({ UV_THREADPOOL_SIZE: zero }), 1, `${zero}: atoi gives 0, libuv takes 1`);
  assert.equal(poolSize({ UV_THREADPOOL_SIZE: '-2' }), 1024, 'unsigned: a negative number wraps past the ceiling');
});

test('durations are Go durations', () => {
  assert.equal(goDuration(8153.2014), '8153.201ms');
  assert.equal(goDuration(0), '0.000ms');
  for (const ms of [0, 0.0004, 1.5, 830.512, 8153.201, 123456.7]) assert.match(goDuration(ms), GO_DURATION);
  // The regex itself: what time.ParseDuration takes, and what it refuses.
  for (const ok of ['0', '1s', '830.512ms', '1h2m3.5s', '.5s', '5.s', '-1.5h', '300µs', '2us']) assert.match(ok, GO_DURATION);
  for (const bad of ['', '12', 'ms', '1.2.3ms', '8153 ms', '1d', 's1']) assert.doesNotMatch(bad, GO_DURATION);
});
