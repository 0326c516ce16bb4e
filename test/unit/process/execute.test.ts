import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { resolveLimits } from '../../../src/policy/limits.js';
import { isPixgateError, PixgateError } from '../../../src/respond/errors.js';
import { executePlan } from '../../../src/process/execute.js';
import { buildPlan } from '../../../src/process/plan.js';
import { processImage, type ProcessOptions } from '../../../src/process/process-image.js';
import { probeImage } from '../../../src/process/probe.js';
import type { Step } from '../../../src/process/steps.js';
import {
  BLACK,
  BLUE,
  CYAN,
  decode,
  jpegFrameMarker,
  LIME,
  makeAlphaPng,
  makeAnimated,
  makeAnimatedQuadrant,
  makeExifRotatedJpeg,
  makeQuadrant,
  makeSolid,
  near,
  RED,
  WHITE,
  YELLOW,
  type Rgb,
} from '../../helpers/images.js';

async function run(input: Buffer, path: string, options: ProcessOptions = {}) {
  const result = await processImage(input, parseImagorPath(`unsafe/${path}`), options);
  return { ...result, decoded: await decode(result.image.data) };
}

function assertColour(actual: { r: number; g: number; b: number }, expected: Rgb, where: string): void {
  assert.ok(near(actual, expected), `${where}: got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)}`);
}

// Quadrant 200x100: top-left red, top-right lime, bottom-left blue, bottom-right yellow.
const quadrant = makeQuadrant(200, 100, 'png');

describe('crop, alignment and flips on pixels', () => {
  const corners = async (path: string, size: [number, number], tl: Rgb, tr: Rgb, bl: Rgb, br: Rgb) => {
    const { image, decoded: d } = await run(await quadrant, path);
    assert.deepEqual([image.width, image.height], size);
    const [w, h] = size;
    assertColour(d.pixel(2, 2), tl, 'top-left');
    assertColour(d.pixel(w - 3, 2), tr, 'top-right');
    assertColour(d.pixel(2, h - 3), bl, 'bottom-left');
    assertColour(d.pixel(w - 3, h - 3), br, 'bottom-right');
  };
  test('100x100/left keeps the left half', () => corners('100x100/left/a.png', [100, 100], RED, RED, BLUE, BLUE));
  test('100x100/right keeps the right half', () => corners('100x100/right/a.png', [100, 100], LIME, LIME, YELLOW, YELLOW));
  test('100x100 crops the centre', () => corners('100x100/a.png', [100, 100], RED, LIME, BLUE, YELLOW));
  test('-200x100 flips horizontally', () => corners('-200x100/a.png', [200, 100], LIME, RED, YELLOW, BLUE));
  test('200x-100 flips vertically', () => corners('200x-100/a.png', [200, 100], BLUE, YELLOW, RED, LIME));
  test('-200x-100 flips both ways', () => corners('-200x-100/a.png', [200, 100], YELLOW, BLUE, LIME, RED));
  // imagor crops first and flips after: the right half, mirrored, never shows the left half's colours.
  test('-100x100/right crops the right half and then mirrors it', () => corners('-100x100/right/a.png', [100, 100], LIME, LIME, YELLOW, YELLOW));
  test('-50x100/left crops the left quarter, then mirrors it', () => corners('-50x100/left/a.png', [50, 100], RED, RED, BLUE, BLUE));
  // A cover crop after a downscale, then a flip: sharp flips before its post-resize extract.
  test('-50x50/right scales, crops the right half and mirrors it', () => corners('-50x50/right/a.png', [50, 50], LIME, LIME, YELLOW, YELLOW));
  test('50x-50/left scales, crops the left half and flips it upside down', () => corners('50x-50/left/a.png', [50, 50], BLUE, BLUE, RED, RED));
  test('a pixel crop keeps exactly that region', () => corners('100x0:180x50/a.png', [80, 50], LIME, LIME, LIME, LIME));
  test('a fraction crop keeps that fraction (imagor clamps the far edge by one)', () =>
    corners('0x0.5:0.5x1/a.png', [100, 49], BLUE, BLUE, BLUE, BLUE));
  test('a crop before a resize and a flip after it', () => corners('100x0:199x99/-50x0/a.png', [50, 50], LIME, LIME, YELLOW, YELLOW));
  test('fit-in keeps the whole image', () => corners('fit-in/100x100/a.png', [100, 50], RED, LIME, BLUE, YELLOW));
  test('stretch distorts to the box', () => corners('stretch/60x120/a.png', [60, 120], RED, LIME, BLUE, YELLOW));
  test('0x50 scales by height', () => corners('0x50/a.png', [100, 50], RED, LIME, BLUE, YELLOW));
});

describe('smart crop', () => {
  test('keeps the salient red square of a grey image', async () => {
    const w = 300;
    const h = 100;
    const px = Buffer.alloc(w * h * 3, 128);
    for (let y = 30; y < 70; y++) for (let x = 240; x < 280; x++) px.set([255, 0, 0], (y * w + x) * 3);
    const input = await sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
    const { decoded: d } = await run(input, '100x100/smart/a.png');
    let red = 0;
    for (let x = 0; x < 100; x++) if (near(d.pixel(x, 50), RED, 40)) red++;
    assert.ok(red >= 30, `only ${red} red pixels on the middle row`);
  });
});

describe('fill and background', () => {
  test('fill(cyan) letterboxes fit-in and adds the URL padding', async () => {
    const { image, decoded: d } = await run(await quadrant, 'fit-in/100x100/10x20/filters:fill(cyan)/a.png');
    assert.deepEqual([image.width, image.height], [120, 140]);
    assertColour(d.pixel(5, 5), CYAN, 'padding');
    assertColour(d.pixel(60, 30), CYAN, 'letterbox above the image');
    assertColour(d.pixel(12, 47), RED, 'image top-left (at 10,45)');
    assertColour(d.pixel(107, 92), YELLOW, 'image bottom-right');
    assertColour(d.pixel(60, 100), CYAN, 'letterbox below the image');
  });
  test('fill(none) adds transparency around a JPEG written as PNG', async () => {
    const { decoded: d } = await run(await makeSolid(200, 100, RED), 'fit-in/100x100/filters:fill(none):format(png)/a.jpg');
    assert.equal(d.pixel(50, 5).a, 0);
    assert.equal(d.pixel(50, 50).a, 255);
  });
  test('fill(white) flattens transparency to white', async () => {
    const { decoded: d } = await run(await makeAlphaPng(50, 50), 'fit-in/100x100/filters:fill(white)/a.png');
    assertColour(d.pixel(50, 2), WHITE, 'letterbox');
    assertColour(d.pixel(26, 26), WHITE, 'transparent border of the source');
    assert.equal(d.pixel(26, 26).a, 255);
    assertColour(d.pixel(50, 50), RED, 'centre');
  });
  test('fill(blur) paints a blurred copy, not black', async () => {
    const { decoded: d } = await run(await makeSolid(200, 100, BLUE), 'fit-in/100x100/filters:fill(blur)/a.jpg');
    assertColour(d.pixel(50, 5), BLUE, 'backdrop');
  });
  test('fill(auto) paints the average colour', async () => {
    const { decoded: d } = await run(await makeSolid(200, 100, BLUE), 'fit-in/100x100/filters:fill(auto)/a.jpg');
    assertColour(d.pixel(50, 5), BLUE, 'letterbox');
  });
  test('fill(red) on an image larger than the box keeps the centre', async () => {
    const { image, decoded: d } = await run(await quadrant, '100x50/filters:no_upscale():fill(cyan)/a.png');
    assert.deepEqual([image.width, image.height], [100, 50]);
    assertColour(d.pixel(2, 2), RED, 'top-left');
  });
  test('background_color(white) flattens an alpha PNG', async () => {
    const { decoded: d } = await run(await makeAlphaPng(40, 40), 'filters:background_color(white)/a.png');
    assertColour(d.pixel(1, 1), WHITE, 'corner');
    assert.equal(d.pixel(1, 1).a, 255);
  });
});

describe('alpha and formats', () => {
  test('a PNG keeps its alpha through a resize', async () => {
    const { image, decoded: d } = await run(await makeAlphaPng(80, 80, RED, 20), 'fit-in/40x40/a.png');
    assert.equal(image.format, 'png');
    assert.equal(d.pixel(1, 1).a, 0);
    assert.equal(d.pixel(20, 20).a, 255);
    assertColour(d.pixel(20, 20), RED, 'centre');
  });
  test('JPEG output is baseline (SOF0) by default', async () => {
    const { image } = await run(await quadrant, 'filters:format(jpeg)/a.png');
    assert.equal(jpegFrameMarker(image.data), 0xc0);
    assert.equal(image.contentType, 'image/jpeg');
  });
  test('VIPS_MOZJPEG writes progressive JPEG', async () => {
    const { image } = await run(await quadrant, 'filters:format(jpeg)/a.png', { mozjpeg: true });
    assert.equal(jpegFrameMarker(image.data), 0xc2);
  });
  const conversions: Array<[string, string, string]> = [
    ['webp', 'image/webp', 'webp'],
    ['avif', 'image/avif', 'heif'],
    ['heif', 'image/avif', 'heif'],
    ['gif', 'image/gif', 'gif'],
    ['tiff', 'image/tiff', 'tiff'],
    ['png', 'image/png', 'png'],
    ['bmp', 'image/jpeg', 'jpeg'],
  ];
  for (const [name, contentType, sniffed] of conversions) {
    test(`format(${name}) writes ${contentType}`, async () => {
      const { image, decoded: d } = await run(await quadrant, `fit-in/50x50/filters:format(${name})/a.png`);
      assert.equal(image.contentType, contentType);
      assert.equal(d.format, sniffed);
      assert.deepEqual([d.width, d.height], [50, 25]);
      assertColour(d.pixel(2, 2), RED, 'top-left');
    });
  }
  test('quality() changes the encoding', async () => {
    const input = await makeQuadrant(300, 300, 'png');
    const low = await run(input, 'filters:format(jpeg):quality(10)/a.png');
    const high = await run(input, 'filters:format(jpeg):quality(95)/a.png');
    assert.ok(low.image.data.length < high.image.data.length);
  });
  test('an AVIF source stays AVIF', async () => {
    const { image, decoded: d } = await run(await makeQuadrant(64, 32, 'avif'), 'fit-in/32x32/a.avif');
    assert.equal(image.format, 'avif');
    assert.deepEqual([d.width, d.height], [32, 16]);
  });
  test('auto-WebP answers a browser that asks for it, with Vary', async () => {
    const result = await run(await quadrant, 'a.png', { autoWebp: true, accept: 'image/webp,*/*' });
    assert.equal(result.image.format, 'webp');
    assert.equal(result.vary, true);
  });
  test('auto-WebP keeps PNG for image/webp;q=0, still with Vary', async () => {
    const result = await run(await quadrant, 'a.png', { autoWebp: true, accept: 'image/webp;q=0,*/*' });
    assert.equal(result.image.format, 'png');
    assert.equal(result.vary, true);
  });
});

describe('EXIF orientation', () => {
  test('a JPEG tagged orientation 6 comes out upright', async () => {
    // Stored 40x20, shown turned clockwise: 20x40 with the stored bottom-left (blue) at the top-left.
    const { image, decoded: d } = await run(await makeExifRotatedJpeg(40, 20), 'a.jpg');
    assert.deepEqual([image.width, image.height], [20, 40]);
    assertColour(d.pixel(2, 2), BLUE, 'top-left');
    assertColour(d.pixel(17, 2), RED, 'top-right');
    assertColour(d.pixel(2, 37), YELLOW, 'bottom-left');
    const meta = await sharp(image.data).metadata();
    assert.ok(meta.orientation === undefined || meta.orientation === 1);
  });
  test('crop coordinates are those of the upright image', async () => {
    const { image, decoded: d } = await run(await makeExifRotatedJpeg(40, 20), '0x0:10x20/a.jpg');
    assert.deepEqual([image.width, image.height], [10, 20]);
    assertColour(d.pixel(5, 5), BLUE, 'upright top-left quadrant');
  });
  test('fit-in on an oriented image resizes the upright image', async () => {
    const { image, decoded: d } = await run(await makeExifRotatedJpeg(400, 200), 'fit-in/50x50/a.jpg');
    assert.deepEqual([image.width, image.height], [25, 50]);
    assertColour(d.pixel(3, 3), BLUE, 'top-left');
  });
  test('orient(90) turns the upright image counter-clockwise', async () => {
    const { image, decoded: d } = await run(await quadrant, 'filters:orient(90)/a.png');
    assert.deepEqual([image.width, image.height], [100, 200]);
    assertColour(d.pixel(2, 2), LIME, 'top-left was top-right');
    assertColour(d.pixel(97, 197), BLUE, 'bottom-right was bottom-left');
  });
  test('orient(90) with a flip: rotate first, flip after', async () => {
    const { decoded: d } = await run(await quadrant, '-0x0/filters:orient(90)/a.png');
    assertColour(d.pixel(2, 2), YELLOW, 'top-left');
  });
});

describe('animations', () => {
  const frames = [RED, LIME, BLUE];
  for (const format of ['gif', 'webp'] as const) {
    test(`an animated ${format} keeps its frames through a cover crop`, async () => {
      const { image, decoded: d } = await run(await makeAnimated(format, 60, 40, frames), `30x30/a.${format}`);
      assert.deepEqual([image.format, image.width, image.height, image.pages], [format, 30, 30, 3]);
      assert.equal(d.frames, 3);
      frames.forEach((c, i) => assertColour(d.pixel(15, 15, i), c, `frame ${i}`));
    });
    test(`every frame of an animated ${format} is cropped and flipped alike`, async () => {
      const { image, decoded: d } = await run(await makeAnimatedQuadrant(format, 80, 40, 3), `-40x40/right/a.${format}`);
      assert.deepEqual([image.width, image.height, image.pages], [40, 40, 3]);
      for (let i = 0; i < 3; i++) {
        assertColour(d.pixel(2, 2, i), LIME, `frame ${i} top-left`);
        assertColour(d.pixel(37, 37, i), YELLOW, `frame ${i} bottom-right`);
      }
    });
  }
  test('delays and loop survive', async () => {
    const { image } = await run(await makeAnimated('gif', 20, 20, frames, 70), '10x10/a.gif');
    const meta = await sharp(image.data).metadata();
    assert.deepEqual(meta.delay, [70, 70, 70]);
    assert.equal(meta.loop, 0);
  });
  test('max_frames(2) keeps two frames', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 20, 20, frames), 'filters:max_frames(2)/a.gif');
    assert.equal(image.pages, 2);
    assertColour(d.pixel(5, 5, 1), LIME, 'frame 1');
  });
  test('page(2) keeps the second frame', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 20, 20, frames), 'filters:page(2)/a.gif');
    assert.equal(image.pages, 1);
    assertColour(d.pixel(5, 5), LIME, 'frame');
  });
  test('format(jpeg) takes the first frame', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 20, 20, frames), 'filters:format(jpeg)/a.gif');
    assert.deepEqual([image.format, image.pages], ['jpeg', 1]);
    assertColour(d.pixel(5, 5), RED, 'frame');
  });
  test('an animated WebP becomes an animated GIF', async () => {
    const { image, decoded: d } = await run(await makeAnimated('webp', 20, 20, frames), 'filters:format(gif)/a.webp');
    assert.deepEqual([image.format, image.pages], ['gif', 3]);
    assertColour(d.pixel(5, 5, 2), BLUE, 'frame 2');
  });
  test('orient(90) turns every frame', async () => {
    const { image, decoded: d } = await run(await makeAnimatedQuadrant('gif', 40, 20, 2), 'filters:orient(90)/a.gif');
    assert.deepEqual([image.width, image.height, image.pages], [20, 40, 2]);
    for (let i = 0; i < 2; i++) assertColour(d.pixel(2, 2, i), LIME, `frame ${i}`);
  });
  test('fill letterboxes every frame', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 40, 20, frames), 'fit-in/40x40/filters:fill(white)/a.gif');
    assert.deepEqual([image.width, image.height, image.pages], [40, 40, 3]);
    for (let i = 0; i < 3; i++) {
      assertColour(d.pixel(20, 2, i), WHITE, `frame ${i} letterbox`);
      assertColour(d.pixel(20, 20, i), frames[i]!, `frame ${i} image`);
    }
  });
});

describe('trim', () => {
  async function framed(border: Rgb, inner: Rgb): Promise<Buffer> {
    const w = 100;
    const h = 80;
    const px = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const c = x >= 20 && x < 70 && y >= 10 && y < 50 ? inner : border;
        px.set([c.r, c.g, c.b], (y * w + x) * 3);
      }
    }
    return sharp(px, { raw: { width: w, height: h, channels: 3 } }).png().toBuffer();
  }
  test('trim removes a uniform border', async () => {
    const { image, decoded: d } = await run(await framed(WHITE, RED), 'trim/a.png');
    assert.deepEqual([image.width, image.height], [50, 40]);
    assertColour(d.pixel(0, 0), RED, 'corner');
  });
  test('trim then resize', async () => {
    const { image } = await run(await framed(WHITE, RED), 'trim/fit-in/25x25/a.png');
    assert.deepEqual([image.width, image.height], [25, 20]);
  });
  test('trim on transparency (flattened on magenta, as imagor)', async () => {
    const { image } = await run(await makeAlphaPng(60, 60, BLUE, 15), 'trim/a.png');
    assert.deepEqual([image.width, image.height], [30, 30]);
  });
  test('trim:bottom-right reads the background at the bottom-right corner', async () => {
    // A black band on top, white below, a red square inside the white.
    const w = 60;
    const px = Buffer.alloc(w * w * 3);
    for (let y = 0; y < w; y++) {
      for (let x = 0; x < w; x++) {
        const c = y < 10 ? BLACK : x >= 25 && x < 35 && y >= 25 && y < 35 ? RED : WHITE;
        px.set([c.r, c.g, c.b], (y * w + x) * 3);
      }
    }
    const input = await sharp(px, { raw: { width: w, height: w, channels: 3 } }).png().toBuffer();
    const topLeft = await run(input, 'trim/a.png');
    assert.deepEqual([topLeft.image.width, topLeft.image.height], [60, 50]);
    const bottomRight = await run(input, 'trim:bottom-right/a.png');
    assert.deepEqual([bottomRight.image.width, bottomRight.image.height], [60, 35]);
  });
});

describe('color: images', () => {
  test('a half-transparent red PNG', async () => {
    const { image, decoded: d } = await run(Buffer.alloc(0), '100x50/filters:format(png)/color:ff000080');
    assert.deepEqual([image.width, image.height], [100, 50]);
    assertColour(d.pixel(10, 10), RED, 'pixel');
    assert.ok(Math.abs(d.pixel(10, 10).a - 128) <= 1);
  });
  test('a 1x1 JPEG by default', async () => {
    const { image } = await run(Buffer.alloc(0), 'color:green');
    assert.deepEqual([image.format, image.width, image.height], ['jpeg', 1, 1]);
  });
});

describe('metadata', () => {
  test('EXIF is kept by default and stripped by strip_exif()', async () => {
    const input = await makeExifRotatedJpeg(40, 20);
    const kept = await run(input, 'a.jpg');
    assert.ok((await sharp(kept.image.data).metadata()).exif);
    const stripped = await run(input, 'filters:strip_exif()/a.jpg');
    assert.equal((await sharp(stripped.image.data).metadata()).exif, undefined);
  });
  test('an ICC profile is kept by default and dropped by strip_icc()', async () => {
    const input = await sharp(await makeQuadrant(40, 20, 'png')).withIccProfile('p3').jpeg().toBuffer();
    assert.ok((await sharp(input).metadata()).icc);
    assert.ok((await sharp((await run(input, 'a.jpg')).image.data).metadata()).icc);
    assert.equal((await sharp((await run(input, 'filters:strip_icc()/a.jpg')).image.data).metadata()).icc, undefined);
  });
});

describe('executePlan', () => {
  // Steps in an order the URL geometry never produces, but later filters will: sharp's fixed order must not
  // change the result.
  const custom = async (steps: Step[], input: Buffer) => {
    const base = buildPlan(parseImagorPath('unsafe/filters:format(png)/a.png'), await probeImage(input, resolveLimits()), { limits: resolveLimits() });
    return decode((await executePlan({ ...base, steps }, input)).data);
  };
  test('a crop after a flip crops the flipped image', async () => {
    const d = await custom([{ op: 'flip', horizontal: true, vertical: false }, { op: 'crop', left: 0, top: 0, width: 50, height: 100 }], await quadrant);
    assert.deepEqual([d.width, d.height], [50, 100]);
    assertColour(d.pixel(2, 2), LIME, 'top-left');
  });
  test('a resize after a border starts a new pipeline', async () => {
    const d = await custom(
      [
        { op: 'embed', left: 10, top: 0, width: 220, height: 100, background: { kind: 'colour', colour: { r: 0, g: 255, b: 255, alpha: 1 } }, flatten: true },
        { op: 'resize', width: 110, height: 50 },
        { op: 'flip', horizontal: true, vertical: false },
      ],
      await quadrant,
    );
    assert.deepEqual([d.width, d.height], [110, 50]);
    assertColour(d.pixel(1, 25), CYAN, 'border, now on the left');
    assertColour(d.pixel(8, 5), LIME, 'image top-right, mirrored');
  });
  test('a quarter turn then a flip', async () => {
    const d = await custom([{ op: 'rotate', angle: 90 }, { op: 'flip', horizontal: true, vertical: false }], await quadrant);
    // Turned clockwise: top-left blue, top-right red; mirrored: top-left red.
    assert.deepEqual([d.width, d.height], [100, 200]);
    assertColour(d.pixel(2, 2), RED, 'top-left');
    assertColour(d.pixel(97, 197), YELLOW, 'bottom-right');
  });
  test('a quarter turn, a crop, then a flip', async () => {
    const d = await custom(
      [{ op: 'rotate', angle: 90 }, { op: 'crop', left: 0, top: 0, width: 100, height: 100 }, { op: 'flip', horizontal: false, vertical: true }],
      await quadrant,
    );
    // Turned: blue | red over yellow | lime. The top square is blue | red whichever way it is flipped upside
    // down; flipping before the turn would have brought red to the top-left.
    assert.deepEqual([d.width, d.height], [100, 100]);
    assertColour(d.pixel(2, 2), BLUE, 'top-left');
    assertColour(d.pixel(97, 2), RED, 'top-right');
  });

  test('an aborted signal stops it: our own error as it is, a deadline as REQUEST_TIMEOUT (408), never a 500', async () => {
    const input = await quadrant;
    const plan = buildPlan(parseImagorPath('unsafe/fit-in/10x10/a.png'), await probeImage(input, resolveLimits()), { limits: resolveLimits() });
    const ours = new AbortController();
    const reason = new PixgateError('CLIENT_CLOSED');
    ours.abort(reason);
    await assert.rejects(executePlan(plan, input, ours.signal), (e: unknown) => e === reason);
    const timedOut = AbortSignal.timeout(0);
    await new Promise((r) => setTimeout(r, 5));
    await assert.rejects(executePlan(plan, input, timedOut), (e: unknown) => e instanceof PixgateError && e.code === 'REQUEST_TIMEOUT');
  });
  test('a corrupt body is UNSUPPORTED_FORMAT, not a crash', async () => {
    const good = await makeSolid(64, 64, RED);
    const plan = buildPlan(parseImagorPath('unsafe/a.jpg'), await probeImage(good, resolveLimits()), { limits: resolveLimits() });
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    await assert.rejects(executePlan(plan, truncated), (e: unknown) => isPixgateError(e) && e.code === 'UNSUPPORTED_FORMAT');
  });
  test('the decoded size must match the header (second guard)', async () => {
    const small = await makeSolid(64, 64, RED, 'png');
    const big = await makeSolid(128, 128, RED, 'png');
    const plan = buildPlan(parseImagorPath('unsafe/a.png'), await probeImage(small, resolveLimits()), { limits: resolveLimits() });
    await assert.rejects(executePlan(plan, big), (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS');
  });
});

describe('other sources', () => {
  test('an SVG is rasterised and written as JPEG', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="100" height="100" fill="red"/><rect x="100" width="100" height="100" fill="blue"/></svg>');
    const { image, decoded: d } = await run(svg, 'fit-in/100x100/a.svg');
    assert.deepEqual([image.format, image.width, image.height], ['jpeg', 100, 50]);
    assertColour(d.pixel(10, 25), RED, 'left');
    assertColour(d.pixel(90, 25), BLUE, 'right');
  });
  test('a TIFF stays a TIFF', async () => {
    const { image, decoded: d } = await run(await makeQuadrant(40, 20, 'tiff'), '-20x10/a.tiff');
    assert.deepEqual([image.format, image.width, image.height], ['tiff', 20, 10]);
    assertColour(d.pixel(1, 1), LIME, 'top-left');
  });
  test('a still GIF stays a still GIF', async () => {
    const { image } = await run(await makeQuadrant(40, 20, 'gif'), '20x10/a.gif');
    assert.deepEqual([image.format, image.width, image.height, image.pages], ['gif', 20, 10, 1]);
  });
});
