// What the imagor job answers (issue 3 "Responses", imagor.md §5; imagor.go setCacheHeaders/getCacheControl):
// errors as `{"message","status"}` with imagor's codes and nothing from inside or upstream, an empty body with
// IMAGOR_DISABLE_ERROR_BODY, Cache-Control in imagor's exact format, an ETag and Last-Modified on every image
// (imagor sends them only for stored results) with correct 304s, HEAD, and the camo security headers on images
// and errors alike.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, makeQuadrant } from '../helpers/images.js';
import { errorBody, imagorHash, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, status, type Origin } from '../helpers/origin.js';
import { fetchRaw, type FetchedResponse } from '../helpers/pixgate.js';

// camo.md §2 item 1: go-camo's router sets these on every routed response; pixgate keeps them for imagor too.
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-xss-protection': '1; mode=block',
  'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
  server: 'pixgate',
};
const NO_CACHE = 'private, no-cache, no-store, must-revalidate';
const ORIGIN_LAST_MODIFIED = 'Wed, 21 Oct 2015 07:28:00 GMT';

let origin: Origin;
let png: Buffer;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  png = await makeQuadrant(40, 40);
  origin.route('/q.png', serve(png));
  origin.route('/dated.png', serve(png, { headers: { 'Last-Modified': ORIGIN_LAST_MODIFIED } }));
  origin.route('/leaky.png', serve(png, { headers: { 'Set-Cookie': 'origin=1', 'X-Upstream-Secret': 'shh', 'Access-Control-Allow-Origin': '*' } }));
  origin.route('/gone.png', status(404, 'ORIGIN-404-BODY'));
  origin.route('/broken.png', status(500, 'ORIGIN-STACK-TRACE at db.query (/srv/app.js:1:1)'));
  origin.route('/not-an-image.png', serve('<html><body>ORIGIN-HTML</body></html>', { type: 'image/png' }));
  origin.route('/garbage.png', serve(Buffer.concat([png.subarray(0, 40), Buffer.alloc(200, 7)])));
});

after(() => origin.close());

function assertSecurityHeaders(res: FetchedResponse) {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers[name], value, name);
}

function assertErrorJson(res: FetchedResponse, status: number, message: string) {
  assert.equal(res.status, status, res.text);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.deepEqual(JSON.parse(res.text), { message, status });
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.text)));
  assert.equal(res.headers['cache-control'], NO_CACHE);
  assertSecurityHeaders(res);
}

describe('errors', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin });
  });
  after(() => rig.close());

  test('400 invalid: a signed path that names no image', async () => {
    const path = '10x10/filters:format(webp)/';
    assertErrorJson(await fetchRaw(`${rig.px.url}/${imagorHash(path)}/${path}`), 400, 'invalid');
  });

  test('403 url signature mismatch', async () => {
    assertErrorJson(await fetchRaw(`${rig.px.url}/${imagorHash('x')}/10x10/${origin.url('/q.png')}`), 403, 'url signature mismatch');
  });

  test('404 not found for an origin 404, without its body', async () => {
    const res = await fetchRaw(rig.url('10x10', '/gone.png'));
    assertErrorJson(res, 404, 'not found');
    assert.doesNotMatch(res.text, /ORIGIN/);
  });

  test('an origin 5xx leaks neither its body nor anything from inside', async () => {
    const res = await fetchRaw(rig.url('10x10', '/broken.png'));
    assert.ok(res.status >= 500, `status ${res.status}`);
    assert.deepEqual(Object.keys(errorBody(res.text)).sort(), ['message', 'status']);
    assert.doesNotMatch(res.text, /ORIGIN|stack|\.js|at /);
  });

  test('406 unsupported format for a body that is no image, without its content', async () => {
    const res = await fetchRaw(rig.url('10x10', '/not-an-image.png'));
    assertErrorJson(res, 406, 'unsupported format');
    assert.doesNotMatch(res.text, /ORIGIN|html/i);
  });

  test('a corrupt image is 406 and the decoder message stays in the log', async () => {
    const res = await fetchRaw(rig.url('10x10', '/garbage.png'));
    assertErrorJson(res, 406, 'unsupported format');
    assert.doesNotMatch(res.text, /vips|png|error:/i);
  });

  test('405 for other methods', async () => {
    const res = await fetchRaw(rig.url('10x10', '/q.png'), { method: 'POST' });
    assert.equal(res.status, 405);
  });

  test('error responses carry no internals: only message and status, no stack, no path, no host', async () => {
    const res = await fetchRaw(rig.url('10x10', '/gone.png'));
    const json = errorBody(res.text);
    assert.deepEqual(Object.keys(json).sort(), ['message', 'status']);
    assert.doesNotMatch(res.text, /127\.0\.0\.2|gone\.png|Error|at \w/);
  });
});

describe('IMAGOR_DISABLE_ERROR_BODY', () => {
  test('errors keep their status and headers but have an empty body', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_DISABLE_ERROR_BODY: '1' } });
    try {
      const res = await fetchRaw(`${rig.px.url}/${imagorHash('x')}/10x10/${origin.url('/q.png')}`);
      assert.equal(res.status, 403);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers['content-length'], '0');
      assertSecurityHeaders(res);
      const gone = await fetchRaw(rig.url('10x10', '/gone.png'));
      assert.equal(gone.status, 404);
      assert.equal(gone.body.length, 0);
    } finally {
      await rig.close();
    }
  });
});

describe('Cache-Control (imagor getCacheControl)', () => {
  test('defaults: 168 h with 24 h stale-while-revalidate, and Expires a week ahead', async () => {
    const rig = await startImagorRig({ origin });
    try {
      const res = await fetchRaw(rig.url('10x10', '/q.png'));
      assert.equal(res.headers['cache-control'], 'public, s-maxage=604800, max-age=604800, no-transform, stale-while-revalidate=86400');
      const expires = Date.parse(String(res.headers.expires));
      assert.ok(Math.abs(expires - (Date.now() + 604800_000)) < 60_000, `Expires ${res.headers.expires}`);
    } finally {
      await rig.close();
    }
  });

  test('IMAGOR_CACHE_HEADER_TTL / _SWR set the numbers', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_CACHE_HEADER_TTL: '2h', IMAGOR_CACHE_HEADER_SWR: '10m' } });
    try {
      const res = await fetchRaw(rig.url('10x10', '/q.png'));
      assert.equal(res.headers['cache-control'], 'public, s-maxage=7200, max-age=7200, no-transform, stale-while-revalidate=600');
    } finally {
      await rig.close();
    }
  });

  test('stale-while-revalidate is left out unless shorter than the TTL', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_CACHE_HEADER_TTL: '1h', IMAGOR_CACHE_HEADER_SWR: '1h' } });
    try {
      const res = await fetchRaw(rig.url('10x10', '/q.png'));
      assert.equal(res.headers['cache-control'], 'public, s-maxage=3600, max-age=3600, no-transform');
    } finally {
      await rig.close();
    }
  });

  test('IMAGOR_CACHE_HEADER_NO_CACHE: private, no-cache, no-store, must-revalidate', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_CACHE_HEADER_NO_CACHE: '1' } });
    try {
      const res = await fetchRaw(rig.url('10x10', '/q.png'));
      assert.equal(res.status, 200);
      assert.equal(res.headers['cache-control'], NO_CACHE);
    } finally {
      await rig.close();
    }
  });

  test('a request with Cache-Control: no-cache gets no caching; with private, a private max-age', async () => {
    const rig = await startImagorRig({ origin });
    try {
      const noCache = await fetchRaw(rig.url('10x10', '/q.png'), { headers: { 'cache-control': 'no-cache' } });
      assert.equal(noCache.headers['cache-control'], NO_CACHE);
      const priv = await fetchRaw(rig.url('10x10', '/q.png'), { headers: { 'cache-control': 'private' } });
      assert.equal(priv.headers['cache-control'], 'private, max-age=604800, no-transform, stale-while-revalidate=86400');
    } finally {
      await rig.close();
    }
  });
});

describe('ETag, Last-Modified and 304', () => {
  let rig: ImagorRig;
  let first: FetchedResponse;
  before(async () => {
    rig = await startImagorRig({ origin });
    first = await fetchRaw(rig.url('10x10', '/dated.png'));
  });
  after(() => rig.close());

  test('a fresh result carries a strong ETag and the origin Last-Modified', () => {
    assert.equal(first.status, 200);
    assert.match(String(first.headers.etag), /^"[^"]+"$/);
    assert.equal(first.headers['last-modified'], ORIGIN_LAST_MODIFIED);
  });

  test('a source without Last-Modified still gets one', async () => {
    const res = await fetchRaw(rig.url('10x10', '/q.png'));
    assert.ok(res.headers.etag);
    assert.ok(Number.isFinite(Date.parse(String(res.headers['last-modified']))));
  });

  test('the ETag is the same for the same result and differs for another', async () => {
    const again = await fetchRaw(rig.url('10x10', '/dated.png'));
    assert.equal(again.headers.etag, first.headers.etag);
    const other = await fetchRaw(rig.url('11x11', '/dated.png'));
    assert.notEqual(other.headers.etag, first.headers.etag);
  });

  const conditional: ReadonlyArray<readonly [name: string, headers: () => Record<string, string>, status: number]> = [
    ['If-None-Match with the ETag', () => ({ 'if-none-match': String(first.headers.etag) }), 304],
    ['If-None-Match with a list holding it', () => ({ 'if-none-match': `"other", ${String(first.headers.etag)}` }), 304],
    ['If-None-Match with its weak form', () => ({ 'if-none-match': `W/${String(first.headers.etag)}` }), 304],
    ['If-None-Match: *', () => ({ 'if-none-match': '*' }), 304],
    ['If-None-Match with another tag', () => ({ 'if-none-match': '"nope"' }), 200],
    ['If-Modified-Since the Last-Modified', () => ({ 'if-modified-since': ORIGIN_LAST_MODIFIED }), 304],
    ['If-Modified-Since later', () => ({ 'if-modified-since': 'Thu, 22 Oct 2015 07:28:00 GMT' }), 304],
    ['If-Modified-Since earlier', () => ({ 'if-modified-since': 'Tue, 20 Oct 2015 07:28:00 GMT' }), 200],
    ['If-Modified-Since that is no date', () => ({ 'if-modified-since': 'yesterday' }), 200],
    [
      'a mismatching If-None-Match beats a matching If-Modified-Since',
      () => ({ 'if-none-match': '"nope"', 'if-modified-since': ORIGIN_LAST_MODIFIED }),
      200,
    ],
  ];
  for (const [name, headers, expected] of conditional) {
    test(`${name} -> ${expected}`, async () => {
      const res = await fetchRaw(rig.url('10x10', '/dated.png'), { headers: headers() });
      assert.equal(res.status, expected);
      if (expected === 304) {
        assert.equal(res.body.length, 0);
        assert.equal(res.headers.etag, first.headers.etag);
        assert.ok(res.headers['cache-control']);
        assertSecurityHeaders(res);
      } else {
        assert.ok(res.body.equals(first.body));
      }
    });
  }
});

describe('HEAD and headers', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin });
  });
  after(() => rig.close());

  test('HEAD has the headers of GET and no body', async () => {
    // A source with a Last-Modified: without one, each processing stamps its own time, which may cross a second.
    const get = await fetchRaw(rig.url('12x12', '/dated.png'));
    const head = await fetchRaw(rig.url('12x12', '/dated.png'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const name of ['content-type', 'content-length', 'etag', 'last-modified', 'cache-control']) {
      assert.equal(head.headers[name], get.headers[name], name);
    }
    assert.equal(Number(get.headers['content-length']), get.body.length);
    assertSecurityHeaders(head);
  });

  test('HEAD of an error has its status and no body', async () => {
    const head = await fetchRaw(`${rig.px.url}/${imagorHash('x')}/10x10/${origin.url('/q.png')}`, { method: 'HEAD' });
    assert.equal(head.status, 403);
    assert.equal(head.body.length, 0);
  });

  test('a processed image carries the security headers and nothing from the origin', async () => {
    const res = await fetchRaw(rig.url('10x10', '/leaky.png'));
    assert.equal(res.status, 200);
    assertSecurityHeaders(res);
    assert.equal(res.headers['set-cookie'], undefined);
    assert.equal(res.headers['x-upstream-secret'], undefined);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
    assert.equal((await decode(res.body)).width, 10);
  });

  test('security headers on 403, 404, 406 and 422 errors too', async () => {
    const small = await startImagorRig({ origin, env: { VIPS_MAX_WIDTH: '20' } });
    try {
      for (const res of [
        await fetchRaw(`${rig.px.url}/${imagorHash('x')}/10x10/${origin.url('/q.png')}`),
        await fetchRaw(rig.url('10x10', '/gone.png')),
        await fetchRaw(rig.url('10x10', '/not-an-image.png')),
        await fetchRaw(small.url('10x10', '/q.png')),
      ]) {
        assert.ok(res.status >= 400, `status ${res.status}`);
        assertSecurityHeaders(res);
      }
    } finally {
      await small.close();
    }
  });
});
