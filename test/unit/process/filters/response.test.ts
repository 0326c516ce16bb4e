// Response filters (issue 4, imagor.go Do, getTtl, getContentDisposition): argument checks, the TTL rules,
// Content-Disposition, the result-key-neutral filters, and what raw() may send.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createImagorParams, type Filter } from '../../../../src/parse/imagor-params.js';
import { parseImagorPath } from '../../../../src/parse/imagor-path.js';
import { isPixgateError } from '../../../../src/respond/errors.js';
import { prepareFilters } from '../../../../src/process/filters/registry.js';
import {
  checkNotExpired,
  contentDisposition,
  rawContentType,
  readResponseControl,
  responseTtlSeconds,
  withoutResponseFilters,
} from '../../../../src/process/filters/response.js';
import { resultKey, resultKeyInput } from '../../../../src/store/keys.js';

const f = (name: string, args = ''): Filter => ({ name, args });
const invalid = (name: string) => (e: unknown) => isPixgateError(e) && e.code === 'INVALID_PARAMS' && (e.publicDetail ?? '').startsWith(name);

describe('argument checks', () => {
  const ok: Filter[] = [f('expire', '1700000000000'), f('expire', '-5'), f('max_age', '0'), f('max_age', '3600'), f('attachment'), f('attachment', 'a b"c.png'), f('preview'), f('raw'), f('blurhash', '9,1'), f('thumbhash'), f('avgcolor')];
  for (const filter of ok) test(`${filter.name}(${filter.args}) is accepted`, () => assert.doesNotThrow(() => prepareFilters([filter])));
  const bad: Filter[] = [f('expire', 'tomorrow'), f('expire', '1.5'), f('expire'), f('max_age', '-1'), f('max_age', '1h'), f('preview', 'x'), f('raw', '1'), f('blurhash', '10,1'), f('thumbhash', 'x'), f('avgcolor', '1')];
  for (const filter of bad) {
    test(`${filter.name}(${filter.args}) is a 400 naming it`, () => assert.throws(() => prepareFilters([filter]), invalid(filter.name)));
    test(`${filter.name}(${filter.args}) is ignored leniently`, () => assert.doesNotThrow(() => prepareFilters([filter], { lenient: true })));
  }
});

describe('readResponseControl', () => {
  test('takes the earliest expire, the last max_age, the first attachment', () => {
    assert.deepEqual(
      readResponseControl([f('expire', '5000'), f('max_age', '60'), f('attachment', 'a.png'), f('expire', '3000'), f('max_age', '30'), f('attachment', 'b.png'), f('max_age', 'x')]),
      { expireMs: 3000, maxAgeSeconds: 30, attachment: 'a.png', preview: false, raw: false },
    );
  });
  test('reads preview and raw', () => {
    assert.deepEqual(readResponseControl([f('preview'), f('raw')]), { expireMs: undefined, maxAgeSeconds: undefined, attachment: undefined, preview: true, raw: true });
  });
  test('skips unreadable values (lenient URLs)', () => {
    assert.deepEqual(readResponseControl([f('expire', 'soon'), f('max_age', '-3')]).expireMs, undefined);
    assert.equal(readResponseControl([f('max_age', '-3')]).maxAgeSeconds, undefined);
  });
});

describe('expiry', () => {
  const control = readResponseControl([f('expire', '10000')]);
  test('is 410 only once strictly past', () => {
    assert.doesNotThrow(() => checkNotExpired(control, 10000));
    assert.throws(() => checkNotExpired(control, 10001), (e: unknown) => isPixgateError(e) && e.code === 'EXPIRED');
  });
});

describe('the TTL', () => {
  const ttl = (filters: Filter[], now: number, configured = 604800) => responseTtlSeconds(readResponseControl(filters), configured, now);
  test('is the configured one by default', () => assert.equal(ttl([], 0), 604800));
  test('max_age replaces it, uncapped', () => {
    assert.equal(ttl([f('max_age', '60')], 0), 60);
    assert.equal(ttl([f('max_age', '9999999')], 0), 9999999);
    assert.equal(ttl([f('max_age', '60')], 0, 0), 60);
  });
  test('max_age(0) means no caching', () => assert.equal(ttl([f('max_age', '0')], 0), 0));
  test('expire caps it to the time left, rounded up to the second', () => {
    assert.equal(ttl([f('expire', '10000')], 8500), 2);
    assert.equal(ttl([f('expire', '10000')], 9000), 1);
    assert.equal(ttl([f('expire', '10000')], 10000), 0);
    assert.equal(ttl([f('expire', String(3_600_000))], 0, 60), 60);
  });
  test('the most restrictive of max_age and expire wins', () => {
    assert.equal(ttl([f('max_age', '5'), f('expire', '100000')], 0), 5);
    assert.equal(ttl([f('max_age', '500'), f('expire', '100000')], 0), 100);
  });
});

describe('Content-Disposition', () => {
  const cases: Array<[string | undefined, string, string, string]> = [
    [undefined, 'a/b.jpg', 'image/jpeg', 'inline'],
    ['', 'host/path/photo.jpg', 'image/jpeg', 'attachment; filename="photo.jpg"'],
    ['', 'host/path/photo.png', 'image/jpeg', 'attachment; filename="photo.png.jpg"'],
    ['name.jpeg', 'a.png', 'image/jpeg', 'attachment; filename="name.jpeg"'],
    ['name', 'a.png', 'image/webp', 'attachment; filename="name.webp"'],
    ['say "hi".gif', 'a.png', 'image/gif', 'attachment; filename="say %22hi%22.gif"'],
    ['', 'host/photo', 'application/json', 'attachment; filename="photo.json"'],
    ['caf\u00e9\r\n.png', 'a', 'image/png', 'attachment; filename="caf%C3%A9%0D%0A.png"'],
    ['back\\slash', 'a', 'image/png', 'attachment; filename="back%5Cslash.png"'],
  ];
  for (const [arg, image, type, want] of cases) {
    test(`attachment(${arg ?? '-'}) of ${image} as ${type}`, () => assert.equal(contentDisposition(arg, image, type), want));
  }
});

describe('the result key', () => {
  test('is the same with and without expire, attachment and max_age', () => {
    const plain = parseImagorPath('unsafe/fit-in/100x100/filters:quality(80)/example.com/a.jpg');
    const extra = parseImagorPath('unsafe/fit-in/100x100/filters:expire(1700000000000):quality(80):attachment(x.jpg):max_age(60)/example.com/a.jpg');
    for (const style of ['original', 'digest', 'suffix', 'size'] as const) {
      assert.equal(resultKey(resultKeyInput(withoutResponseFilters(extra)), style), resultKey(resultKeyInput(withoutResponseFilters(plain)), style), style);
    }
  });
  test('keeps params untouched when there is nothing to remove', () => {
    const p = createImagorParams({ path: 'x', filters: [f('preview')] });
    assert.equal(withoutResponseFilters(p), p);
  });
});

describe('raw() content', () => {
  const png = Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\rIHDR', 'latin1');
  const gif = Buffer.from('GIF89a', 'latin1');
  test('is typed from the bytes, not from what the origin said', () => {
    assert.equal(rawContentType(png, undefined), 'image/png');
    assert.equal(rawContentType(png, 'application/octet-stream'), 'image/png');
    assert.equal(rawContentType(gif, 'text/html'), 'image/gif');
  });
  const refused: Array<[string, Buffer, string | undefined]> = [
    ['SVG', Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'), 'image/svg+xml'],
    ['HTML called a PNG', Buffer.from('<html><script>alert(1)</script></html>'), 'image/png'],
    ['PDF', Buffer.from('%PDF-1.4\n'), 'application/pdf'],
    ['unknown bytes', Buffer.from('hello world'), undefined],
    ['an SVG called a PNG', Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'), 'image/png'],
  ];
  for (const [what, bytes, declared] of refused) {
    test(`refuses ${what}`, () => assert.throws(() => rawContentType(bytes, declared), (e: unknown) => isPixgateError(e) && e.code === 'UNSUPPORTED_FORMAT'));
  }
});
