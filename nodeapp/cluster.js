#!/usr/bin/env node
'use strict';
// The article's cluster: a master that forks one worker per core with Node's cluster
// module and forks a new one when a worker dies. The master serves nothing; how it shares
// connections out is Node's scheduling policy, NODE_CLUSTER_SCHED_POLICY: "rr" (the
// default: the master accepts and hands each connection to the next worker) or "none"
// (every worker accepts on the shared socket).

const cluster = require('node:cluster');
const fs = require('node:fs');

const log = require('./log');
const { serveClusterMetrics } = require('./metrics');
const { parseCommandLine, UsageError, checkImage, checkTmpdir, workDirFor, writeAddrFile, modeName } = require('./config');

// STOP_GRACE_MS: how long the master waits for its workers to finish after SIGTERM before
// it kills them.
const STOP_GRACE_MS = 60 * 1000;
// START_FAILURES_MAX: workers that die before listening this many times in a row (a bad
// photo, a taken port) stop the master instead of a fork loop.
const START_FAILURES_MAX = 3;

function readConfig() {
  try {
    return parseCommandLine(process.argv.slice(2), { prog: 'cluster.js', withWorkers: true });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`cluster.js: ${err.message}\n`);
    process.exit(2);
  }
}

function runMaster(cfg) {
  log.setRole('master');
  try {
    checkImage(cfg.image);
    checkTmpdir(cfg.tmpdir);
  } catch (err) {
    log.error(err.message);
    process.exit(1);
  }
  const policy = cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none';
  const envPolicy = process.env.NODE_CLUSTER_SCHED_POLICY;
  if (envPolicy !== undefined && envPolicy !== 'rr' && envPolicy !== 'none') {
    log.warn('NODE_CLUSTER_SCHED_POLICY is neither rr nor none; Node ignores it', { value: envPolicy });
  }
  log.info('master starting', { workers: cfg.workers, sched_policy: policy, sched_policy_from: envPolicy === undefined ? 'default' : 'NODE_CLUSTER_SCHED_POLICY', addr: cfg.addrText, image: cfg.image, engine: cfg.engine });

  const slots = new Array(cfg.workers).fill(null); // slot index -> cluster.Worker
  const listened = new Map(); // worker.id -> bound address
  const respawnTimers = new Set();
  let stopping = false;
  let forced = false;
  let startFailures = 0;
  let addrWritten = false;

  function fork(index) {
    const w = cluster.fork({ FLIPBENCH_WORKER: String(index), FLIPBENCH_WORKERS: String(cfg.workers) });
    w.flipbenchIndex = index;
    slots[index] = w;
    log.info('forked', { worker: index, worker_pid: w.process.pid });
  }

  function live() {
    return slots.filter((w) => w !== null);
  }

  // Once every slot holds a worker that listens, check they share one address, then tell
  // whoever waits on --addr-file.
  function checkReady() {
    if (addrWritten || stopping) return;
    const ws = live();
    if (ws.length !== cfg.workers || !ws.every((w) => listened.has(w.id))) return;
    const addrs = new Set(ws.map((w) => listened.get(w.id)));
    if (addrs.size !== 1) {
      log.error('workers listen on different addresses', { addrs: [...addrs].join(',') });
      stop('workers-disagree', 1);
      return;
    }
    const addr = [...addrs][0];
    addrWritten = true;
    if (cfg.addrFile) writeAddrFile(cfg.addrFile, addr);
    log.info('cluster ready: every worker listens', { addr, workers: ws.length, sched_policy: policy });
  }

  // Each worker reports the address its server is bound to (server.address(), not the
  // one it asked for: ":0" asks for no host and port 0).
  cluster.on('message', (w, msg) => {
    if (!msg || msg.flipbench !== 'listening' || typeof msg.addr !== 'string') return;
    listened.set(w.id, msg.addr);
    startFailures = 0;
    checkReady();
  });

  cluster.on('exit', (w, code, signal) => {
    const index = w.flipbenchIndex;
    const hadListened = listened.delete(w.id);
    if (slots[index] === w) slots[index] = null;
    // A worker killed outright leaves its work dir behind; one that exited cleanly has removed it.
    fs.rmSync(workDirFor(cfg.tmpdir, w.process.pid), { recursive: true, force: true });
    if (stopping) {
      log.info('worker exited', { worker: index, worker_pid: w.process.pid, code, signal });
      // A worker that did not stop cleanly makes the stop unclean; one still starting (no
      // signal handler yet) that our SIGTERM ended had nothing to finish.
      if (code !== 0 && !(signal === 'SIGTERM' && !hadListened)) exitCode = 1;
      if (live().length === 0) finish();
      return;
    }
    log.warn('worker exited unexpectedly', { worker: index, worker_pid: w.process.pid, code, signal, had_listened: hadListened });
    if (!hadListened) startFailures++;
    if (startFailures >= START_FAILURES_MAX) {
      log.error('workers keep dying before they listen: giving up', { failures: startFailures });
      stop('start-failures', 1);
      return;
    }
    const delay = hadListened ? 0 : 100 * 2 ** startFailures;
    log.info('forking a replacement', { worker: index, delay_ms: delay });
    const t = setTimeout(() => {
      respawnTimers.delete(t);
      if (!stopping) fork(index);
    }, delay);
    respawnTimers.add(t);
  });

  let exitCode = 0;
  function finish() {
    log.info('master exiting: all workers gone', { code: forced ? 1 : exitCode });
    process.exit(forced ? 1 : exitCode);
  }

  function stop(why, code = 0) {
    if (stopping) {
      // A second signal: no more waiting.
      log.warn('second stop: killing the workers', { why });
      forced = true;
      for (const w of live()) w.process.kill('SIGKILL');
      return;
    }
    stopping = true;
    exitCode = code;
    for (const t of respawnTimers) clearTimeout(t);
    respawnTimers.clear();
    const ws = live();
    log.info('stopping: workers finish their requests and exit', { why, workers: ws.length });
    if (ws.length === 0) {
      finish();
      return;
    }
    for (const w of ws) w.process.kill('SIGTERM');
    setTimeout(() => {
      const left = live();
      log.error('workers still running after the grace period: killing them', { workers: left.length, grace_ms: STOP_GRACE_MS });
      forced = true;
      for (const w of left) w.process.kill('SIGKILL');
    }, STOP_GRACE_MS).unref();
  }

  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  serveClusterMetrics();
  for (let i = 0; i < cfg.workers; i++) fork(i);
}

function runWorker(cfg) {
  const index = Number(process.env.FLIPBENCH_WORKER ?? cluster.worker.id - 1);
  const workers = Number(process.env.FLIPBENCH_WORKERS ?? 1);
  log.setRole(`worker ${index}`);
  // Node's cluster ends a worker whose IPC channel to the master closes unexpectedly (the
  // master died, even by SIGKILL); this listener says so and makes sure of it.
  process.on('disconnect', () => {
    log.warn('master gone: exiting');
    process.exit(1);
  });
  require('./serve').serve({
    cfg,
    mode: modeName('cluster', cfg.engine),
    worker: index,
    workers,
    writeAddr: false,
    standalone: false,
    onListening: (addr) => process.send({ flipbench: 'listening', addr }),
  });
}

const cfg = readConfig();
if (cfg !== null) {
  if (cluster.isPrimary) runMaster(cfg);
  else runWorker(cfg);
}
