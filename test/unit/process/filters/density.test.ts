import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseImagorPath } from '../../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../../src/respond/errors.js';
import { processImage, type ProcessOptions } from '../../../../src/process/process-image.js';
import { renderedSize } from '../../../../src/process/filters/density.js';
import { BLUE, decode, LIME, makeAnimated, makeQuadrant, near, RED, YELLOW } from '../../../helpers/images.js';

async function run(input: Buffer, path: string, options: ProcessOptions = {}) {
  const result = await processImage(input, parseImagorPath(`unsafe/${path}`), options);
  return { ...result, decoded: await decode(result.image.data) };
}

const invalid = (detail: RegExp) => (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && detail.test(e.publicDetail ?? '');

// 30x20 at 72 dpi: left half red, right half blue.
const svg = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="15" height="20" fill="red"/><rect x="15" width="15" height="20" fill="blue"/></svg>',
);

describe('dpi', () => {
  test('an SVG renders at its own size by default (72 dpi)', async () => {
    const { decoded: d } = await run(svg, 'a.svg');
    assert.deepEqual([d.width, d.height], [30, 20]);
  });
  test('dpi(144) renders an SVG at twice the size, sharp', async () => {
    const { decoded: d } = await run(svg, 'filters:dpi(144):format(png)/a.svg');
    assert.deepEqual([d.width, d.height], [60, 40]);
    assert.ok(near(d.pixel(28, 20), RED, 2) && near(d.pixel(31, 20), BLUE, 2));
  });
  test('the rendered size is what the URL geometry works on', async () => {
    const { decoded: d } = await run(svg, '0x10/filters:dpi(144):format(png)/a.svg');
    assert.deepEqual([d.width, d.height], [15, 10]);
  });
  test('libvips rounds the scaled size', () => {
    assert.deepEqual(renderedSize({ width: 33, height: 21 }, 150), { width: 69, height: 44 });
    assert.deepEqual(renderedSize({ width: 33, height: 21 }, undefined), { width: 33, height: 21 });
  });
  test('other formats ignore dpi', async () => {
    const { decoded: d } = await run(await makeQuadrant(20, 10), 'filters:dpi(300)/a.png');
    assert.deepEqual([d.width, d.height], [20, 10]);
  });
  test('a render over the resolution limit is refused before decoding', async () => {
    await assert.rejects(run(svg, 'filters:dpi(2400)/a.svg', { limits: { maxWidth: 500 } }), (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS');
  });
});

describe('page and max_frames on animations', () => {
  test('page(3) keeps the third frame of a WebP', async () => {
    const { image, decoded: d } = await run(await makeAnimated('webp', 10, 8, [RED, LIME, BLUE, YELLOW]), 'filters:page(3)/a.webp');
    assert.equal(image.pages, 1);
    assert.ok(near(d.pixel(5, 4), BLUE, 8));
  });
  test('max_frames(2) keeps the first two frames of a WebP, still animated', async () => {
    const { image, decoded: d } = await run(await makeAnimated('webp', 10, 8, [RED, LIME, BLUE, YELLOW]), 'filters:max_frames(2)/a.webp');
    assert.deepEqual([image.format, image.pages], ['webp', 2]);
    assert.ok(near(d.pixel(5, 4, 1), LIME, 8));
  });
});

describe('bad arguments are INVALID_PARAMS naming the filter', () => {
  const cases: Array<[string, RegExp]> = [
    ['dpi(0)', /^dpi: /],
    ['dpi(x)', /^dpi: /],
    ['dpi(9999)', /^dpi: .*2400/],
    ['page(0)', /^page: /],
    ['page(x)', /^page: /],
    ['max_frames(-1)', /^max_frames: /],
  ];
  for (const [filter, detail] of cases) {
    test(filter, async () => {
      await assert.rejects(run(svg, `filters:${filter}/a.svg`), invalid(detail));
    });
  }
});
