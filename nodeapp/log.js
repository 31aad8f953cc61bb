'use strict';
// A tiny line logger: every line is "<ISO time> pid=<pid> role=<role> <level> <message> key=value ...",
// written to stderr in one write, so lines from several processes sharing a terminal or a
// pipe do not interleave mid-line.

let role = 'standard';

// setRole names the process on every later line: "master", "worker 0", "standard".
function setRole(r) {
  role = String(r);
}

function formatValue(v) {
  if (v instanceof Error) v = v.message;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

function write(level, msg, fields) {
  let line = `${new Date().toISOString()} pid=${process.pid} role=${formatValue(role)} ${level} ${msg}`;
  for (const [k, v] of Object.entries(fields || {})) line += ` ${k}=${formatValue(v)}`;
  process.stderr.write(line + '\n');
}

module.exports = {
  setRole,
  info: (msg, fields) => write('INFO', msg, fields),
  warn: (msg, fields) => write('WARN', msg, fields),
  error: (msg, fields) => write('ERROR', msg, fields),
};
