import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { parseImagorPath } from '../../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../../src/respond/errors.js';
import { processImage, type ProcessOptions } from '../../../../src/process/process-image.js';
import { decode, makeAlphaPng, makeAnimated, makeExifRotatedJpeg, makeQuadrant, makeSolid, near, RED, LIME, BLUE } from '../../../helpers/images.js';

async function run(input: Buffer, path: string, options: ProcessOptions = {}) {
  const result = await processImage(input, parseImagorPath(`unsafe/${path}`), options);
  return { ...result, decoded: await decode(result.image.data) };
}

const invalid = (detail: RegExp) => (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && detail.test(e.publicDetail ?? '');

/** Deterministic noise (a 32-bit LCG), which compresses badly: byte budgets bite on it. */
function noisy(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  let x = 12345;
  for (let i = 0; i < px.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    px[i] = x >>> 24;
  }
  const s = sharp(px, { raw: { width, height, channels: 3 } });
  return (format === 'png' ? s.png() : s.jpeg({ quality: 95 })).toBuffer();
}

describe('format fallbacks (imagor supportedSaveFormat, our libvips encoders)', () => {
  const cases: Array<[string, string]> = [
    ['jxl', 'jpeg'],
    ['jp2', 'jpeg'],
    ['pdf', 'jpeg'],
    ['svg', 'jpeg'],
    ['heif', 'avif'],
    ['jpg', 'jpeg'],
  ];
  for (const [name, written] of cases) {
    test(`format(${name}) writes ${written}`, async () => {
      const { image, decoded: d } = await run(await makeQuadrant(20, 10), `filters:format(${name})/a.png`);
      assert.equal(image.format, written);
      assert.deepEqual([d.width, d.height], [20, 10]);
      assert.ok(near(d.pixel(2, 2), RED, 30));
    });
  }
  test('fallback_format(webp) keeps an animation that format(jpeg) cannot hold', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 10, 8, [RED, LIME, BLUE]), 'filters:format(jpeg):fallback_format(webp)/a.gif');
    assert.equal(image.format, 'webp');
    assert.equal(d.frames, 3);
  });
  test('without a fallback an animation written as JPEG keeps its first frame', async () => {
    const { image, decoded: d } = await run(await makeAnimated('gif', 10, 8, [RED, LIME, BLUE]), 'filters:format(jpeg)/a.gif');
    assert.deepEqual([image.format, d.frames], ['jpeg', 1]);
  });
});

describe('quality and lossless', () => {
  test('lossless() writes WebP that decodes to the exact pixels', async () => {
    const input = await noisy(32, 32);
    const original = await sharp(input).raw().toBuffer();
    const lossless = await run(input, 'filters:format(webp):lossless()/a.png');
    assert.deepEqual(await sharp(lossless.image.data).raw().toBuffer(), original);
    const lossy = await run(input, 'filters:format(webp)/a.png');
    assert.notDeepEqual(await sharp(lossy.image.data).raw().toBuffer(), original);
  });
});

describe('max_bytes', () => {
  test('re-encodes a JPEG until it fits the budget', async () => {
    const input = await noisy(160, 160, 'jpeg');
    const plain = await run(input, 'a.jpg');
    const budget = Math.floor(plain.image.data.length / 3);
    const { image, decoded: d } = await run(input, `filters:max_bytes(${budget})/a.jpg`);
    assert.ok(image.data.length <= budget, `${image.data.length} > ${budget}`);
    assert.deepEqual([d.width, d.height], [160, 160]);
  });
  test('works for WebP too', async () => {
    const input = await noisy(120, 120);
    const plain = await run(input, 'filters:format(webp)/a.png');
    const budget = Math.floor(plain.image.data.length / 2);
    const { image } = await run(input, `filters:format(webp):max_bytes(${budget})/a.png`);
    assert.equal(image.format, 'webp');
    assert.ok(image.data.length <= budget, `${image.data.length} > ${budget}`);
  });
  test('an impossible budget keeps the smallest attempt rather than failing (imagor)', async () => {
    const input = await noisy(64, 64, 'jpeg');
    const { image } = await run(input, 'filters:max_bytes(10)/a.jpg');
    const plain = await run(input, 'a.jpg');
    assert.ok(image.data.length < plain.image.data.length);
  });
  test('is not applied to PNG or lossless output (imagor)', async () => {
    const input = await noisy(40, 40);
    assert.deepEqual((await run(input, 'filters:max_bytes(100)/a.png')).image.data, (await run(input, 'a.png')).image.data);
    assert.deepEqual(
      (await run(input, 'filters:format(webp):lossless():max_bytes(100)/a.png')).image.data,
      (await run(input, 'filters:format(webp):lossless()/a.png')).image.data,
    );
  });
});

describe('PNG knobs', () => {
  test('palette() writes an indexed PNG', async () => {
    const { image, decoded: d } = await run(await makeQuadrant(20, 20), 'filters:palette()/a.png');
    assert.equal((await sharp(image.data).metadata()).isPalette, true);
    assert.ok(near(d.pixel(2, 2), RED, 4));
  });
  test('bitdepth(1) writes two colours at one bit per pixel', async () => {
    const input = await sharp({ create: { width: 20, height: 10, channels: 3, background: RED } })
      .composite([{ input: { create: { width: 10, height: 10, channels: 3, background: BLUE } }, left: 10, top: 0 }])
      .png()
      .toBuffer();
    const { image, decoded: d } = await run(input, 'filters:bitdepth(1)/a.png');
    const meta = await sharp(image.data).metadata();
    assert.deepEqual([meta.isPalette, meta.bitsPerSample], [true, 1]);
    assert.ok(near(d.pixel(2, 2), RED, 4) && near(d.pixel(17, 2), BLUE, 4));
  });
  test('bitdepth(16) writes 16 bits per channel', async () => {
    const { image } = await run(await makeQuadrant(8, 8), 'filters:bitdepth(16)/a.png');
    assert.equal((await sharp(image.data).metadata()).depth, 'ushort');
  });
  test('compression(0) stores, compression(9) compresses', async () => {
    const input = await makeQuadrant(64, 64);
    const stored = await run(input, 'filters:compression(0)/a.png');
    const packed = await run(input, 'filters:compression(9)/a.png');
    assert.ok(stored.image.data.length > 64 * 64 * 3, `${stored.image.data.length}`);
    assert.ok(packed.image.data.length < stored.image.data.length / 10);
  });
  test('PNG knobs do not touch other formats', async () => {
    const { image } = await run(await makeQuadrant(8, 8), 'filters:palette():bitdepth(1):format(webp)/a.png');
    assert.equal(image.format, 'webp');
  });
});

describe('autojpg (thumbor AUTO_PNG_TO_JPG)', () => {
  test('an opaque PNG is written as JPEG', async () => {
    const { image } = await run(await makeQuadrant(10, 10), 'filters:autojpg()/a.png');
    assert.equal(image.format, 'jpeg');
  });
  test('a PNG with transparency stays PNG', async () => {
    const { image } = await run(await makeAlphaPng(30, 30), 'filters:autojpg()/a.png');
    assert.equal(image.format, 'png');
  });
  test('transparency flattened by a filter before it no longer counts', async () => {
    const { image } = await run(await makeAlphaPng(30, 30), 'filters:background_color(white):autojpg()/a.png');
    assert.equal(image.format, 'jpeg');
  });
  test('an explicit format() wins', async () => {
    const { image } = await run(await makeQuadrant(10, 10), 'filters:autojpg():format(png)/a.jpg');
    assert.equal(image.format, 'png');
  });
  test('autojpg(false) turns it off', async () => {
    const { image } = await run(await makeQuadrant(10, 10), 'filters:autojpg():autojpg(false)/a.png');
    assert.equal(image.format, 'png');
  });
});

describe('to_colorspace', () => {
  test('to_colorspace(p3) converts to Display P3 and attaches the profile', async () => {
    const { image, decoded: d } = await run(await makeSolid(8, 8, RED, 'png'), 'filters:to_colorspace(p3)/a.png');
    const meta = await sharp(image.data).metadata();
    assert.ok(meta.icc && meta.icc.length > 0);
    // sRGB red in Display P3 coordinates is about (0.917, 0.200, 0.139).
    const stored = await sharp(image.data, { ignoreIcc: true }).raw().toBuffer();
    assert.ok(near({ r: stored[0]!, g: stored[1]!, b: stored[2]! }, { r: 234, g: 51, b: 35 }, 3), `${[...stored.subarray(0, 3)]}`);
    // Colour-managed decoding gives red back.
    assert.ok(near(d.pixel(4, 4), RED, 3));
  });
  test('to_colorspace(cmyk) writes a CMYK JPEG', async () => {
    const { image } = await run(await makeSolid(8, 8, RED, 'jpeg'), 'filters:to_colorspace(cmyk)/a.jpg');
    const meta = await sharp(image.data).metadata();
    assert.deepEqual([meta.space, meta.channels], ['cmyk', 4]);
  });
  test('to_colorspace(cmyk) leaves a PNG in sRGB', async () => {
    const { image } = await run(await makeSolid(8, 8, RED, 'png'), 'filters:to_colorspace(cmyk)/a.png');
    assert.equal((await sharp(image.data).metadata()).space, 'srgb');
  });
  test('strip_icc() wins over to_colorspace()', async () => {
    const { image } = await run(await makeSolid(8, 8, RED, 'png'), 'filters:to_colorspace(p3):strip_icc()/a.png');
    assert.equal((await sharp(image.data).metadata()).icc, undefined);
  });
});

describe('strip_metadata', () => {
  test('drops EXIF and ICC', async () => {
    const input = await sharp(await makeExifRotatedJpeg(20, 10, 1)).withIccProfile('p3').keepExif().jpeg().toBuffer();
    const before = await sharp(input).metadata();
    assert.ok(before.exif && before.icc);
    const after = await sharp((await run(input, 'filters:strip_metadata()/a.jpg')).image.data).metadata();
    assert.deepEqual([after.exif, after.icc], [undefined, undefined]);
  });
});

describe('bad arguments are INVALID_PARAMS naming the filter', () => {
  const cases: Array<[string, RegExp]> = [
    ['max_bytes(0)', /^max_bytes: /],
    ['max_bytes(x)', /^max_bytes: /],
    ['max_bytes(-5)', /^max_bytes: /],
    ['palette(1)', /^palette: /],
    ['bitdepth(3)', /^bitdepth: .*1, 2, 4, 8 or 16/],
    ['bitdepth()', /^bitdepth: /],
    ['compression(10)', /^compression: /],
    ['compression(x)', /^compression: /],
    ['autojpg(maybe)', /^autojpg: /],
    ['autojpg(true,false)', /^autojpg: /],
    ['to_colorspace(adobergb)', /^to_colorspace: /],
    ['format(bmp2)', /^format: /],
    ['fallback_format(x)', /^fallback_format: /],
    ['quality(101)', /^quality: /],
    ['lossless(1)', /^lossless: /],
    ['strip_metadata(1)', /^strip_metadata: /],
  ];
  for (const [filter, detail] of cases) {
    test(filter, async () => {
      await assert.rejects(run(await makeQuadrant(8, 8), `filters:${filter}/a.png`), invalid(detail));
    });
  }
});
