import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { parseImagorPath } from '../../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../../src/respond/errors.js';
import { processImage, type ProcessOptions } from '../../../../src/process/process-image.js';
import { cropFilterRect, focalPoint, proportionSize } from '../../../../src/process/filters/geometry-filters.js';
import { planGeometry } from '../../../../src/process/geometry.js';
import {
  BLACK,
  BLUE,
  decode,
  LIME,
  makeAnimated,
  makeAnimatedQuadrant,
  makeQuadrant,
  makeSolid,
  near,
  RED,
  WHITE,
  YELLOW,
  type Decoded,
  type Rgb,
} from '../../../helpers/images.js';

async function run(input: Buffer, path: string, options: ProcessOptions = {}) {
  const result = await processImage(input, parseImagorPath(`unsafe/${path}`), options);
  return { ...result, decoded: await decode(result.image.data) };
}

function assertColour(d: Decoded, x: number, y: number, expected: Rgb, frame = 0, tolerance = 24): void {
  const p = d.pixel(x, y, frame);
  assert.ok(near(p, expected, tolerance), `(${x},${y}) frame ${frame}: got ${JSON.stringify(p)}, want ${JSON.stringify(expected)}`);
}

const invalid = (detail: RegExp) => (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && detail.test(e.publicDetail ?? '');

// 40x20: top-left red, top-right lime, bottom-left blue, bottom-right yellow.
const quadrant = makeQuadrant(40, 20, 'png');

/** A white canvas with a `colour` rectangle at (left, top). */
function boxOnWhite(width: number, height: number, box: { left: number; top: number; width: number; height: number }, colour: Rgb = RED) {
  return sharp({ create: { width, height, channels: 3, background: WHITE } })
    .composite([{ input: { create: { width: box.width, height: box.height, channels: 3, background: colour } }, left: box.left, top: box.top }])
    .png()
    .toBuffer();
}

describe('crop filter (after the resize)', () => {
  test('crop(20,0,20,10) keeps the top-right quadrant', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:crop(20,0,20,10)/a.png');
    assert.deepEqual([d.width, d.height], [20, 10]);
    assertColour(d, 0, 0, LIME);
    assertColour(d, 19, 9, LIME);
  });
  test('fractions: crop(0,0.5,0.5,0.5) keeps the bottom-left quadrant', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:crop(0,0.5,0.5,0.5)/a.png');
    assert.deepEqual([d.width, d.height], [20, 10]);
    assertColour(d, 10, 5, BLUE);
  });
  test('runs on the resized image: fit-in/20x20 then crop(10,5,10,5) is the bottom-right quadrant', async () => {
    const { decoded: d } = await run(await quadrant, 'fit-in/20x20/filters:crop(10,5,10,5)/a.png');
    assert.deepEqual([d.width, d.height], [10, 5]);
    assertColour(d, 5, 2, YELLOW);
  });
  test('a box beyond the image is clamped to it', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:crop(30,15,100,100)/a.png');
    assert.deepEqual([d.width, d.height], [10, 5]);
    assertColour(d, 5, 2, YELLOW);
  });
  test('an empty box does nothing (imagor)', () => {
    assert.equal(cropFilterRect({ left: 50, top: 0, width: 10, height: 10 }, { width: 40, height: 20 }), undefined);
    assert.equal(cropFilterRect({ left: 0, top: 0, width: 0, height: 10 }, { width: 40, height: 20 }), undefined);
  });
  test('every frame of an animation is cropped alike', async () => {
    const { image, decoded: d } = await run(await makeAnimatedQuadrant('gif', 40, 20, 3), 'filters:crop(20,10,20,10)/a.gif');
    assert.equal(image.pages, 3);
    for (let f = 0; f < 3; f++) assertColour(d, 5, 5, YELLOW, f);
  });
});

describe('rotate filter (counter-clockwise, after the resize)', () => {
  const cases: Array<[string, [number, number], Rgb, Rgb]> = [
    ['rotate(90)', [20, 40], LIME, BLUE],
    ['rotate(180)', [40, 20], YELLOW, RED],
    ['rotate(270)', [20, 40], BLUE, LIME],
    ['rotate(-90)', [20, 40], BLUE, LIME],
    ['rotate(450)', [20, 40], LIME, BLUE],
  ];
  for (const [filter, size, topLeft, bottomRight] of cases) {
    test(`${filter} turns the image`, async () => {
      const { decoded: d } = await run(await quadrant, `filters:${filter}/a.png`);
      assert.deepEqual([d.width, d.height], size);
      assertColour(d, 2, 2, topLeft);
      assertColour(d, d.width - 3, d.height - 3, bottomRight);
    });
  }
  test('rotate(0) and rotate(360) change nothing', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:rotate(0):rotate(360)/a.png');
    assertColour(d, 2, 2, RED);
  });
  test('fill after rotate(90) letterboxes to the swapped box (imagor)', async () => {
    const { decoded: d } = await run(await quadrant, 'fit-in/60x40/filters:rotate(90):fill(white)/a.png');
    // fit-in gives 60x30 (box 60x40); after the turn, 30x60 in a 40x60 box.
    assert.deepEqual([d.width, d.height], [40, 60]);
    assertColour(d, 0, 30, WHITE);
  });
  test('every frame of an animation is turned', async () => {
    const { image, decoded: d } = await run(await makeAnimatedQuadrant('webp', 40, 20, 3), 'filters:rotate(90)/a.webp');
    assert.deepEqual([image.width, image.height, image.pages], [20, 40, 3]);
    for (let f = 0; f < 3; f++) assertColour(d, 2, 2, LIME, f);
  });
});

describe('proportion', () => {
  test('proportion(0.5) halves both sides', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:proportion(0.5)/a.png');
    assert.deepEqual([d.width, d.height], [20, 10]);
    assertColour(d, 2, 2, RED);
    assertColour(d, 17, 7, YELLOW);
  });
  test('values above 1 are percentages', () => {
    assert.deepEqual(proportionSize(25, { width: 40, height: 20 }), { width: 10, height: 5 });
    assert.deepEqual(proportionSize(0.25, { width: 40, height: 20 }), { width: 10, height: 5 });
  });
  test('a scale that leaves nothing does nothing', () => assert.equal(proportionSize(0.01, { width: 40, height: 20 }), undefined));
  test('keeps the frames of an animation', async () => {
    const { image } = await run(await makeAnimated('gif', 40, 20, [RED, LIME, BLUE]), 'filters:proportion(50)/a.gif');
    assert.deepEqual([image.width, image.height, image.pages], [20, 10, 3]);
  });
});

describe('trim filter', () => {
  test('trim() removes the border the top-left colour forms', async () => {
    const { decoded: d } = await run(await boxOnWhite(60, 40, { left: 20, top: 10, width: 20, height: 15 }), 'filters:trim()/a.png');
    assert.deepEqual([d.width, d.height], [20, 15]);
    assertColour(d, 0, 0, RED);
    assertColour(d, 19, 14, RED);
  });
  test('runs after the resize and before the next filter', async () => {
    const input = await boxOnWhite(80, 80, { left: 20, top: 20, width: 40, height: 40 });
    const { decoded: d } = await run(input, 'fit-in/40x40/filters:trim():fill(blue)/a.png');
    // 40x40 after fit-in, trimmed to the 20x20 red box, then letterboxed back into the 40x40 box.
    assert.deepEqual([d.width, d.height], [40, 40]);
    assertColour(d, 20, 20, RED);
    assertColour(d, 2, 2, BLUE);
  });
  test('trim(0,bottom-right) reads the background at the bottom-right', async () => {
    // The top-left pixel is red: trim() finds nothing to remove, trim(0,bottom-right) removes the white.
    const input = await boxOnWhite(40, 40, { left: 0, top: 0, width: 20, height: 20 });
    const topLeft = await run(input, 'filters:trim()/a.png');
    assert.deepEqual([topLeft.decoded.width, topLeft.decoded.height], [40, 40]);
    const { decoded: d } = await run(input, 'filters:trim(0,bottom-right)/a.png');
    assert.deepEqual([d.width, d.height], [20, 20]);
    assertColour(d, 10, 10, RED);
  });
  test('two trims measure twice', async () => {
    // White frame, then a blue frame inside it, then red inside that.
    const inner = await sharp({ create: { width: 30, height: 30, channels: 3, background: BLUE } })
      .composite([{ input: { create: { width: 10, height: 10, channels: 3, background: RED } }, left: 10, top: 10 }])
      .png()
      .toBuffer();
    const input = await sharp({ create: { width: 50, height: 50, channels: 3, background: WHITE } }).composite([{ input: inner, left: 10, top: 10 }]).png().toBuffer();
    const once = await run(input, 'filters:trim()/a.png');
    assert.deepEqual([once.decoded.width, once.decoded.height], [30, 30]);
    const twice = await run(input, 'filters:trim():trim()/a.png');
    assert.deepEqual([twice.decoded.width, twice.decoded.height], [10, 10]);
  });
  test('an animation is trimmed to the union of its frames\' content', async () => {
    const frames = await Promise.all(
      [{ left: 5, top: 5 }, { left: 25, top: 15 }].map(({ left, top }) => boxOnWhite(50, 40, { left, top, width: 10, height: 10 })),
    );
    const gif = await sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100], loop: 0 }).toBuffer();
    const { image, decoded: d } = await run(gif, 'filters:trim()/a.gif');
    // x from 5 to 35, y from 5 to 25.
    assert.deepEqual([image.width, image.height, image.pages], [30, 20, 2]);
    assertColour(d, 2, 2, RED, 0);
    assertColour(d, 27, 17, RED, 1);
  });
});

describe('padding', () => {
  test('padding(blue,5) adds 5 pixels on every side', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:padding(blue,5)/a.png');
    assert.deepEqual([d.width, d.height], [50, 30]);
    assertColour(d, 0, 0, BLUE);
    assertColour(d, 6, 6, RED);
    assertColour(d, 49, 29, BLUE);
  });
  test('three arguments: left and right, then top and bottom', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:padding(white,2,6)/a.png');
    assert.deepEqual([d.width, d.height], [44, 32]);
    assertColour(d, 3, 7, RED);
  });
  test('five arguments: left, top, right, bottom', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:padding(white,1,2,3,4)/a.png');
    assert.deepEqual([d.width, d.height], [44, 26]);
    assertColour(d, 1, 2, RED, 0, 30);
    assertColour(d, 0, 0, WHITE);
    assertColour(d, 40, 21, YELLOW, 0, 30);
    assertColour(d, 41, 22, WHITE);
  });
  test('padding(none,4) adds transparency', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:padding(none,4)/a.png');
    assert.equal(d.pixel(0, 0).a, 0);
    assert.equal(d.pixel(10, 10).a, 255);
  });
  test('pads every frame of an animation', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 20, 10, [RED, LIME]), 'filters:padding(blue,3)/a.gif');
    assert.deepEqual([image.width, image.height, image.pages], [26, 16, 2]);
    assertColour(d, 0, 0, BLUE, 1);
    assertColour(d, 10, 8, LIME, 1);
  });
});

describe('round_corner', () => {
  test('round_corner(10) makes the corners transparent and keeps the middle', async () => {
    const { decoded: d } = await run(await makeSolid(40, 40, RED, 'png'), 'filters:round_corner(10)/a.png');
    for (const [x, y] of [[0, 0], [39, 0], [0, 39], [39, 39]] as const) assert.equal(d.pixel(x, y).a, 0, `${x},${y}`);
    assert.equal(d.pixel(20, 20).a, 255);
    assert.equal(d.pixel(20, 0).a, 255);
    assert.equal(d.pixel(0, 20).a, 255);
  });
  test('round_corner(10,10,white) paints the corners white on a JPEG', async () => {
    const { image, decoded: d } = await run(await makeSolid(40, 40, RED, 'jpeg'), 'filters:round_corner(10,10,white):quality(95)/a.jpg');
    assert.equal(image.format, 'jpeg');
    assertColour(d, 0, 0, WHITE);
    assertColour(d, 39, 39, WHITE);
    assertColour(d, 20, 20, RED);
  });
  test('ry shapes the ellipse: with ry 5 the side 10 pixels down is untouched, with ry 20 it is cut', async () => {
    const flat = await run(await makeSolid(40, 40, RED, 'png'), 'filters:round_corner(20,5)/a.png');
    const round = await run(await makeSolid(40, 40, RED, 'png'), 'filters:round_corner(20)/a.png');
    assert.equal(flat.decoded.pixel(0, 10).a, 255);
    assert.equal(round.decoded.pixel(0, 10).a, 0);
  });
  test('thumbor\'s round_corner(a|b,r,g,b) paints the corners in that colour', async () => {
    const { decoded: d } = await run(await makeSolid(40, 40, RED, 'png'), 'filters:round_corner(10|10,0,0,255)/a.png');
    assertColour(d, 0, 0, BLUE);
    assertColour(d, 20, 20, RED);
  });
  test('rounds every frame of an animation', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 30, 30, [RED, LIME]), 'filters:round_corner(8,8,white)/a.gif');
    assert.equal(image.pages, 2);
    assertColour(d, 0, 0, WHITE, 1);
    assertColour(d, 15, 15, LIME, 1);
  });
});

describe('focal', () => {
  // 200x100 white with a blue band on the far right (x 180-199).
  const wide = sharp({ create: { width: 200, height: 100, channels: 3, background: WHITE } })
    .composite([{ input: { create: { width: 20, height: 100, channels: 3, background: BLUE } }, left: 180, top: 0 }])
    .png()
    .toBuffer();
  test('without focal the cover crop is centred and misses the band', async () => {
    const { decoded: d } = await run(await wide, '50x50/a.png');
    assertColour(d, 49, 25, WHITE);
  });
  for (const focal of ['180x0:200x100', '190,50', '190x50', '0.9x0:1x1', '0.95,0.5']) {
    test(`focal(${focal}) moves the cover crop to the band`, async () => {
      const { decoded: d } = await run(await wide, `50x50/filters:focal(${focal})/a.png`);
      assert.deepEqual([d.width, d.height], [50, 50]);
      assertColour(d, 49, 25, BLUE);
      assertColour(d, 0, 25, WHITE);
    });
  }
  test('several regions are weighted by their areas', () => {
    const p = focalPoint(
      [
        { left: 0, top: 0, right: 10, bottom: 10, point: false, fractions: false },
        { left: 90, top: 0, right: 100, bottom: 30, point: false, fractions: false },
      ],
      { width: 100, height: 100 },
    );
    // centres (5, 5) weight 100 and (95, 15) weight 300.
    assert.deepEqual(p, { x: (5 * 100 + 95 * 300) / 400, y: (5 * 100 + 15 * 300) / 400 });
  });
  test('wins over smart and steers an animation too', async () => {
    const second = sharp(await wide).composite([{ input: { create: { width: 10, height: 10, channels: 3, background: RED } }, left: 160, top: 80 }]).png().toBuffer();
    const frames = await Promise.all([wide, second]);
    const gif = await sharp(frames, { join: { animated: true } }).gif({ delay: [100, 100], loop: 0 }).toBuffer();
    const { image, decoded: d } = await run(gif, '50x50/smart/filters:focal(190,50)/a.gif');
    assert.equal(image.pages, 2);
    assertColour(d, 49, 25, BLUE, 1);
  });
  test('the focal point is taken relative to the URL crop (imagor subtracts the crop origin)', () => {
    const { steps } = planGeometry(
      {
        crop: { left: 100, top: 0, right: 200, bottom: 100 },
        fitIn: false, fullFitIn: false, adaptiveFitIn: false, stretch: false, width: 20, height: 50, upscale: true,
        hFlip: false, vFlip: false, hAlign: 'center', vAlign: 'middle', smart: false, path: 'full', animated: false,
        focal: { x: 150, y: 50 },
      },
      { width: 200, height: 100 },
      { maxWidth: 9999, maxHeight: 9999 },
    );
    // 99x99 after the crop (imagor keeps the far edges out), scaled to 50x50; the focal point sits at 50/99 of
    // the width: 50 x 50/99 - 20/2 = 15.25.
    assert.deepEqual(steps, [
      { op: 'crop', left: 100, top: 0, width: 99, height: 99 },
      { op: 'resize', width: 50, height: 50 },
      { op: 'crop', left: 15, top: 0, width: 20, height: 50 },
    ]);
  });
  test('fit-in ignores focal', async () => {
    const { decoded: d } = await run(await wide, 'fit-in/50x50/filters:focal(190,50)/a.png');
    assert.deepEqual([d.width, d.height], [50, 25]);
  });
});

describe('frames after a restart from raw pixels', () => {
  test('a vertical flip keeps the frame order (sharp alone would reverse the stack)', async () => {
    const { decoded: d } = await run(await makeAnimated('gif', 8, 6, [RED, LIME, BLUE]), '8x-6/a.gif');
    assert.equal(d.frames, 3);
    assertColour(d, 2, 2, RED, 0);
    assertColour(d, 2, 2, BLUE, 2);
  });
  test('a crop after a pixel effect crops each frame', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 8, 6, [RED, LIME, BLUE]), 'filters:invert():crop(0,0,4,3)/a.gif');
    assert.deepEqual([image.width, image.height, image.pages], [4, 3, 3]);
    assertColour(d, 1, 1, { r: 255, g: 255, b: 0 }, 2);
  });
});

describe('fill(blur) on an animation', () => {
  test('each frame gets its own blurred backdrop (imagor paints black)', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 40, 20, [RED, BLUE]), 'fit-in/40x40/filters:fill(blur)/a.gif');
    assert.deepEqual([image.width, image.height, image.pages], [40, 40, 2]);
    assert.ok(!near(d.pixel(20, 3, 0), BLACK, 40), JSON.stringify(d.pixel(20, 3, 0)));
    assertColour(d, 20, 3, RED, 0, 60);
    assertColour(d, 20, 3, BLUE, 1, 60);
  });
});

describe('bad arguments are INVALID_PARAMS naming the filter', () => {
  const cases: Array<[string, RegExp]> = [
    ['crop(1,2,3)', /^crop: /],
    ['crop(1,2,3,x)', /^crop: /],
    ['crop(-1,0,10,10)', /^crop: /],
    ['crop(1,2,3,4,5)', /^crop: /],
    ['rotate(45)', /^rotate: .*90/],
    ['rotate(x)', /^rotate: /],
    ['rotate()', /^rotate: /],
    ['proportion(0)', /^proportion: /],
    ['proportion(101)', /^proportion: /],
    ['proportion(x)', /^proportion: /],
    ['trim(x)', /^trim: /],
    ['trim(-1)', /^trim: /],
    ['trim(10,middle)', /^trim: /],
    ['trim(1,top-left,3)', /^trim: /],
    ['padding(red)', /^padding: /],
    ['padding(red,x)', /^padding: /],
    ['padding(red,-2)', /^padding: /],
    ['padding(red,1,2,3)', /^padding: /],
    ['padding(nocolour,1)', /^padding: /],
    ['round_corner()', /^round_corner: /],
    ['round_corner(x)', /^round_corner: /],
    ['round_corner(10,-1)', /^round_corner: /],
    ['round_corner(10,10,nocolour)', /^round_corner: /],
    ['round_corner(10,0,0,255,maybe)', /^round_corner: /],
    ['focal()', /^focal: /],
    ['focal(1,2,3)', /^focal: /],
    ['focal(x,y)', /^focal: /],
    ['focal(10x10:5x20)', /^focal: /],
    ['focal(-1,5)', /^focal: /],
  ];
  for (const [filter, detail] of cases) {
    test(filter, async () => {
      await assert.rejects(run(await quadrant, `filters:${filter}/a.png`), invalid(detail));
    });
  }
  test('lenient mode ignores them, as imagor does', async () => {
    const { decoded: d } = await run(await quadrant, 'filters:crop(1,2,3):rotate(45):focal(x,y):padding(red)/a.png', { lenientFilters: true });
    assert.deepEqual([d.width, d.height], [40, 20]);
    assertColour(d, 2, 2, RED);
  });
});
