'use strict';
// The job itself, on a tiny image made here: it flips vertically, saves a JPEG in place,
// and removes its copy.

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { test } = require('node:test');

const Jimp = require('jimp');

const { flipInPlace, flipPhoto } = require('../app');
const { loadEngine } = require('../engines');
const { tempDir } = require('./helpers');

const RED = 0xff0000ff;
const GREEN = 0x00ff00ff;
const BLUE = 0x0000ffff;

// A 16x32 image: red (left) and green (right) on top, blue below.
async function redOverBlue(file) {
  const img = new Jimp(16, 32, BLUE);
  for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) img.setPixelColor(x < 8 ? RED : GREEN, x, y);
  await img.writeAsync(file); // PNG, by its name
}

function near(rgba, want) {
  const a = Jimp.intToRGBA(rgba);
  const b = Jimp.intToRGBA(want);
  return Math.abs(a.r - b.r) < 40 && Math.abs(a.g - b.g) < 40 && Math.abs(a.b - b.b) < 40;
}

for (const name of ['jimp', 'sharp']) {
  test(`flipInPlace with ${name} flips vertically and writes a JPEG`, async (t) => {
    const file = path.join(tempDir(t), 'in.png');
    await redOverBlue(file);
    await flipInPlace(file, loadEngine(name));
    await checkFlipped(file);
  });
}

test('flipInPlace uses Jimp when no engine is given', async (t) => {
  const file = path.join(tempDir(t), 'in.png');
  await redOverBlue(file);
  await flipInPlace(file);
  await checkFlipped(file);
});

test('the sharp engine keeps no cache and runs one libvips thread per job', () => {
  loadEngine('sharp');
  const sharp = require('sharp');
  const c = sharp.cache();
  assert.deepEqual([c.memory.max, c.files.max, c.items.max], [0, 0, 0]);
  assert.equal(sharp.concurrency(), 1);
});

async function checkFlipped(file) {
  const bytes = fs.readFileSync(file);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff], 'a JPEG');
  const out = await Jimp.read(file);
  assert.equal(out.bitmap.width, 16);
  assert.equal(out.bitmap.height, 32);
  assert.ok(near(out.getPixelColor(2, 2), BLUE) && near(out.getPixelColor(13, 2), BLUE), 'blue on top now');
  assert.ok(near(out.getPixelColor(2, 29), RED), 'red below, still on the left');
  assert.ok(near(out.getPixelColor(13, 29), GREEN), 'green below, still on the right');
}

test('flipPhoto leaves nothing behind, on success and on failure', async (t) => {
  const dir = tempDir(t);
  const work = path.join(dir, 'work');
  fs.mkdirSync(work);
  const photo = path.join(dir, 'photo.png');
  await redOverBlue(photo);
  const before = fs.readFileSync(photo);
  const bad = path.join(dir, 'bad.jpg');
  fs.writeFileSync(bad, 'not an image');
  for (const name of ['jimp', 'sharp']) {
    const engine = loadEngine(name);
    const ms = await flipPhoto(photo, work, engine);
    assert.ok(ms > 0);
    assert.deepEqual(fs.readdirSync(work), [], name);
    assert.ok(fs.readFileSync(photo).equals(before), `${name}: the source photo is untouched`);

    await assert.rejects(flipPhoto(bad, work, engine));
    assert.deepEqual(fs.readdirSync(work), [], name);
    await assert.rejects(flipPhoto(path.join(dir, 'missing.jpg'), work, engine), /ENOENT/);
    assert.deepEqual(fs.readdirSync(work), [], name);
  }
});
