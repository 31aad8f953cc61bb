'use strict';
// Helpers for the tests: start a server as a child process on a free 127.0.0.1 port, talk
// HTTP to it on fresh connections, and look at processes through /proc.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const APP_DIR = path.join(__dirname, '..');
const SMALL_PHOTO = path.join(APP_DIR, '..', 'testdata', 'photo-1mp.jpg');

// GO_DURATION matches what Go's time.ParseDuration accepts: "0", or signed runs of a
// decimal number and a unit ("8153.201ms", "1h2m0.5s").
const GO_DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flipbench-nodeapp-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// run starts `node <script> <args>` and returns the child, its collected stderr and a
// promise of its exit. The child is SIGKILLed when the test ends, if it still runs.
function run(t, script, args, { env } = {}) {
  const child = spawn(process.execPath, [path.join(APP_DIR, script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  let done = false;
  exited.then(() => (done = true));
  t.after(() => {
    if (!done) child.kill('SIGKILL');
  });
  return { child, out, exited, isDone: () => done };
}

// start runs a server on 127.0.0.1:0 with the small photo and its own tmpdir, and waits
// for its --addr-file.
async function start(t, script, extraArgs = [], { image = SMALL_PHOTO, env } = {}) {
  const dir = tempDir(t);
  const tmpdir = path.join(dir, 'tmp');
  fs.mkdirSync(tmpdir);
  const addrFile = path.join(dir, 'addr');
  const args = ['--addr=127.0.0.1:0', `--addr-file=${addrFile}`, `--image=${image}`, `--tmpdir=${tmpdir}`, ...extraArgs];
  const proc = run(t, script, args, { env });
  const deadline = Date.now() + 15000;
  while (!fs.existsSync(addrFile)) {
    if (proc.isDone()) throw new Error(`${script} exited before listening:\n${proc.out.stderr}`);
    if (Date.now() > deadline) throw new Error(`${script} did not write ${addrFile} in 15 s:\n${proc.out.stderr}`);
    await sleep(25);
  }
  const addr = fs.readFileSync(addrFile, 'utf8');
  return { ...proc, addr: addr.trim(), addrFileText: addr, tmpdir, pid: proc.child.pid };
}

// request sends one request on a fresh connection (no keep-alive) and returns status,
// headers and the body as text.
function request(addr, method, urlPath, { timeoutMs = 20000 } = {}) {
  const i = addr.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: addr.slice(0, i), port: Number(addr.slice(i + 1)), method, path: urlPath, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${urlPath}: no answer in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function getJSON(addr, urlPath) {
  const res = await request(addr, 'GET', urlPath);
  return { ...res, json: JSON.parse(res.body) };
}

// procState is a process's state letter from /proc ("R", "S", "Z", ...), or null when it
// is gone. A zombie has exited: it only waits for its (new) parent to reap it.
function procState(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return null;
  }
}

function isRunning(pid) {
  const s = procState(pid);
  return s !== null && s !== 'Z' && s !== 'X';
}

function parentOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

// childrenOf lists the running children of pid.
function childrenOf(pid) {
  const kids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (parentOf(Number(name)) === pid && isRunning(Number(name))) kids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return kids;
}

// waitFor polls cond every 50 ms until it holds or timeoutMs passes; returns whether it held.
async function waitFor(cond, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
}

// withTimeout rejects when p takes longer than ms.
function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    }),
  ]);
}

module.exports = {
  APP_DIR,
  SMALL_PHOTO,
  GO_DURATION,
  sleep,
  tempDir,
  run,
  start,
  request,
  getJSON,
  procState,
  isRunning,
  parentOf,
  childrenOf,
  waitFor,
  withTimeout,
};
