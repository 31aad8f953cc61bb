'use strict';
// One serving process: standard.js, or one worker of cluster.js. It checks its photo,
// makes its work dir, listens, and on SIGTERM or SIGINT stops accepting, finishes the
// requests it has, removes its work dir and exits 0.

const fs = require('node:fs');
const http = require('node:http');

const log = require('./log');
const { createApp } = require('./app');
const { loadEngine } = require('./engines');
const { checkImage, checkTmpdir, workDirFor, joinHostPort, writeAddrFile } = require('./config');

// DRAIN_TIMEOUT_MS bounds a graceful stop (the Go servers' -shutdown-timeout default).
const DRAIN_TIMEOUT_MS = 10 * 60 * 1000;

// serve runs until a signal. opts: cfg (from parseCommandLine), mode, worker, workers,
// writeAddr (write --addr-file here: the standard process does, a cluster worker leaves it
// to the master), standalone (a second signal exits at once; a cluster worker leaves that to
// its master, which also gets the terminal's SIGINT), onListening (called with the bound
// "host:port").
function serve({ cfg, mode, worker, workers, writeAddr, standalone, onListening }) {
  let engine;
  try {
    checkImage(cfg.image);
    checkTmpdir(cfg.tmpdir);
    engine = loadEngine(cfg.engine);
  } catch (err) {
    log.error(err.message);
    process.exit(1);
  }

  const workDir = workDirFor(cfg.tmpdir, process.pid);
  fs.mkdirSync(workDir);
  // Every way out passes here, process.exit included (a cluster worker whose master died
  // is ended by Node with process.exit when its IPC channel closes).
  process.on('exit', (code) => {
    fs.rmSync(workDir, { recursive: true, force: true });
    log.info('exit', { code, work_dir_removed: workDir });
  });

  let stopping = false;
  const app = createApp({ image: cfg.image, workDir, mode, engine, worker, workers, log, isStopping: () => stopping, clusterMetrics: !standalone });
  const server = http.createServer(app.callback());

  server.on('error', (err) => {
    log.error('listen failed', { addr: cfg.addrText, err });
    process.exit(1);
  });

  server.listen({ host: cfg.addr.host, port: cfg.addr.port }, () => {
    const a = server.address();
    const bound = joinHostPort(a.address, a.port);
    log.info('listening', { addr: bound, image: cfg.image, work_dir: workDir, mode, engine: engine.name, capacity: engine.capacity() });
    if (writeAddr && cfg.addrFile) writeAddrFile(cfg.addrFile, bound);
    if (onListening) onListening(bound);
  });

  function stop(signal) {
    if (stopping) {
      if (standalone) {
        log.warn('second signal: exiting without waiting', { signal, in_flight: app.stats.inFlight });
        process.exit(1);
      }
      return;
    }
    stopping = true;
    log.info('stopping: no new connections, finishing the requests in flight', { signal, in_flight: app.stats.inFlight });
    server.close((err) => {
      if (err) log.warn('close', { err });
      log.info('stopped', { done: app.stats.done, failed: app.stats.failed });
      process.exit(0);
    });
    // Keep-alive connections with no request in progress would hold close() open: end them
    // now and as each in-flight request finishes (its answer also says Connection: close).
    server.closeIdleConnections();
    setInterval(() => server.closeIdleConnections(), 100).unref();
    setTimeout(() => {
      log.error('requests still in flight after the drain timeout: exiting', { in_flight: app.stats.inFlight });
      process.exit(1);
    }, DRAIN_TIMEOUT_MS).unref();
  }
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return { server, app, workDir };
}

module.exports = { serve };
