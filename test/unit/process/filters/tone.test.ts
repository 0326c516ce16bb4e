import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { parseImagorPath } from '../../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../../src/respond/errors.js';
import { processImage, type ProcessOptions } from '../../../../src/process/process-image.js';
import { contrastLine, curveTable } from '../../../../src/process/filters/tone.js';
import { BLUE, decode, LIME, makeAnimated, makeSolid, near, RED, WHITE, type Rgb } from '../../../helpers/images.js';

async function run(input: Buffer, path: string, options: ProcessOptions = {}) {
  const result = await processImage(input, parseImagorPath(`unsafe/${path}`), options);
  return { ...result, decoded: await decode(result.image.data) };
}

function assertNear(actual: { r: number; g: number; b: number }, expected: Rgb, tolerance: number, where = ''): void {
  assert.ok(near(actual, expected, tolerance), `${where} got ${JSON.stringify(actual)}, want ${JSON.stringify(expected)} ±${tolerance}`);
}

const grey = (v: number): Rgb => ({ r: v, g: v, b: v });
const solid = (c: Rgb) => makeSolid(16, 16, c, 'png');

/** Left half one grey, right half another. */
function twoGreys(a: number, b: number, width = 20, height = 10): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) px.fill(i % width < width / 2 ? a : b, i * 3, i * 3 + 3);
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

const invalid = (detail: RegExp) => (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && detail.test(e.publicDetail ?? '');

describe('brightness, contrast, rgb, invert (imagor linear formulas)', () => {
  test('brightness(50) adds 50% of 255 to each channel', async () => {
    const { decoded: d } = await run(await solid(grey(60)), 'filters:brightness(50)/a.png');
    assertNear(d.pixel(8, 8), grey(60 + 127.5), 1);
  });
  test('brightness(-100) turns everything black', async () => {
    const { decoded: d } = await run(await solid(RED), 'filters:brightness(-100)/a.png');
    assertNear(d.pixel(8, 8), grey(0), 0);
  });
  test('contrast(50) stretches greys away from 128 by the 259 formula', async () => {
    const { a, b } = contrastLine(50);
    // (259 (c + 255)) / (255 (259 - c)) with c = 127.5
    assert.ok(Math.abs(a - (259 * 382.5) / (255 * 131.5)) < 1e-9);
    const { decoded: d } = await run(await twoGreys(100, 160), 'filters:contrast(50)/a.png');
    assertNear(d.pixel(2, 5), grey(a * 100 + b), 1, 'dark half');
    assertNear(d.pixel(17, 5), grey(a * 160 + b), 1, 'light half');
    assert.ok(d.pixel(2, 5).r < 100 && d.pixel(17, 5).r > 160);
  });
  test('contrast(-100) flattens everything to middle grey', async () => {
    const { decoded: d } = await run(await twoGreys(30, 220), 'filters:contrast(-100)/a.png');
    assertNear(d.pixel(2, 5), grey(128), 1);
    assertNear(d.pixel(17, 5), grey(128), 1);
  });
  test('rgb(-100,0,50) shifts each channel on its own', async () => {
    const { decoded: d } = await run(await solid(grey(128)), 'filters:rgb(-100,0,50)/a.png');
    assertNear(d.pixel(8, 8), { r: 0, g: 128, b: 255 }, 1);
  });
  test('invert() turns red into cyan and keeps alpha', async () => {
    const input = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0.5 } } }).png().toBuffer();
    const { decoded: d } = await run(input, 'filters:invert()/a.png');
    assertNear(d.pixel(4, 4), { r: 0, g: 255, b: 255 }, 1);
    assert.ok(Math.abs(d.pixel(4, 4).a - 128) <= 1);
  });
});

describe('hue, saturation, modulate (LCh, as libvips modulate)', () => {
  test('hue(180) turns red towards cyan', async () => {
    const { decoded: d } = await run(await solid(RED), 'filters:hue(180)/a.png');
    const p = d.pixel(8, 8);
    assert.ok(p.r < 60 && p.g > 100 && p.b > 150, JSON.stringify(p));
  });
  test('hue(360) changes nothing', async () => {
    const { decoded: d } = await run(await solid(RED), 'filters:hue(360)/a.png');
    assertNear(d.pixel(8, 8), RED, 1);
  });
  test('saturation(-100) leaves greys of the same lightness', async () => {
    const { decoded: d } = await run(await solid(RED), 'filters:saturation(-100)/a.png');
    const p = d.pixel(8, 8);
    assert.ok(Math.abs(p.r - p.g) <= 2 && Math.abs(p.g - p.b) <= 2 && p.r > 80 && p.r < 180, JSON.stringify(p));
  });
  test('saturation(100) makes a dull colour more vivid', async () => {
    const dull = { r: 150, g: 110, b: 110 };
    const { decoded: d } = await run(await solid(dull), 'filters:saturation(100)/a.png');
    const p = d.pixel(8, 8);
    assert.ok(p.r - p.g > 40 + 10, JSON.stringify(p));
  });
  test('modulate(-50,0,0) halves the lightness: white becomes L* 50 grey (#777777)', async () => {
    const { decoded: d } = await run(await solid(WHITE), 'filters:modulate(-50,0,0)/a.png');
    assertNear(d.pixel(8, 8), grey(119), 2);
  });
  test('modulate(0,0,180) turns the hue like hue(180)', async () => {
    const a = (await run(await solid(RED), 'filters:modulate(0,0,180)/a.png')).decoded.pixel(8, 8);
    const b = (await run(await solid(RED), 'filters:hue(180)/a.png')).decoded.pixel(8, 8);
    assertNear(a, b, 1);
  });
});

describe('lenient mode reads saturation and modulate unclamped, as imagor does', () => {
  const lenient = { lenientFilters: true };
  /** libvips modulate through sharp directly: the operation imagor runs with 1 + n/100. */
  async function modulated(input: Buffer, options: { brightness?: number; saturation?: number }) {
    return decode(await sharp(input).modulate(options).png().toBuffer());
  }
  test('saturation(200) multiplies chroma by 3, beyond what saturation(100) does', async () => {
    const dull = await solid({ r: 150, g: 110, b: 110 });
    const p = (await run(dull, 'filters:saturation(200)/a.png', lenient)).decoded.pixel(8, 8);
    assertNear(p, (await modulated(dull, { saturation: 3 })).pixel(8, 8), 1);
    const clamped = (await run(dull, 'filters:saturation(100)/a.png', lenient)).decoded.pixel(8, 8);
    assert.ok(p.r - p.g > clamped.r - clamped.g + 10, `${JSON.stringify(p)} vs ${JSON.stringify(clamped)}`);
  });
  test('saturation(-200) negates chroma: the same colour as hue(180)', async () => {
    // a = C cos h, b = C sin h: -C at h is C at h + 180 degrees.
    const a = (await run(await solid(RED), 'filters:saturation(-200)/a.png', lenient)).decoded.pixel(8, 8);
    const b = (await run(await solid(RED), 'filters:hue(180)/a.png')).decoded.pixel(8, 8);
    assertNear(a, b, 2);
  });
  test('saturation(-300) is the complementary colour, more vivid than its grey', async () => {
    const p = (await run(await solid({ r: 180, g: 90, b: 90 }), 'filters:saturation(-300)/a.png', lenient)).decoded.pixel(8, 8);
    assert.ok(p.r < p.g && p.r < p.b, JSON.stringify(p));
  });
  test('modulate(200,0,0) triples the lightness; modulate(0,250,0) multiplies chroma by 3.5', async () => {
    const greyish = await solid({ r: 60, g: 50, b: 50 });
    assertNear((await run(greyish, 'filters:modulate(200,0,0)/a.png', lenient)).decoded.pixel(8, 8), (await modulated(greyish, { brightness: 3 })).pixel(8, 8), 1);
    assertNear((await run(greyish, 'filters:modulate(0,250,0)/a.png', lenient)).decoded.pixel(8, 8), (await modulated(greyish, { saturation: 3.5 })).pixel(8, 8), 1);
  });
  test('modulate(-150,0,0) takes the negative lightness factor as 0: black', async () => {
    assertNear((await run(await solid(grey(200)), 'filters:modulate(-150,0,0)/a.png', lenient)).decoded.pixel(8, 8), grey(0), 1);
  });
  test('strict mode still refuses them', async () => {
    await assert.rejects(run(await solid(RED), 'filters:saturation(-200)/a.png'), invalid(/^saturation: .*-100 to 100/));
    await assert.rejects(run(await solid(RED), 'filters:modulate(0,101,0)/a.png'), invalid(/^modulate: /));
  });
});

describe('grayscale, sepia, equalize, noise', () => {
  test('grayscale() gives equal channels at the luminance of red', async () => {
    const { decoded: d } = await run(await solid(RED), 'filters:grayscale()/a.png');
    const p = d.pixel(8, 8);
    // sRGB red has a relative luminance of 0.2126, which is sRGB grey ~127.
    assertNear(p, grey(127), 4);
  });
  test('sepia() applies the sepia matrix', async () => {
    const { decoded: d } = await run(await solid(RED), 'filters:sepia()/a.png');
    assertNear(d.pixel(8, 8), { r: 0.393 * 255, g: 0.349 * 255, b: 0.272 * 255 }, 1);
  });
  test('equalize() spreads a two-grey image to black and white (thumbor formula)', async () => {
    const { decoded: d } = await run(await twoGreys(100, 150), 'filters:equalize()/a.png');
    assertNear(d.pixel(2, 5), grey(0), 0);
    assertNear(d.pixel(17, 5), grey(255), 0);
  });
  test('noise(40) moves each pixel by less than 20 and changes many of them', async () => {
    const input = await makeSolid(32, 32, grey(128), 'png');
    const { decoded: d } = await run(input, 'filters:noise(40)/a.png');
    let changed = 0;
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 32; x++) {
        const p = d.pixel(x, y);
        assert.ok(p.r >= 108 && p.r < 148, `${p.r} at ${x},${y}`);
        assert.equal(p.r, p.g);
        assert.equal(p.g, p.b);
        if (p.r !== 128) changed++;
      }
    }
    assert.ok(changed > 32 * 32 * 0.8, `${changed} changed`);
  });
  test('noise is reproducible: the same URL gives the same pixels, another seed other pixels', async () => {
    const input = await makeSolid(16, 16, grey(128), 'png');
    const a = await run(input, 'filters:noise(30)/a.png');
    const b = await run(input, 'filters:noise(30)/a.png');
    const c = await run(input, 'filters:noise(30,7)/a.png');
    assert.deepEqual(a.image.data, b.image.data);
    assert.notDeepEqual(a.image.data, c.image.data);
  });
});

describe('thumbor\'s colorize and curve', () => {
  test('colorize(50,0,100,0000ff) moves red halfway to 0 and blue all the way to 255', async () => {
    const { decoded: d } = await run(await solid({ r: 200, g: 100, b: 50 }), 'filters:colorize(50,0,100,0000ff)/a.png');
    assertNear(d.pixel(8, 8), { r: 100, g: 100, b: 255 }, 1);
  });
  test('a curve through (0,0) and (255,255) is the identity', () => {
    const t = curveTable([[0, 0], [255, 255]]);
    assert.deepEqual(t, Array.from({ length: 256 }, (_, i) => i));
  });
  test('a curve is flat before its first point and after its last', () => {
    const t = curveTable([[50, 20], [200, 220]]);
    assert.equal(t[0], 20);
    assert.equal(t[49], 20);
    assert.equal(t[125], 120);
    assert.equal(t[255], 220);
  });
  test('a three-point curve passes through its points and bends smoothly between them', () => {
    const t = curveTable([[0, 0], [128, 192], [255, 255]]);
    assert.deepEqual([t[0], t[128], t[255]], [0, 192, 255]);
    // A natural spline through these points lies above the straight lines between them.
    assert.ok(t[64]! > 96 && t[192]! > 224, `${t[64]} ${t[192]}`);
  });
  test('curve() maps each channel through its own curve, then through the curve for all', async () => {
    const path = 'filters:curve([(0,0),(255,255)],[(0,255),(255,255)],[(0,0),(255,255)],[(0,0),(255,0)])/a.png';
    const { decoded: d } = await run(await solid(grey(100)), path);
    assertNear(d.pixel(8, 8), { r: 255, g: 100, b: 0 }, 0);
  });
});

describe('on an animated GIF', () => {
  for (const filter of ['brightness(20)', 'contrast(20)', 'grayscale()', 'hue(90)', 'saturation(50)', 'rgb(10,0,0)', 'modulate(10,10,10)',
    'invert()', 'equalize()', 'sepia()', 'noise(10)', 'colorize(10,10,10,ff0000)', 'curve([(0,0),(255,200)],[(0,0),(255,255)],[(0,0),(255,255)],[(0,0),(255,255)])']) {
    test(`${filter} keeps every frame`, async () => {
      const { image, decoded: d } = await run(await makeAnimated('gif', 12, 8, [RED, LIME, BLUE]), `filters:${filter}/a.gif`);
      assert.equal(image.format, 'gif');
      assert.equal(d.frames, 3);
    });
  }
  test('invert() inverts each frame by its own colour', async () => {
    const { decoded: d } = await run(await makeAnimated('gif', 12, 8, [RED, LIME, BLUE]), 'filters:invert()/a.gif');
    assertNear(d.pixel(4, 4, 0), { r: 0, g: 255, b: 255 }, 8, 'frame 0');
    assertNear(d.pixel(4, 4, 1), { r: 255, g: 0, b: 255 }, 8, 'frame 1');
    assertNear(d.pixel(4, 4, 2), { r: 255, g: 255, b: 0 }, 8, 'frame 2');
  });
});

describe('bad arguments are INVALID_PARAMS naming the filter', () => {
  const cases: Array<[string, RegExp]> = [
    ['brightness()', /^brightness: /],
    ['brightness(abc)', /^brightness: /],
    ['brightness(101)', /^brightness: .*-100 to 100/],
    ['brightness(10,20)', /^brightness: /],
    ['contrast(-101)', /^contrast: /],
    ['contrast(x)', /^contrast: /],
    ['hue(red)', /^hue: /],
    ['hue()', /^hue: /],
    ['saturation(200)', /^saturation: /],
    ['rgb(1,2)', /^rgb: /],
    ['rgb(1,2,x)', /^rgb: /],
    ['rgb(1,2,300)', /^rgb: /],
    ['modulate(1,2)', /^modulate: /],
    ['modulate(1,2,x)', /^modulate: /],
    ['modulate(150,0,0)', /^modulate: /],
    ['invert(1)', /^invert: /],
    ['grayscale(x)', /^grayscale: /],
    ['equalize(1)', /^equalize: /],
    ['sepia(50)', /^sepia: /],
    ['noise()', /^noise: /],
    ['noise(101)', /^noise: /],
    ['noise(1.5)', /^noise: /],
    ['noise(10,-1)', /^noise: /],
    ['colorize(10,10,10)', /^colorize: /],
    ['colorize(10,10,200,ff0000)', /^colorize: /],
    ['colorize(10,10,10,nocolour)', /^colorize: /],
    ['curve([(0,0),(255,255)])', /^curve: /],
    ['curve([(0,0)],[(0,0)],[(0,0)],[(x,0)])', /^curve: /],
    ['curve([(10,0),(5,0)],[(0,0)],[(0,0)],[(0,0)])', /^curve: /],
    ['curve([(0,0)],[(0,0)],[(0,0)],[(0,300)])', /^curve: /],
  ];
  for (const [filter, detail] of cases) {
    test(filter, async () => {
      await assert.rejects(run(await solid(RED), `filters:${filter}/a.png`), invalid(detail));
    });
  }
  test('lenient mode ignores them, as imagor does', async () => {
    const { decoded: d } = await run(await solid(RED), 'filters:brightness(abc):rgb(1,2):hue(red)/a.png', { lenientFilters: true });
    assertNear(d.pixel(8, 8), RED, 1);
  });
});
