// Serving (issue 2 "Serving", camo.md §2 items 1, 2, 8, 12 and 13): which request headers go upstream (go-camo's
// ValidReqHeaders), which response headers come back (ValidRespHeaders), content-type validation and
// re-serialisation, the content sniff, HEAD, 405, Range and conditional requests, and the default headers on
// every response, errors included.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { redirect, serve, startOrigin, status, testImages, type Origin, type TestImages } from '../helpers/origin.js';
import { fetchRaw, repoRoot, startPixgate, TEST_KEY, type FetchedResponse, type Pixgate } from '../helpers/pixgate.js';

// camo.md §2 item 1: go-camo's router sets these on every routed response, errors included.
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-xss-protection': '1; mode=block',
  'content-security-policy': "default-src 'none'; img-src data:; style-src 'unsafe-inline'",
};
// Connection management headers that Node adds; not part of what the proxy chooses to send.
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

let images: TestImages;
let origin: Origin;
let px: Pixgate;

before(async () => {
  images = await testImages();
  origin = await startOrigin({ host: '127.0.0.2' });
  px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32'] });
});

after(async () => {
  await px.close();
  await origin.close();
});

function assertSecurityHeaders(res: FetchedResponse, server = 'pixgate') {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) assert.equal(res.headers[name], value, name);
  assert.equal(res.headers.server, server);
}

describe('request headers sent upstream', () => {
  test("forwards exactly go-camo's list, replaces Accept, and adds User-Agent and Via", async () => {
    origin.route('/fwd.png', serve(images.png));
    const sent = {
      accept: 'text/html',
      'accept-charset': 'utf-8',
      'accept-language': 'de-CH, en;q=0.5',
      'cache-control': 'no-cache',
      'if-none-match': '"nope"',
      'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT',
      range: 'bytes=0-',
      // none of these may reach the origin
      cookie: 'session=secret',
      authorization: 'Bearer secret',
      'proxy-authorization': 'Basic c2VjcmV0',
      'user-agent': 'client-agent/1.0',
      referer: 'https://reader.example/page',
      origin: 'https://reader.example',
      'x-forwarded-for': '203.0.113.9',
      'x-real-ip': '203.0.113.9',
      forwarded: 'for=203.0.113.9',
      'accept-encoding': 'gzip, br',
      dnt: '1',
      'x-custom': 'x',
    };
    const res = await fetchRaw(px.camo(origin.url('/fwd.png')), { headers: sent });
    assert.equal(res.status, 200);
    const got = origin.last('/fwd.png');
    const names = Object.keys(got.headers).filter((n) => n !== 'host' && n !== 'connection').sort();
    assert.deepEqual(names, ['accept', 'accept-charset', 'accept-language', 'cache-control', 'if-modified-since', 'if-none-match', 'range', 'user-agent', 'via']);
    for (const n of ['accept-charset', 'accept-language', 'cache-control', 'if-modified-since', 'if-none-match', 'range'] as const) {
      assert.equal(got.headers[n], sent[n], n);
    }
    assert.equal(got.headers.accept, 'image/*, image/svg+xml');
    assert.equal(got.headers['user-agent'], 'pixgate');
    assert.equal(got.headers.via, 'pixgate');
    assert.equal(got.headers.host, `127.0.0.2:${origin.port}`);
  });

  test('carries the same header rules across a redirect hop', async () => {
    origin.route('/hop', redirect(302, '/hop.png')).route('/hop.png', serve(images.png));
    const res = await fetchRaw(px.camo(origin.url('/hop')), { headers: { cookie: 'a=b', 'accept-language': 'fr' } });
    assert.equal(res.status, 200);
    const got = origin.last('/hop.png').headers;
    assert.equal(got.cookie, undefined);
    assert.equal(got['accept-language'], 'fr');
    assert.equal(got.via, 'pixgate');
  });

  test('adds video/* and audio/* to Accept with --allow-content-video and --allow-content-audio, and sends --user-agent', async () => {
    const media = await startPixgate({
      argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--allow-content-video', '--allow-content-audio', '--user-agent', 'my-agent/2'],
    });
    try {
      origin.route('/media.png', serve(images.png));
      await fetchRaw(media.camo(origin.url('/media.png')));
      assert.equal(origin.last('/media.png').headers.accept, 'image/*, image/svg+xml, video/*, audio/*');
      assert.equal(origin.last('/media.png').headers['user-agent'], 'my-agent/2');
    } finally {
      await media.close();
    }
  });

  test('with --enable-xfwd4, forwards the client X-Forwarded-For verbatim and adds none for a private client address', async () => {
    const xfwd = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--enable-xfwd4'] });
    try {
      origin.route('/xff.png', serve(images.png));
      await fetchRaw(xfwd.camo(origin.url('/xff.png')), { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.2' } });
      assert.equal(origin.last('/xff.png').headers['x-forwarded-for'], '203.0.113.9, 198.51.100.2');
      await fetchRaw(xfwd.camo(origin.url('/xff.png')));
      assert.equal(origin.last('/xff.png').headers['x-forwarded-for'], undefined, 'the test client is on 127.0.0.1, a denied address');
    } finally {
      await xfwd.close();
    }
  });
});

describe('response headers passed back', () => {
  test("copies only go-camo's allowlist: no Set-Cookie, Vary, Link, Location, CORS or upstream security headers", async () => {
    origin.route('/many.png', serve(images.png, {
      headers: {
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'public, max-age=600',
        ETag: '"abc"',
        Expires: 'Thu, 01 Dec 2039 16:00:00 GMT',
        'Last-Modified': 'Tue, 15 Nov 1994 12:45:26 GMT',
        'Set-Cookie': 'tracking=1; Path=/',
        Vary: 'Cookie',
        Age: '12',
        Link: '<https://evil.example/>; rel=preload',
        Location: 'https://evil.example/',
        Refresh: '0; url=https://evil.example/',
        'Content-Disposition': 'attachment; filename="x.html"',
        'Access-Control-Allow-Origin': '*',
        'Timing-Allow-Origin': '*',
        'Strict-Transport-Security': 'max-age=1',
        'X-Frame-Options': 'ALLOWALL',
        'Content-Security-Policy': "script-src 'unsafe-inline'",
        'X-Content-Type-Options': 'sniff',
        Server: 'origin-server/1.0',
        'X-Powered-By': 'PHP',
      },
    }));
    const res = await fetchRaw(px.camo(origin.url('/many.png')));
    assert.equal(res.status, 200);
    const names = res.headerNames.filter((n) => !TRANSPORT.has(n)).sort();
    assert.deepEqual(names, [
      'accept-ranges', 'cache-control', 'content-length', 'content-security-policy', 'content-type', 'etag', 'expires',
      'last-modified', 'server', 'x-content-type-options', 'x-xss-protection',
    ]);
    assertSecurityHeaders(res);
    assert.equal(res.headers['cache-control'], 'public, max-age=600');
    assert.equal(res.headers.etag, '"abc"');
    assert.equal(res.headers.expires, 'Thu, 01 Dec 2039 16:00:00 GMT');
    assert.equal(res.headers['last-modified'], 'Tue, 15 Nov 1994 12:45:26 GMT');
    assert.equal(res.headers['content-length'], String(images.png.length));
  });

  test('injects no Cache-Control when the origin sends none (go-camo, unlike camo)', async () => {
    origin.route('/nocache.png', serve(images.png));
    const res = await fetchRaw(px.camo(origin.url('/nocache.png')));
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], undefined);
  });
});

describe('content types', () => {
  const served: ReadonlyArray<readonly [name: string, body: () => Buffer, type: string, expected: string]> = [
    ['a PNG', () => images.png, 'image/png', 'image/png'],
    ['a JPEG', () => images.jpeg, 'image/jpeg', 'image/jpeg'],
    ['a GIF', () => images.gif, 'image/gif', 'image/gif'],
    ['a WebP', () => images.webp, 'image/webp', 'image/webp'],
    ['an upper-case type', () => images.png, 'IMAGE/PNG', 'image/png'],
    // go-camo TestContentTypeParams: mime.FormatMediaType adds the space after ;
    ['SVG with a charset parameter', () => images.svg, 'image/svg+xml;charset=UTF-8', 'image/svg+xml; charset=UTF-8'],
    ['a quoted parameter that needs its quotes', () => images.png, 'image/png; name="a b"', 'image/png; name="a b"'],
    ['a quoted parameter that does not', () => images.png, 'image/png; q="1"', 'image/png; q=1'],
    ['an image type the sniffer does not know', () => images.png, 'image/x-custom', 'image/x-custom'],
  ];
  for (const [name, body, type, expected] of served) {
    test(`serves ${name} as ${expected}`, async () => {
      const path = `/ct-ok-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      origin.route(path, serve(body(), { type }));
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['content-type'], expected);
      assert.deepEqual(res.body, body());
    });
  }

  const refused: ReadonlyArray<readonly [name: string, type: string | null, message: string]> = [
    ['a missing Content-Type', null, 'Empty content-type returned\n'],
    ['an empty Content-Type', '', 'Empty content-type returned\n'],
    // go-camo TestBadContentTypeSmuggle
    ['image/png, text/html; charset=UTF-8', 'image/png, text/html; charset=UTF-8', 'Unsupported content-type returned\n'],
    ['image/png,text/html; charset=UTF-8', 'image/png,text/html; charset=UTF-8', 'Unsupported content-type returned\n'],
    ['image/png text/html', 'image/png text/html', 'Unsupported content-type returned\n'],
    ['image/png%;text/html', 'image/png%;text/html', 'Unsupported content-type returned\n'],
    ['image/png; charset=UTF-8;text/html', 'image/png; charset=UTF-8;text/html', 'Unsupported content-type returned\n'],
    // go-camo TestBadContentType, Test404OnVideo
    ['what', 'what', 'Unsupported content-type returned\n'],
    ['text/html', 'text/html', 'Unsupported content-type returned\n'],
    ['text/plain', 'text/plain', 'Unsupported content-type returned\n'],
    ['application/octet-stream', 'application/octet-stream', 'Unsupported content-type returned\n'],
    ['video/mp4 without --allow-content-video', 'video/mp4', 'Unsupported content-type returned\n'],
    ['audio/mpeg without --allow-content-audio', 'audio/mpeg', 'Unsupported content-type returned\n'],
  ];
  for (const [name, type, message] of refused) {
    test(`refuses ${name} with 400`, async () => {
      const path = `/ct-bad-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      origin.route(path, serve(images.png, { type }));
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, 400);
      assert.equal(res.text, message);
      assertSecurityHeaders(res);
    });
  }

  const disguised: ReadonlyArray<readonly [name: string, body: string, type: string]> = [
    ['HTML served as image/png', '<!doctype html><html><script>alert(document.domain)</script></html>', 'image/png'],
    ['HTML without doctype served as image/jpeg', '  <html><body onload=alert(1)>', 'image/jpeg'],
    ['SVG served as image/png', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', 'image/png'],
    ['HTML served as image/svg+xml', '<html><script>alert(1)</script></html>', 'image/svg+xml'],
    ['HTML served as an unknown image subtype', '<script>alert(1)</script>', 'image/x-anything'],
    ['a PDF served as image/jpeg', '%PDF-1.4\n1 0 obj', 'image/jpeg'],
  ];
  for (const [name, body, type] of disguised) {
    test(`refuses ${name} with 400, before any byte of it is sent`, async () => {
      const path = `/disguised-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      origin.route(path, serve(body, { type }));
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, 400);
      assert.equal(res.text, 'Unsupported content-type returned\n');
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    });
  }

  const encoders: ReadonlyArray<readonly [name: string, encoding: string, encode: (b: Buffer) => Buffer]> = [
    ['gzip', 'gzip', (b) => gzipSync(b)],
    ['deflate (zlib)', 'deflate', (b) => deflateSync(b)],
    ['raw deflate', 'deflate', (b) => deflateRawSync(b)],
    ['brotli', 'br', (b) => brotliCompressSync(b)],
  ];
  for (const [i, [name, encoding, encode]] of encoders.entries()) {
    test(`passes a ${name}-encoded image through as it is, with its Content-Encoding (go-camo)`, async () => {
      const body = encode(images.bigPng);
      const path = `/encoded-${i}.png`;
      origin.route(path, serve(body, { headers: { 'Content-Encoding': encoding } }));
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['content-encoding'], encoding);
      assert.deepEqual(res.body, body);
    });
  }

  test('sniffs the decoded bytes of an encoded body: gzip-encoded HTML served as image/png is refused', async () => {
    origin.route('/encoded-html.png', serve(gzipSync('<!doctype html><script>alert(1)</script>'), { headers: { 'Content-Encoding': 'gzip' } }));
    const res = await fetchRaw(px.camo(origin.url('/encoded-html.png')));
    assert.equal(res.status, 400);
    assert.equal(res.text, 'Unsupported content-type returned\n');
  });

  test('refuses a raster image in an encoding it cannot look into', async () => {
    origin.route('/encoded-zstd.png', serve(images.png, { headers: { 'Content-Encoding': 'zstd' } }));
    const res = await fetchRaw(px.camo(origin.url('/encoded-zstd.png')));
    assert.equal(res.status, 400);
  });

  test('serves video/* and audio/* with the flags on', async () => {
    const media = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--allow-content-video', '--allow-content-audio'] });
    try {
      // an mp4 starts with an ftyp box; an mp3 with an ID3 tag
      const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(600, 1)]);
      const mp3 = Buffer.concat([Buffer.from('ID3\x04\x00\x00'), Buffer.alloc(600, 2)]);
      origin.route('/v.mp4', serve(mp4, { type: 'video/mp4' })).route('/a.mp3', serve(mp3, { type: 'audio/mpeg' }));
      const v = await fetchRaw(media.camo(origin.url('/v.mp4')));
      assert.equal(v.status, 200);
      assert.equal(v.headers['content-type'], 'video/mp4');
      assert.deepEqual(v.body, mp4);
      const a = await fetchRaw(media.camo(origin.url('/a.mp3')));
      assert.equal(a.status, 200);
      assert.equal(a.headers['content-type'], 'audio/mpeg');
    } finally {
      await media.close();
    }
  });
});

describe('methods', () => {
  test('sends HEAD upstream as HEAD and answers with the headers only', async () => {
    origin.route('/head.png', serve(images.png, { headers: { ETag: '"h"' } }));
    const res = await fetchRaw(px.camo(origin.url('/head.png')), { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(origin.last('/head.png').method, 'HEAD');
    assert.equal(origin.hits('/head.png'), 1);
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.headers['content-length'], String(images.png.length));
    assert.equal(res.headers.etag, '"h"');
    assert.equal(res.body.length, 0);
    assertSecurityHeaders(res);
  });

  test('validates the content type on HEAD too', async () => {
    origin.route('/head.html', serve('<html></html>', { type: 'text/html' }));
    const res = await fetchRaw(px.camo(origin.url('/head.html')), { method: 'HEAD' });
    assert.equal(res.status, 400);
  });

  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
    test(`answers ${method} with 405 and never contacts the origin (CVE-2019-14255)`, async () => {
      origin.route('/method.png', serve(images.png));
      const res = await fetchRaw(px.camo(origin.url('/method.png')), { method });
      assert.equal(res.status, 405);
      assert.equal(res.text, 'Method Not Allowed\n');
      assertSecurityHeaders(res);
      assert.equal(origin.hits('/method.png'), 0);
    });
  }
});

describe('ranges and conditional requests', () => {
  before(() => {
    origin.route('/ranged.png', serve(images.bigPng, { ranges: true, etag: '"v1"', headers: { 'Last-Modified': 'Tue, 15 Nov 1994 12:45:26 GMT' } }));
  });

  test('passes Range upstream and a 206 with Content-Range back', async () => {
    const res = await fetchRaw(px.camo(origin.url('/ranged.png')), { headers: { range: 'bytes=0-99' } });
    assert.equal(res.status, 206);
    assert.equal(origin.last('/ranged.png').headers.range, 'bytes=0-99');
    assert.equal(res.headers['content-range'], `bytes 0-99/${images.bigPng.length}`);
    assert.equal(res.headers['accept-ranges'], 'bytes');
    assert.equal(res.headers['content-length'], '100');
    assert.deepEqual(res.body, images.bigPng.subarray(0, 100));
  });

  test('passes back a 206 for a range in the middle of the image (its bytes cannot be sniffed)', async () => {
    const res = await fetchRaw(px.camo(origin.url('/ranged.png')), { headers: { range: 'bytes=1000-1999' } });
    assert.equal(res.status, 206);
    assert.equal(res.headers['content-range'], `bytes 1000-1999/${images.bigPng.length}`);
    assert.deepEqual(res.body, images.bigPng.subarray(1000, 2000));
  });

  test('still sniffs a 206 the client did not ask for', async () => {
    origin.route('/unasked-206', (_req, res) => {
      res.writeHead(206, { 'Content-Type': 'image/png', 'Content-Range': 'bytes 10-50/100' });
      res.end('<html><script>alert(1)</script></html>');
    });
    const res = await fetchRaw(px.camo(origin.url('/unasked-206')));
    assert.equal(res.status, 400);
  });

  test('passes If-None-Match upstream and a 304 back, with the allow-listed headers and no body', async () => {
    const res = await fetchRaw(px.camo(origin.url('/ranged.png')), { headers: { 'if-none-match': '"v1"' } });
    assert.equal(res.status, 304);
    assert.equal(origin.last('/ranged.png').headers['if-none-match'], '"v1"');
    assert.equal(res.headers.etag, '"v1"');
    assert.equal(res.body.length, 0);
    assertSecurityHeaders(res);
  });

  test('passes If-Modified-Since upstream', async () => {
    origin.route('/ims.png', (req, res) => {
      if (req.headers['if-modified-since'] === 'Tue, 15 Nov 1994 12:45:26 GMT') {
        res.writeHead(304, { 'Last-Modified': 'Tue, 15 Nov 1994 12:45:26 GMT' });
        res.end();
      } else {
        serve(images.png)(req, res);
      }
    });
    const res = await fetchRaw(px.camo(origin.url('/ims.png')), { headers: { 'if-modified-since': 'Tue, 15 Nov 1994 12:45:26 GMT' } });
    assert.equal(res.status, 304);
    assert.equal(res.headers['last-modified'], 'Tue, 15 Nov 1994 12:45:26 GMT');
  });
});

describe('default headers', () => {
  test('are on a success, and on every error status', async () => {
    origin.route('/ok.png', serve(images.png)).route('/boom', status(500, 'INTERNAL-SECRET-CANARY')).route('/html', serve('<html>', { type: 'text/html' }));
    const cases: ReadonlyArray<readonly [string, number, string?]> = [
      [px.camo(origin.url('/ok.png')), 200],
      [px.url + '/healthcheck', 200],
      [px.url + '/no/such/path', 404],
      [px.camo(origin.url('/ok.png')).replace(/\/[0-9a-f]{40}\//, `/${'0'.repeat(40)}/`), 403],
      [px.camo(origin.url('/html')), 400],
      [px.camo(origin.url('/boom')), 502],
      [px.camo(origin.url('/missing')), 404],
      [px.camo(origin.url('/ok.png')), 405, 'POST'],
    ];
    for (const [url, code, method] of cases) {
      const res = await fetchRaw(url, { method: method ?? 'GET' });
      assert.equal(res.status, code, url);
      assertSecurityHeaders(res);
      assert.equal(res.text.includes('INTERNAL-SECRET-CANARY'), false);
    }
  });

  test('-H adds headers and replaces a default of the same name, on successes and errors', async () => {
    const custom = await startPixgate({
      argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '-H', 'X-Frame-Options: DENY', '--header', 'content-security-policy: sandbox'],
    });
    try {
      origin.route('/h.png', serve(images.png));
      for (const url of [custom.camo(origin.url('/h.png')), custom.url + '/not/found/here']) {
        const res = await fetchRaw(url);
        assert.equal(res.headers['x-frame-options'], 'DENY');
        assert.equal(res.headers['content-security-policy'], 'sandbox');
        assert.equal(res.headerNames.filter((n) => n === 'content-security-policy').length, 1);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
    } finally {
      await custom.close();
    }
  });

  test('--server-name sets Server and the Via sent upstream, and is the name loops are detected by', async () => {
    const named = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--server-name', 'my-camo'] });
    try {
      origin.route('/named.png', serve(images.png));
      const res = await fetchRaw(named.camo(origin.url('/named.png')));
      assert.equal(res.headers.server, 'my-camo');
      assert.equal(origin.last('/named.png').headers.via, 'my-camo');
      assert.equal(origin.last('/named.png').headers['user-agent'], 'pixgate', '--user-agent is separate from the server name');
      const looped = await fetchRaw(named.camo(origin.url('/named.png')), { headers: { via: 'my-camo' } });
      assert.equal(looped.status, 404);
      assert.equal(looped.text, 'Request loop failure\n');
      assert.equal(looped.headers.server, 'my-camo');
      const other = await fetchRaw(named.camo(origin.url('/named.png')), { headers: { via: 'pixgate' } });
      assert.equal(other.status, 200);
    } finally {
      await named.close();
    }
  });

  test('--expose-server-version adds the package version to Server', async () => {
    const { version } = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string };
    const exposed = await startPixgate({ argv: ['-k', TEST_KEY, '--expose-server-version'] });
    try {
      const res = await fetchRaw(exposed.url + '/healthcheck');
      assert.equal(res.headers.server, `pixgate ${version}`);
    } finally {
      await exposed.close();
    }
  });
});
