import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { parseImagorPath } from '../../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../../src/respond/errors.js';
import { processImage, type ProcessOptions } from '../../../../src/process/process-image.js';
import { buildPlan } from '../../../../src/process/plan.js';
import { resolveLimits } from '../../../../src/policy/limits.js';
import type { SourceInfo } from '../../../../src/process/steps.js';
import { BLUE, decode, LIME, makeAnimated, makeQuadrant, makeSolid, near, RED, type Rgb } from '../../../helpers/images.js';

async function run(input: Buffer, path: string, options: ProcessOptions = {}) {
  const result = await processImage(input, parseImagorPath(`unsafe/${path}`), options);
  return { ...result, decoded: await decode(result.image.data) };
}

const grey = (v: number): Rgb => ({ r: v, g: v, b: v });

/** Left half grey 100, right half grey 150: one vertical edge at x = width / 2. */
function edge(width = 40, height = 20): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) px.fill(i % width < width / 2 ? 100 : 150, i * 3, i * 3 + 3);
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

const invalid = (detail: RegExp) => (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && detail.test(e.publicDetail ?? '');

const effects = (path: string, options: Partial<Parameters<typeof buildPlan>[2]> = {}) => {
  const source: SourceInfo = { format: 'png', width: 40, height: 20, pages: 1, orientation: 1, hasAlpha: false, animated: false, hasProfile: false };
  return buildPlan(parseImagorPath(`unsafe/${path}`), source, { limits: resolveLimits(), ...options }).steps.filter((s) => s.op === 'effect');
};

describe('blur', () => {
  test('blur(6) softens an edge: values between the two sides appear next to it', async () => {
    const { decoded: d } = await run(await edge(), 'filters:blur(6)/a.png');
    const left = d.pixel(19, 10).r;
    const right = d.pixel(20, 10).r;
    assert.ok(left > 105 && left < 145 && right > 105 && right < 145, `${left} ${right}`);
    assert.ok(near(d.pixel(0, 10), grey(100), 4) && near(d.pixel(39, 10), grey(150), 4));
  });
  test('one argument is a radius (sigma = r / 2), two are radius and sigma (imagor)', () => {
    assert.deepEqual(effects('filters:blur(6)/a.png'), [{ op: 'effect', effect: { kind: 'blur', sigma: 3 } }]);
    assert.deepEqual(effects('filters:blur(6,1.5)/a.png'), [{ op: 'effect', effect: { kind: 'blur', sigma: 1.5 } }]);
  });
  test('blur(0) does nothing', () => assert.deepEqual(effects('filters:blur(0)/a.png'), []));
  test('a larger sigma blurs further from the edge', async () => {
    const weak = (await run(await edge(), 'filters:blur(2)/a.png')).decoded.pixel(15, 10).r;
    const strong = (await run(await edge(), 'filters:blur(12)/a.png')).decoded.pixel(15, 10).r;
    assert.ok(strong > weak + 3, `${weak} ${strong}`);
  });
});

describe('sharpen', () => {
  test('sharpen(1) overshoots on both sides of an edge', async () => {
    const { decoded: d } = await run(await edge(), 'filters:sharpen(1)/a.png');
    assert.ok(d.pixel(19, 10).r < 95, `dark side ${d.pixel(19, 10).r}`);
    assert.ok(d.pixel(20, 10).r > 155, `light side ${d.pixel(20, 10).r}`);
    // Flat areas away from the edge stay as they are (m1 = 0).
    assert.ok(near(d.pixel(2, 10), grey(100), 2) && near(d.pixel(37, 10), grey(150), 2));
  });
  test('sigma is 1 + 2s; thumbor\'s (amount, radius, luminance_only) uses the radius (imagor)', () => {
    assert.deepEqual(effects('filters:sharpen(1)/a.png'), [{ op: 'effect', effect: { kind: 'sharpen', sigma: 3 } }]);
    assert.deepEqual(effects('filters:sharpen(2,0.5,true)/a.png'), [{ op: 'effect', effect: { kind: 'sharpen', sigma: 2 } }]);
    assert.deepEqual(effects('filters:sharpen()/a.png'), [{ op: 'effect', effect: { kind: 'sharpen', sigma: 1 } }]);
  });
});

describe('pixelate', () => {
  test('pixelate(10) fills each 10x10 cell with its mean colour', async () => {
    // 20x10: columns 0-4 red, 5-19 blue. The first cell is half red, half blue; the second all blue.
    const px = Buffer.alloc(20 * 10 * 3);
    for (let i = 0; i < 200; i++) px.set(i % 20 < 5 ? [255, 0, 0] : [0, 0, 255], i * 3);
    const input = await sharp(px, { raw: { width: 20, height: 10, channels: 3 } }).png().toBuffer();
    const { decoded: d } = await run(input, 'filters:pixelate(10)/a.png');
    assert.deepEqual([d.width, d.height], [20, 10]);
    for (const [x, y] of [[0, 0], [9, 9], [4, 5]] as const) assert.ok(near(d.pixel(x, y), { r: 128, g: 0, b: 128 }, 1), `${x},${y}`);
    assert.ok(near(d.pixel(10, 0), BLUE, 0));
  });
  test('pixelate() uses blocks of 10 and keeps the size when it does not divide', async () => {
    const { decoded: d } = await run(await makeQuadrant(25, 25, 'png'), 'filters:pixelate()/a.png');
    assert.deepEqual([d.width, d.height], [25, 25]);
    // The cell from 10 to 19 straddles the middle (12.5): no longer a pure quadrant colour.
    assert.ok(!near(d.pixel(10, 10), RED, 30));
  });
});

describe('convolution (thumbor)', () => {
  test('a normalised box kernel averages across an edge', async () => {
    const { decoded: d } = await run(await edge(), 'filters:convolution(1;1;1;1;1;1;1;1;1,3,true)/a.png');
    // Column 19 sees two columns of 100 and one of 150; column 20 one of 100 and two of 150.
    assert.ok(near(d.pixel(19, 10), grey((2 * 100 + 150) / 3), 1), JSON.stringify(d.pixel(19, 10)));
    assert.ok(near(d.pixel(20, 10), grey((100 + 2 * 150) / 3), 1), JSON.stringify(d.pixel(20, 10)));
    assert.ok(near(d.pixel(0, 10), grey(100), 0) && near(d.pixel(39, 0), grey(150), 0));
  });
  test('a horizontal edge detector without normalising finds the edge and nothing else', async () => {
    const { decoded: d } = await run(await edge(), 'filters:convolution(-1;0;1,3,false)/a.png');
    assert.ok(near(d.pixel(5, 10), grey(0), 0));
    // At x = 19: 150 - 100.
    assert.ok(near(d.pixel(19, 10), grey(50), 1), JSON.stringify(d.pixel(19, 10)));
  });
});

describe('on an animated GIF every frame is processed on its own', () => {
  for (const filter of ['blur(4)', 'sharpen(1)', 'pixelate(4)', 'convolution(1;2;1;2;4;2;1;2;1,3,true)']) {
    test(`${filter} keeps all frames and their own colours`, async () => {
      const { image, decoded: d } = await run(await makeAnimated('gif', 16, 12, [RED, LIME, BLUE]), `filters:${filter}/a.gif`);
      assert.equal(image.format, 'gif');
      assert.equal(d.frames, 3);
      // A blur across the stacked frames would bleed the next frame's colour into the bottom rows.
      assert.ok(near(d.pixel(8, 11, 0), RED, 40), JSON.stringify(d.pixel(8, 11, 0)));
      assert.ok(near(d.pixel(8, 0, 1), LIME, 40), JSON.stringify(d.pixel(8, 0, 1)));
    });
  }
});

describe('VIPS_DISABLE_BLUR', () => {
  test('skips blur and sharpen, arguments unchecked (imagor)', async () => {
    assert.deepEqual(effects('filters:blur(6):sharpen(2)/a.png', { disableBlur: true }), []);
    const { decoded: d } = await run(await edge(), 'filters:blur(6):sharpen(nope)/a.png', { disableBlur: true });
    assert.ok(near(d.pixel(19, 10), grey(100), 1));
  });
  test('paints fill(blur) black', async () => {
    const { decoded: d } = await run(await makeSolid(40, 20, RED, 'png'), 'fit-in/40x40/filters:fill(blur)/a.png', { disableBlur: true });
    assert.ok(near(d.pixel(20, 2), { r: 0, g: 0, b: 0 }, 0));
  });
});

describe('bad arguments are INVALID_PARAMS naming the filter', () => {
  const cases: Array<[string, RegExp]> = [
    ['blur()', /^blur: /],
    ['blur(x)', /^blur: /],
    ['blur(-1)', /^blur: /],
    ['blur(1,2,3)', /^blur: /],
    ['blur(500)', /^blur: .*100/],
    ['blur(1,x)', /^blur: /],
    ['sharpen(x)', /^sharpen: /],
    ['sharpen(11)', /^sharpen: /],
    ['sharpen(1,2,maybe)', /^sharpen: /],
    ['sharpen(1,2,3,4)', /^sharpen: /],
    ['pixelate(0)', /^pixelate: /],
    ['pixelate(x)', /^pixelate: /],
    ['pixelate(2,3)', /^pixelate: /],
    ['convolution(1;2;1)', /^convolution: /],
    ['convolution(1;2;1;2,2)', /^convolution: /],
    ['convolution(1;x;1,3)', /^convolution: /],
    ['convolution(1;2;1,0)', /^convolution: /],
    ['convolution(1;2,3)', /^convolution: /],
    ['convolution(1;2;1,3,maybe)', /^convolution: /],
    [`convolution(${Array.from({ length: 27 * 27 }, () => '1').join(';')},27)`, /^convolution: .*25x25/],
  ];
  for (const [filter, detail] of cases) {
    test(filter, async () => {
      await assert.rejects(run(await edge(), `filters:${filter}/a.png`), invalid(detail));
    });
  }
  test('lenient mode follows imagor: pixelate(x) uses 10, blur(500) is capped', () => {
    assert.deepEqual(effects('filters:pixelate(x):blur(500)/a.png', { lenientFilters: true }), [
      { op: 'effect', effect: { kind: 'pixelate', block: 10 } },
      { op: 'effect', effect: { kind: 'blur', sigma: 100 } },
    ]);
  });
});
