'use strict';
// Prometheus metrics on the Go servers' names (prom-client), so that one dashboard shows
// every mode. One process serves its own registry; a cluster's workers each label theirs
// with `worker` (the index, as the Go cluster does) and the master sums them with
// prom-client's AggregatorRegistry: series of distinct workers stay apart, and any worker
// can answer a scrape with the whole cluster.

const cluster = require('node:cluster');
const client = require('prom-client');

// BUCKETS: 5 ms doubling 19 times, to about 1310 s (the Go servers' buckets): a Jimp job
// on the 6.7 MB photo takes about 8 s, and a burst of 1000 on one core waits far longer.
const BUCKETS = client.exponentialBuckets(0.005, 2, 19);

// ROUTES: the route label's values besides "other", which keeps the label's cardinality
// bounded whatever paths clients send.
const ROUTES = new Set(['/flip', '/', '/healthz']);

// CLUSTER_TIMEOUT_MS bounds how long a worker waits for the master's aggregate. A worker in
// the middle of a Jimp job answers the master late (prom-client gives up after 5 s).
const CLUSTER_TIMEOUT_MS = 8000;

function routeLabel(path) {
  return ROUTES.has(path) ? path : 'other';
}

// createMetrics builds a registry with the request and job histograms and the job
// counters read from stats ({ inFlight, done, failed }) at each scrape. worker is the
// worker's index in a cluster, -1 alone (no worker label then).
function createMetrics({ stats, worker = -1 }) {
  const registry = new client.Registry();
  if (worker >= 0) registry.setDefaultLabels({ worker: String(worker) });
  const registers = [registry];

  const requestDuration = new client.Histogram({
    name: 'flipbench_http_request_duration_seconds',
    help: 'Time from reading a request to its answer, by route and status code.',
    labelNames: ['route', 'code'],
    buckets: BUCKETS,
    registers,
  });
  // An answered flip's series exists at zero before the first request, as in the Go
  // servers: a rate or increase needs a sample from before the load.
  requestDuration.zero({ route: '/flip', code: '200' });
  const jobDuration = new client.Histogram({
    name: 'flipbench_job_duration_seconds',
    help: 'Time of one flip job: copy, read, flip, save, delete.',
    buckets: BUCKETS,
    registers,
  });
  new client.Counter({
    name: 'flipbench_jobs_done_total',
    help: 'Jobs finished.',
    registers,
    collect() {
      this.reset();
      this.inc(stats.done);
    },
  });
  new client.Counter({
    name: 'flipbench_jobs_failed_total',
    help: 'Jobs that failed.',
    registers,
    collect() {
      this.reset();
      this.inc(stats.failed);
    },
  });
  new client.Gauge({
    name: 'flipbench_jobs_in_flight',
    help: 'Jobs running now (Node interleaves every job it accepted).',
    registers,
    collect() {
      this.set(stats.inFlight);
    },
  });
  new client.Gauge({
    name: 'flipbench_jobs_queued',
    help: 'Jobs waiting for a job slot: always 0, Node has no queue.',
    registers,
    collect() {
      this.set(0);
    },
  });
  if (worker >= 0) {
    new client.Gauge({
      name: 'flipbench_worker_rss_bytes',
      help: "The worker's resident set size.",
      registers,
      collect() {
        this.set(process.memoryUsage.rss());
      },
    });
  }

  return {
    registry,
    contentType: registry.contentType,
    // observeRequest records one answered request; seconds from reading it.
    observeRequest(path, code, seconds) {
      requestDuration.observe({ route: routeLabel(path), code: String(code) }, seconds);
    },
    observeJob(seconds) {
      jobDuration.observe(seconds);
    },
    // text is this process's metrics in Prometheus text format.
    text: () => registry.metrics(),
  };
}

// workerMetrics is createMetrics in a cluster worker: its registry is the one the master
// aggregates, and text asks the master for every worker's series.
function workerMetrics({ stats, worker }) {
  const m = createMetrics({ stats, worker });
  client.AggregatorRegistry.setRegistries(m.registry);
  // prom-client answers the master's requests only once an AggregatorRegistry exists in
  // the process: its constructor adds the worker's listener.
  new client.AggregatorRegistry();
  let next = 0;
  const waiting = new Map(); // request id -> { resolve, reject, timer }
  process.on('message', (msg) => {
    if (!msg || msg.flipbench !== 'metrics-res') return;
    const w = waiting.get(msg.id);
    if (!w) return;
    waiting.delete(msg.id);
    clearTimeout(w.timer);
    if (typeof msg.error === 'string') w.reject(new Error(`cluster metrics: ${msg.error}`));
    else w.resolve(msg.text);
  });
  m.text = () =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`cluster metrics: no answer from the master in ${CLUSTER_TIMEOUT_MS} ms`));
      }, CLUSTER_TIMEOUT_MS);
      waiting.set(id, { resolve, reject, timer });
      process.send({ flipbench: 'metrics-req', id });
    });
  return m;
}

// serveClusterMetrics makes the master answer its workers' requests for the cluster's
// metrics. Call once in the master, before forking.
function serveClusterMetrics() {
  const aggregator = new client.AggregatorRegistry();
  cluster.on('message', (w, msg) => {
    if (!msg || msg.flipbench !== 'metrics-req') return;
    aggregator.clusterMetrics().then(
      (text) => w.isConnected() && w.send({ flipbench: 'metrics-res', id: msg.id, text }),
      (err) => w.isConnected() && w.send({ flipbench: 'metrics-res', id: msg.id, error: err.message }),
    );
  });
}

module.exports = { BUCKETS, createMetrics, workerMetrics, serveClusterMetrics, routeLabel };
