'use strict';
// artillery.js runs Artillery (the load tool of the article's repository; a devDependency,
// pinned) with the shape of that repository's artillery.yaml: one phase of RATE arrivals
// per second for DURATION seconds, each a virtual user that sends one POST on a connection
// of its own. It prints Artillery's figures as one JSON object; flipbench reads it beside
// its own open-model figures for the same rate and duration.
//
// Usage: node artillery.js URL RATE DURATION_SECONDS [TIMEOUT_SECONDS]
//
// URL is the whole request URL (http://127.0.0.1:8080/flip): its origin becomes the
// config's target and its path the POST's url. TIMEOUT_SECONDS is Artillery's request
// timeout (its default, 10).

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { TMPDIR_PREFIX } = require('./parent-watch');

const DEFAULT_TIMEOUT_SECONDS = 10;
// SLACK_SECONDS covers Artillery's start and its last answers' wait: past the phase, the
// request timeout and this, the run is stuck and is killed.
const SLACK_SECONDS = 60;
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];

// parseArgs returns the run's settings, or throws a one-line usage error.
function parseArgs(argv) {
  const [url, r, d, t] = argv;
  const rate = Number(r);
  const duration = Number(d);
  const timeout = t === undefined ? DEFAULT_TIMEOUT_SECONDS : Number(t);
  let target;
  try {
    target = new URL(url);
  } catch {
    throw new Error(`URL ${JSON.stringify(url)} does not parse`);
  }
  if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`rate ${r}: want arrivals per second above 0`);
  if (!(duration > 0) || !Number.isFinite(duration)) throw new Error(`duration ${d}: want seconds above 0`);
  if (rate * duration < 1) throw new Error(`${rate}/s for ${duration} s is not one arrival`);
  if (!(timeout > 0) || !Number.isFinite(timeout)) throw new Error(`timeout ${t}: want seconds above 0`);
  return { url: target, rate, duration, timeout };
}

// config is the article's artillery.yaml for this run (JSON is YAML to Artillery).
function config({ url, rate, duration, timeout }) {
  return {
    config: {
      target: url.origin,
      phases: [{ duration, arrivalRate: rate }],
      http: { timeout },
    },
    scenarios: [{ flow: [{ post: { url: url.pathname + url.search } }] }],
  };
}

// artilleryEntry is the CLI's script and version, or throws when it is not installed.
function artilleryEntry() {
  let manifest;
  try {
    manifest = require.resolve('artillery/package.json');
  } catch {
    throw new Error('artillery is not installed: run make build (npm ci in nodeapp)');
  }
  const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin.artillery;
  return { script: path.join(path.dirname(manifest), bin), version: pkg.version };
}

// figures turns Artillery's aggregate report into the printed object. Latencies are
// Artillery's (completed requests only), null when nothing was answered.
function figures(aggregate, run, version) {
  const codes = aggregate.codes || {};
  let answers = 0;
  for (const [code, n] of Object.entries(codes)) {
    if (Number(code) >= 200 && Number(code) < 300) answers += n;
  }
  const ms = (v) => (Number.isFinite(v) ? v : null);
  const lat = aggregate.latency || {};
  return {
    tool: 'artillery',
    version,
    url: run.url.href,
    rate: run.rate,
    duration_seconds: run.duration,
    timeout_seconds: run.timeout,
    requests: aggregate.scenariosCreated,
    answers,
    codes,
    errors: aggregate.errors || {},
    throughput: answers / run.duration,
    rps_mean: ms(aggregate.rps && aggregate.rps.mean),
    p50_ms: ms(lat.median),
    p95_ms: ms(lat.p95),
    p99_ms: ms(lat.p99),
    max_ms: ms(lat.max),
  };
}

// runArtillery runs the CLI in dir on cfgPath and resolves when it has exited 0. The child
// is killed when this process gets a signal (then exits) and when it outlives limitMs.
function runArtillery(entry, dir, cfgPath, outPath, limitMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath,
      ['--require', path.join(__dirname, 'parent-watch.js'), entry.script, 'run', '-q', '-o', outPath, cfgPath], {
        cwd: dir, // Artillery reads a ./.artilleryrc: none here
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        env: {
          ...process.env,
          ARTILLERY_DISABLE_TELEMETRY: 'true',
          NO_UPDATE_NOTIFIER: '1', // it would fork a detached registry check
          FLIPBENCH_CHILD_TMPDIR: dir,
        },
      });
    let output = '';
    const keep = (d) => { output = (output + d).slice(-2000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const onSignal = (sig) => {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(128 + os.constants.signals[sig]);
    };
    for (const s of SIGNALS) process.on(s, onSignal);
    let late = false;
    const timer = setTimeout(() => { late = true; child.kill('SIGKILL'); }, limitMs);
    child.on('error', (err) => reject(new Error(`artillery: ${err.message}`)));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      for (const s of SIGNALS) process.off(s, onSignal);
      const said = output.trim().split('\n').slice(-3).join(' | ');
      if (late) reject(new Error(`artillery did not finish within ${limitMs / 1000} s: ${said}`));
      else if (code !== 0) reject(new Error(`artillery exited with ${signal || code}: ${said}`));
      else resolve();
    });
  });
}

async function main(argv) {
  let run;
  try {
    run = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${err.message}\nusage: node artillery.js URL RATE DURATION_SECONDS [TIMEOUT_SECONDS]\n`);
    process.exitCode = 2;
    return;
  }
  const entry = artilleryEntry();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), TMPDIR_PREFIX));
  try {
    const cfgPath = path.join(dir, 'artillery.json');
    const outPath = path.join(dir, 'report.json');
    fs.writeFileSync(cfgPath, JSON.stringify(config(run), null, 2));
    await runArtillery(entry, dir, cfgPath, outPath, (run.duration + run.timeout + SLACK_SECONDS) * 1000);
    const report = JSON.parse(fs.readFileSync(outPath, 'utf8'));
    process.stdout.write(JSON.stringify(figures(report.aggregate, run, entry.version)) + '\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exitCode = 1;
  });
}

module.exports = { parseArgs, config, figures };
