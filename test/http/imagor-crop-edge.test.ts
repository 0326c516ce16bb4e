// Crops that are empty or narrower than a pixel, end to end. imagor (processor/vipsprocessor/process.go
// applyTransformations) skips a crop whose right/bottom is not past its left/top after clamping to size - 1, and
// hands a sub-pixel pixel crop such as 0x0:0.9x20 to libvips extract_area with int(0.9) = 0, which fails. pixgate
// answers the second with 400 INVALID_PARAMS before decoding, never with NaN sizes (a 422), a libvips error (406)
// or a GLib critical.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, makeQuadrant, near, paintPng, RED, WHITE, type Decoded } from '../helpers/images.js';
import { errorBody, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { serve } from '../helpers/origin.js';
import { fetchRaw, type FetchedResponse } from '../helpers/pixgate.js';

let rig: ImagorRig;


before(async () => {
  rig = await startImagorRig();
  rig.origin.route('/q.png', serve(await makeQuadrant(100, 100)));
  // Red on the left 60 columns, white on the rest: trim:bottom-right keeps the red box from column 0.
  rig.origin.route('/half.png', serve(await paintPng(100, 100, (x) => (x < 60 ? RED : WHITE))));
});

after(() => rig.close());

function get(ops: string, path: string): Promise<FetchedResponse> {
  return fetchRaw(rig.url(ops, path));
}

async function image(ops: string, path: string): Promise<Decoded> {
  const res = await get(ops, path);
  assert.equal(res.status, 200, `${ops}: ${res.text}`);
  return decode(res.body);
}

/** The request was refused as invalid, and by the planner rather than by libvips or the pixel limits. */
async function assertInvalid(ops: string, path: string): Promise<void> {
  const before = rig.px.errorCodes().length;
  const res = await get(ops, path);
  assert.equal(res.status, 400, `${ops}: ${res.status} ${res.text}`);
  assert.deepEqual(errorBody(res.text).status, 400);
  assert.deepEqual(rig.px.errorCodes().slice(before), ['INVALID_PARAMS']);
  // The bug this guards against logged sizes such as "step resize NaNxInfinity".
  assert.doesNotMatch(JSON.stringify(rig.px.logs.slice(-5)), /(?:NaN|Infinity)x|x(?:NaN|Infinity)/);
}

describe('crops narrower than a pixel', () => {
  for (const ops of ['0x0:0.9x20', '0x0:20x0.9', '0x0:1.5x0.5', '0.5x0:1.2x10', '0x0:0.9x20/50x50', '0x0:0.9x20/fit-in/50x50']) {
    test(`${ops}/ is 400 invalid, not a NaN resize`, () => assertInvalid(ops, '/q.png'));
  }

  test('trim:bottom-right/0x0:0.9x20/ is 400 invalid, not a libvips error', () => assertInvalid('trim:bottom-right/0x0:0.9x20', '/half.png'));

  test('filters:focal with regions whose area overflows is 400 invalid', () => assertInvalid('50x100/filters:focal(0x0:1e200x1e200)', '/q.png'));
});

describe('crops that are empty after clamping are skipped, as imagor does', () => {
  // [ops, expected width, height]
  const rows: readonly (readonly [string, number, number])[] = [
    ['50x10:20x40', 100, 100],
    ['150x10:300x40', 100, 100],
    ['10x150:40x300', 100, 100],
    ['99x0:0x0', 100, 100],
    ['0.5x0.5:0.5x0.9', 100, 100],
    ['150x10:300x40/50x0', 50, 50],
  ];
  for (const [ops, w, h] of rows) {
    test(`${ops}/ answers the whole image ${w}x${h}`, async () => {
      const img = await image(ops, '/q.png');
      assert.deepEqual([img.width, img.height], [w, h]);
      // The top-left quadrant is still red and the bottom-right yellow: nothing was cut away.
      assert.ok(near(img.pixel(Math.floor(w / 4), Math.floor(h / 4)), RED));
      assert.ok(near(img.pixel(Math.floor((3 * w) / 4), Math.floor((3 * h) / 4)), { r: 255, g: 255, b: 0 }));
    });
  }

  test('trim/0x0:0.9x20/ with the trim box right of the crop keeps the image whole', async () => {
    // trim by the top-left (red) colour keeps the white part from column 60; the crop ends before it.
    const img = await image('trim/0x0:0.9x20', '/half.png');
    assert.deepEqual([img.width, img.height], [100, 100]);
  });
});

describe('the smallest crops that are not empty', () => {
  test('0.5x0:1.6x10/ keeps one column from column 0 (int(0.5), int(1.1))', async () => {
    const img = await image('0.5x0:1.6x10', '/q.png');
    assert.deepEqual([img.width, img.height], [1, 10]);
    assert.ok(near(img.pixel(0, 5), RED));
  });

  test('filters:crop(0,0,0.0001,10) and proportion(0.001) are no-ops, as in imagor', async () => {
    for (const ops of ['filters:crop(0,0,0.0001,10)', 'filters:proportion(0.001)']) {
      const img = await image(ops, '/q.png');
      assert.deepEqual([img.width, img.height], [100, 100], ops);
    }
  });

  test('fit-in/1x1/ answers one pixel', async () => {
    const img = await image('fit-in/1x1', '/q.png');
    assert.deepEqual([img.width, img.height], [1, 1]);
  });
});
