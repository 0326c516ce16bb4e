// imagor's HTTP loader over real sockets (issue 3 "Loaders", imagor.md §4 HTTP loader, reference §12 items 1, 3
// and 4; loader/httploader/httploader.go): allowed-source globs (matched against host:port, as Go's u.Host) and
// the regexp on the whole URL, each re-checked on redirect hops; the base-URL lock; the default scheme incl.
// `nil`; forwarded headers (never credentials); HTTP_LOADER_ACCEPT -> 406; the size cap enforced on the body as
// read; HTTPS-only, which imagor documents but never built; private networks refused unless --allow-network.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { decode, makeQuadrant } from '../helpers/images.js';
import { errorBody, fetchPath, IMAGOR_SECRET, imagorHash, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { redirect, serve, startCanary, startOrigin, testImages, type Canary, type Origin, type TestImages } from '../helpers/origin.js';
import { spawnPixgate, startPixgate, type FetchedResponse } from '../helpers/pixgate.js';

let images: TestImages;
let png: Buffer;
/** The origin every rig may reach (127.0.0.2). */
let origin: Origin;
/** A second origin on 127.0.0.3: reachable only where a test allows it, and counted. */
let other: Origin;

const NOT_ALLOWED = { message: 'http source not allowed', status: 403 };

before(async () => {
  images = await testImages();
  png = await makeQuadrant(20, 20);
  origin = await startOrigin({ host: '127.0.0.2' });
  other = await startOrigin({ host: '127.0.0.3' });
  for (const o of [origin, other]) {
    o.route('/q.png', serve(png));
    o.route('/base/q.png', serve(png));
    o.route('/allowed/q.png', serve(png));
    o.route('/secret.png', serve(png));
  }
});

after(async () => {
  await origin.close();
  await other.close();
});

/** GET pixgate for `ops` + image (any text, signed and sent as is). */
function get(rig: { px: { url: string } }, image: string, opts: { ops?: string; headers?: Record<string, string> } = {}): Promise<FetchedResponse> {
  const path = `${opts.ops ?? '10x10'}/${image}`;
  return fetchPath(rig.px.url, `/${imagorHash(path)}/${path}`, { headers: opts.headers });
}

function assertNotAllowed(res: FetchedResponse) {
  assert.equal(res.status, 403, res.text);
  assert.deepEqual(errorBody(res.text), NOT_ALLOWED);
}

describe('HTTP_LOADER_ALLOWED_SOURCES', () => {
  test('a glob matching host:port is allowed; the host alone does not match a URL with a port (Go u.Host)', async () => {
    const rig = await startImagorRig({ origin, env: { HTTP_LOADER_ALLOWED_SOURCES: `127.0.0.2,127.0.0.*:${origin.port}` } });
    try {
      assert.equal((await get(rig, origin.url('/q.png'))).status, 200);
    } finally {
      await rig.close();
    }
    const strict = await startImagorRig({ origin, env: { HTTP_LOADER_ALLOWED_SOURCES: '127.0.0.2' } });
    try {
      const before = origin.hits();
      assertNotAllowed(await get(strict, origin.url('/q.png')));
      assert.equal(origin.hits(), before, 'refused before any request');
    } finally {
      await strict.close();
    }
  });

  test("`*` spans dots but a pattern never matches another host; several patterns are ORed", async () => {
    const rig = await startImagorRig({
      origin,
      argv: ['--allow-network', '127.0.0.3/32'],
      env: { HTTP_LOADER_ALLOWED_SOURCES: `*.example.com, 127.*:${origin.port}` },
    });
    try {
      assert.equal((await get(rig, origin.url('/q.png'))).status, 200);
      const before = other.hits();
      // other listens on another port: 127.*:<origin port> does not match it
      assertNotAllowed(await get(rig, other.url('/q.png')));
      assert.equal(other.hits(), before);
    } finally {
      await rig.close();
    }
  });

  test('a redirect to a host outside the list is refused with 403, before it is followed', async () => {
    const rig = await startImagorRig({
      origin,
      argv: ['--allow-network', '127.0.0.3/32'],
      env: { HTTP_LOADER_ALLOWED_SOURCES: `127.0.0.2:${origin.port}` },
    });
    try {
      origin.route('/hop-out', redirect(302, other.url('/q.png')));
      origin.route('/hop-in', redirect(302, '/q.png'));
      const before = other.hits();
      assertNotAllowed(await get(rig, origin.url('/hop-out')));
      assert.equal(other.hits(), before);
      assert.equal((await get(rig, origin.url('/hop-in'))).status, 200);
    } finally {
      await rig.close();
    }
  });

  test('only http and https URLs are loaded: file:, ftp: and data: are refused', async () => {
    const rig = await startImagorRig({ origin });
    try {
      for (const image of ['file:///etc/passwd', 'ftp://127.0.0.2/q.png', 'gopher://127.0.0.2:70/x']) {
        const res = await get(rig, image);
        assertNotAllowed(res);
        assert.doesNotMatch(res.text, /root:/);
      }
    } finally {
      await rig.close();
    }
  });
});

describe('HTTP_LOADER_ALLOWED_SOURCE_REGEXP', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({
      origin,
      env: { HTTP_LOADER_ALLOWED_SOURCE_REGEXP: `^http://127\\.0\\.0\\.2:${origin.port}/allowed/` },
    });
  });
  after(() => rig.close());

  test('is matched against the whole URL: the path decides', async () => {
    assert.equal((await get(rig, origin.url('/allowed/q.png'))).status, 200);
    assertNotAllowed(await get(rig, origin.url('/q.png')));
  });

  test('a redirect out of the matching paths is refused', async () => {
    origin.route('/allowed/hop', redirect(302, '/secret.png'));
    const before = origin.hits('/secret.png');
    assertNotAllowed(await get(rig, origin.url('/allowed/hop')));
    assert.equal(origin.hits('/secret.png'), before);
  });

  test('is ORed with the globs', async () => {
    const both = await startImagorRig({
      origin,
      env: { HTTP_LOADER_ALLOWED_SOURCES: 'nothing.example', HTTP_LOADER_ALLOWED_SOURCE_REGEXP: '/allowed/' },
    });
    try {
      assert.equal((await get(both, origin.url('/allowed/q.png'))).status, 200);
      assertNotAllowed(await get(both, origin.url('/q.png')));
    } finally {
      await both.close();
    }
  });
});

describe('HTTP_LOADER_BASE_URL', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, argv: ['--allow-network', '127.0.0.3/32'], env: { HTTP_LOADER_BASE_URL: `${origin.base}/base/` } });
  });
  after(() => rig.close());

  test('an image key is loaded from under the base URL', async () => {
    const res = await get(rig, 'q.png');
    assert.equal(res.status, 200, res.text);
    assert.equal(origin.last().path, '/base/q.png');
  });

  const tricks: ReadonlyArray<readonly [string, (o: Origin) => string]> = [
    ['a scheme-relative //host', (o) => `//127.0.0.3:${o.port}/q.png`],
    ['a full URL', (o) => `http://127.0.0.3:${o.port}/q.png`],
    ['userinfo @host', (o) => `@127.0.0.3:${o.port}/q.png`],
    ['a backslash host', (o) => `\\\\127.0.0.3:${o.port}/q.png`],
  ];
  for (const [name, image] of tricks) {
    test(`${name} stays a path under the base URL and never reaches the other host`, async () => {
      const before = other.hits();
      const res = await get(rig, image(other));
      assert.notEqual(res.status, 200);
      assert.equal(other.hits(), before, 'the other host was contacted');
    });
  }

  for (const [name, image] of [
    ['../', '../secret.png'],
    ['percent-encoded %2e%2e/ (unescaped once by the parser)', '%2e%2e/secret.png'],
    ['double-encoded %252e%252e/ (dot segments the URL parser resolves)', '%252e%252e/secret.png'],
  ] as const) {
    test(`${name} cannot climb out of the base path: 403, nothing fetched`, async () => {
      const before = origin.hits('/secret.png');
      assertNotAllowed(await get(rig, image));
      assert.equal(origin.hits('/secret.png'), before);
    });
  }

  test('a redirect out of the base URL is refused', async () => {
    origin.route('/base/hop', redirect(302, '/secret.png'));
    assertNotAllowed(await get(rig, 'hop'));
  });
});

describe('HTTP_LOADER_DEFAULT_SCHEME', () => {
  const key = () => `127.0.0.2:${origin.port}/q.png`;

  test('http: a scheme-less key loads over http', async () => {
    const rig = await startImagorRig({ origin, env: { HTTP_LOADER_DEFAULT_SCHEME: 'http' } });
    try {
      assert.equal((await get(rig, key())).status, 200);
    } finally {
      await rig.close();
    }
  });

  test('https (the default): a scheme-less key is tried over TLS, so a plain-HTTP origin never serves it', async () => {
    const rig = await startImagorRig({ origin });
    try {
      const before = origin.hits('/q.png');
      const res = await get(rig, key());
      assert.notEqual(res.status, 200);
      assert.equal(origin.hits('/q.png'), before);
    } finally {
      await rig.close();
    }
  });

  test('nil: a scheme-less key is refused with 400, a full URL still loads', async () => {
    const rig = await startImagorRig({ origin, env: { HTTP_LOADER_DEFAULT_SCHEME: 'nil' } });
    try {
      const res = await get(rig, key());
      assert.equal(res.status, 400);
      assert.deepEqual(errorBody(res.text), { message: 'invalid', status: 400 });
      assert.equal((await get(rig, origin.url('/q.png'))).status, 200);
    } finally {
      await rig.close();
    }
  });
});

describe('HTTP_LOADER_FORWARD_HEADERS', () => {
  test('forwards the listed client headers, never Cookie or Authorization even when listed', async () => {
    const rig = await startImagorRig({
      origin,
      env: { HTTP_LOADER_FORWARD_HEADERS: 'X-Trace-Id,Cookie,Authorization,Accept-Language,Proxy-Authorization' },
    });
    try {
      origin.route('/fwd.png', serve(png));
      const res = await get(rig, origin.url('/fwd.png'), {
        headers: {
          'x-trace-id': 'trace-123',
          'accept-language': 'de-CH',
          cookie: 'session=secret',
          authorization: 'Bearer secret',
          'proxy-authorization': 'Basic c2VjcmV0',
          'x-not-listed': 'nope',
        },
      });
      assert.equal(res.status, 200);
      const seen = origin.last('/fwd.png').headers;
      assert.equal(seen['x-trace-id'], 'trace-123');
      assert.equal(seen['accept-language'], 'de-CH');
      assert.equal(seen.cookie, undefined);
      assert.equal(seen.authorization, undefined);
      assert.equal(seen['proxy-authorization'], undefined);
      assert.equal(seen['x-not-listed'], undefined);
    } finally {
      await rig.close();
    }
  });

  test('hop-by-hop, range and conditional headers are never forwarded: a client cannot make the load fail', async () => {
    const listed = ['Keep-Alive', 'Upgrade', 'Expect', 'Transfer-Encoding', 'Range', 'If-None-Match', 'If-Modified-Since', 'X-Trace-Id'];
    const rig = await startImagorRig({ origin, env: { HTTP_LOADER_FORWARD_HEADERS: listed.join(',') } });
    try {
      origin.route('/cond.png', serve(png, { etag: '"v1"', ranges: true }));
      const res = await get(rig, origin.url('/cond.png'), {
        headers: {
          'keep-alive': 'timeout=5',
          upgrade: 'websocket',
          expect: '100-continue',
          range: 'bytes=0-10',
          'if-none-match': '"v1"',
          'if-modified-since': 'Wed, 21 Oct 2015 07:28:00 GMT',
          'x-trace-id': 'kept',
        },
      });
      assert.equal(res.status, 200, res.text);
      const seen = origin.last('/cond.png').headers;
      assert.equal(seen['x-trace-id'], 'kept');
      for (const name of ['upgrade', 'expect', 'range', 'if-none-match', 'if-modified-since']) assert.equal(seen[name], undefined, name);
    } finally {
      await rig.close();
    }
  });

  test('`*` (imagor: every client header, cookies included) stops the start', async () => {
    await assert.rejects(startImagorRig({ origin, env: { HTTP_LOADER_FORWARD_HEADERS: 'X-Trace-Id,*' } }), /HTTP_LOADER_FORWARD_HEADERS=\*/);
  });

  test('without the setting, no client header is forwarded', async () => {
    const rig = await startImagorRig({ origin });
    try {
      origin.route('/nofwd.png', serve(png));
      await get(rig, origin.url('/nofwd.png'), { headers: { 'x-trace-id': 't', cookie: 'a=b', 'accept-language': 'fr' } });
      const seen = origin.last('/nofwd.png').headers;
      assert.equal(seen['x-trace-id'], undefined);
      assert.equal(seen.cookie, undefined);
      assert.equal(seen['accept-language'], undefined);
    } finally {
      await rig.close();
    }
  });
});

describe('HTTP_LOADER_ACCEPT', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, env: { HTTP_LOADER_ACCEPT: 'image/png,image/jpeg' } });
    origin.route('/as-png', serve(png, { type: 'image/png' }));
    origin.route('/as-html', serve(png, { type: 'text/html' }));
    origin.route('/as-none', serve(png, { type: null }));
    origin.route('/as-png-params', serve(png, { type: 'image/png; charset=binary' }));
  });
  after(() => rig.close());

  test('is sent as the Accept header', async () => {
    assert.equal((await get(rig, origin.url('/as-png'))).status, 200);
    assert.equal(origin.last('/as-png').headers.accept, 'image/png,image/jpeg');
  });

  test('a Content-Type outside it is 406 unsupported format', async () => {
    const res = await get(rig, origin.url('/as-html'));
    assert.equal(res.status, 406);
    assert.deepEqual(errorBody(res.text), { message: 'unsupported format', status: 406 });
  });

  test('a missing Content-Type is 406 too', async () => {
    assert.equal((await get(rig, origin.url('/as-none'))).status, 406);
  });

  test('media type parameters do not matter', async () => {
    assert.equal((await get(rig, origin.url('/as-png-params'))).status, 200);
  });

  test('type/* globs match the subtype', async () => {
    const glob = await startImagorRig({ origin, env: { HTTP_LOADER_ACCEPT: 'image/*' } });
    try {
      assert.equal((await get(glob, origin.url('/as-png'))).status, 200);
      assert.equal((await get(glob, origin.url('/as-html'))).status, 406);
    } finally {
      await glob.close();
    }
  });
});

describe('HTTP_LOADER_MAX_ALLOWED_SIZE', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, env: { HTTP_LOADER_MAX_ALLOWED_SIZE: '4096' } });
    origin.route('/big-length', serve(images.bigPng));
    origin.route('/big-chunked', serve(images.bigPng, { contentLength: false }));
    origin.route('/big-gzip', serve(gzipSync(images.bigPng), { headers: { 'Content-Encoding': 'gzip' } }));
    origin.route('/small-chunked', serve(png, { contentLength: false }));
  });
  after(() => rig.close());

  const TOO_BIG = { message: 'maximum size exceeded', status: 400 };

  test('a body declared larger is refused', async () => {
    const res = await get(rig, origin.url('/big-length'));
    assert.equal(res.status, 400);
    assert.deepEqual(errorBody(res.text), TOO_BIG);
  });

  test('a chunked body without Content-Length is cut at the limit', async () => {
    assert.ok(images.bigPng.length > 4096 * 4);
    const res = await get(rig, origin.url('/big-chunked'));
    assert.equal(res.status, 400);
    assert.deepEqual(errorBody(res.text), TOO_BIG);
  });

  test('a gzip body is counted as decoded (a small download may not expand past the limit)', async () => {
    assert.ok(gzipSync(images.bigPng).length > 4096, 'noise does not compress');
    const res = await get(rig, origin.url('/big-gzip'));
    assert.equal(res.status, 400);
  });

  test('a chunked body under the limit is served', async () => {
    assert.equal((await get(rig, origin.url('/small-chunked'))).status, 200);
  });
});

describe('HTTP_LOADER_HTTPS_ONLY', () => {
  test('refuses an http URL with 403 before connecting', async () => {
    const rig = await startImagorRig({ origin, env: { HTTP_LOADER_HTTPS_ONLY: '1' } });
    try {
      const before = origin.hits();
      assertNotAllowed(await get(rig, origin.url('/q.png')));
      assert.equal(origin.hits(), before);
    } finally {
      await rig.close();
    }
  });

  describe('with an https origin (pixgate in a child that trusts a test CA)', () => {
    let dir: string;
    let tls: HttpsServer | undefined;
    let child: ReturnType<typeof spawnPixgate> | undefined;
    let base = '';
    let httpsBase = '';

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'pixgate-https-only-'));
      const keyFile = join(dir, 'key.pem');
      const certFile = join(dir, 'cert.pem');
      try {
        execFileSync('openssl', [
          'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
          '-subj', '/CN=127.0.0.2', '-addext', 'subjectAltName=IP:127.0.0.2', '-keyout', keyFile, '-out', certFile,
        ], { stdio: 'ignore' });
      } catch {
        return; // no openssl: the tests skip themselves
      }
      tls = createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
        if (req.url === '/q.png') {
          res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
          res.end(png);
        } else if (req.url === '/to-http') {
          res.writeHead(302, { Location: origin.url('/q.png'), 'Content-Length': 0 });
          res.end();
        } else if (req.url === '/to-https') {
          res.writeHead(302, { Location: '/q.png', 'Content-Length': 0 });
          res.end();
        } else {
          res.writeHead(404);
          res.end();
        }
      });
      await new Promise<void>((resolve) => tls!.listen(0, '127.0.0.2', resolve));
      httpsBase = `https://127.0.0.2:${(tls.address() as AddressInfo).port}`;
      child = spawnPixgate(['--listen', '127.0.0.1:0'], {
        IMAGOR_SECRET,
        HTTP_LOADER_HTTPS_ONLY: '1',
        PIXGATE_ALLOW_NETWORKS: '127.0.0.2/32',
        NODE_EXTRA_CA_CERTS: certFile,
      });
      base = (await child.waitFor(/listening address="(http:\/\/[^"]+)"/))[1]!;
    });

    after(async () => {
      await child?.stop();
      tls?.closeAllConnections();
      await new Promise<void>((resolve) => (tls ? tls.close(() => resolve()) : resolve()));
      rmSync(dir, { recursive: true, force: true });
    });

    test('loads an https source', async (t) => {
      if (!child) return t.skip('no openssl');
      const res = await get({ px: { url: base } }, `${httpsBase}/q.png`);
      assert.equal(res.status, 200, res.text);
      assert.equal((await decode(res.body)).width, 10);
    });

    test('refuses a redirect from https to http with 403, without following it', async (t) => {
      if (!child) return t.skip('no openssl');
      const before = origin.hits('/q.png');
      assertNotAllowed(await get({ px: { url: base } }, `${httpsBase}/to-http`));
      assert.equal(origin.hits('/q.png'), before);
    });

    test('follows a redirect that stays on https', async (t) => {
      if (!child) return t.skip('no openssl');
      assert.equal((await get({ px: { url: base } }, `${httpsBase}/to-https`)).status, 200);
    });
  });
});

describe('private networks', () => {
  let canary: Canary;
  before(async () => {
    canary = await startCanary('127.0.0.1');
  });
  after(() => canary.close());

  test('loopback is refused by default with 403 (imagor leaves it open), and nothing connects', async () => {
    const px = await startPixgate({ env: { IMAGOR_SECRET } });
    try {
      const before = origin.hits();
      assertNotAllowed(await get({ px }, origin.url('/q.png')));
      assertNotAllowed(await get({ px }, `${canary.base}/x.png`));
      assert.equal(origin.hits(), before);
      assert.equal(canary.connections(), 0);
    } finally {
      await px.close();
    }
  });

  // Only loopback spellings: a form that could leave the host if the check failed (private ranges, link-local
  // metadata) is tried in camo-isolated.test.ts, inside a network namespace, with the same address policy.
  test('refuses IPv6 loopback, IPv4-mapped, local-name and numeric loopback sources with 403', async () => {
    const px = await startPixgate({ env: { IMAGOR_SECRET } });
    try {
      for (const image of [
        `http://[::1]:${canary.port}/x.png`,
        `http://[::ffff:127.0.0.1]:${canary.port}/x.png`,
        `http://localhost:${canary.port}/x.png`,
        `http://2130706433:${canary.port}/x.png`,
        `http://127.1:${canary.port}/x.png`,
      ]) {
        const res = await get({ px }, image);
        assert.equal(res.status, 403, image);
        assert.deepEqual(errorBody(res.text), NOT_ALLOWED, image);
      }
      assert.equal(canary.connections(), 0);
    } finally {
      await px.close();
    }
  });

  test('a redirect from an allowed origin to a denied address is refused', async () => {
    const rig = await startImagorRig({ origin });
    try {
      origin.route('/to-canary', redirect(302, `${canary.base}/x.png`));
      assertNotAllowed(await get(rig, origin.url('/to-canary')));
      assert.equal(canary.connections(), 0);
    } finally {
      await rig.close();
    }
  });

  test('HTTP_LOADER_BLOCK_NETWORKS denies a range even inside --allow-network', async () => {
    const rig = await startImagorRig({ origin, env: { HTTP_LOADER_BLOCK_NETWORKS: '127.0.0.2/32' } });
    try {
      const before = origin.hits();
      assertNotAllowed(await get(rig, origin.url('/q.png')));
      assert.equal(origin.hits(), before);
    } finally {
      await rig.close();
    }
  });

  test('HTTP_LOADER_BLOCK_LOOPBACK_NETWORKS=false stops the start: pixgate always blocks, --allow-network exempts', async () => {
    await assert.rejects(
      startPixgate({ env: { IMAGOR_SECRET, HTTP_LOADER_BLOCK_LOOPBACK_NETWORKS: 'false' } }),
      /HTTP_LOADER_BLOCK_LOOPBACK_NETWORKS=false: .*--allow-network/,
    );
  });

  test('--allow-network opens exactly the given range', async () => {
    const rig = await startImagorRig({ origin });
    try {
      assert.equal((await get(rig, origin.url('/q.png'))).status, 200);
      assertNotAllowed(await get(rig, other.url('/q.png')));
    } finally {
      await rig.close();
    }
  });
});
