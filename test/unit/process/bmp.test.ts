// The BMP decoder (issue 3: "bmp/svg/pdf sources give JPEG"; sharp's libvips has no BMP loader). Every file
// here is written byte by byte after Microsoft's layout (BITMAPFILEHEADER, BITMAPINFOHEADER/V4/V5, masks,
// RGBQUAD palette, rows padded to 4 bytes, bottom-up unless the height is negative), and the expected pixels are
// the colours written into it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { resolveLimits, type Limits } from '../../../src/policy/limits.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { decodeBmp, decodeBmpInSteps, readBmpHeader, readBmpSize } from '../../../src/process/bmp.js';

const limits = resolveLimits();
const code = (c: string) => (e: unknown) => isPixgateError(e) && e.code === c;

interface Spec {
  width: number;
  /** Negative: rows stored top-down. */
  height: number;
  bpp: number;
  compression?: number;
  /** 40, 52, 56, 108 or 124 (or anything, to test refusals). */
  infoSize?: number;
  /** Written after a 40-byte header for BI_BITFIELDS/BI_ALPHABITFIELDS, inside longer headers at offset 54. */
  masks?: readonly number[];
  /** BGRA quads' colours as [r, g, b]. */
  palette?: ReadonlyArray<readonly [number, number, number]>;
  clrUsed?: number;
  planes?: number;
  sizeImage?: number;
  /** Pixel bytes exactly as stored. */
  data: readonly number[];
  /** Override bfOffBits. */
  dataOffset?: number;
}

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
const le16 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff];

function bmp(s: Spec): Buffer {
  const infoSize = s.infoSize ?? 40;
  const info: number[] = [
    ...le32(infoSize), ...le32(s.width), ...le32(s.height), ...le16(s.planes ?? 1), ...le16(s.bpp),
    ...le32(s.compression ?? 0), ...le32(s.sizeImage ?? 0), ...le32(2835), ...le32(2835),
    ...le32(s.clrUsed ?? (s.palette?.length ?? 0)), ...le32(0),
  ];
  const masks = (s.masks ?? []).flatMap(le32);
  if (infoSize > 40) {
    info.push(...masks);
    while (info.length < infoSize) info.push(0);
    info.length = infoSize;
  } else {
    info.push(...masks);
  }
  const palette = (s.palette ?? []).flatMap(([r, g, b]) => [b, g, r, 0]);
  const offset = s.dataOffset ?? 14 + info.length + palette.length;
  const size = 14 + info.length + palette.length + s.data.length;
  return Buffer.from([0x42, 0x4d, ...le32(size), 0, 0, 0, 0, ...le32(offset), ...info, ...palette, ...s.data]);
}

/** Decoded pixels as [r, g, b] or [r, g, b, a] per pixel, rows top first. */
function pixels(file: Uint8Array, l: Limits = limits): number[][] {
  const d = decodeBmp(file, l);
  const out: number[][] = [];
  for (let i = 0; i < d.data.length; i += d.channels) out.push([...d.data.subarray(i, i + d.channels)]);
  assert.equal(out.length, d.width * d.height);
  return out;
}

// A 3x2 picture: top row red, lime, blue; bottom row white, black, (10, 20, 30).
const TOP = [[255, 0, 0], [0, 255, 0], [0, 0, 255]];
const BOTTOM = [[255, 255, 255], [0, 0, 0], [10, 20, 30]];
const bgr = (row: number[][]): number[] => row.flatMap(([r, g, b]) => [b!, g!, r!]);
const pad = (row: number[], stride: number): number[] => [...row, ...Array<number>(stride - row.length).fill(0)];

describe('decodeBmp: uncompressed', () => {
  test('reads a bottom-up 24-bit image, rows padded to 4 bytes', () => {
    const file = bmp({ width: 3, height: 2, bpp: 24, data: [...pad(bgr(BOTTOM), 12), ...pad(bgr(TOP), 12)] });
    assert.deepEqual(pixels(file), [...TOP, ...BOTTOM]);
  });

  test('reads a top-down 24-bit image (negative height)', () => {
    const file = bmp({ width: 3, height: -2, bpp: 24, data: [...pad(bgr(TOP), 12), ...pad(bgr(BOTTOM), 12)] });
    assert.deepEqual(pixels(file), [...TOP, ...BOTTOM]);
    assert.equal(readBmpHeader(file).topDown, true);
  });

  test('accepts a last row without its padding', () => {
    const file = bmp({ width: 3, height: 2, bpp: 24, data: [...pad(bgr(BOTTOM), 12), ...bgr(TOP)] });
    assert.deepEqual(pixels(file), [...TOP, ...BOTTOM]);
  });

  test('reads a V5 header the same way', () => {
    const file = bmp({ width: 3, height: 2, bpp: 24, infoSize: 124, data: [...pad(bgr(BOTTOM), 12), ...pad(bgr(TOP), 12)] });
    assert.deepEqual(pixels(file), [...TOP, ...BOTTOM]);
  });

  test('reads 32-bit BI_RGB as opaque RGB, ignoring the fourth byte', () => {
    const row = (r: number[][]) => r.flatMap(([red, g, b]) => [b!, g!, red!, 0x7f]);
    const file = bmp({ width: 3, height: 2, bpp: 32, data: [...row(BOTTOM), ...row(TOP)] });
    const d = decodeBmp(file, limits);
    assert.equal(d.channels, 3);
    assert.deepEqual(pixels(file), [...TOP, ...BOTTOM]);
  });

  test('reads 32-bit bit fields with an alpha mask (V4 header) as RGBA', () => {
    // Masks in an unusual order, to show they are read: R in the low byte, A in the high byte.
    const masks = [0x000000ff, 0x0000ff00, 0x00ff0000, 0xff000000];
    const px = (r: number, g: number, b: number, a: number) => [r, g, b, a];
    const file = bmp({ width: 2, height: 1, bpp: 32, compression: 3, infoSize: 108, masks, data: [...px(200, 100, 50, 128), ...px(1, 2, 3, 255)] });
    assert.deepEqual(pixels(file), [[200, 100, 50, 128], [1, 2, 3, 255]]);
  });

  test('shows 32-bit bit fields whose alpha is zero everywhere as opaque', () => {
    const masks = [0x00ff0000, 0x0000ff00, 0x000000ff, 0xff000000];
    const file = bmp({ width: 2, height: 1, bpp: 32, compression: 3, infoSize: 124, masks, data: [50, 100, 200, 0, 3, 2, 1, 0] });
    assert.deepEqual(pixels(file), [[200, 100, 50, 255], [1, 2, 3, 255]]);
  });

  test('reads BI_ALPHABITFIELDS: four masks after a 40-byte header', () => {
    const masks = [0x0f00, 0x00f0, 0x000f, 0xf000];
    const file = bmp({ width: 1, height: 1, bpp: 16, compression: 6, masks, data: [...le16(0x8f0f), 0, 0] });
    // 4-bit fields scaled to 8 bits: 15 -> 255, 0 -> 0, 8 -> 136.
    assert.deepEqual(pixels(file), [[255, 0, 255, 136]]);
  });

  test('reads 16-bit BI_RGB as 5-5-5 and scales 5 bits to 8', () => {
    const values = [0x7c00, 0x03e0, 0x001f, 0x4210, 0xffff];
    const file = bmp({ width: 5, height: 1, bpp: 16, data: [...values.flatMap(le16), 0, 0] });
    // 16/31 of 255 is 131.6; the unused top bit of 0xffff is ignored.
    assert.deepEqual(pixels(file), [[255, 0, 0], [0, 255, 0], [0, 0, 255], [132, 132, 132], [255, 255, 255]]);
  });

  test('reads 16-bit 5-6-5 bit fields', () => {
    const values = [0xf800, 0x07e0, 0x001f, 0x0400];
    const file = bmp({ width: 4, height: 1, bpp: 16, compression: 3, masks: [0xf800, 0x07e0, 0x001f], data: values.flatMap(le16) });
    // 32/63 of 255 is 129.5.
    assert.deepEqual(pixels(file), [[255, 0, 0], [0, 255, 0], [0, 0, 255], [0, 130, 0]]);
    assert.equal(decodeBmp(file, limits).channels, 3);
  });
});

describe('decodeBmp: palettes', () => {
  const palette = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 8, 7]] as const;

  test('reads an 8-bit palette image with biClrUsed entries', () => {
    const file = bmp({ width: 3, height: 2, bpp: 8, palette, data: [3, 0, 1, 0, 2, 1, 0, 0] });
    assert.deepEqual(pixels(file), [[0, 0, 255], [0, 255, 0], [255, 0, 0], [9, 8, 7], [255, 0, 0], [0, 255, 0]]);
  });

  test('reads a 4-bit image of odd width, high nibble first', () => {
    // Rows of 3 pixels: 2 bytes, padded to 4.
    const file = bmp({ width: 3, height: 2, bpp: 4, palette, data: [0x01, 0x20, 0, 0, 0x33, 0x10, 0, 0] });
    assert.deepEqual(pixels(file), [[9, 8, 7], [9, 8, 7], [0, 255, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]);
  });

  test('reads a 1-bit image across a byte boundary, most significant bit first', () => {
    const bw = [[0, 0, 0], [255, 255, 255]] as const;
    // 10 pixels: 1011001110 -> 0b10110011, 0b10xxxxxx.
    const file = bmp({ width: 10, height: 1, bpp: 1, palette: bw, data: [0b10110011, 0b10000000, 0, 0] });
    const bits = [1, 0, 1, 1, 0, 0, 1, 1, 1, 0];
    assert.deepEqual(pixels(file), bits.map((b) => (b ? [255, 255, 255] : [0, 0, 0])));
  });

  test('reads a full palette when biClrUsed is 0, and indices past a short palette as black', () => {
    const full = bmp({ width: 1, height: 1, bpp: 1, palette: [[1, 2, 3], [4, 5, 6]], clrUsed: 0, data: [0x80, 0, 0, 0] });
    assert.deepEqual(pixels(full), [[4, 5, 6]]);
    const short = bmp({ width: 2, height: 1, bpp: 8, palette: [[1, 2, 3]], data: [0, 200, 0, 0] });
    assert.deepEqual(pixels(short), [[1, 2, 3], [0, 0, 0]]);
  });

  test('decodes RLE8: runs, an absolute run, end of line, a delta and end of bitmap', () => {
    // 5x3, bottom row first. Row 0: a run of two 1s, an absolute run [2, 3, 1] (3 bytes and a pad byte), end
    // of line. Then a delta of (+1, +1) from (0, 1) to (1, 2), which skips row 1 and the first pixel of row 2,
    // a run of three 3s, end of bitmap. (An absolute run is at least 3 long: 0 0, 0 1 and 0 2 are escapes.)
    const data = [2, 1, 0, 3, 2, 3, 1, 0, 0, 0, 0, 2, 1, 1, 3, 3, 0, 1];
    const file = bmp({ width: 5, height: 3, bpp: 8, compression: 1, palette, data });
    const [red, lime, blue, other] = palette.map((c) => [...c]);
    assert.deepEqual(pixels(file), [
      red, other, other, other, red, // top row (file row 2): skipped pixels read as entry 0
      red, red, red, red, red, // file row 1, skipped whole
      lime, lime, blue, other, lime, // bottom row (file row 0)
    ]);
  });

  test('decodes an RLE8 absolute run of odd length with its pad byte', () => {
    const file = bmp({ width: 3, height: 1, bpp: 8, compression: 1, palette, data: [0, 3, 1, 2, 3, 0xee, 0, 1] });
    assert.deepEqual(pixels(file), [[0, 255, 0], [0, 0, 255], [9, 8, 7]]);
  });

  test('drops what a run-length row writes past its width (ImageMagick writes the row padding as pixels)', () => {
    // Width 3, as ImageMagick writes it: the 3 pixels, then the 1 padding byte as a run, end of line, end.
    const rle8 = bmp({ width: 3, height: 1, bpp: 8, compression: 1, palette, data: [0, 3, 1, 2, 3, 0, 1, 0, 0, 0, 0, 1] });
    assert.deepEqual(pixels(rle8), [[0, 255, 0], [0, 0, 255], [9, 8, 7]]);
    const rle4 = bmp({ width: 3, height: 1, bpp: 4, compression: 2, palette, data: [4, 0x23, 0, 0, 0, 1] });
    assert.deepEqual(pixels(rle4), [[0, 0, 255], [9, 8, 7], [0, 0, 255]]);
  });

  test('decodes RLE4: alternating nibbles in runs and packed absolute runs', () => {
    // Run of 3 from 0x12: 1, 2, 1; absolute 3 pixels 0x30 0x10 -> 3, 0, 1 (2 bytes, already a word).
    const file = bmp({ width: 6, height: 1, bpp: 4, compression: 2, palette, data: [3, 0x12, 0, 3, 0x30, 0x10, 0, 1] });
    const c = palette.map((x) => [...x]);
    assert.deepEqual(pixels(file), [c[1], c[2], c[1], c[3], c[0], c[1]]);
  });

  test('reads run-length data no further than biSizeImage when it is given', () => {
    // A run, end of line (the last row is done), then a run past the last row.
    const data = [2, 1, 0, 0, 2, 2];
    const bounded = bmp({ width: 2, height: 1, bpp: 8, compression: 1, palette, data, sizeImage: 4 });
    assert.deepEqual(pixels(bounded), [[0, 255, 0], [0, 255, 0]]);
    const unbounded = bmp({ width: 2, height: 1, bpp: 8, compression: 1, palette, data });
    assert.throws(() => decodeBmp(unbounded, limits), code('UNSUPPORTED_FORMAT'));
  });
});

describe('decodeBmp: refusals', () => {
  const good = { width: 1, height: 1, bpp: 24, data: [1, 2, 3, 0] };
  const malformed: Array<[string, Buffer]> = [
    ['a core (OS/2 1.x) header', bmp({ ...good, infoSize: 12 })],
    ['an OS/2 2.x header', bmp({ ...good, infoSize: 64 })],
    ['a zero width', bmp({ ...good, width: 0 })],
    ['a negative width', bmp({ ...good, width: -1 })],
    ['a zero height', bmp({ ...good, height: 0 })],
    ['two planes', bmp({ ...good, planes: 2 })],
    ['2 bits per pixel', bmp({ ...good, bpp: 2, palette: [[0, 0, 0]] })],
    ['JPEG inside a BMP (BI_JPEG)', bmp({ ...good, compression: 4 })],
    ['PNG inside a BMP (BI_PNG)', bmp({ ...good, compression: 5 })],
    ['RLE8 on a 24-bit image', bmp({ ...good, compression: 1 })],
    ['bit fields on a 24-bit image', bmp({ ...good, compression: 3, masks: [0xff0000, 0xff00, 0xff] })],
    ['a truncated row', bmp({ width: 2, height: 2, bpp: 24, data: [1, 2, 3, 4, 5, 6, 0, 0, 1, 2] })],
    ['pixel data offset past the end', bmp({ ...good, dataOffset: 1000 })],
    ['pixel data offset inside the header', bmp({ ...good, dataOffset: 20 })],
    ['pixel data offset near 2^32', bmp({ ...good, dataOffset: 0xfffffffc })],
    ['more palette colours than 8 bits allow', bmp({ width: 1, height: 1, bpp: 8, clrUsed: 257, palette: [[0, 0, 0]], data: [0, 0, 0, 0] })],
    ['a palette longer than the file', bmp({ width: 1, height: 1, bpp: 8, clrUsed: 200, palette: [[0, 0, 0]], data: [0, 0, 0, 0] })],
    ['a non-contiguous mask', bmp({ width: 1, height: 1, bpp: 16, compression: 3, masks: [0x5c00, 0x03e0, 0x001f], data: [0, 0, 0, 0] })],
    ['a 16-bit mask wider than 16 bits', bmp({ width: 1, height: 1, bpp: 16, compression: 3, masks: [0x1f0000, 0x03e0, 0x001f], data: [0, 0, 0, 0] })],
    ['bit fields with no colour mask', bmp({ width: 1, height: 1, bpp: 32, compression: 3, masks: [0, 0, 0], data: [0, 0, 0, 0] })],
    ['bit masks cut off by the end of the file', bmp({ width: 1, height: 1, bpp: 32, compression: 3, masks: [], data: [] }).subarray(0, 60)],
    ['a top-down RLE8 image', bmp({ width: 1, height: -1, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [1, 0, 0, 1] })],
    ['an RLE8 absolute run below the last row', bmp({ width: 1, height: 1, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [0, 0, 0, 3, 0, 0, 0, 0, 0, 1] })],
    ['an RLE8 delta after a run that overflowed its row', bmp({ width: 2, height: 2, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [3, 0, 0, 2, 0, 0, 0, 1] })],
    ['an RLE8 run past the last row', bmp({ width: 1, height: 1, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [0, 0, 1, 0, 0, 1] })],
    ['an RLE8 delta out of the image', bmp({ width: 2, height: 2, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [0, 2, 3, 0, 0, 1] })],
    ['RLE8 data that stops before the image is done', bmp({ width: 2, height: 2, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [2, 0] })],
    ['an RLE8 absolute run cut off', bmp({ width: 4, height: 1, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [0, 4, 1, 2] })],
    ['biSizeImage larger than the data', bmp({ width: 1, height: 1, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [1, 0, 0, 1], sizeImage: 99 })],
    ['no file header', Buffer.from('BM')],
    ['not a BMP', Buffer.from('GIF89a not a bitmap at all, no')],
  ];
  for (const [name, file] of malformed) {
    test(`refuses ${name} as UNSUPPORTED_FORMAT`, () => {
      assert.throws(() => decodeBmp(file, limits), code('UNSUPPORTED_FORMAT'));
    });
  }

  test('refuses the most negative height: TOO_MANY_PIXELS by its size, UNSUPPORTED_FORMAT as a header', () => {
    const file = bmp({ ...good, height: -(2 ** 31) });
    assert.throws(() => decodeBmp(file, limits), code('TOO_MANY_PIXELS'));
    assert.throws(() => readBmpHeader(file), code('UNSUPPORTED_FORMAT'));
  });

  test('refuses a 65535x65535 header as TOO_MANY_PIXELS before allocating its 12 GB', () => {
    const bomb = bmp({ width: 65535, height: 65535, bpp: 24, data: [] });
    // The header check reads the size; the pixel bytes are not there, but the limits answer first.
    const started = performance.now();
    assert.throws(() => decodeBmp(bomb, limits), code('TOO_MANY_PIXELS'));
    assert.ok(performance.now() - started < 100);
  });

  test('refuses a header within the limits whose pixel data is missing as UNSUPPORTED_FORMAT', () => {
    assert.throws(() => decodeBmp(bmp({ width: 9000, height: 9000, bpp: 24, data: [] }), limits), code('UNSUPPORTED_FORMAT'));
  });

  test('holds a run-length bomb (a few bytes declaring a large image) to the limits', () => {
    const file = bmp({ width: 5000, height: 5000, bpp: 8, compression: 1, palette: [[0, 0, 0]], data: [0, 1] });
    assert.throws(() => decodeBmp(file, resolveLimits({ maxResolution: 1_000_000 })), code('TOO_MANY_PIXELS'));
    // Within the limits, it decodes to entry 0 everywhere (no run ever wrote a pixel).
    const d = decodeBmp(file, limits);
    assert.equal(d.data.length, 5000 * 5000 * 3);
  });

  test('refuses by width and height limits too', () => {
    const wide = bmp({ width: 300, height: 1, bpp: 24, data: Array<number>(900).fill(0) });
    assert.throws(() => decodeBmp(wide, resolveLimits({ maxWidth: 200 })), code('TOO_MANY_PIXELS'));
  });
});

describe('decodeBmpInSteps', () => {
  test('pauses every million pixels or so and ends with what decodeBmp returns', () => {
    // 2000x1500 RLE8: each row a run of 255s of index 1 and the rest of index 2, then end of line.
    const row = [255, 1, 255, 1, 255, 1, 255, 1, 255, 1, 255, 1, 255, 1, 215, 2, 0, 0];
    const file = bmp({ width: 2000, height: 1500, bpp: 8, compression: 1, palette: [[0, 0, 0], [10, 20, 30], [40, 50, 60]], data: [...Array.from({ length: 1500 }, () => row).flat(), 0, 1] });
    const steps = decodeBmpInSteps(file, limits);
    let pauses = 0;
    let step = steps.next();
    while (!step.done) {
      pauses++;
      step = steps.next();
    }
    // 3 MP of runs, then 3 MP of colour mapping, a pause after each 2^20 pixels: 2 + 2.
    assert.ok(pauses >= 4, `${pauses} pauses`);
    assert.deepEqual(step.value, decodeBmp(file, limits));
    const d = step.value;
    assert.deepEqual([...d.data.subarray(0, 3)], [10, 20, 30]);
    assert.deepEqual([...d.data.subarray(1999 * 3, 2000 * 3)], [40, 50, 60]);
  });
});

describe('readBmpSize', () => {
  test('reads the claimed size, rows counted either way, without other checks', () => {
    assert.deepEqual(readBmpSize(bmp({ width: 65535, height: 65535, bpp: 24, data: [] })), { width: 65535, height: 65535 });
    assert.deepEqual(readBmpSize(bmp({ width: 7, height: -9, bpp: 24, data: [] })), { width: 7, height: 9 });
  });
  test('gives up on a negative width, a core header or a short file', () => {
    assert.equal(readBmpSize(bmp({ width: -7, height: 9, bpp: 24, data: [] })), undefined);
    assert.equal(readBmpSize(bmp({ width: 7, height: 9, bpp: 24, infoSize: 12, data: [] })), undefined);
    assert.equal(readBmpSize(Buffer.from('BM1234')), undefined);
  });
});

describe('decodeBmp: fuzz', () => {
  // Small limits so that any size the fuzzer forges past them must be refused before allocation.
  const small = resolveLimits({ maxWidth: 64, maxHeight: 64, maxResolution: 2048 });
  const check = (file: Uint8Array): void => {
    try {
      const d = decodeBmp(file, small);
      assert.ok(d.width >= 1 && d.width <= 64 && d.height >= 1 && d.height <= 64 && d.width * d.height <= 2048);
      assert.equal(d.data.length, d.width * d.height * d.channels);
    } catch (e) {
      if (!isPixgateError(e) || (e.code !== 'UNSUPPORTED_FORMAT' && e.code !== 'TOO_MANY_PIXELS')) throw e;
    }
  };

  test('random bytes after "BM" decode within the limits or throw a PixgateError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (tail) => check(Buffer.concat([Buffer.from('BM'), tail]))),
      { numRuns: 3000 },
    );
  });

  const seeds = [
    bmp({ width: 3, height: 2, bpp: 24, data: [...pad(bgr(BOTTOM), 12), ...pad(bgr(TOP), 12)] }),
    bmp({ width: 3, height: -2, bpp: 4, palette: [[1, 2, 3], [4, 5, 6]], data: [0x01, 0x10, 0, 0, 0x11, 0x00, 0, 0] }),
    bmp({ width: 10, height: 1, bpp: 1, palette: [[0, 0, 0], [255, 255, 255]], data: [0xb3, 0x80, 0, 0] }),
    bmp({ width: 5, height: 3, bpp: 8, compression: 1, palette: [[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]], data: [2, 1, 0, 3, 2, 3, 1, 0, 0, 0, 0, 2, 1, 1, 3, 3, 0, 1] }),
    bmp({ width: 6, height: 2, bpp: 4, compression: 2, palette: [[1, 1, 1], [2, 2, 2], [3, 3, 3], [4, 4, 4]], data: [3, 0x12, 0, 3, 0x30, 0x10, 0, 0, 6, 0x33, 0, 1] }),
    bmp({ width: 2, height: 2, bpp: 16, compression: 3, masks: [0xf800, 0x07e0, 0x001f], data: [1, 2, 3, 4, 5, 6, 7, 8] }),
    bmp({ width: 2, height: 1, bpp: 32, compression: 3, infoSize: 108, masks: [0xff, 0xff00, 0xff0000, 0xff000000], data: [1, 2, 3, 4, 5, 6, 7, 8] }),
  ];
  test('the seeds below are valid BMPs', () => {
    for (const seed of seeds) assert.doesNotThrow(() => decodeBmp(seed, small));
  });

  test('mutated valid BMPs (bytes changed, cut or extended) decode within the limits or throw a PixgateError', () => {
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      // Header fields are where sizes and offsets live: bias the edits towards the first 70 bytes.
      headerEdits: fc.array(fc.tuple(fc.integer({ min: 0, max: 69 }), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 16 }),
    });
    fc.assert(
      fc.property(mutation, ({ seed, edits, headerEdits, cut, extra }) => {
        const file = Buffer.concat([Buffer.from(seeds[seed]!), extra]);
        for (const [at, v] of [...edits, ...headerEdits]) file[at % file.length] = v;
        check(cut === undefined ? file : file.subarray(0, cut % (file.length + 1)));
      }),
      { numRuns: 5000 },
    );
  });
});
