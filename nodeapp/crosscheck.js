'use strict';
// crosscheck.js runs autocannon (a load tool nobody here wrote) against one URL and prints
// its figures as one JSON object, plus what its CLI does not give: the answers of each
// connection, counted through autocannon's 'response' event, and so the connections
// never answered. flipbench's `loadtest crosscheck` reads this beside its own keep-alive
// clients.
//
// Usage: node crosscheck.js URL CONNECTIONS DURATION_SECONDS [METHOD]

const autocannon = require('autocannon');
const { version } = require('autocannon/package.json');

function main(argv) {
  const [url, c, d, method = 'POST'] = argv;
  const connections = Number(c);
  const duration = Number(d);
  if (!url || !(connections >= 1) || !(duration > 0)) {
    process.stderr.write('usage: node crosscheck.js URL CONNECTIONS DURATION_SECONDS [METHOD]\n');
    process.exitCode = 2;
    return;
  }
  // Keyed by autocannon's client object: one client is one connection (reconnected
  // after a close), as one flipbench keep-alive client is.
  const perClient = new Map();
  const instance = autocannon({ url, connections, duration, method }, (err, result) => {
    if (err) {
      process.stderr.write(`autocannon: ${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    const answers = [...perClient.values()];
    while (answers.length < connections) answers.push(0);
    const ok = result['2xx'];
    process.stdout.write(JSON.stringify({
      tool: 'autocannon',
      version,
      connections,
      duration_seconds: result.duration,
      answers: ok,
      non_2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      throughput: result.duration > 0 ? ok / result.duration : 0,
      p50_ms: result.latency.p50,
      p99_ms: result.latency.p99,
      per_client: answers.sort((a, b) => a - b),
      never_answered: answers.filter((n) => n === 0).length,
    }) + '\n');
  });
  instance.on('response', (client, statusCode) => {
    const n = perClient.get(client) || 0;
    perClient.set(client, statusCode >= 200 && statusCode < 300 ? n + 1 : n);
  });
}

main(process.argv.slice(2));
