// imagor geometry checked on pixels (issue 3 "Geometry", imagor.md §1 and §3; imagor's
// processor/vipsprocessor/process.go applyTransformations is the reference for each expectation): resize and
// cover crop, halign/valign, crop in pixels and fractions, fit-in, adaptive and full fit-in, stretch, flips, smart,
// padding, trim, EXIF orientation, and animations keeping their frames. Sources are PNGs of known colours, so
// colours are sampled away from the edges that resampling blurs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  BLUE,
  decode,
  LIME,
  makeAnimated,
  makeAnimatedQuadrant,
  makeExifRotatedJpeg,
  makeQuadrant,
  near,
  paintPng,
  quadrantPixels,
  RED,
  WHITE,
  YELLOW,
  type Decoded,
  type Rgb,
} from '../helpers/images.js';
import { imagorHash, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { serve } from '../helpers/origin.js';
import { fetchRaw } from '../helpers/pixgate.js';

let rig: ImagorRig;


const GREY: Rgb = { r: 128, g: 128, b: 128 };
const LIGHT: Rgb = { r: 235, g: 235, b: 235 };

before(async () => {
  rig = await startImagorRig({ env: { HTTP_LOADER_DEFAULT_SCHEME: 'http' } });
  const o = rig.origin;
  o.route('/q.png', serve(await makeQuadrant(200, 100)));
  o.route('/tall.png', serve(await makeQuadrant(100, 200)));
  // Left sixth red, the rest lime: tells a stretch (red stays) from a centre crop (all lime).
  o.route('/band.png', serve(await paintPng(200, 100, (x) => (x < 33 ? RED : LIME))));
  // Grey with a saturated checkerboard far right: libvips attention should find it.
  o.route('/busy.png', serve(await paintPng(300, 100, (x, y) => (x >= 220 && x < 280 && y >= 20 && y < 80 ? (((x >> 2) + (y >> 2)) % 2 ? RED : BLUE) : GREY))));
  // White around a 40x30 red box at (20,30).
  o.route('/boxed.png', serve(await paintPng(100, 100, (x, y) => (x >= 20 && x < 60 && y >= 30 && y < 60 ? RED : WHITE))));
  // Lime ground, a blue 10x10 block in the top-left corner and a red box: trim by each corner differs.
  o.route('/corners.png', serve(await paintPng(100, 100, (x, y) => (x < 10 && y < 10 ? BLUE : x >= 20 && x < 60 && y >= 30 && y < 60 ? RED : LIME))));
  // White, then a light-grey frame (10 px), then a red centre: trim's tolerance decides whether the frame goes.
  o.route('/framed.png', serve(await paintPng(100, 100, (x, y) => {
    if (x >= 30 && x < 70 && y >= 30 && y < 70) return RED;
    if (x >= 10 && x < 90 && y >= 10 && y < 90) return LIGHT;
    return WHITE;
  })));
  o.route('/exif6.jpg', serve(await makeExifRotatedJpeg(60, 40, 6), { type: 'image/jpeg' }));
  o.route('/anim.gif', serve(await makeAnimated('gif', 40, 40, [RED, LIME, BLUE]), { type: 'image/gif' }));
  o.route('/anim.webp', serve(await makeAnimated('webp', 40, 40, [RED, LIME, BLUE]), { type: 'image/webp' }));
  o.route('/animq.webp', serve(await makeAnimatedQuadrant('webp', 40, 40, 3), { type: 'image/webp' }));
  o.route('/animq.gif', serve(await makeAnimatedQuadrant('gif', 40, 40, 3), { type: 'image/gif' }));
});

after(() => rig.close());

/** GETs `ops` applied to the origin's `path` (scheme-less, HTTP_LOADER_DEFAULT_SCHEME=http) and decodes it. */
async function get(ops: string, path: string): Promise<Decoded> {
  const image = `${rig.origin.host}:${rig.origin.port}${path}`;
  const signed = `${ops ? ops.replace(/\/$/, '') + '/' : ''}${image}`;
  const res = await fetchRaw(`${rig.px.url}/${imagorHash(signed)}/${signed}`);
  assert.equal(res.status, 200, `${ops}: ${res.text}`);
  return decode(res.body);
}

function assertSize(img: Decoded, width: number, height: number) {
  assert.deepEqual({ width: img.width, height: img.height }, { width, height });
}

function assertColour(img: Decoded, x: number, y: number, expected: Rgb, frame = 0) {
  const got = img.pixel(x, y, frame);
  assert.ok(near(got, expected), `pixel (${x},${y}) frame ${frame}: got ${JSON.stringify(got)}, want ${JSON.stringify(expected)}`);
}

/** Corners of an image in the quadrant layout: red, lime / blue, yellow, sampled `inset` pixels in. */
function assertQuadrants(img: Decoded, tl: Rgb, tr: Rgb, bl: Rgb, br: Rgb, inset = 3, frame = 0) {
  const r = img.width - 1 - inset;
  const b = img.height - 1 - inset;
  assertColour(img, inset, inset, tl, frame);
  assertColour(img, r, inset, tr, frame);
  assertColour(img, inset, b, bl, frame);
  assertColour(img, r, b, br, frame);
}

function saturated(img: Decoded): number {
  let n = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    const p = img.pixel(x, y);
    if (Math.max(p.r, p.g, p.b) - Math.min(p.r, p.g, p.b) > 100) n++;
  }
  return n;
}

describe('resize and cover crop', () => {
  test('WxH with the same aspect ratio scales the whole image', async () => {
    const img = await get('100x50', '/q.png');
    assertSize(img, 100, 50);
    assertQuadrants(img, RED, LIME, BLUE, YELLOW);
  });

  test('a zero side follows the aspect ratio (Wx0 and 0xH)', async () => {
    assertSize(await get('50x0', '/q.png'), 50, 25);
    assertSize(await get('0x25', '/q.png'), 50, 25);
    assertSize(await get('x25', '/q.png'), 50, 25);
  });

  test('no size keeps the source size', async () => {
    assertSize(await get('', '/q.png'), 200, 100);
  });

  test('a plain WxH upscales (imagor upscales unless fit-in)', async () => {
    const img = await get('400x200', '/q.png');
    assertSize(img, 400, 200);
    assertQuadrants(img, RED, LIME, BLUE, YELLOW, 10);
  });

  test('another aspect ratio covers the box and crops the centre', async () => {
    const img = await get('50x100', '/band.png');
    assertSize(img, 50, 100);
    assertColour(img, 3, 50, LIME); // the red sixth on the left was cropped away
  });
});

describe('halign and valign', () => {
  test('left keeps the left of a wide image', async () => {
    const img = await get('50x100/left', '/q.png');
    assertSize(img, 50, 100);
    assertQuadrants(img, RED, RED, BLUE, BLUE);
  });

  test('right keeps the right of a wide image', async () => {
    const img = await get('50x100/right', '/q.png');
    assertQuadrants(img, LIME, LIME, YELLOW, YELLOW);
  });

  test('center (the default) keeps the middle', async () => {
    const img = await get('50x100', '/q.png');
    assertQuadrants(img, RED, LIME, BLUE, YELLOW);
  });

  test('top keeps the top of a tall image', async () => {
    const img = await get('100x50/top', '/tall.png');
    assertSize(img, 100, 50);
    assertQuadrants(img, RED, LIME, RED, LIME);
  });

  test('bottom keeps the bottom of a tall image', async () => {
    const img = await get('100x50/bottom', '/tall.png');
    assertQuadrants(img, BLUE, YELLOW, BLUE, YELLOW);
  });

  test('halign does nothing when the crop is vertical (imagor picks the axis by aspect ratio)', async () => {
    const img = await get('100x50/left', '/tall.png');
    assertQuadrants(img, RED, LIME, BLUE, YELLOW);
  });
});

describe('crop', () => {
  test('in pixels: AxB:CxD extracts that rectangle', async () => {
    const img = await get('100x0:180x40', '/q.png');
    assertSize(img, 80, 40);
    assertQuadrants(img, LIME, LIME, LIME, LIME, 1);
  });

  test('in fractions when all four are below 1 (right and bottom up to 1)', async () => {
    const img = await get('0x0.5:0.4x0.9', '/q.png');
    assertSize(img, 80, 40);
    assertQuadrants(img, BLUE, BLUE, BLUE, BLUE, 1);
  });

  test("a crop to the far edge keeps imagor's size-1 clamp (cropRight = min(right, width-1))", async () => {
    assertSize(await get('100x50:200x100', '/q.png'), 99, 49);
  });

  test('crop, then resize the cropped part', async () => {
    const img = await get('0x0:100x50/50x25', '/q.png');
    assertSize(img, 50, 25);
    assertQuadrants(img, RED, RED, RED, RED, 1);
  });
});

describe('fit-in family', () => {
  test('fit-in fits inside the box, keeping the aspect ratio', async () => {
    const img = await get('fit-in/50x50', '/q.png');
    assertSize(img, 50, 25);
    assertQuadrants(img, RED, LIME, BLUE, YELLOW, 2);
  });

  test('fit-in never upscales by default', async () => {
    assertSize(await get('fit-in/400x400', '/q.png'), 200, 100);
  });

  test('adaptive-fit-in turns the box when it and the image differ in orientation', async () => {
    assertSize(await get('fit-in/50x100', '/q.png'), 50, 25);
    const img = await get('adaptive-fit-in/50x100', '/q.png');
    assertSize(img, 100, 50);
    assertQuadrants(img, RED, LIME, BLUE, YELLOW);
  });

  test('full-fit-in meets the smaller side of the box (output at least the box)', async () => {
    assertSize(await get('full-fit-in/50x50', '/q.png'), 100, 50);
    assertSize(await get('full-fit-in/50x50', '/tall.png'), 50, 100);
  });

  test('adaptive-full-fit-in does both', async () => {
    // box 100x40 turned to 40x100 for a portrait image, then the smaller side met: 50x100
    assertSize(await get('adaptive-full-fit-in/100x40', '/tall.png'), 50, 100);
  });
});

describe('stretch', () => {
  test('stretch/ forces the exact size without cropping', async () => {
    const img = await get('stretch/50x100', '/band.png');
    assertSize(img, 50, 100);
    assertColour(img, 2, 50, RED); // the red sixth is squeezed, not cropped
    assertColour(img, 45, 50, LIME);
  });
});

describe('flips', () => {
  test('a negative width flips horizontally', async () => {
    assertQuadrants(await get('-100x50', '/q.png'), LIME, RED, YELLOW, BLUE);
  });

  test('a negative height flips vertically', async () => {
    assertQuadrants(await get('100x-50', '/q.png'), BLUE, YELLOW, RED, LIME);
  });

  test('both negative flip both ways', async () => {
    assertQuadrants(await get('-100x-50', '/q.png'), YELLOW, BLUE, LIME, RED);
  });

  test('a bare -x- flips at the source size', async () => {
    const img = await get('-x-', '/q.png');
    assertSize(img, 200, 100);
    assertQuadrants(img, YELLOW, BLUE, LIME, RED);
  });
});

describe('smart', () => {
  test('smart/ crops around the busy region (libvips attention); the centre crop misses it', async () => {
    const centre = await get('100x100', '/busy.png');
    assert.equal(saturated(centre), 0, 'the centre of the image is plain grey');
    const smart = await get('100x100/smart', '/busy.png');
    assertSize(smart, 100, 100);
    assert.ok(saturated(smart) > 1000, `smart crop shows the checkerboard (${saturated(smart)} saturated pixels)`);
  });
});

describe('padding', () => {
  test('padding has no effect without fill, as in imagor', async () => {
    assertSize(await get('fit-in/40x40/5x10', '/q.png'), 40, 20);
  });

  test('fill(white) letterboxes to the box plus the padding', async () => {
    // box 40x40 + 5 left/right + 10 top/bottom = 50x60; the 40x20 image sits at (5, 20)
    const img = await get('fit-in/40x40/5x10/filters:fill(white)', '/q.png');
    assertSize(img, 50, 60);
    assertColour(img, 1, 1, WHITE);
    assertColour(img, 48, 58, WHITE);
    assertColour(img, 25, 10, WHITE);
    assertColour(img, 8, 23, RED);
    assertColour(img, 41, 36, YELLOW);
  });

  test('asymmetric padding LxT:RxB', async () => {
    const img = await get('fit-in/40x40/2x4:6x8/filters:fill(white)', '/q.png');
    assertSize(img, 48, 52);
  });
});

describe('trim', () => {
  test('trim/ cuts away the border of the top-left colour', async () => {
    const img = await get('trim', '/boxed.png');
    assertSize(img, 40, 30);
    assertQuadrants(img, RED, RED, RED, RED, 0);
  });

  test('trim:bottom-right uses the bottom-right colour', async () => {
    assertSize(await get('trim', '/corners.png'), 100, 100);
    const img = await get('trim:bottom-right', '/corners.png');
    assertSize(img, 60, 60);
    assertColour(img, 2, 2, BLUE);
    assertColour(img, 40, 45, RED);
  });

  test('the tolerance decides how far the colour may differ', async () => {
    assertSize(await get('trim', '/framed.png'), 80, 80);
    const img = await get('trim:40', '/framed.png');
    assertSize(img, 40, 40);
    assertColour(img, 1, 1, RED);
  });

  test('trim then resize', async () => {
    assertSize(await get('trim/20x15', '/boxed.png'), 20, 15);
  });
});

describe('EXIF orientation', () => {
  test('an orientation-6 JPEG is turned upright: stored 60x40, shown 40x60 with blue top-left', async () => {
    const img = await get('', '/exif6.jpg');
    assertSize(img, 40, 60);
    assertQuadrants(img, BLUE, RED, YELLOW, LIME);
  });

  test('and resized upright', async () => {
    const img = await get('20x30', '/exif6.jpg');
    assertSize(img, 20, 30);
    assertQuadrants(img, BLUE, RED, YELLOW, LIME, 2);
  });

  test('and fit-in measures the upright size', async () => {
    assertSize(await get('fit-in/30x30', '/exif6.jpg'), 20, 30);
  });
});

/**
 * An animation of quadrant frames, frame i marked with a white 4x4 block at (2 + 6i, 2) inside the red quadrant,
 * so a crop of the top-left keeps frames that differ (encoders merge identical frames) and shows which is which.
 */
async function makeMarkedAnimation(format: 'gif' | 'webp', size: number, frames: number): Promise<Buffer> {
  const pngs = await Promise.all(
    Array.from({ length: frames }, (_, i) => {
      const px = quadrantPixels(size, size);
      for (let y = 2; y < 6; y++) for (let x = 2 + 6 * i; x < 6 + 6 * i; x++) px.set([255, 255, 255], (y * size + x) * 3);
      return sharp(px, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
    }),
  );
  const joined = sharp(pngs, { join: { animated: true } });
  const delay = pngs.map(() => 80);
  return format === 'gif' ? joined.gif({ delay, loop: 0 }).toBuffer() : joined.webp({ delay, loop: 0, lossless: true }).toBuffer();
}

describe('animations keep their frames', () => {
  before(async () => {
    for (const fmt of ['gif', 'webp'] as const) rig.origin.route(`/marked.${fmt}`, serve(await makeMarkedAnimation(fmt, 40, 3), { type: `image/${fmt}` }));
  });

  for (const fmt of ['gif', 'webp'] as const) {
    test(`an animated ${fmt.toUpperCase()} resized keeps every frame and its colour`, async () => {
      const img = await get('20x20', `/anim.${fmt}`);
      assert.equal(img.format, fmt);
      assert.equal(img.frames, 3);
      assertSize(img, 20, 20);
      assertColour(img, 10, 10, RED, 0);
      assertColour(img, 10, 10, LIME, 1);
      assertColour(img, 10, 10, BLUE, 2);
    });

    test(`an animated ${fmt.toUpperCase()} cropped is cropped on every frame`, async () => {
      const img = await get('0x0:20x20', `/marked.${fmt}`);
      assert.equal(img.format, fmt);
      assert.equal(img.frames, 3);
      assertSize(img, 20, 20);
      for (let f = 0; f < 3; f++) {
        assertColour(img, 15, 15, RED, f);
        assertColour(img, 3 + 6 * f, 3, WHITE, f);
        assertColour(img, 3 + 6 * ((f + 1) % 3), 3, RED, f);
      }
    });

    test(`an animated ${fmt.toUpperCase()} flipped is flipped on every frame`, async () => {
      const img = await get('-40x40', `/animq.${fmt}`);
      assert.equal(img.frames, 3);
      for (let f = 0; f < 3; f++) assertQuadrants(img, LIME, RED, YELLOW, BLUE, 5, f);
    });

    test(`an animated ${fmt.toUpperCase()} cover-cropped to another aspect ratio keeps its frames`, async () => {
      const img = await get('20x10', `/anim.${fmt}`);
      assert.equal(img.frames, 3);
      assertSize(img, 20, 10);
      assertColour(img, 10, 5, BLUE, 2);
    });
  }
});
