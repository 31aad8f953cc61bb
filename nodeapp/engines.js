'use strict';
// The image libraries the job can run on. jimp is the article's (pure JS, on the one JS
// thread); sharp is what a Node developer picks today (libvips, on libuv's thread pool).
// Each engine flips a file vertically in place and writes it as a JPEG at JPEG_QUALITY.

const fsp = require('node:fs/promises');

// JPEG_QUALITY matches job.JPEGQuality in job/flip.go.
const JPEG_QUALITY = 95;

// LIBUV_DEFAULT_POOL is libuv's thread pool size when UV_THREADPOOL_SIZE is not set.
const LIBUV_DEFAULT_POOL = 4;

// poolSize is the size of libuv's thread pool in this process, read as libuv reads
// UV_THREADPOOL_SIZE at its first use: unset is 4; otherwise atoi into an unsigned int, 0
// made 1, above 1024 (a negative number included) made 1024.
function poolSize(env = process.env) {
  const text = env.UV_THREADPOOL_SIZE;
  if (text === undefined) return LIBUV_DEFAULT_POOL;
  const n = Number.parseInt(text, 10) || 0;
  if (n === 0) return 1;
  if (n < 0 || n > 1024) return 1024;
  return n;
}

function jimpEngine() {
  const Jimp = require('jimp');
  return {
    name: 'jimp',
    // Every job runs on the one JS thread: jobs interleave, one runs at a time.
    capacity: () => 1,
    async flipInPlace(file) {
      const photo = await Jimp.read(file);
      photo.flip(false, true); // (horizontal, vertical)
      photo.quality(JPEG_QUALITY);
      // Jimp picks the format from the MIME type given, not from the file's name.
      const jpeg = await photo.getBufferAsync(Jimp.MIME_JPEG);
      await fsp.writeFile(file, jpeg);
    },
  };
}

function sharpEngine() {
  const sharp = require('sharp');
  // Every job reads a file under a fresh name, so libvips' operation cache never hits: it
  // would only hold up to 50 MB of decoded images per process. Off.
  sharp.cache(false);
  // One libvips thread per image: a job is one pool thread, so the pool size alone says
  // how many jobs run at once (sharp's default is 1 on glibc without jemalloc anyway, the
  // core count elsewhere).
  sharp.concurrency(1);
  return {
    name: 'sharp',
    // sharp runs each job on a libuv pool thread: up to poolSize() jobs run at once,
    // whatever the core count.
    capacity: () => poolSize(),
    async flipInPlace(file) {
      // sharp refuses to write the file it reads; like Jimp, encode to memory, then write.
      // optimiseCoding off: the other engines write standard Huffman tables, and sharp's
      // default second pass doubled the job here (421 ms of CPU against 210 ms on the
      // 6.7 MB photo, for a file 4.7 % smaller). Quality and 4:2:0 chroma as the others.
      const jpeg = await sharp(file).flip().jpeg({ quality: JPEG_QUALITY, optimiseCoding: false }).toBuffer();
      await fsp.writeFile(file, jpeg);
    },
  };
}

const ENGINES = { jimp: jimpEngine, sharp: sharpEngine };
const ENGINE_NAMES = Object.keys(ENGINES);

// loadEngine returns the engine called name; it loads only that engine's library.
function loadEngine(name) {
  const make = ENGINES[name];
  if (!make) throw new Error(`unknown engine ${JSON.stringify(name)} (known: ${ENGINE_NAMES.join(', ')})`);
  return make();
}

module.exports = { ENGINE_NAMES, JPEG_QUALITY, loadEngine, poolSize };
