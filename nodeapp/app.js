'use strict';
// The article's app, written from its description: Koa, a router, and a job that copies a
// photo into a temp folder, reads it with Jimp, flips it and deletes it. We do what the
// article says rather than what its code did: flip vertically, save (JPEG, quality 95 like
// the Go job's job.JPEGQuality), then delete. The image library is an engine (engines.js):
// the article's Jimp, or sharp.

const crypto = require('node:crypto');
const fsp = require('node:fs/promises');
const path = require('node:path');
const { performance } = require('node:perf_hooks');

const Koa = require('koa');
const Router = require('@koa/router');

const { goDuration } = require('./config');
const { JPEG_QUALITY, loadEngine } = require('./engines');
const { createMetrics, workerMetrics } = require('./metrics');

// flipInPlace reads the image in file, flips it vertically and writes it back to the
// same file as a JPEG, with engine (the article's Jimp when not given).
async function flipInPlace(file, engine = loadEngine('jimp')) {
  await engine.flipInPlace(file);
}

// flipPhoto runs one job in workDir (copy, read, flip, save, delete) and returns its time
// in milliseconds. The copy is removed on every path.
async function flipPhoto(image, workDir, engine = loadEngine('jimp')) {
  const name = path.join(workDir, `flip-${crypto.randomUUID()}.jpg`);
  const start = performance.now();
  try {
    await fsp.copyFile(image, name);
    await engine.flipInPlace(name);
  } finally {
    await fsp.rm(name, { force: true });
  }
  return performance.now() - start;
}

// createApp builds the Koa app. opts: image, workDir, mode ("node-standard",
// "node-cluster", "node-sharp-standard" or "node-sharp-cluster"), engine (from
// loadEngine; Jimp when not given), worker (index, -1 outside a cluster), workers, log, and
// isStopping (a function: while it returns true, answers ask the client to close its
// connection), and clusterMetrics (true in a cluster worker: GET /metrics answers with every
// worker's series, from the master).
function createApp(opts) {
  const { image, workDir, mode, worker, workers, log } = opts;
  const engine = opts.engine || loadEngine('jimp');
  const isStopping = opts.isStopping || (() => false);
  const started = performance.now();
  const stats = { inFlight: 0, done: 0, failed: 0 };
  const metrics = opts.clusterMetrics ? workerMetrics({ stats, worker }) : createMetrics({ stats });

  const app = new Koa();
  const router = new Router();

  // Timing, as the article's middleware did, plus the pid of the process that answered;
  // errors become JSON here so that they carry the same headers.
  app.use(async (ctx, next) => {
    const start = performance.now();
    ctx.set('X-Worker-PID', String(process.pid));
    if (isStopping()) ctx.set('Connection', 'close');
    try {
      await next();
      if (ctx.status >= 400 && ctx.body == null) {
        const status = ctx.status;
        ctx.body = { error: status === 404 ? `no route ${ctx.method} ${ctx.path}` : ctx.message };
        ctx.status = status;
      }
    } catch (err) {
      const status = err.expose && err.status ? err.status : 500;
      if (status >= 500) log.error('request failed', { method: ctx.method, path: ctx.path, err });
      ctx.status = status;
      ctx.body = { error: err.expose ? err.message : String(err.message || err) };
    } finally {
      const ms = performance.now() - start;
      ctx.set('X-Response-Time', goDuration(ms));
      metrics.observeRequest(ctx.path, ctx.status, ms / 1000);
    }
  });

  router.get('/', (ctx) => {
    ctx.type = 'text/plain';
    ctx.body = String(process.pid);
  });

  router.get('/healthz', (ctx) => {
    ctx.body = {
      pid: process.pid,
      mode,
      worker,
      capacity: engine.capacity(), // jimp: the one JS thread; sharp: libuv's pool threads
      workers,
      uptime_seconds: (performance.now() - started) / 1000,
      in_flight: stats.inFlight,
      queued: 0, // Node has no queue: it interleaves every job it has accepted
      done: stats.done,
      failed: stats.failed,
    };
  });

  router.get('/metrics', async (ctx) => {
    const text = await metrics.text();
    ctx.type = metrics.contentType;
    ctx.body = text;
  });

  router.post('/flip', async (ctx) => {
    ctx.set('X-Queue-Time', '0s');
    stats.inFlight++;
    const start = performance.now();
    try {
      const jobMs = await flipPhoto(image, workDir, engine);
      stats.done++;
      metrics.observeJob(jobMs / 1000);
      ctx.set('X-Job-Time', goDuration(jobMs));
      ctx.body = { pid: process.pid, worker, job_ms: Number(jobMs.toFixed(3)) };
    } catch (err) {
      stats.failed++;
      ctx.set('X-Job-Time', goDuration(performance.now() - start));
      throw err;
    } finally {
      stats.inFlight--;
    }
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  // Koa logs uncaught errors itself; ours are all caught above. A client that hung up
  // is not worth a stack trace.
  app.on('error', (err) => {
    if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') log.error('koa error', { err });
  });
  app.stats = stats;
  app.metrics = metrics;
  return app;
}

module.exports = { createApp, flipPhoto, flipInPlace, JPEG_QUALITY };
