import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { bodyMatchesType, sniffBytes, SNIFF_BYTES, type Sniffed } from '../../../src/policy/sniff.js';

const bytes = (text: string) => Buffer.from(text, 'latin1');

describe('sniffBytes on real images (encoded by sharp/libvips)', () => {
  const encoded = new Map<Sniffed, Buffer>();
  before(async () => {
    const img = sharp({ create: { width: 16, height: 16, channels: 3, background: '#c03' } });
    encoded.set('png', await img.clone().png().toBuffer());
    encoded.set('jpeg', await img.clone().jpeg().toBuffer());
    encoded.set('gif', await img.clone().gif().toBuffer());
    encoded.set('webp', await img.clone().webp().toBuffer());
    encoded.set('avif', await img.clone().avif().toBuffer());
    encoded.set('tiff', await img.clone().tiff().toBuffer());
  });

  for (const format of ['png', 'jpeg', 'gif', 'webp', 'avif', 'tiff'] as const) {
    test(`recognises ${format}, from the whole file and from its first ${SNIFF_BYTES} bytes`, () => {
      const file = encoded.get(format)!;
      assert.equal(sniffBytes(file), format);
      assert.equal(sniffBytes(file.subarray(0, SNIFF_BYTES)), format);
    });
  }
});

describe('sniffBytes on signatures from the format specifications', () => {
  const cases: ReadonlyArray<readonly [name: string, body: Buffer, expected: Sniffed]> = [
    ['GIF87a', bytes('GIF87a\x10\x00'), 'gif'],
    ['BMP (BITMAPFILEHEADER "BM")', bytes('BM\x36\x00\x00\x00'), 'bmp'],
    ['ICO (reserved 0, type 1)', bytes('\x00\x00\x01\x00\x01\x00'), 'ico'],
    ['CUR (type 2)', bytes('\x00\x00\x02\x00\x01\x00'), 'ico'],
    ['big-endian TIFF', bytes('MM\x00*\x00\x00\x00\x08'), 'tiff'],
    ['JPEG XL codestream', bytes('\xff\x0a\xfa'), 'jxl'],
    ['JPEG XL container', bytes('\x00\x00\x00\x0cJXL \r\n\x87\n'), 'jxl'],
    ['JPEG 2000', bytes('\x00\x00\x00\x0cjP  \r\n\x87\n'), 'jp2'],
    ['HEIC brand', bytes('\x00\x00\x00\x18ftypheic\x00\x00\x00\x00'), 'heif'],
    ['AVIF sequence brand', bytes('\x00\x00\x00\x18ftypavis\x00\x00\x00\x00'), 'avif'],
    ['an MP4 (ftyp isom) is no image', bytes('\x00\x00\x00\x18ftypisom\x00\x00\x02\x00'), 'unknown'],
    ['Photoshop', bytes('8BPS\x00\x01'), 'psd'],
    ['PDF', bytes('%PDF-1.7\n'), 'pdf'],
    ['nothing at all', Buffer.alloc(0), 'unknown'],
    ['binary noise', Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]), 'unknown'],
  ];
  for (const [name, body, expected] of cases) {
    test(`${name} is ${expected}`, () => {
      assert.equal(sniffBytes(body), expected);
    });
  }
});

describe('sniffBytes on markup', () => {
  const cases: ReadonlyArray<readonly [name: string, text: string, expected: Sniffed]> = [
    ['an SVG root', '<svg xmlns="http://www.w3.org/2000/svg"/>', 'svg'],
    ['SVG after an XML declaration, a comment and a doctype', '<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg/>', 'svg'],
    ['SVG after a UTF-8 byte order mark and spaces', '\xef\xbb\xbf  \n<svg/>', 'svg'],
    ['an HTML doctype', '<!DOCTYPE html><html>', 'html'],
    ['HTML in upper case after whitespace', '\r\n\t <HTML><BODY>', 'html'],
    ['a script tag', '<script>alert(1)</script>', 'html'],
    ['an iframe', '<iframe src=x>', 'html'],
    ['HTML after an XML declaration', '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">', 'html'],
    ['an HTML comment', '<!-- hi --><p>x', 'html'],
    ['other XML', '<?xml version="1.0"?><feed/>', 'xml'],
    ['any other tag', '<custom-element>', 'html'],
    ['plain text', 'hello world', 'unknown'],
  ];
  for (const [name, text, expected] of cases) {
    test(`${name} is ${expected}`, () => {
      assert.equal(sniffBytes(bytes(text)), expected);
    });
  }
});

describe('bodyMatchesType', () => {
  test('a raster image type needs raster bytes, whichever raster format they are', () => {
    assert.equal(bodyMatchesType('image', 'png', 'png'), true);
    assert.equal(bodyMatchesType('image', 'png', 'jpeg'), true, 'a mislabelled image is still an image');
    assert.equal(bodyMatchesType('image', 'jpeg', 'html'), false);
    assert.equal(bodyMatchesType('image', 'gif', 'svg'), false);
    assert.equal(bodyMatchesType('image', 'webp', 'unknown'), false);
    assert.equal(bodyMatchesType('image', 'jpeg', 'pdf'), false);
  });

  test('image/svg+xml needs SVG or XML', () => {
    assert.equal(bodyMatchesType('image', 'svg+xml', 'svg'), true);
    assert.equal(bodyMatchesType('image', 'svg+xml', 'xml'), true);
    assert.equal(bodyMatchesType('image', 'svg+xml', 'html'), false);
    assert.equal(bodyMatchesType('image', 'svg+xml', 'png'), false);
  });

  test('other types are refused only for markup or PDF', () => {
    for (const [type, subtype] of [['image', 'x-custom'], ['video', 'mp4'], ['audio', 'mpeg']] as const) {
      assert.equal(bodyMatchesType(type, subtype, 'unknown'), true);
      assert.equal(bodyMatchesType(type, subtype, 'png'), true);
      for (const bad of ['html', 'svg', 'xml', 'pdf'] as const) assert.equal(bodyMatchesType(type, subtype, bad), false, `${type}/${subtype} ${bad}`);
    }
  });
});
