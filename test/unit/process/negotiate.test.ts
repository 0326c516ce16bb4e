import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  acceptQuality,
  chooseOutputFormat,
  defaultOutputFormat,
  parseAccept,
  resolveOutputFormat,
  toOutputFormat,
  type FormatRequest,
} from '../../../src/process/negotiate.js';

const CHROME = 'image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8';
const SAFARI_OLD = 'image/png,image/svg+xml,image/*;q=0.8,video/*;q=0.8,*/*;q=0.5';

describe('parseAccept', () => {
  test('reads types, subtypes and q-values', () => {
    assert.deepEqual(parseAccept('image/webp;q=0.5, */*'), [
      { type: 'image', subtype: 'webp', q: 0.5 },
      { type: '*', subtype: '*', q: 1 },
    ]);
  });
  test('lower-cases and trims', () => {
    assert.deepEqual(parseAccept(' Image/WebP ; Q=1 '), [{ type: 'image', subtype: 'webp', q: 1 }]);
  });
  test('skips malformed ranges', () => {
    assert.deepEqual(parseAccept('webp, image/, */png, image/webp/x, '), []);
  });
  test('reads a malformed q as 0 so it never turns a format on', () => {
    assert.deepEqual(parseAccept('image/webp;q=abc, image/avif;q=1.5'), [
      { type: 'image', subtype: 'webp', q: 0 },
      { type: 'image', subtype: 'avif', q: 0 },
    ]);
  });
  test('empty and absent headers have no ranges', () => {
    assert.deepEqual(parseAccept(''), []);
    assert.deepEqual(parseAccept(undefined), []);
  });
});

describe('acceptQuality', () => {
  test('the most specific range wins over a wildcard', () => {
    assert.equal(acceptQuality(parseAccept('image/webp;q=0, */*'), 'image/webp', true), 0);
    assert.equal(acceptQuality(parseAccept('image/*;q=0.3, */*'), 'image/jpeg', true), 0.3);
  });
  test('without wildcards only an exact range counts', () => {
    assert.equal(acceptQuality(parseAccept('image/*, */*'), 'image/webp', false), 0);
  });
});

describe('chooseOutputFormat', () => {
  const auto = { autoWebp: true, autoAvif: true } as const;
  const cases: Array<[string, FormatRequest, { format: string | undefined; fallback?: string; vary: boolean }]> = [
    ['an explicit format() wins over Accept and needs no Vary', { ...auto, explicit: 'png', accept: CHROME }, { format: 'png', vary: false }],
    ['jpg is JPEG', { explicit: 'jpg' }, { format: 'jpeg', vary: false }],
    ['nothing configured keeps the source format without Vary', { accept: CHROME }, { format: undefined, vary: false }],
    ['Chrome gets AVIF with a WebP fallback for animations', { ...auto, accept: CHROME }, { format: 'avif', fallback: 'webp', vary: true }],
    ['auto-WebP alone gives Chrome WebP', { autoWebp: true, accept: CHROME }, { format: 'webp', vary: true }],
    ['image/webp;q=0 is a refusal (imagor counts the substring)', { autoWebp: true, accept: 'image/webp;q=0,*/*' }, { format: undefined, vary: true }],
    ['*/* alone does not imply WebP', { ...auto, accept: '*/*' }, { format: undefined, vary: true }],
    ['image/* alone does not imply AVIF', { ...auto, accept: SAFARI_OLD }, { format: undefined, vary: true }],
    ['a higher q for WebP beats AVIF', { ...auto, accept: 'image/avif;q=0.5,image/webp' }, { format: 'webp', vary: true }],
    ['AVIF wins a tie (imagor order)', { ...auto, accept: 'image/webp,image/avif' }, { format: 'avif', fallback: 'webp', vary: true }],
    ['AVIF refused with q=0 falls to WebP', { ...auto, accept: 'image/avif;q=0,image/webp' }, { format: 'webp', vary: true }],
    ['auto-JPEG answers an empty Accept with JPEG', { autoJpeg: true, accept: '' }, { format: 'jpeg', vary: true }],
    ['auto-JPEG answers */* with JPEG', { autoJpeg: true, accept: '*/*' }, { format: 'jpeg', vary: true }],
    ['auto-JPEG does not answer image/jpeg;q=0', { autoJpeg: true, accept: 'image/jpeg;q=0, image/png' }, { format: undefined, vary: true }],
    ['a URL fallback_format() is kept', { fallback: 'gif', explicit: 'avif' }, { format: 'avif', fallback: 'gif', vary: false }],
  ];
  for (const [name, req, want] of cases) {
    test(name, () => {
      const got = chooseOutputFormat(req);
      assert.equal(got.format, want.format);
      assert.equal(got.vary, want.vary);
      if (want.fallback !== undefined) assert.equal(got.fallback, want.fallback);
    });
  }
});

describe('formats we cannot write', () => {
  // imagor supportedSaveFormat sends bmp, pdf and svg to JPEG; our libvips cannot write jxl, jp2 or HEVC either.
  for (const name of ['bmp', 'pdf', 'svg', 'jxl', 'jp2'] as const) {
    test(`${name} is written as JPEG`, () => assert.equal(toOutputFormat(name), 'jpeg'));
  }
  test('heif is written as AVIF', () => assert.equal(toOutputFormat('heif'), 'avif'));
  test('SVG sources default to JPEG output', () => assert.equal(defaultOutputFormat('svg'), 'jpeg'));
  test('BMP sources default to JPEG output (imagor)', () => assert.equal(defaultOutputFormat('bmp'), 'jpeg'));
  test('generated color: images default to JPEG output', () => assert.equal(defaultOutputFormat('color'), 'jpeg'));
  test('AVIF sources stay AVIF', () => assert.equal(defaultOutputFormat('avif'), 'avif'));
});

describe('resolveOutputFormat', () => {
  const choice = (format?: 'avif' | 'jpeg' | 'gif', fallback?: 'webp' | 'png') =>
    ({ format, fallback, vary: false, negotiated: undefined }) as const;
  test('an animated GIF stays an animated GIF', () => {
    assert.deepEqual(resolveOutputFormat(choice(), 'gif', true), { format: 'gif', animated: true });
  });
  test('an animation asked as AVIF with a WebP fallback becomes animated WebP', () => {
    assert.deepEqual(resolveOutputFormat(choice('avif', 'webp'), 'gif', true), { format: 'webp', animated: true });
  });
  test('an animation asked as JPEG without an animating fallback keeps its first frame', () => {
    assert.deepEqual(resolveOutputFormat(choice('jpeg', 'png'), 'gif', true), { format: 'jpeg', animated: false });
  });
  test('a still image ignores the fallback', () => {
    assert.deepEqual(resolveOutputFormat(choice('avif', 'webp'), 'png', false), { format: 'avif', animated: false });
  });
});
