/**
 * processImage end to end on real images of the sizes of imagor's test images, against the sizes of imagor's
 * golden outputs (cshum/imagor e7cd514f testdata/golden/<path>), plus the façade's own contract.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { processImage, validateFilters } from '../../../src/process/process-image.js';
import { BLUE, LIME, makeAlphaPng, makeAnimated, makeSolid, RED, YELLOW, CYAN, MAGENTA, WHITE } from '../../helpers/images.js';

const images = {
  'gopher-front.png': () => makeAlphaPng(202, 259, RED, 20),
  'gopher.png': () => makeAlphaPng(1634, 2224, BLUE, 100),
  'gopher-landscape-exif-cw90.png': async () =>
    sharp(await makeAlphaPng(2224, 1634, LIME, 100)).withMetadata({ orientation: 6 }).png().toBuffer(),
  'Canon_40D.jpg': () => makeSolid(100, 68, YELLOW),
  'dancing-banana.gif': () => makeAnimated('gif', 121, 128, [RED, LIME, BLUE, YELLOW, CYAN, MAGENTA, WHITE, RED]),
  'demo3.webp': () => makeAnimated('webp', 70, 87, [RED, LIME, BLUE, YELLOW, CYAN, MAGENTA, WHITE, RED]),
} as const;

const cache = new Map<string, Promise<Buffer>>();
const load = (name: keyof typeof images): Promise<Buffer> => {
  if (!cache.has(name)) cache.set(name, images[name]());
  return cache.get(name)!;
};

const golden: Array<[string, number, number, number]> = [
  ['0x50/filters:fill(white):format(jpg)/Canon_40D.jpg', 74, 50, 1],
  ['fit-in/50x0/filters:fill(white):format(jpg)/Canon_40D.jpg', 50, 34, 1],
  ['full-fit-in/102x30/Canon_40D.jpg', 102, 69, 1],
  ['100x100/dancing-banana.gif', 100, 100, 8],
  ['100x200/left/bottom/dancing-banana.gif', 100, 200, 8],
  ['30x20:100x150/dancing-banana.gif', 70, 107, 8],
  ['0.1x0.2:0.89x0.72/dancing-banana.gif', 96, 66, 8],
  ['100x100/10x5/top/filters:fill(yellow)/dancing-banana.gif', 120, 110, 8],
  ['fit-in/67x67/dancing-banana.gif', 63, 67, 8],
  ['filters:max_frames(3)/dancing-banana.gif', 121, 128, 3],
  ['filters:page(5)/dancing-banana.gif', 121, 128, 1],
  ['fit-in/67x67/demo3.webp', 54, 67, 8],
  ['0x0/40x50/filters:fill(white)/gopher-front.png', 282, 359, 1],
  ['500x200/filters:no_upscale()/gopher-front.png', 202, 200, 1],
  ['adaptive-full-fit-in/500x400/gopher-front.png', 400, 513, 1],
  ['full-fit-in/74x11/gopher-front.png', 74, 95, 1],
  ['fit-in/100x100/10x5/filters:fill(none)/gopher.png', 120, 110, 1],
  ['adaptive-fit-in/100x200/gopher.png', 100, 136, 1],
  ['full-fit-in/300x200/smart/gopher.png', 300, 408, 1],
  ['adaptive-fit-in/200x300/filters:format(png)/gopher-landscape-exif-cw90.png', 200, 272, 1],
  ['full-fit-in/300x200/filters:format(png)/gopher-landscape-exif-cw90.png', 300, 408, 1],
];

describe('processImage matches the sizes of imagor golden images', () => {
  for (const [path, width, height, pages] of golden) {
    test(path, async () => {
      const params = parseImagorPath(`unsafe/${path}`);
      const input = await load(params.image as keyof typeof images);
      const { image } = await processImage(input, params, {});
      assert.deepEqual([image.width, image.height, image.pages], [width, height, pages]);
      const meta = await sharp(image.data).metadata();
      assert.deepEqual([meta.width, meta.pageHeight ?? meta.height, meta.pages ?? 1], [width, height, pages]);
    });
  }
});

describe('processImage', () => {
  test('checks the filters before touching the body', async () => {
    await assert.rejects(
      processImage(Buffer.from('not an image'), parseImagorPath('unsafe/filters:nope()/a.jpg')),
      (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS',
    );
  });
  test('validateFilters fails fast without an image', () => {
    assert.throws(() => validateFilters(parseImagorPath('unsafe/filters:quality(x)/a.jpg')), (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS');
    assert.doesNotThrow(() => validateFilters(parseImagorPath('unsafe/filters:quality(x)/a.jpg'), { lenientFilters: true }));
  });
  describe('text imagor drops from the filters segment', () => {
    const cases: ReadonlyArray<readonly [path: string, message: RegExp]> = [
      ['filters:blurr/quad.png', /^filter blurr has no parentheses$/],
      ['filters:grayscale/quad.png', /^filter grayscale has no parentheses$/],
      ['filters:grayscale():sepiaa/quad.png', /^filter sepiaa has no parentheses$/],
      ['filters:blur(5)junk:grayscale()/quad.png', /^unexpected text after blur\(\.\.\.\)$/],
      ['filters:(5)/quad.png', /^filter \(5\) has no name$/],
      ['filters:image(/filters:sepiaa/b.png,0,0)/quad.png', /^image: filter sepiaa has no parentheses$/],
      ['filters:image(/fullxfull/filters:blur(2)x/b.png,0,0)/quad.png', /^image: unexpected text after blur\(\.\.\.\)$/],
      ['filters:b<l>u"r/quad.png', /^filter b\?l\?u\?r has no parentheses$/],
    ];
    for (const [path, message] of cases) {
      test(`strict mode refuses ${path}; lenient mode ignores it as imagor does`, () => {
        const params = parseImagorPath(`unsafe/${path}`);
        assert.throws(() => validateFilters(params), (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && message.test(e.publicDetail ?? ''));
        assert.doesNotThrow(() => validateFilters(params, { lenientFilters: true }));
      });
    }
    test('processImage refuses it too', async () => {
      await assert.rejects(
        processImage(await load('Canon_40D.jpg'), parseImagorPath('unsafe/filters:grayscale():sepiaa/a.jpg')),
        (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && /sepiaa/.test(e.publicDetail ?? ''),
      );
      const out = await processImage(await load('Canon_40D.jpg'), parseImagorPath('unsafe/filters:grayscale():sepiaa/a.jpg'), { lenientFilters: true });
      assert.equal(out.image.width, 100);
    });
  });
  test('accepts raw VIPS_MAX_* settings as limits', async () => {
    await assert.rejects(
      processImage(await load('Canon_40D.jpg'), parseImagorPath('unsafe/a.jpg'), { limits: { maxWidth: 50 } }),
      (e: unknown) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS',
    );
  });
  test('reports Vary for auto formats', async () => {
    const r = await processImage(await load('Canon_40D.jpg'), parseImagorPath('unsafe/a.jpg'), { autoAvif: true, accept: 'image/avif' });
    assert.deepEqual([r.image.format, r.image.contentType, r.vary], ['avif', 'image/avif', true]);
  });
});
