// The meta endpoint's JSON (issue 4, imagor process.go metadata and exif.go): what the output is after the
// operations, the source's EXIF as libvips prints it and imagor shortens it (expected strings taken from imagor's
// golden testdata/golden/meta/Canon_40D.jpg.json), and the blurhash / thumbhash / avgcolor placeholders.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode as decodeBlurhash } from 'blurhash';
import sharp from 'sharp';
import { thumbHashToAverageRGBA } from 'thumbhash';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { describeImage, readExif, readMetaExtras, toGoJson } from '../../../src/process/meta.js';
import { processImage, type ProcessOptions } from '../../../src/process/process-image.js';
import { makeAnimated, makeExifRotatedJpeg, makeSolid, BLUE, LIME, RED, YELLOW } from '../../helpers/images.js';

// ---------------------------------------------------------------------------------------------------------
// A hand-made EXIF block (TIFF structure), so the test knows every byte libvips will see.

type Value = { type: number; count: number; bytes: Buffer };
type Ifd = Array<[number, Value | { ifd: 'exif' | 'gps' | 'interop' }]>;

function tiff(little: boolean, ifds: { ifd0: Ifd; exif?: Ifd; gps?: Ifd; interop?: Ifd; ifd1?: Ifd }): Buffer {
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    little ? b.writeUInt16LE(n) : b.writeUInt16BE(n);
    return b;
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    little ? b.writeUInt32LE(n) : b.writeUInt32BE(n);
    return b;
  };
  // Lay out: header, then each IFD followed by its out-of-line data.
  const chunks: Buffer[] = [];
  let size = 8;
  const offsets: Record<string, number> = {};
  const order = ['ifd0', 'ifd1', 'exif', 'gps', 'interop'] as const;
  const ifdSize = (ifd: Ifd) => 2 + ifd.length * 12 + 4 + ifd.reduce((n, [, v]) => n + ('bytes' in v && v.bytes.length > 4 ? v.bytes.length : 0), 0);
  for (const name of order) {
    const ifd = ifds[name];
    if (!ifd) continue;
    offsets[name] = size;
    size += ifdSize(ifd);
  }
  chunks.push(Buffer.from(little ? 'II' : 'MM', 'latin1'), u16(42), u32(8));
  for (const name of order) {
    const ifd = ifds[name];
    if (!ifd) continue;
    const start = offsets[name]!;
    let data = start + 2 + ifd.length * 12 + 4;
    const extra: Buffer[] = [];
    chunks.push(u16(ifd.length));
    for (const [tag, v] of ifd) {
      if ('ifd' in v) {
        chunks.push(u16(tag), u16(4), u32(1), u32(offsets[v.ifd]!));
        continue;
      }
      chunks.push(u16(tag), u16(v.type), u32(v.count));
      if (v.bytes.length <= 4) chunks.push(Buffer.concat([v.bytes, Buffer.alloc(4 - v.bytes.length)]));
      else {
        chunks.push(u32(data));
        extra.push(v.bytes);
        data += v.bytes.length;
      }
    }
    chunks.push(u32(name === 'ifd0' && ifds.ifd1 ? offsets.ifd1! : 0), ...extra);
  }
  return Buffer.concat(chunks);

  // (helpers below are hoisted)
}

function values(little: boolean) {
  const short = (...n: number[]): Value => ({ type: 3, count: n.length, bytes: Buffer.concat(n.map((x) => { const b = Buffer.alloc(2); little ? b.writeUInt16LE(x) : b.writeUInt16BE(x); return b; })) });
  const long = (n: number): Value => { const b = Buffer.alloc(4); little ? b.writeUInt32LE(n) : b.writeUInt32BE(n); return { type: 4, count: 1, bytes: b }; };
  const rational = (a: number, b: number, signed = false): Value => {
    const buf = Buffer.alloc(8);
    if (little) { signed ? buf.writeInt32LE(a) : buf.writeUInt32LE(a); signed ? buf.writeInt32LE(b, 4) : buf.writeUInt32LE(b, 4); }
    else { signed ? buf.writeInt32BE(a) : buf.writeUInt32BE(a); signed ? buf.writeInt32BE(b, 4) : buf.writeUInt32BE(b, 4); }
    return { type: signed ? 10 : 5, count: 1, bytes: buf };
  };
  const ascii = (s: string): Value => ({ type: 2, count: s.length + 1, bytes: Buffer.from(s + '\0', 'latin1') });
  const undef = (bytes: number[] | string): Value => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    return { type: 7, count: b.length, bytes: b };
  };
  const byte = (...n: number[]): Value => ({ type: 1, count: n.length, bytes: Buffer.from(n) });
  return { short, long, rational, ascii, undef, byte };
}

function canonLikeExif(little: boolean): Buffer {
  const v = values(little);
  return tiff(little, {
    ifd0: [
      [0x010f, v.ascii('Canon')],
      [0x0110, v.ascii('Canon EOS 40D')],
      [0x0112, v.short(1)],
      [0x011a, v.rational(72, 1)],
      [0x0131, v.ascii('GIMP 2.4.5')],
      [0x0132, v.ascii('2008:07:31 10:38:11')],
      [0x0102, v.short(8, 8, 8)],
      [0xabcd, v.short(7)], // unknown to libexif: dropped
      [0x8769, { ifd: 'exif' }],
      [0x8825, { ifd: 'gps' }],
    ],
    exif: [
      [0x829d, v.rational(71, 10)],
      [0x8827, v.short(100)],
      [0x9000, v.undef('0221')],
      [0x9101, v.undef([1, 2, 3, 0])],
      [0x9202, v.rational(368640, 65536)],
      [0x9204, v.rational(0, 1, true)],
      [0x9290, v.ascii('00')],
      [0xa000, v.undef('0100')],
      [0xa002, v.long(100)],
      [0x927c, v.undef([1, 2, 3, 4, 5, 6, 7, 8, 9])],
      [0xa005, { ifd: 'interop' }],
    ],
    gps: [[0x0000, v.byte(2, 2, 0, 0)]],
    interop: [
      [0x0001, v.ascii('R98')],
      [0x0002, v.undef('0100')],
    ],
    ifd1: [
      [0x0103, v.short(6)],
      [0x011a, v.rational(300, 1)], // IFD0's value is kept
      [0x0201, v.long(1234)], // the thumbnail's offset is not a tag to libexif
    ],
  });
}

/** imagor's golden meta for Canon_40D.jpg has these strings for these entries. */
const CANON_EXPECTED = {
  ApertureValue: '368640/65536',
  BitsPerSample: '8 8 8',
  ComponentsConfiguration: 'Y Cb Cr -',
  Compression: '6',
  DateTime: '2008:07:31 10:38:11',
  ExifVersion: 'Exif Version 2.21',
  ExposureBiasValue: '0/1',
  FNumber: '71/10',
  FlashpixVersion: 'FlashPix Version 1.0',
  GPSVersionID: '2.2.0.0',
  ISOSpeedRatings: '100',
  InteroperabilityIndex: 'R98',
  InteroperabilityVersion: '0100',
  Make: 'Canon',
  MakerNote: '9 bytes undefined data',
  Model: 'Canon EOS 40D',
  Orientation: '1',
  PixelXDimension: '100',
  Software: 'GIMP 2.4.5',
  SubsecTime: '00',
  XResolution: '72/1',
};

/** A JPEG with `exif` in an APP1 segment right after SOI. */
async function jpegWithExif(exif: Buffer, width = 40, height = 30): Promise<Buffer> {
  const jpeg = await makeSolid(width, height, BLUE, 'jpeg');
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exif]);
  const app1 = Buffer.alloc(4);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), app1, payload, jpeg.subarray(2)]);
}

describe('readExif', () => {
  for (const little of [true, false]) {
    test(`prints a ${little ? 'little' : 'big'}-endian block as imagor's meta does`, () => {
      assert.deepEqual(readExif(Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), canonLikeExif(little)])), CANON_EXPECTED);
    });
  }
  test('keys come out sorted, as Go marshals a map', () => {
    const keys = Object.keys(readExif(canonLikeExif(true)));
    assert.deepEqual(keys, [...keys].sort());
  });
  test('nothing, garbage or a truncated block gives no entries and no error', () => {
    assert.deepEqual(readExif(undefined), {});
    assert.deepEqual(readExif(Buffer.from('not exif at all')), {});
    const block = canonLikeExif(true);
    for (let n = 0; n < block.length; n += 7) assert.doesNotThrow(() => readExif(block.subarray(0, n)));
  });
  test('a loop of IFDs ends', () => {
    const b = Buffer.from(canonLikeExif(true));
    // IFD0's next-IFD pointer back to IFD0 itself.
    const n = b.readUInt16LE(8);
    b.writeUInt32LE(8, 8 + 2 + n * 12);
    assert.equal(readExif(b).Make, 'Canon');
  });
});

describe('meta extras', () => {
  test('read blurhash components, thumbhash and avgcolor', () => {
    assert.deepEqual(readMetaExtras([{ name: 'blurhash', args: '4,3' }, { name: 'thumbhash', args: '' }, { name: 'avgcolor', args: '' }]), {
      blurhash: { x: 4, y: 3 },
      thumbhash: true,
      avgcolor: true,
    });
  });
  const bad: Array<[string, string]> = [['blurhash', '0,3'], ['blurhash', '4,10'], ['blurhash', '4'], ['blurhash', 'a,b'], ['blurhash', '4,3,2'], ['thumbhash', '1'], ['avgcolor', 'x']];
  for (const [name, args] of bad) {
    test(`${name}(${args}) is a 400`, () =>
      assert.throws(() => readMetaExtras([{ name, args }]), (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && (e.publicDetail ?? '').startsWith(name)));
  }
});

describe('toGoJson', () => {
  test('escapes what Go escapes', () => assert.equal(toGoJson({ a: '<b>&\u2028' }), '{"a":"\\u003cb\\u003e\\u0026\\u2028"}'));
});

// ---------------------------------------------------------------------------------------------------------

async function meta(input: Buffer, path: string, options: ProcessOptions = {}) {
  const result = await describeImage(input, parseImagorPath(`unsafe/meta/${path}`), options);
  assert.deepEqual(JSON.parse(result.body.toString()), JSON.parse(JSON.stringify(result.meta)));
  return result.meta;
}

describe('describeImage', () => {
  test('describes the output after the operations', async () => {
    const m = await meta(await makeSolid(100, 80, RED, 'png'), 'fit-in/50x50/a.png');
    assert.deepEqual(m, { format: 'png', content_type: 'image/png', width: 50, height: 40, orientation: 0, pages: 1, bands: 3, exif: {} });
  });

  test('follows the output format', async () => {
    const m = await meta(await makeSolid(100, 80, RED, 'png'), '20x10/filters:format(webp)/a.png');
    assert.deepEqual([m.format, m.content_type, m.width, m.height], ['webp', 'image/webp', 20, 10]);
  });

  test('an animated GIF keeps its pages; as JPEG it has one (imagor golden dancing-banana.gif.json)', async () => {
    const gif = await makeAnimated('gif', 40, 30, [RED, LIME, BLUE]);
    const animated = await meta(gif, 'fit-in/20x20/a.gif');
    assert.deepEqual([animated.format, animated.pages, animated.width, animated.height, animated.bands], ['gif', 3, 20, 15, 4]);
    const still = await meta(gif, 'fit-in/20x20/filters:format(jpg)/a.gif');
    assert.deepEqual([still.format, still.content_type, still.pages], ['jpeg', 'image/jpeg', 1]);
  });

  test('shows the source EXIF, and none after strip_exif', async () => {
    const jpeg = await jpegWithExif(canonLikeExif(true));
    const m = await meta(jpeg, 'fit-in/20x20/a.jpg');
    assert.deepEqual(m.exif, CANON_EXPECTED);
    assert.equal(m.orientation, 1);
    assert.deepEqual((await meta(jpeg, 'filters:strip_exif()/a.jpg')).exif, {});
  });

  describe('lists EXIF only when the processed image carries it', () => {
    const mark = makeSolid(10, 10, YELLOW, 'png');
    const cases: ReadonlyArray<readonly [path: string, options: ProcessOptions, carries: boolean]> = [
      ['fit-in/20x20/a.jpg', {}, true],
      ['filters:format(png)/a.jpg', {}, true],
      ['filters:format(webp)/a.jpg', {}, true],
      // effects restart from raw pixels, which have no metadata left to give
      ['filters:grayscale()/a.jpg', {}, false],
      ['fit-in/20x20/filters:grayscale():format(png)/a.jpg', {}, false],
      ['filters:watermark(m.png,0,0,0)/a.jpg', {}, false],
      ['trim/a.jpg', {}, false],
      ['filters:strip_exif()/a.jpg', {}, false],
      ['a.jpg', { stripMetadata: true }, false],
      // GIF and TIFF writers store no EXIF
      ['filters:format(gif)/a.jpg', {}, false],
      ['filters:format(tiff)/a.jpg', {}, false],
    ];
    for (const [path, options, carries] of cases) {
      test(`${path}${options.stripMetadata ? ' (VIPS_STRIP_METADATA)' : ''}: ${carries ? 'the source EXIF' : 'none'}, as in the processed bytes`, async () => {
        const jpeg = await jpegWithExif(canonLikeExif(true));
        const withOverlays: ProcessOptions = { ...options, loadImage: async () => mark };
        const m = await meta(jpeg, path, withOverlays);
        const output = await processImage(jpeg, parseImagorPath(`unsafe/${path}`), withOverlays);
        const exifInBytes = (await sharp(output.image.data).metadata()).exif !== undefined;
        assert.equal(exifInBytes, carries, 'the processed bytes');
        assert.deepEqual(m.exif, carries ? CANON_EXPECTED : {});
      });
    }
  });

  test('an image turned upright by its EXIF orientation reports 0 and the turned size', async () => {
    const m = await meta(await makeExifRotatedJpeg(60, 40, 6), 'a.jpg');
    assert.deepEqual([m.orientation, m.width, m.height], [0, 40, 60]);
    assert.equal(m.exif.Orientation, '6');
  });

  test('a color: image has no EXIF', async () => {
    const m = await meta(Buffer.alloc(0), '30x20/color:red');
    assert.deepEqual([m.format, m.width, m.height, m.exif], ['jpeg', 30, 20, {}]);
  });

  test('describes what overlays made of it', async () => {
    const mark = await makeSolid(10, 10, YELLOW, 'png');
    const m = await meta(await makeSolid(100, 80, RED, 'jpeg'), 'fit-in/50x50/filters:watermark(m.png,0,0,0)/a.jpg', { loadImage: async () => mark });
    // libvips' composite writes an alpha band: imagor reports 4.
    assert.deepEqual([m.width, m.height, m.bands], [50, 40, 4]);
  });

  test('avgcolor is the average colour, transparency counted as white', async () => {
    const m = await meta(await makeSolid(64, 32, { r: 10, g: 200, b: 90 }, 'png'), 'filters:avgcolor()/a.png');
    assert.deepEqual(m.average_color, { r: 10, g: 200, b: 90 });
    const half = Buffer.alloc(4 * 4 * 4);
    for (let i = 0; i < 16; i++) half.set(i < 8 ? [0, 0, 0, 255] : [0, 0, 0, 0], i * 4);
    const png = await sharp(half, { raw: { width: 4, height: 4, channels: 4 } }).png().toBuffer();
    const grey = (await meta(png, 'filters:avgcolor()/a.png')).average_color!;
    assert.ok(Math.abs(grey.r - 128) <= 2 && grey.r === grey.g && grey.g === grey.b, JSON.stringify(grey));
  });

  test('blurhash decodes back to the image\'s colour and has 4 + 2xy characters', async () => {
    const colour = { r: 40, g: 120, b: 220 };
    const m = await meta(await makeSolid(80, 60, colour, 'png'), 'filters:blurhash(4,3)/a.png');
    assert.equal(m.blurhash?.length, 4 + 2 * 4 * 3);
    // blurhash's cosine basis is not orthogonal on a pixel grid, so a flat image decodes only nearly flat.
    const pixels = decodeBlurhash(m.blurhash!, 4, 4);
    for (let i = 0; i < 16; i++) {
      const px = [...pixels.subarray(i * 4, i * 4 + 3)];
      assert.ok(Math.abs(px[0]! - colour.r) <= 16 && Math.abs(px[1]! - colour.g) <= 16 && Math.abs(px[2]! - colour.b) <= 16, JSON.stringify(px));
    }
  });

  test('thumbhash is standard base64 whose average is the image\'s colour', async () => {
    const m = await meta(await makeSolid(80, 60, { r: 200, g: 40, b: 40 }, 'png'), 'filters:thumbhash()/a.png');
    assert.match(m.thumbhash ?? '', /^[A-Za-z0-9+/]+=*$/);
    const avg = thumbHashToAverageRGBA(Buffer.from(m.thumbhash!, 'base64'));
    assert.ok(Math.abs(avg.r * 255 - 200) < 12 && Math.abs(avg.g * 255 - 40) < 12 && Math.abs(avg.b * 255 - 40) < 12, JSON.stringify(avg));
    assert.ok(avg.a > 0.99);
  });

  test('bad meta filter arguments are a 400 even in lenient mode (imagor answers 400)', async () => {
    await assert.rejects(
      meta(await makeSolid(8, 8, RED, 'png'), 'filters:blurhash(0,3)/a.png', { lenientFilters: true }),
      (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS',
    );
  });
});
