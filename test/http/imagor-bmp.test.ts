// BMP sources on the imagor job (issue 3: "bmp/svg/pdf sources give JPEG"; imagor.md §3: bmp/pdf/svg/unknown ->
// JPEG, and imagor decodes BMP through its fallback when libvips cannot). sharp's libvips has no BMP loader, so
// process/bmp.ts decodes them; a header bomb is refused from the header with 422, a malformed file with 406.
// The BMPs are written here byte by byte after Microsoft's layout, so the expected colours are the ones written.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { BLUE, decode, LIME, near, RED, YELLOW, type Rgb } from '../helpers/images.js';
import { errorBody, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { fetchRaw } from '../helpers/pixgate.js';

/** File header + BITMAPINFOHEADER (or a longer header: zeros after the first 40 bytes, masks at 54). */
function headers(width: number, height: number, bpp: number, opts: { infoSize?: number; compression?: number; extra?: Buffer; pixels: number }): Buffer {
  const infoSize = opts.infoSize ?? 40;
  const extra = opts.extra ?? Buffer.alloc(0);
  const h = Buffer.alloc(14 + infoSize);
  h.write('BM', 0, 'latin1');
  h.writeUInt32LE(h.length + extra.length + opts.pixels, 2);
  h.writeUInt32LE(h.length + extra.length, 10);
  h.writeUInt32LE(infoSize, 14);
  h.writeInt32LE(width, 18);
  h.writeInt32LE(height, 22);
  h.writeUInt16LE(1, 26);
  h.writeUInt16LE(bpp, 28);
  h.writeUInt32LE(opts.compression ?? 0, 30);
  return Buffer.concat([h, extra]);
}

/** 24-bit, bottom-up: the last image row is stored first, each row padded to 4 bytes. */
function bmp24(width: number, height: number, colour: (x: number, y: number) => Rgb): Buffer {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const at = (height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const c = colour(x, y);
      rows[at + x * 3] = c.b;
      rows[at + x * 3 + 1] = c.g;
      rows[at + x * 3 + 2] = c.r;
    }
  }
  return Buffer.concat([headers(width, height, 24, { pixels: rows.length }), rows]);
}

/** 4-bit palette, top-down (negative height): two pixels a byte, high nibble first. */
function bmp4TopDown(width: number, height: number, palette: readonly Rgb[], index: (x: number, y: number) => number): Buffer {
  const stride = Math.ceil((width * 4) / 32) * 4;
  const rows = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows[y * stride + (x >> 1)]! |= x % 2 === 0 ? index(x, y) << 4 : index(x, y);
  }
  const quads = Buffer.from(palette.flatMap((c) => [c.b, c.g, c.r, 0]));
  const file = headers(width, -height, 4, { extra: quads, pixels: rows.length });
  file.writeUInt32LE(palette.length, 46);
  return Buffer.concat([file, rows]);
}

/** 32-bit BI_BITFIELDS with a V4 header and an alpha mask: a red left half, transparent right half. */
function bmp32Alpha(width: number, height: number): Buffer {
  const file = headers(width, height, 32, { infoSize: 108, compression: 3, pixels: width * height * 4 });
  file.writeUInt32LE(0x00ff0000, 54);
  file.writeUInt32LE(0x0000ff00, 58);
  file.writeUInt32LE(0x000000ff, 62);
  file.writeUInt32LE(0xff000000, 66);
  const rows = Buffer.alloc(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    const opaque = i % width < width / 2;
    rows.writeUInt32LE(opaque ? 0xffff0000 : 0x000000ff, i * 4);
  }
  return Buffer.concat([file, rows]);
}

const quadrant = (w: number, h: number) => (x: number, y: number): Rgb =>
  y < h / 2 ? (x < w / 2 ? RED : LIME) : x < w / 2 ? BLUE : YELLOW;

let origin: Origin;
let rig: ImagorRig;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  origin.route('/q.bmp', serve(bmp24(40, 30, quadrant(40, 30)), { type: 'image/bmp' }));
  origin.route('/p4.bmp', serve(bmp4TopDown(9, 6, [RED, LIME, BLUE], (x) => Math.floor(x / 3)), { type: 'image/x-ms-bmp' }));
  origin.route('/alpha.bmp', serve(bmp32Alpha(8, 4), { type: 'image/bmp' }));
  origin.route('/bomb.bmp', serve(headers(65535, 65535, 24, { pixels: 0 }), { type: 'image/bmp' }));
  origin.route('/cut.bmp', serve(bmp24(40, 30, quadrant(40, 30)).subarray(0, 600), { type: 'image/bmp' }));
  rig = await startImagorRig({ origin });
});

after(async () => {
  await rig.close();
  await origin.close();
});

describe('BMP sources', () => {
  test('a 24-bit BMP becomes a JPEG of the asked size with its colours in place', async () => {
    const res = await fetchRaw(rig.url('20x14', '/q.bmp'));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    const img = await decode(res.body);
    assert.deepEqual([img.format, img.width, img.height], ['jpeg', 20, 14]);
    for (const [x, y, colour] of [[4, 3, RED], [15, 3, LIME], [4, 10, BLUE], [15, 10, YELLOW]] as const) {
      assert.ok(near(img.pixel(x, y), colour), `(${x}, ${y}) is ${JSON.stringify(img.pixel(x, y))}, not ${JSON.stringify(colour)}`);
    }
  });

  test('an unresized BMP keeps its size', async () => {
    const res = await fetchRaw(rig.url('', '/q.bmp'));
    assert.equal(res.status, 200, res.text);
    const img = await decode(res.body);
    assert.deepEqual([img.format, img.width, img.height], ['jpeg', 40, 30]);
  });

  test('a top-down 4-bit palette BMP keeps its columns in order', async () => {
    const res = await fetchRaw(rig.url('filters:format(png)', '/p4.bmp'));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'image/png');
    const img = await decode(res.body);
    assert.deepEqual([img.width, img.height], [9, 6]);
    // PNG is lossless: exact colours.
    for (const [x, colour] of [[1, RED], [4, LIME], [7, BLUE]] as const) {
      assert.ok(near(img.pixel(x, 0), colour, 0) && near(img.pixel(x, 5), colour, 0), `column ${x}`);
    }
  });

  test('a 32-bit BMP with an alpha mask keeps its transparency in PNG', async () => {
    const res = await fetchRaw(rig.url('filters:format(png)', '/alpha.bmp'));
    assert.equal(res.status, 200, res.text);
    const img = await decode(res.body);
    assert.deepEqual([img.pixel(1, 1).a, img.pixel(6, 1).a], [255, 0]);
    assert.ok(near(img.pixel(1, 1), RED, 0));
  });

  test('meta describes a BMP source as the JPEG it becomes', async () => {
    const res = await fetchRaw(rig.url('meta/20x15', '/q.bmp'));
    assert.equal(res.status, 200, res.text);
    const meta = JSON.parse(res.text) as { format: string; width: number; height: number; orientation: number };
    assert.deepEqual([meta.format, meta.width, meta.height, meta.orientation], ['jpeg', 20, 15, 0]);
  });

  test('a 65535x65535 BMP header is refused with 422 from the header, fast', async () => {
    const started = performance.now();
    const res = await fetchRaw(rig.url('100x100', '/bomb.bmp'));
    const ms = performance.now() - started;
    assert.equal(res.status, 422, res.text);
    assert.deepEqual(errorBody(res.text), { message: 'maximum resolution exceeded', status: 422 });
    assert.ok(ms < 2000, `took ${Math.round(ms)} ms`);
  });

  test('a BMP whose pixel rows are cut off is refused with 406', async () => {
    const res = await fetchRaw(rig.url('20x14', '/cut.bmp'));
    assert.equal(res.status, 406, res.text);
    assert.equal(errorBody(res.text).status, 406);
  });
});
