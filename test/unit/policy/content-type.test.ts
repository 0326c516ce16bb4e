import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkProxiedContentType, formatMediaType, parseMediaType } from '../../../src/policy/content-type.js';
import { isPixgateError } from '../../../src/respond/errors.js';

const rules = { allowVideo: false, allowAudio: false };

function codeOf(header: string | undefined, r = rules): string {
  try {
    checkProxiedContentType(header, r);
    return 'OK';
  } catch (err) {
    if (isPixgateError(err)) return err.code;
    throw err;
  }
}

describe('parseMediaType (RFC 9110 media-type, as Go mime.ParseMediaType reads it)', () => {
  test('lower-cases type, subtype and parameter names, and keeps parameter values', () => {
    assert.deepEqual(parseMediaType('Image/PNG; Charset=UTF-8'), { type: 'image', subtype: 'png', params: [['charset', 'UTF-8']] });
  });

  test('takes optional whitespace around the parts and a trailing semicolon', () => {
    assert.deepEqual(parseMediaType(' image/png ; a=1 ;b=2'), { type: 'image', subtype: 'png', params: [['a', '1'], ['b', '2']] });
    assert.deepEqual(parseMediaType('image/png;'), { type: 'image', subtype: 'png', params: [] });
  });

  test('unescapes quoted parameter values', () => {
    assert.deepEqual(parseMediaType('image/png; name="a \\"b\\" c"'), { type: 'image', subtype: 'png', params: [['name', 'a "b" c']] });
  });

  const invalid = [
    '', 'image', 'image/', '/png', 'image /png', 'image/ png', 'image/png/x',
    'image/png; charset', 'image/png; =x', 'image/png; a="unterminated', 'image/png; a=1; A=2', 'image/png; a="\u0001"',
    // go-camo TestBadContentTypeSmuggle
    'image/png, text/html; charset=UTF-8', 'image/png,text/html; charset=UTF-8', 'image/png text/html', 'image/png%;text/html',
    'image/png; charset=UTF-8;text/html',
  ];
  for (const header of invalid) {
    test(`refuses ${JSON.stringify(header)}`, () => {
      assert.equal(parseMediaType(header), undefined);
    });
  }
});

describe('formatMediaType', () => {
  test('writes type/subtype; name=value, quoting only values that are not tokens', () => {
    assert.equal(formatMediaType({ type: 'image', subtype: 'svg+xml', params: [['charset', 'UTF-8']] }), 'image/svg+xml; charset=UTF-8');
    assert.equal(formatMediaType({ type: 'image', subtype: 'png', params: [['name', 'a "b"\\c']] }), 'image/png; name="a \\"b\\"\\\\c"');
    assert.equal(formatMediaType({ type: 'image', subtype: 'png', params: [['e', '']] }), 'image/png; e=""');
  });

  test('reads back what it writes', () => {
    const token = fc.stringMatching(/^[a-z0-9][a-z0-9.+-]{0,10}$/);
    const value = fc.string({ maxLength: 12 }).filter((v) => !/[\u0000-\u0008\u000a-\u001f]/.test(v));
    fc.assert(
      fc.property(token, token, fc.uniqueArray(fc.tuple(token, value), { maxLength: 4, selector: ([n]) => n }), (type, subtype, params) => {
        const m = { type, subtype, params };
        assert.deepEqual(parseMediaType(formatMediaType(m)), m);
      }),
    );
  });
});

describe('checkProxiedContentType (camo.md §2 item 12)', () => {
  test('re-serialises an image type instead of echoing it (go-camo TestContentTypeParams)', () => {
    assert.equal(checkProxiedContentType('image/svg+xml;charset=UTF-8', rules).header, 'image/svg+xml; charset=UTF-8');
    assert.equal(checkProxiedContentType('IMAGE/JPEG', rules).header, 'image/jpeg');
    assert.equal(checkProxiedContentType('  image/png  ', rules).header, 'image/png');
  });

  test('a missing or blank header is EMPTY_CONTENT_TYPE', () => {
    for (const h of [undefined, '', '   ']) assert.equal(codeOf(h), 'EMPTY_CONTENT_TYPE');
  });

  const unsupported = [
    'what', 'text/html', 'text/plain', 'application/octet-stream', 'application/xml', 'multipart/x-mixed-replace; boundary=x',
    'image/png, text/html; charset=UTF-8', 'image/png,text/html; charset=UTF-8', 'image/png text/html', 'image/png%;text/html',
    'image/png; charset=UTF-8;text/html', 'image/png\r\nX-Injected: 1',
  ];
  for (const h of unsupported) {
    test(`refuses ${JSON.stringify(h)} as UNSUPPORTED_CONTENT_TYPE`, () => {
      assert.equal(codeOf(h), 'UNSUPPORTED_CONTENT_TYPE');
    });
  }

  test('video/* and audio/* only with their flags', () => {
    assert.equal(codeOf('video/mp4'), 'UNSUPPORTED_CONTENT_TYPE');
    assert.equal(codeOf('audio/mpeg'), 'UNSUPPORTED_CONTENT_TYPE');
    assert.equal(codeOf('video/mp4', { allowVideo: true, allowAudio: false }), 'OK');
    assert.equal(codeOf('audio/mpeg', { allowVideo: true, allowAudio: false }), 'UNSUPPORTED_CONTENT_TYPE');
    assert.equal(codeOf('audio/mpeg', { allowVideo: false, allowAudio: true }), 'OK');
  });

  test('returns the parsed type for the body sniff', () => {
    const ct = checkProxiedContentType('image/WebP', rules);
    assert.equal(ct.type, 'image');
    assert.equal(ct.subtype, 'webp');
  });
});
