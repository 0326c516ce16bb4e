// Overlays (issue 4): imagor's position grammar (processor/vipsprocessor/overlay.go), the `full` sizes of nested
// image() paths (vectors from imagor's overlay_test.go), the filters' arguments, and watermark / image() drawn on
// pixels: a known colour at the place asked for, alpha blending, repeat tiling, blend modes, animated bases, and
// overlays loaded only through the caller's loader under the same limits.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { prepareFilters } from '../../../src/process/filters/registry.js';
import {
  isValidPosition,
  parseBlendMode,
  resolveFullDimensions,
  resolvePosition,
  resolveTextWidth,
  type Axis,
  type OverlaySpec,
} from '../../../src/process/overlay-position.js';
import { processImage, type ProcessOptions } from '../../../src/process/process-image.js';
import { BLUE, decode, LIME, makeAnimated, makeSolid, near, pngHeaderBomb, RED, WHITE, YELLOW, type Rgb } from '../../helpers/images.js';

const pos = (axis: Axis, text: string) => ({ axis, text });

describe('the overlay position grammar', () => {
  // [axis, text, canvas, overlay, at, repeat], worked out from overlay.go by hand.
  const cases: Array<[Axis, string, number, number, number, number]> = [
    ['x', '', 100, 10, 0, 1],
    ['x', '15', 100, 10, 15, 1],
    ['x', '+15', 100, 10, 15, 1],
    ['x', '-15', 100, 10, 75, 1], // from the right edge: 100 - 10 - 15
    ['y', '-1', 80, 10, 69, 1],
    ['x', '20p', 100, 10, 20, 1],
    ['x', '-20p', 100, 10, 70, 1], // -20 then moved in from the far edge
    ['x', '33p', 50, 10, 16, 1], // 33 * 50 / 100 truncated
    ['x', '0.5', 100, 10, 50, 1],
    ['x', '-0.25', 100, 10, 65, 1],
    ['x', 'center', 100, 10, 45, 1],
    ['y', 'center', 80, 11, 34, 1], // (80 - 11) / 2 truncated
    ['x', 'center', 10, 30, -10, 1], // larger than the canvas: centred, not moved
    ['x', 'left', 100, 10, 0, 1],
    ['x', 'right', 100, 10, 90, 1],
    ['y', 'top', 80, 10, 0, 1],
    ['y', 'bottom', 80, 10, 70, 1],
    ['x', 'l', 100, 10, 0, 1],
    ['x', 'r', 100, 10, 90, 1], // imagor's docs; its code reads a bare `r` as 0
    ['y', 'b', 80, 10, 70, 1],
    ['x', 'right', 10, 30, -40, 1], // imagor moves a negative `right` in from the far edge a second time
    ['x', 'left-20', 100, 10, -20, 1], // 20 px past the left edge (imagor #745)
    ['x', 'l-5', 100, 10, -5, 1],
    ['x', 'right-20', 100, 10, 110, 1],
    ['x', 'r-5', 100, 10, 95, 1],
    ['y', 'top-7', 80, 10, -7, 1],
    ['y', 'bottom-7', 80, 10, 77, 1],
    ['y', 'b-3', 80, 10, 73, 1],
    ['x', 'repeat', 100, 30, 0, 4], // 100 / 30 + 1
    ['y', 'repeat', 80, 80, 0, 2],
    ['x', 'top', 100, 10, 0, 1], // a y keyword on x reads as 0 (lenient only)
    ['x', 'top-20', 100, 10, 70, 1], // and y's offset on x is moved in like a plain negative
    ['x', 'nonsense', 100, 10, 0, 1],
  ];
  for (const [axis, text, canvas, overlay, at, repeat] of cases) {
    test(`${axis}=${JSON.stringify(text)} on ${canvas} px for ${overlay} px is ${at}${repeat > 1 ? ` x${repeat}` : ''}`, () => {
      assert.deepEqual(resolvePosition(pos(axis, text), canvas, overlay), { at, repeat });
    });
  }

  const valid: Array<[Axis, string, boolean]> = [
    ['x', '', true], ['x', '-15', true], ['x', '20p', true], ['x', '-0.5', true], ['x', 'center', true], ['x', 'repeat', true],
    ['x', 'left', true], ['x', 'r', true], ['x', 'left-20', true], ['y', 'b-20', true], ['y', 'top', true],
    ['x', 'top', false], ['y', 'left', false], ['x', 'top-20', false], ['x', '1.5', false], ['x', '.5', false], ['x', 'p', false],
    ['x', '10px', false], ['x', 'left-', false], ['x', 'center-5', false], ['x', ' 5', false],
  ];
  for (const [axis, text, ok] of valid) {
    test(`${JSON.stringify(text)} is ${ok ? '' : 'not '}a valid ${axis} in strict mode`, () => assert.equal(isValidPosition(text, axis), ok));
  }
});

describe('full sizes of a nested image() path (imagor overlay_test.go TestResolveFullDimensions)', () => {
  const cases: Array<[string, number, number, string]> = [
    ['fxf/filters:format(png)/image.jpg', 800, 600, '800x600/filters:format(png)/image.jpg'],
    ['f-20xf-30/filters:format(png)/image.jpg', 800, 600, '780x570/filters:format(png)/image.jpg'],
    ['400x300/filters:format(png)/image.jpg', 800, 600, '400x300/filters:format(png)/image.jpg'],
    ['1551x2162/filters:image(/f-141xf-1145/img1,106,400)/img2', 3840, 2560, '1551x2162/filters:image(/f-141xf-1145/img1,106,400)/img2'],
    ['f-100xf-200/filters:image(/f-141xf-1145/img1,106,400)/img2', 3840, 2560, '3740x2360/filters:image(/f-141xf-1145/img1,106,400)/img2'],
    ['fxf/image.jpg', 800, 600, '800x600/image.jpg'],
    ['fx300/image.jpg', 800, 600, '800x300/image.jpg'],
    ['-fxf/image.jpg', 800, 600, '-800x600/image.jpg'],
    ['filters:format(png)/image.jpg', 800, 600, 'filters:format(png)/image.jpg'],
    ['', 800, 600, ''],
    ['/fit-in/fullxfull-10/a.png', 800, 600, '/fit-in/800x590/a.png'],
  ];
  for (const [path, w, h, want] of cases) {
    test(`${JSON.stringify(path)} under ${w}x${h}`, () => assert.equal(resolveFullDimensions(path, w, h), want));
  }
});

describe('text wrap width (imagor util.go parseTextWidth)', () => {
  const cases: Array<[string, number]> = [['', 0], ['0', 0], ['300', 300], ['80p', 400], ['0.25', 125], ['f', 500], ['full', 500], ['f-20', 480], ['full-600', 0], ['junk', 0]];
  for (const [text, want] of cases) test(`${JSON.stringify(text)} on a 500 px canvas is ${want}`, () => assert.equal(resolveTextWidth(text, 500), want));
});

describe('blend modes', () => {
  test('are imagor\'s names, case-insensitive, empty meaning normal', () => {
    assert.equal(parseBlendMode(''), 'normal');
    assert.equal(parseBlendMode('Multiply'), 'multiply');
    assert.equal(parseBlendMode('mask-out'), 'mask-out');
    assert.equal(parseBlendMode('colour-burn'), undefined);
  });
});

describe('overlay filter arguments', () => {
  const spec = (name: string, args: string, lenient = false): OverlaySpec | undefined => {
    const [f] = prepareFilters([{ name, args }], { lenient });
    const steps = f?.apply?.({ size: { width: 1, height: 1 }, frames: 1, hasAlpha: false, box: { width: 1, height: 1 }, padding: { left: 0, top: 0, right: 0, bottom: 0 }, rotated90: false }).steps;
    const step = steps?.[0];
    return step?.op === 'overlay' ? step.overlay : undefined;
  };
  const refused = (name: string, args: string, detail: RegExp) =>
    test(`${name}(${args}) is a 400 naming ${name}`, () =>
      assert.throws(() => spec(name, args), (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && detail.test(e.publicDetail ?? '')));

  test('watermark reads the image (unescaped, b64: decoded), position, alpha and ratios', () => {
    assert.deepEqual(spec('watermark', 'b64:aHR0cDovL2EvYi5wbmc,-10,bottom,30,25,none'), {
      kind: 'watermark',
      image: 'http://a/b.png',
      x: { axis: 'x', text: '-10' },
      y: { axis: 'y', text: 'bottom' },
      alpha: 30,
      ratio: { width: 25, height: 'none' },
    });
    assert.equal((spec('watermark', 'a%2Fb.png,0,0,0') as { image: string }).image, 'a/b.png');
  });
  refused('watermark', '', /needs an image/);
  refused('watermark', 'a.png,middle,0,0', /^watermark: x is/);
  refused('watermark', 'a.png,0,left,0', /^watermark: y is/);
  refused('watermark', 'a.png,0,0,101', /alpha/);
  refused('watermark', 'a.png,0,0,abc', /alpha/);
  refused('watermark', 'a.png,0,0,0,50', /go together/);
  refused('watermark', 'a.png,0,0,0,0,50', /w_ratio/);
  refused('image', '/a.png,0,0,0,burn', /blend/);
  refused('image', ',0,0', /imagor path/);
  refused('text', 'hi,0,0,sans,nocolour', /colour/);
  refused('text', 'hi,0,0,sans,red,0,normal,80x', /width/);
  refused('text', 'hi,0,0,sans,red,0,normal,0,middle', /align/);
  refused('text', 'hi,0,0,sans,red,0,normal,0,left,maybe', /justify/);
  refused('text', 'hi,0,0,sans,red,0,normal,0,left,true,lines', /wrap/);
  refused('label', 'hi,0,0,-4,red', /size/);
  test('leniently a bad argument falls back to imagor\'s default instead', () => {
    const s = spec('image', '/a.png,middle,0,x,burn', true);
    assert.deepEqual(s && s.kind === 'image' && [s.x.text, s.alpha, s.blend], ['middle', 0, 'normal']);
  });
  test('text decodes b64: text and hyphenated fonts', () => {
    const s = spec('text', 'b64:SGVsbG8gV29ybGQ,1,2,sans-bold-24,yellow,10,screen,80p,center,1,wordchar,4,96');
    assert.ok(s?.kind === 'text');
    assert.deepEqual(
      [s.text, s.font, s.colour, s.alpha, s.blend, s.width, s.align, s.justify, s.wrap, s.spacing, s.dpi],
      ['Hello World', 'sans bold 24', { kind: 'colour', colour: { r: 255, g: 255, b: 0, alpha: 1 } }, 10, 'screen', '80p', 'centre', true, 'word-char', 4, 96],
    );
  });
  test('blank text draws nothing, as imagor', () => assert.equal(spec('text', '%20,0,0'), undefined));
  test('a text longer than 1000 characters is refused even leniently', () =>
    assert.throws(() => spec('text', 'x'.repeat(1001), true), (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS'));
});

// ---------------------------------------------------------------------------------------------------------
// On pixels

const BASE_W = 100;
const BASE_H = 80;
const base = makeSolid(BASE_W, BASE_H, BLUE, 'png');
const redMark = makeSolid(10, 10, RED, 'png');

function loaderOf(images: Record<string, Buffer | Promise<Buffer>>, calls: string[] = []): NonNullable<ProcessOptions['loadImage']> {
  return async (image) => {
    calls.push(image);
    const found = images[image];
    if (found === undefined) throw new Error(`test loader has no ${image}`);
    return found;
  };
}

async function draw(filters: string, options: ProcessOptions = {}, input?: Buffer) {
  const images = { 'mark.png': await redMark, 'base.png': await base };
  const result = await processImage(input ?? (await base), parseImagorPath(`unsafe/filters:${filters}/base.png`), {
    loadImage: loaderOf(images),
    ...options,
  });
  return decode(result.image.data);
}

function assertAt(d: Awaited<ReturnType<typeof decode>>, x: number, y: number, want: Rgb, frame = 0, tolerance = 24): void {
  const got = d.pixel(x, y, frame);
  assert.ok(near(got, want, tolerance), `(${x},${y}) frame ${frame}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

describe('watermark on pixels', () => {
  test('puts the watermark at (x, y) and nowhere else', async () => {
    const d = await draw('watermark(mark.png,10,20,0)');
    assert.deepEqual([d.width, d.height], [BASE_W, BASE_H]);
    assertAt(d, 10, 20, RED);
    assertAt(d, 19, 29, RED);
    assertAt(d, 9, 20, BLUE);
    assertAt(d, 20, 29, BLUE);
    assertAt(d, 10, 30, BLUE);
  });

  test('negative positions count from the right and bottom edges', async () => {
    const d = await draw('watermark(mark.png,-5,-1,0)');
    // x = 100 - 10 - 5 = 85, y = 80 - 10 - 1 = 69
    assertAt(d, 85, 69, RED);
    assertAt(d, 94, 78, RED);
    assertAt(d, 84, 69, BLUE);
    assertAt(d, 95, 78, BLUE);
    assertAt(d, 94, 79, BLUE);
  });

  test('right and bottom keywords and percentages', async () => {
    const d = await draw('watermark(mark.png,right,bottom,0):watermark(mark.png,50p,0.5,0)');
    assertAt(d, 99, 79, RED);
    assertAt(d, 90, 70, RED);
    assertAt(d, 89, 70, BLUE);
    assertAt(d, 50, 40, RED);
    assertAt(d, 59, 49, RED);
    assertAt(d, 49, 40, BLUE);
  });

  test('alpha blends the watermark with the image (50 gives half of each)', async () => {
    const d = await draw('watermark(mark.png,0,0,50)');
    const px = d.pixel(5, 5);
    assert.ok(Math.abs(px.r - 128) <= 3 && px.g <= 3 && Math.abs(px.b - 127) <= 3, JSON.stringify(px));
    assertAt(d, 50, 50, BLUE, 0, 0);
  });

  test('alpha 100 makes it invisible', async () => {
    const d = await draw('watermark(mark.png,0,0,100)');
    assertAt(d, 5, 5, BLUE, 0, 0);
  });

  test('repeat on both axes tiles the whole canvas', async () => {
    const d = await draw('watermark(mark.png,repeat,repeat,0)');
    for (let y = 0; y < BASE_H; y += 7) for (let x = 0; x < BASE_W; x += 7) assertAt(d, x, y, RED);
    assertAt(d, BASE_W - 1, BASE_H - 1, RED);
  });

  test('repeat tiles from the top-left corner with the overlay\'s own period, cut at the far edges', async () => {
    const px = Buffer.alloc(30 * 30 * 3);
    for (let i = 0; i < 30 * 30; i++) px.set([255, 0, 0], i * 3);
    for (const [x, y] of [[0, 0], [1, 0], [0, 1], [1, 1]]) px.set([0, 255, 0], (y! * 30 + x!) * 3);
    const tileMark = await sharp(px, { raw: { width: 30, height: 30, channels: 3 } }).png().toBuffer();
    const d = await draw('watermark(tile.png,repeat,repeat,0)', { loadImage: loaderOf({ 'tile.png': tileMark }) });
    for (const [x, y] of [[0, 0], [30, 0], [60, 0], [90, 0], [0, 30], [30, 60], [91, 61]]) assertAt(d, x!, y!, LIME);
    for (const [x, y] of [[15, 15], [95, 75], [2, 2], [89, 59], [99, 79]]) assertAt(d, x!, y!, RED);
  });

  test('repeat on x tiles one row at y', async () => {
    const d = await draw('watermark(mark.png,repeat,bottom,0)');
    for (let x = 0; x < BASE_W; x += 3) assertAt(d, x, 75, RED);
    assertAt(d, 50, 65, BLUE);
  });

  test('w_ratio and h_ratio fit the watermark into that share of the canvas, up or down', async () => {
    const d = await draw('watermark(mark.png,0,0,0,50,50)');
    // fits 10x10 into 50x40: 40x40
    assertAt(d, 39, 39, RED);
    assertAt(d, 41, 10, BLUE);
    assertAt(d, 10, 41, BLUE);
  });

  test('none keeps that side of the canvas', async () => {
    const d = await draw('watermark(mark.png,0,0,0,none,25)');
    // fits 10x10 into 100x20: 20x20
    assertAt(d, 19, 19, RED);
    assertAt(d, 21, 5, BLUE);
  });

  test('a watermark entirely off the canvas leaves the image as it was', async () => {
    const d = await draw('watermark(mark.png,right-10,0,0)');
    for (const x of [0, 50, 99]) assertAt(d, x, 5, BLUE, 0, 0);
  });

  test('a watermark half off the canvas shows its visible part', async () => {
    const d = await draw('watermark(mark.png,left-5,top-5,0)');
    assertAt(d, 0, 0, RED);
    assertAt(d, 4, 4, RED);
    assertAt(d, 5, 5, BLUE);
  });

  test('keeps every frame of an animated base, with the watermark on each', async () => {
    const anim = await makeAnimated('gif', 40, 30, [BLUE, LIME, YELLOW]);
    const images = { 'mark.png': await redMark };
    const result = await processImage(anim, parseImagorPath('unsafe/filters:watermark(mark.png,0,0,0)/a.gif'), { loadImage: loaderOf(images) });
    const d = await decode(result.image.data);
    assert.equal(d.frames, 3);
    assert.equal(result.image.format, 'gif');
    [BLUE, LIME, YELLOW].forEach((colour, f) => {
      assertAt(d, 5, 5, RED, f);
      assertAt(d, 30, 20, colour, f);
    });
  });

  test('an animated watermark on an animated base runs frame by frame', async () => {
    const anim = await makeAnimated('gif', 40, 30, [BLUE, LIME, YELLOW]);
    const mark = await makeAnimated('gif', 10, 10, [RED, WHITE]);
    const result = await processImage(anim, parseImagorPath('unsafe/filters:watermark(mark.gif,0,0,0)/a.gif'), { loadImage: loaderOf({ 'mark.gif': mark }) });
    const d = await decode(result.image.data);
    assert.equal(d.frames, 3);
    assertAt(d, 5, 5, RED, 0);
    assertAt(d, 5, 5, WHITE, 1);
    assertAt(d, 5, 5, RED, 2);
    assertAt(d, 30, 20, YELLOW, 2);
  });

  test('a still base takes the first frame of an animated watermark', async () => {
    const mark = await makeAnimated('gif', 10, 10, [LIME, WHITE]);
    const d = await draw('watermark(mark.gif,0,0,0)', { loadImage: loaderOf({ 'mark.gif': mark }) });
    assert.equal(d.frames, 1);
    assertAt(d, 5, 5, LIME);
  });
});

describe('watermark sources', () => {
  test('come only through the loader, which sees the decoded image key', async () => {
    const calls: string[] = [];
    await draw('watermark(b64:bWFyay5wbmc,0,0,0)', { loadImage: loaderOf({ 'mark.png': await redMark }, calls) });
    assert.deepEqual(calls, ['mark.png']);
  });

  test('without a loader a watermark is a 400', async () => {
    await assert.rejects(
      processImage(await base, parseImagorPath('unsafe/filters:watermark(mark.png,0,0,0)/base.png')),
      (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS',
    );
  });

  test('a watermark over the pixel limits is refused like a source (422)', async () => {
    await assert.rejects(
      draw('watermark(bomb.png,0,0,0)', { loadImage: loaderOf({ 'bomb.png': pngHeaderBomb() }) }),
      (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS',
    );
    await assert.rejects(
      draw('watermark(mark.png,0,0,0)', { limits: { maxWidth: 9, maxHeight: 200, maxResolution: 1e6 } }),
      (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS',
    );
  });

  test('a watermark that is not an image is refused like a source (406)', async () => {
    await assert.rejects(
      draw('watermark(page.html,0,0,0)', { loadImage: loaderOf({ 'page.html': Buffer.from('<html><script>alert(1)</script></html>') }) }),
      (e: unknown) => isPixgateError(e) && e.code === 'UNSUPPORTED_FORMAT',
    );
  });

  test('a loader failure fails the request with the loader\'s error', async () => {
    await assert.rejects(draw('watermark(missing.png,0,0,0)'), /test loader has no missing.png/);
  });
});

describe('image() on pixels', () => {
  test('processes the nested path with the parent size for f and composites it', async () => {
    const d = await draw('image(/fxf/mark.png,0,0)');
    for (const [x, y] of [[0, 0], [99, 79], [50, 40]] as const) assertAt(d, x, y, RED);
  });

  test('f-N leaves N pixels of the parent', async () => {
    const d = await draw('image(/f-20xf-20/mark.png,center,center)');
    assertAt(d, 5, 5, BLUE);
    assertAt(d, 11, 11, RED);
    assertAt(d, 88, 68, RED);
    assertAt(d, 95, 75, BLUE);
  });

  test('runs the nested filters, including its own overlays', async () => {
    const d = await draw('image(/50x40/filters:watermark(mark.png,0,0,0)/color:lime,10,10)');
    assertAt(d, 12, 12, RED); // the nested watermark at the nested origin
    assertAt(d, 30, 30, LIME); // the nested image
    assertAt(d, 70, 70, BLUE); // the base
  });

  test('multiply blends the colours (red x blue is black)', async () => {
    const d = await draw('image(/fxf/mark.png,0,0,0,multiply)');
    assertAt(d, 50, 40, { r: 0, g: 0, b: 0 }, 0, 2);
  });

  test('screen brightens (red screen blue is magenta)', async () => {
    const d = await draw('image(/fxf/mark.png,0,0,0,screen)');
    assertAt(d, 50, 40, { r: 255, g: 0, b: 255 }, 0, 2);
  });

  test('mask keeps the image only under the overlay and clears the rest', async () => {
    const d = await draw('image(/50x40/color:white,0,0,0,mask):format(png)');
    assert.equal(d.pixel(10, 10).a, 255);
    assertAt(d, 10, 10, BLUE);
    assert.equal(d.pixel(70, 70).a, 0);
  });

  test('mask-out clears the image under the overlay', async () => {
    const d = await draw('image(/50x40/color:white,0,0,0,mask-out):format(png)');
    assert.equal(d.pixel(10, 10).a, 0);
    assert.equal(d.pixel(70, 70).a, 255);
  });

  test('mask keeps every frame of an animated base', async () => {
    const anim = await makeAnimated('webp', 40, 30, [BLUE, LIME]);
    const result = await processImage(anim, parseImagorPath('unsafe/filters:image(/10x10/color:white,0,0,0,mask)/a.webp'), { loadImage: loaderOf({}) });
    const d = await decode(result.image.data);
    assert.equal(d.frames, 2);
    assertAt(d, 5, 5, BLUE, 0);
    assertAt(d, 5, 5, LIME, 1);
    assert.equal(d.pixel(30, 20, 1).a, 0);
  });

  test('nesting deeper than the limit is a 400 before anything is loaded', async () => {
    const calls: string[] = [];
    const deep = 'image(/filters:image(/filters:image(/mark.png,0,0)/mark.png,0,0)/mark.png,0,0)';
    await assert.rejects(
      draw(deep, { maxOverlayDepth: 2, loadImage: loaderOf({ 'mark.png': await redMark }, calls) }),
      (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && /nested deeper than 2/.test(e.publicDetail ?? ''),
    );
    assert.deepEqual(calls, []);
    await draw(deep, { maxOverlayDepth: 3 });
  });

  test('more overlays than the limit, nested ones included, is a 400', async () => {
    await assert.rejects(
      draw('watermark(mark.png,0,0,0):image(/filters:watermark(mark.png,0,0,0)/mark.png,0,0)', { maxOverlays: 2 }),
      (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && /more than 2 overlays/.test(e.publicDetail ?? ''),
    );
    await draw('watermark(mark.png,0,0,0):image(/filters:watermark(mark.png,0,0,0)/mark.png,0,0)', { maxOverlays: 3 });
  });

  test('an unknown filter inside the nested path is a 400 naming it', async () => {
    await assert.rejects(draw('image(/filters:sparkle()/mark.png,0,0)'), (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && /sparkle/.test(e.publicDetail ?? ''));
  });
});

describe('overlay output', () => {
  test('a JPEG base stays a JPEG and keeps its size', async () => {
    const jpeg = await makeSolid(60, 40, BLUE, 'jpeg');
    const result = await processImage(jpeg, parseImagorPath('unsafe/filters:watermark(mark.png,0,0,0)/a.jpg'), { loadImage: loaderOf({ 'mark.png': await redMark }) });
    assert.equal(result.image.format, 'jpeg');
    const meta = await sharp(result.image.data).metadata();
    assert.deepEqual([meta.width, meta.height], [60, 40]);
    const d = await decode(result.image.data);
    assertAt(d, 4, 4, RED);
  });
});
