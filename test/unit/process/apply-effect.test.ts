import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEffect, averageColour, type Pixels } from '../../../src/process/apply-effect.js';

/** Builds pixels from a list of RGB(A) tuples, row by row. */
function pixels(width: number, height: number, values: readonly (readonly number[])[], frames = 1): Pixels {
  const channels = values[0]!.length as 3 | 4;
  return { data: Buffer.from(values.flat()), width, height, frames, channels };
}
const at = (p: Pixels, x: number, y: number, frame = 0): number[] => {
  const i = ((frame * p.height + y) * p.width + x) * p.channels;
  return [...p.data.subarray(i, i + p.channels)];
};

describe('applyEffect on raw pixels', () => {
  test('linear clamps to 0..255 and leaves alpha alone', async () => {
    const out = await applyEffect(pixels(2, 1, [[10, 100, 250, 7], [0, 0, 0, 255]]), { kind: 'linear', a: [2, 1, 1], b: [0, -150, 10] });
    assert.deepEqual(at(out, 0, 0), [20, 0, 255, 7]);
    assert.deepEqual(at(out, 1, 0), [0, 0, 10, 255]);
  });
  test('grey input is widened to RGB first (imagor converts to sRGB)', async () => {
    const grey: Pixels = { data: Buffer.from([10, 200]), width: 2, height: 1, frames: 1, channels: 1 };
    const out = await applyEffect(grey, { kind: 'linear', a: [1, 1, 1], b: [5, 0, 0] });
    assert.equal(out.channels, 3);
    assert.deepEqual(at(out, 1, 0), [205, 200, 200]);
  });
  test('equalize works on each frame with its own histogram', async () => {
    // Frame 0: greys 10 and 20; frame 1: greys 100 and 200. Each spreads to 0 and 255.
    const p = pixels(2, 1, [[10, 10, 10], [20, 20, 20], [100, 100, 100], [200, 200, 200]], 2);
    const out = await applyEffect(p, { kind: 'equalize' });
    assert.deepEqual([at(out, 0, 0, 0), at(out, 1, 0, 0), at(out, 0, 0, 1), at(out, 1, 0, 1)], [[0, 0, 0], [255, 255, 255], [0, 0, 0], [255, 255, 255]]);
  });
  test('equalize leaves a single-valued channel as it is', async () => {
    const out = await applyEffect(pixels(2, 1, [[50, 10, 0], [50, 20, 0]]), { kind: 'equalize' });
    assert.deepEqual(at(out, 0, 0), [50, 0, 0]);
  });
  test('noise adds one value per pixel to all three channels, within [-amount/2, amount/2)', async () => {
    const p = pixels(64, 1, Array.from({ length: 64 }, () => [100, 120, 140]));
    const out = await applyEffect(p, { kind: 'noise', amount: 20, seed: 3 });
    for (let x = 0; x < 64; x++) {
      const [r, g, b] = at(out, x, 0) as [number, number, number];
      assert.equal(g - r, 20);
      assert.equal(b - r, 40);
      assert.ok(r >= 90 && r < 110, `${r}`);
    }
  });
  test('pixelate cuts cells at the edges and weights colours by alpha, so transparency does not darken them', async () => {
    const p = pixels(3, 1, [[0, 0, 0, 0], [200, 100, 50, 255], [9, 9, 9, 9]]);
    const out = await applyEffect(p, { kind: 'pixelate', block: 2 });
    assert.deepEqual([at(out, 0, 0), at(out, 1, 0), at(out, 2, 0)], [[200, 100, 50, 128], [200, 100, 50, 128], [9, 9, 9, 9]]);
  });
  test('pixelate without alpha takes the plain mean', async () => {
    const out = await applyEffect(pixels(2, 1, [[0, 0, 0], [200, 100, 51]]), { kind: 'pixelate', block: 2 });
    assert.deepEqual(at(out, 0, 0), [100, 50, 26]);
  });
  test('grayscale keeps alpha', async () => {
    const out = await applyEffect(pixels(2, 1, [[255, 255, 255, 0], [0, 0, 0, 200]]), { kind: 'grayscale' });
    assert.equal(out.channels, 4);
    assert.deepEqual([at(out, 0, 0), at(out, 1, 0)], [[255, 255, 255, 0], [0, 0, 0, 200]]);
  });
  test('round-corner adds alpha, cuts the corners and keeps the edges\' middles', async () => {
    const p = pixels(10, 10, Array.from({ length: 100 }, () => [255, 0, 0]));
    const out = await applyEffect(p, { kind: 'round-corner', rx: 4, ry: 4, background: undefined });
    assert.equal(out.channels, 4);
    assert.equal(at(out, 0, 0)[3], 0);
    assert.equal(at(out, 9, 9)[3], 0);
    assert.equal(at(out, 5, 0)[3], 255);
    const partial = at(out, 1, 1)[3]!;
    assert.ok(partial > 0 && partial < 255, `${partial}`);
  });
  test('round-corner on an average background takes the mean colour with transparency over white', () => {
    assert.deepEqual(averageColour(pixels(2, 1, [[0, 0, 0, 255], [0, 0, 0, 0]])), { r: 128, g: 128, b: 128, alpha: 1 });
  });
});
