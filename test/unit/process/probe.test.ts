import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { resolveLimits } from '../../../src/policy/limits.js';
import { sniffBytes } from '../../../src/policy/sniff.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { colourSource, probeImage, readHeaderSize } from '../../../src/process/probe.js';
import {
  jpegHeaderBomb,
  makeAlphaPng,
  makeAnimated,
  makeExifRotatedJpeg,
  makeQuadrant,
  makeSolid,
  pngHeaderBomb,
  BLUE,
  LIME,
  RED,
} from '../../helpers/images.js';

const limits = resolveLimits();
const code = (c: string) => (e: unknown) => isPixgateError(e) && e.code === c;

/**
 * A BMP as Microsoft lays it out: 14-byte file header, 40-byte BITMAPINFOHEADER (or `infoSize` zeros-padded),
 * then 24-bit bottom-up rows padded to 4 bytes, all one colour; `rows` may be cut short to forge a header.
 */
function bmp24(width: number, height: number, opts: { rows?: number; infoSize?: number; alphaMask?: boolean } = {}): Buffer {
  const infoSize = opts.infoSize ?? 40;
  const stride = Math.ceil((width * 3) / 4) * 4;
  const pixels = Buffer.alloc(stride * (opts.rows ?? Math.abs(height)), 0x40);
  const file = Buffer.alloc(14 + Math.max(40, infoSize));
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length + pixels.length, 2);
  file.writeUInt32LE(14 + infoSize, 10);
  file.writeUInt32LE(infoSize, 14);
  file.writeInt32LE(width, 18);
  file.writeInt32LE(height, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  if (opts.alphaMask) {
    // 32-bit BI_BITFIELDS with a V4 header's alpha mask.
    file.writeUInt16LE(32, 28);
    file.writeUInt32LE(3, 30);
    file.writeUInt32LE(0x00ff0000, 54);
    file.writeUInt32LE(0x0000ff00, 58);
    file.writeUInt32LE(0x000000ff, 62);
    file.writeUInt32LE(0xff000000, 66);
    return Buffer.concat([file, Buffer.alloc(width * 4 * Math.abs(height), 0x80)]);
  }
  return Buffer.concat([file, pixels]);
}

describe('readHeaderSize', () => {
  for (const format of ['jpeg', 'png', 'gif', 'webp'] as const) {
    test(`reads the size of a ${format} header`, async () => {
      const image = await makeQuadrant(123, 45, format);
      assert.deepEqual(readHeaderSize(image, sniffBytes(image)), { width: 123, height: 45 });
    });
  }
  test('reads a lossy WebP (VP8)', async () => {
    const image = await sharp({ create: { width: 77, height: 33, channels: 3, background: RED } }).webp({ quality: 50 }).toBuffer();
    assert.deepEqual(readHeaderSize(image, 'webp'), { width: 77, height: 33 });
  });
  test('reads an extended WebP (VP8X)', async () => {
    const image = await makeAnimated('webp', 31, 17, [RED, LIME]);
    assert.deepEqual(readHeaderSize(image, 'webp'), { width: 31, height: 17 });
  });
  test('reads the forged sizes of the bombs', async () => {
    assert.deepEqual(readHeaderSize(pngHeaderBomb(), 'png'), { width: 16000, height: 16000 });
    assert.deepEqual(readHeaderSize(await jpegHeaderBomb(), 'jpeg'), { width: 65535, height: 65535 });
  });
  test('reads the size of a BMP header, rows counted either way', () => {
    assert.deepEqual(readHeaderSize(bmp24(123, 45), 'bmp'), { width: 123, height: 45 });
    assert.deepEqual(readHeaderSize(bmp24(123, -45), 'bmp'), { width: 123, height: 45 });
    assert.deepEqual(readHeaderSize(bmp24(65535, 65535, { rows: 0 }), 'bmp'), { width: 65535, height: 65535 });
  });
  test('gives up on a JPEG without a frame header', () => {
    assert.equal(readHeaderSize(Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]), 'jpeg'), undefined);
    assert.equal(readHeaderSize(Buffer.from([0xff, 0xd8, 0xff]), 'jpeg'), undefined);
  });
});

describe('probeImage', () => {
  test('describes a JPEG', async () => {
    const info = await probeImage(await makeSolid(64, 32, RED), limits);
    assert.deepEqual(
      [info.format, info.width, info.height, info.pages, info.orientation, info.hasAlpha, info.animated],
      ['jpeg', 64, 32, 1, 1, false, false],
    );
  });
  test('sees the alpha channel of a PNG', async () => {
    const info = await probeImage(await makeAlphaPng(30, 30), limits);
    assert.deepEqual([info.format, info.hasAlpha], ['png', true]);
  });
  test('counts the frames of an animated GIF and reads its delays', async () => {
    const info = await probeImage(await makeAnimated('gif', 20, 10, [RED, LIME, BLUE], 50), limits);
    assert.deepEqual([info.format, info.width, info.height, info.pages, info.animated], ['gif', 20, 10, 3, true]);
    assert.deepEqual(info.delay, [50, 50, 50]);
  });
  test('counts the frames of an animated WebP', async () => {
    const info = await probeImage(await makeAnimated('webp', 20, 10, [RED, LIME]), limits);
    assert.deepEqual([info.format, info.height, info.pages, info.animated], ['webp', 10, 2, true]);
  });
  test('reads the EXIF orientation without turning the size', async () => {
    const info = await probeImage(await makeExifRotatedJpeg(40, 20), limits);
    assert.deepEqual([info.width, info.height, info.orientation], [40, 20, 6]);
  });
  test('an AVIF is an avif source', async () => {
    const info = await probeImage(await makeQuadrant(32, 16, 'avif'), limits);
    assert.deepEqual([info.format, info.width, info.height], ['avif', 32, 16]);
  });

  test('describes a BMP from its own header (libvips has no BMP loader)', async () => {
    const info = await probeImage(bmp24(64, 32), limits);
    assert.deepEqual(
      [info.format, info.width, info.height, info.pages, info.orientation, info.hasAlpha, info.animated],
      ['bmp', 64, 32, 1, 1, false, false],
    );
    assert.deepEqual([(await probeImage(bmp24(5, -7), limits)).height, (await probeImage(bmp24(2, 2, { infoSize: 108, alphaMask: true }), limits)).hasAlpha], [7, true]);
  });
  test('refuses a BMP over a configured width', async () => {
    await assert.rejects(probeImage(bmp24(300, 10), resolveLimits({ maxWidth: 200 })), code('TOO_MANY_PIXELS'));
  });

  // The bombs never reach a decoder: our own header read refuses them.
  for (const [name, make] of [
    ['a 16000x16000 PNG header', async () => pngHeaderBomb()],
    ['a 65535x65535 JPEG header', () => jpegHeaderBomb()],
    ['a 65535x65535 BMP header with no pixels', async () => bmp24(65535, 65535, { rows: 0 })],
    ['a 65535x65535 BMP header with a V5 header and one row', async () => bmp24(65535, 65535, { rows: 1, infoSize: 124 })],
  ] as const) {
    test(`refuses ${name} in milliseconds`, async () => {
      const bomb = await make();
      const started = performance.now();
      await assert.rejects(probeImage(bomb, limits), code('TOO_MANY_PIXELS'));
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 50, `took ${elapsed.toFixed(1)} ms`);
    });
  }
  test('refuses an SVG that declares 100000x100000 pixels without rendering it', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><rect width="10" height="10"/></svg>');
    const started = performance.now();
    await assert.rejects(probeImage(svg, limits), code('TOO_MANY_PIXELS'));
    assert.ok(performance.now() - started < 200);
  });
  test('refuses a PNG over a configured width', async () => {
    await assert.rejects(probeImage(await makeSolid(300, 10, RED, 'png'), resolveLimits({ maxWidth: 200 })), code('TOO_MANY_PIXELS'));
  });
  test('accepts a tall image whose upright form fits (EXIF orientation 6)', async () => {
    await assert.doesNotReject(probeImage(await makeExifRotatedJpeg(300, 100), resolveLimits({ maxWidth: 200, maxHeight: 400 })));
  });

  const notImages: Array<[string, Buffer]> = [
    ['an empty body', Buffer.alloc(0)],
    ['HTML', Buffer.from('<!doctype html><html><body>hi</body></html>')],
    ['a PDF', Buffer.from('%PDF-1.7\n1 0 obj\n')],
    ['a BMP without an info header', Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)])],
    ['a BMP whose rows are cut off', bmp24(20, 20, { rows: 10 })],
    ['an OS/2 1.x BMP (12-byte core header)', bmp24(2, 2, { infoSize: 12 })],
    ['random bytes', Buffer.from('not an image at all, just text')],
    ['a JPEG signature with garbage', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00])],
  ];
  for (const [name, body] of notImages) {
    test(`refuses ${name} as UNSUPPORTED_FORMAT`, async () => {
      await assert.rejects(probeImage(body, limits), code('UNSUPPORTED_FORMAT'));
    });
  }
});

describe('colourSource', () => {
  test('is 1x1 by default', () => assert.deepEqual([colourSource('color:red', 0, 0, limits).width, colourSource('color:red', 0, 0, limits).height], [1, 1]));
  test('copies one given side to the other', () => {
    const s = colourSource('color:red', 0, 30, limits);
    assert.deepEqual([s.width, s.height], [30, 30]);
  });
  test('reads alpha from an 8-digit hex colour', () => {
    const s = colourSource('color:ff000080', 2, 2, limits);
    assert.equal(s.hasAlpha, true);
    assert.ok(Math.abs((s.colour?.alpha ?? 0) - 128 / 255) < 1e-9);
  });
  test('transparent has alpha 0', () => assert.equal(colourSource('color:transparent', 2, 2, limits).colour?.alpha, 0));
  test('refuses more pixels than the resolution limit', () => {
    assert.throws(() => colourSource('color:red', 10_000, 10_000, limits), code('TOO_MANY_PIXELS'));
  });
  test('clamps each side to the width and height limits', () => {
    const s = colourSource('color:red', 20_000, 100, limits);
    assert.deepEqual([s.width, s.height], [9999, 100]);
  });
  test('an unknown colour is INVALID_PARAMS', () => assert.throws(() => colourSource('color:nope', 1, 1, limits), code('INVALID_PARAMS')));
});
