'use strict';
// The command line both programs share. The flags are the Go servers' (docs/CONTRACT.md),
// written as long options: --addr, --image, --tmpdir, --addr-file, and --workers in the
// cluster. The Go load driver passes them as --name=value; "--name value" works too.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { parseArgs } = require('node:util');

const { ENGINE_NAMES } = require('./engines');

const DEFAULT_IMAGE = path.join(__dirname, '..', 'testdata', 'photo-6.7mb.jpg');

// UsageError is a bad command line: the caller prints it on one line and exits 2.
class UsageError extends Error {}

// parseAddr splits "host:port" (host may be empty, a name, an IPv4 or a [bracketed] IPv6
// address). An empty host means every interface.
function parseAddr(text) {
  const i = text.lastIndexOf(':');
  if (i < 0) throw new UsageError(`--addr ${JSON.stringify(text)}: want host:port, e.g. :3000 or 127.0.0.1:0`);
  let host = text.slice(0, i);
  const portText = text.slice(i + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) throw new UsageError(`--addr ${JSON.stringify(text)}: put an IPv6 address in brackets, e.g. [::1]:3000`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new UsageError(`--addr ${JSON.stringify(text)}: the port must be a number from 0 to 65535`);
  }
  return { host: host === '' ? undefined : host, port: Number(portText) };
}

// joinHostPort formats a bound address the way Go's net.JoinHostPort does.
function joinHostPort(host, port) {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function usage(prog, withWorkers) {
  const lines = [
    `usage: node ${prog} [flags]`,
    '  --addr=HOST:PORT    listen address (default :3000, or :$PORT); port 0 picks a free port',
    `  --image=PATH        photo flipped by POST /flip (default $IMAGE, or ${path.relative(process.cwd(), DEFAULT_IMAGE) || DEFAULT_IMAGE})`,
    '  --tmpdir=DIR        base dir; each process works in DIR/flipbench-node-<pid>/ (default the OS temp dir)',
    '  --addr-file=PATH    once listening, write the bound host:port and a newline to PATH',
    `  --engine=NAME       image library: ${ENGINE_NAMES.join(' or ')} (default jimp, the article's)`,
  ];
  if (withWorkers) lines.push('  --workers=N         worker processes (default os.availableParallelism())');
  lines.push('  -h, --help          this text');
  return lines.join('\n') + '\n';
}

// parseCommandLine returns the settings, or null after printing help; it throws UsageError
// for a bad command line.
function parseCommandLine(argv, { prog, withWorkers, env = process.env }) {
  const options = {
    addr: { type: 'string' },
    image: { type: 'string' },
    tmpdir: { type: 'string' },
    'addr-file': { type: 'string' },
    engine: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  };
  if (withWorkers) options.workers = { type: 'string' };
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options, strict: true, allowPositionals: false }));
  } catch (err) {
    switch (err.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
        const flag = (/'([^']+)'/.exec(err.message) || [])[1] || '?';
        throw new UsageError(`unknown flag ${flag} (flags: ${Object.keys(options).map((o) => '--' + o).join(', ')})`);
      }
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new UsageError(`unexpected argument ${(/'([^']+)'/.exec(err.message) || [])[1] || ''}: every setting is a --flag=value`);
      default: // a string flag without its value, a value given to --help
        throw new UsageError(err.message.split('\n')[0]);
    }
  }
  if (values.help) {
    process.stdout.write(usage(prog, withWorkers));
    return null;
  }
  const addrText = values.addr ?? (env.PORT ? `:${env.PORT}` : ':3000');
  const cfg = {
    addrText,
    addr: parseAddr(addrText),
    image: path.resolve(values.image ?? env.IMAGE ?? DEFAULT_IMAGE),
    tmpdir: path.resolve(values.tmpdir ?? os.tmpdir()),
    addrFile: values['addr-file'] ? path.resolve(values['addr-file']) : null,
    workers: 1,
    engine: values.engine ?? 'jimp',
  };
  if (!ENGINE_NAMES.includes(cfg.engine)) {
    throw new UsageError(`--engine ${JSON.stringify(cfg.engine)}: want ${ENGINE_NAMES.join(' or ')}`);
  }
  if (withWorkers) {
    if (values.workers === undefined) {
      cfg.workers = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
    } else if (/^\d+$/.test(values.workers) && Number(values.workers) >= 1 && Number(values.workers) <= 1024) {
      cfg.workers = Number(values.workers);
    } else {
      throw new UsageError(`--workers ${JSON.stringify(values.workers)}: want a whole number from 1 to 1024`);
    }
  }
  return cfg;
}

// checkImage fails (with a message fit for a person) unless the photo is a readable file.
function checkImage(image) {
  let st;
  try {
    st = fs.statSync(image);
    fs.accessSync(image, fs.constants.R_OK);
  } catch (err) {
    throw new Error(`image ${image}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`);
  }
  if (!st.isFile()) throw new Error(`image ${image}: not a regular file`);
}

// checkTmpdir fails unless the base temp dir is a directory.
function checkTmpdir(tmpdir) {
  let st;
  try {
    st = fs.statSync(tmpdir);
  } catch (err) {
    throw new Error(`tmpdir ${tmpdir}: ${err.code === 'ENOENT' ? 'no such directory' : err.message}`);
  }
  if (!st.isDirectory()) throw new Error(`tmpdir ${tmpdir}: not a directory`);
}

// workDirFor is the dir a process with this pid works in.
function workDirFor(tmpdir, pid) {
  return path.join(tmpdir, `flipbench-node-${pid}`);
}

// writeAddrFile writes "host:port\n" to file atomically: file.tmp, then rename.
function writeAddrFile(file, addr) {
  const tmp = file + '.tmp';
  fs.writeFileSync(tmp, addr + '\n');
  fs.renameSync(tmp, file);
}

// modeName is what /healthz calls a serving process: node-standard and node-cluster for
// the article's Jimp, node-<engine>-standard and node-<engine>-cluster for another engine.
function modeName(kind, engine) {
  return engine === 'jimp' ? `node-${kind}` : `node-${engine}-${kind}`;
}

// goDuration formats milliseconds as a duration Go's time.ParseDuration reads: "8153.201ms".
function goDuration(ms) {
  return `${Math.max(0, ms).toFixed(3)}ms`;
}

module.exports = {
  DEFAULT_IMAGE,
  UsageError,
  parseAddr,
  joinHostPort,
  parseCommandLine,
  checkImage,
  checkTmpdir,
  workDirFor,
  writeAddrFile,
  modeName,
  goDuration,
};
