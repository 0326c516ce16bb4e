// Camo URLs over real sockets: the digest forms go-camo and camo accept (camo.md §1), key rotation, the query
// form, and everything that must be refused before the origin is contacted. Digests here are computed with
// node:crypto directly, independently of src/verify.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { serve, startOrigin, testImages, type Origin, type TestImages } from '../helpers/origin.js';
import { fetchRaw, startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';

const SECOND_KEY = 'rotated-in-key';

const hmac = (key: string, url: string) => createHmac('sha1', key).update(url, 'utf8').digest();
const hexPath = (key: string, url: string) => `/${hmac(key, url).toString('hex')}/${Buffer.from(url).toString('hex')}`;
const b64Path = (key: string, url: string) => `/${hmac(key, url).toString('base64url')}/${Buffer.from(url).toString('base64url')}`;
const padded = (b64url: string) => b64url + '='.repeat((4 - (b64url.length % 4)) % 4);

let origin: Origin;
let px: Pixgate;
let images: TestImages;

before(async () => {
  images = await testImages();
  origin = await startOrigin();
  origin.route('/img.png', serve(images.png, { headers: { 'Cache-Control': 'max-age=60' } }));
  origin.route('/q.png', serve(images.png));
  px = await startPixgate({ argv: ['-k', TEST_KEY, '-k', SECOND_KEY, '--allow-network', '127.0.0.1/32'] });
});

after(async () => {
  await px.close();
  await origin.close();
});

async function expectImage(path: string, url = px.url + path) {
  const res = await fetchRaw(url);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.headers['content-type'], 'image/png');
  assert.deepEqual(res.body, images.png);
}

describe('accepted forms', () => {
  test('serves a hex camo URL (lower-case, as url-tool prints it)', async () => {
    await expectImage(hexPath(TEST_KEY, origin.url('/img.png')));
  });

  test('serves a hex camo URL written in upper case (go-camo decodes hex in either case)', async () => {
    await expectImage(hexPath(TEST_KEY, origin.url('/img.png')).toUpperCase());
  });

  test('serves an unpadded URL-safe base64 camo URL', async () => {
    await expectImage(b64Path(TEST_KEY, origin.url('/img.png')));
  });

  test('serves a base64 camo URL whose digest and URL carry = padding', async () => {
    const url = origin.url('/img.png'); // the length decides whether padding appears: make sure both do
    const [, digest, encoded] = b64Path(TEST_KEY, url).split('/') as [string, string, string];
    assert.ok(padded(digest).endsWith('='), 'a SHA1 digest always needs one = of padding');
    await expectImage(`/${padded(digest)}/${padded(encoded)}`);
    await expectImage(`/${padded(digest)}/${encoded}`);
  });

  test('verifies with the second key of the rotation list', async () => {
    await expectImage(hexPath(SECOND_KEY, origin.url('/img.png')));
    await expectImage(b64Path(SECOND_KEY, origin.url('/img.png')));
  });

  test("serves camo's query form /<hexdigest>?url=<percent-encoded url>", async () => {
    const url = origin.url('/q.png?size=large&x=a%20b');
    const digest = hmac(TEST_KEY, url).toString('hex');
    await expectImage(`/${digest}?url=${encodeURIComponent(url)}`);
    assert.equal(origin.last('/q.png').url, '/q.png?size=large&x=a%20b', 'the signed query string reaches the origin byte for byte');
  });

  test('passes the signed query string to the origin byte for byte', async () => {
    const url = origin.url('/img.png?b=2&a=1&c=%7e');
    await expectImage(hexPath(TEST_KEY, url));
    assert.equal(origin.last('/img.png').url, '/img.png?b=2&a=1&c=%7e');
  });

  test('passes quotes, braces and other characters a URL parser would escape in the query as written (as Go\'s RawQuery)', async () => {
    // WHATWG serialisation would send %27 and %22 for the quotes; Go's client sends url.URL.RawQuery untouched.
    const query = `a='b'&c="d"&e={f}&g=h|i^j\`k&l=<m>&n=%zz&o=%7e&p=?q`;
    await expectImage(hexPath(TEST_KEY, origin.url(`/img.png?${query}`)));
    assert.equal(origin.last('/img.png').url, `/img.png?${query}`);
    await expectImage(b64Path(TEST_KEY, origin.url('/img.png?')));
    assert.equal(origin.last('/img.png').url, '/img.png?', 'an empty query keeps its ?, as Go\'s ForceQuery');
  });

  test('percent-encodes only what cannot go on the request line: spaces and non-ASCII in the query (UTF-8 bytes)', async () => {
    await expectImage(hexPath(TEST_KEY, origin.url('/img.png?x=a b&y=é&z=✓')));
    assert.equal(origin.last('/img.png').url, '/img.png?x=a%20b&y=%C3%A9&z=%E2%9C%93');
  });

  test('sends dot segments resolved, as the policies read them (Go sends them unresolved), the query as written', async () => {
    origin.route('/x/../img.png', serve(images.png));
    const before = origin.hits('/img.png');
    await expectImage(hexPath(TEST_KEY, origin.url("/x/../img.png?k='v'")));
    await expectImage(hexPath(TEST_KEY, origin.url('/a/./b/%2E%2e/../img.png')));
    assert.equal(origin.hits('/x/../img.png'), 0, 'an origin that keeps dot segments never sees them');
    assert.equal(origin.hits('/img.png'), before + 2);
  });

  test('sends a path as written where RFC 3986 allows each character, percent-encoding the others one by one', async () => {
    // pchar (RFC 3986 §3.3) keeps ' ( ) ! * + , ; = : @ and existing escapes; " { } | ^ ` < > and non-ASCII are not
    // pchars, so they go out as %XX of their UTF-8 bytes (Go's client escapes the same characters).
    const sent = "/p'(a)!*+,;=:@%7e%22t%7Bh%7D%7C%5E%60%3C%3E%C3%A9.png";
    origin.route(sent, serve(images.png));
    await expectImage(hexPath(TEST_KEY, origin.url("/p'(a)!*+,;=:@%7e\"t{h}|^`<>é.png")));
    assert.equal(origin.last(sent).url, sent);
  });

  test('a path with a backslash goes out as the URL parser read it (a backslash is a separator to it, not to Go)', async () => {
    origin.route('/y/img.png', serve(images.png));
    await expectImage(hexPath(TEST_KEY, origin.url('/y\\img.png')));
    assert.equal(origin.last('/y/img.png').url, '/y/img.png');
  });

  test('ignores a query string on a path-form camo URL (go-camo only reads the path)', async () => {
    await expectImage(hexPath(TEST_KEY, origin.url('/img.png')) + '?url=http://evil.example/');
  });
});

describe('refusals that never reach the origin', () => {
  const url = () => origin.url('/img.png');
  const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === '0' ? '1' : '0') + s.slice(i + 1);

  const cases: ReadonlyArray<readonly [name: string, path: () => string, status: number, body: string]> = [
    ['a digest with its first character changed', () => '/' + flip(hexPath(TEST_KEY, url()).slice(1), 0), 403, 'Bad Signature\n'],
    ['a digest with its last character changed', () => '/' + flip(hexPath(TEST_KEY, url()).slice(1), 39), 403, 'Bad Signature\n'],
    ['the digest of another URL', () => `/${hmac(TEST_KEY, origin.url('/other.png')).toString('hex')}/${Buffer.from(url()).toString('hex')}`, 403, 'Bad Signature\n'],
    ['a URL signed with a key that is not configured', () => hexPath('some-other-key', url()), 403, 'Bad Signature\n'],
    ['a URL changed after signing', () => `/${hmac(TEST_KEY, url()).toString('hex')}/${Buffer.from(url() + 'x').toString('hex')}`, 403, 'Bad Signature\n'],
    ['a hex digest with a base64 URL (go-camo refuses mixing)', () => `/${hmac(TEST_KEY, url()).toString('hex')}/${Buffer.from(url()).toString('base64url')}`, 403, 'Bad Signature\n'],
    ['a base64 digest with a hex URL', () => `/${hmac(TEST_KEY, url()).toString('base64url')}/${Buffer.from(url()).toString('hex')}`, 403, 'Bad Signature\n'],
    ['an extension appended to the encoded URL', () => hexPath(TEST_KEY, url()) + '.png', 403, 'Bad Signature\n'],
    ['base64 with + and / (the non-URL-safe alphabet)', () => {
      // a URL whose base64 needs characters 62 and 63
      const u = origin.url('/img.png?>>>???');
      assert.match(Buffer.from(u).toString('base64'), /[+/]/);
      return `/${hmac(TEST_KEY, u).toString('base64')}/${Buffer.from(u).toString('base64').replace(/=+$/, '')}`;
    }, 404, '404 Not Found\n'],
    ['a trailing slash after the encoded URL', () => hexPath(TEST_KEY, url()) + '/', 404, '404 Not Found\n'],
    ['an extra path component', () => hexPath(TEST_KEY, url()) + '/foo.png', 404, '404 Not Found\n'],
    ['a digest without URL', () => `/${hmac(TEST_KEY, url()).toString('hex')}`, 404, '404 Not Found\n'],
    // go-camo's router hands every /<a>/<b> path to the proxy, which answers a digest it cannot decode with 403.
    ['a digest one character short', () => '/' + hexPath(TEST_KEY, url()).slice(2), 403, 'Bad Signature\n'],
    ['a digest one character long', () => '/0' + hexPath(TEST_KEY, url()).slice(1), 403, 'Bad Signature\n'],
    ['a digest with a character outside hex and base64url', () => `/${'!'.repeat(40)}/${Buffer.from(url()).toString('hex')}`, 403, 'Bad Signature\n'],
    ['an empty encoded URL', () => `/${hmac(TEST_KEY, url()).toString('hex')}/`, 403, 'Bad Signature\n'],
    ['any other two-segment path', () => '/images/cat.png', 403, 'Bad Signature\n'],
    ['a query-form digest that does not verify', () => `/${'0'.repeat(40)}?url=${encodeURIComponent(url())}`, 403, 'Bad Signature\n'],
    ['a query form with two url parameters', () => `/${hmac(TEST_KEY, url()).toString('hex')}?url=${encodeURIComponent(url())}&url=${encodeURIComponent(url())}`, 404, '404 Not Found\n'],
  ];

  for (const [name, path, status, body] of cases) {
    test(`refuses ${name} with ${status}`, async () => {
      const before = origin.hits();
      const res = await fetchRaw(px.url + path());
      assert.equal(res.status, status);
      assert.equal(res.text, body);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(origin.hits(), before, 'the origin must not be contacted');
    });
  }

  test('refuses a non-canonical base64 digest spelling (go-camo accepts four spellings of one digest)', async () => {
    const [, digest, encoded] = b64Path(TEST_KEY, url()).split('/') as [string, string, string];
    // The last of 27 characters carries 4 meaningful bits and 2 unused ones; setting an unused bit keeps the bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(digest[26]!);
    const alias = digest.slice(0, 26) + alphabet[last | 1];
    assert.notEqual(alias, digest);
    assert.deepEqual(Buffer.from(alias, 'base64url'), Buffer.from(digest, 'base64url'), 'Node decodes both spellings to the same bytes');
    const res = await fetchRaw(`${px.url}/${alias}/${encoded}`);
    assert.equal(res.status, 403);
  });

  test('answers 400 Bad url for a signed URL that does not parse', async () => {
    const res = await fetchRaw(px.url + hexPath(TEST_KEY, 'not a url at all'));
    assert.equal(res.status, 400);
    assert.equal(res.text, 'Bad url\n');
  });

  test('answers 400 Bad url for signed bytes that are not UTF-8', async () => {
    const bytes = Buffer.from([...Buffer.from(origin.url('/img.png?')), 0xff, 0xfe]);
    const digest = createHmac('sha1', TEST_KEY).update(bytes).digest('hex');
    const res = await fetchRaw(`${px.url}/${digest}/${bytes.toString('hex')}`);
    assert.equal(res.status, 400);
    assert.equal(res.text, 'Bad url\n');
  });

  test('answers 404 "404 Not Found" on paths that are not camo URLs, as go-camo', async () => {
    const res = await fetchRaw(px.url + '/nothing/here/at/all');
    assert.equal(res.status, 404);
    assert.equal(res.text, '404 Not Found\n');
  });

  test('answers a 100 000-character URL with 431 at once (Node\'s 16 KiB header limit)', async () => {
    const started = Date.now();
    // Node 24 may reset the connection right after its 431, before the client has finished writing the URL.
    const res = await fetchRaw(`${px.url}/${'a'.repeat(40)}/${'6'.repeat(100_000)}`).catch((err: NodeJS.ErrnoException) => {
      assert.equal(err.code, 'ECONNRESET');
      return { status: 431 };
    });
    assert.equal(res.status, 431);
    assert.ok(Date.now() - started < 5000);
  });

  test('refuses a very long digest and URL with a 4xx, not a 500', async () => {
    const res = await fetchRaw(`${px.url}/${'a'.repeat(4000)}/${'b'.repeat(8000)}`);
    assert.ok(res.status >= 400 && res.status < 500, String(res.status));
  });
});

describe('with imagor beside camo', () => {
  test('a digest of the wrong shape is tried as an imagor URL only, and refused in imagor\'s words', async () => {
    const both = await startPixgate({ env: { IMAGOR_SECRET: 'an-imagor-secret' }, argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.1/32'] });
    try {
      const before = origin.hits();
      const res = await fetchRaw(both.url + '/' + hexPath(TEST_KEY, origin.url('/img.png')).slice(2));
      assert.equal(res.status, 403);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(res.text), { message: 'url signature mismatch', status: 403 });
      assert.equal(origin.hits(), before);
      // A well-shaped camo URL is still served as one.
      assert.equal((await fetchRaw(both.url + hexPath(TEST_KEY, origin.url('/img.png')))).status, 200);
    } finally {
      await both.close();
    }
  });
});

describe('without a key', () => {
  test('camo routes are off: a well-signed URL gets 404 and the origin is not contacted', async () => {
    const noKey = await startPixgate({ argv: ['--allow-network', '127.0.0.1/32'] });
    try {
      const before = origin.hits();
      const res = await fetchRaw(noKey.url + hexPath(TEST_KEY, origin.url('/img.png')));
      assert.equal(res.status, 404);
      assert.equal(res.text, '404 Not Found\n');
      assert.equal(origin.hits(), before);
      const health = await fetchRaw(noKey.url + '/healthcheck');
      assert.equal(health.status, 200);
    } finally {
      await noKey.close();
    }
  });
});

describe('keys from the environment', () => {
  test('GOCAMO_HMAC takes a comma list: any key verifies', async () => {
    const envPx = await startPixgate({ env: { GOCAMO_HMAC: `first-key,${SECOND_KEY}` }, argv: ['--allow-network', '127.0.0.1/32'] });
    try {
      assert.equal((await fetchRaw(envPx.url + hexPath('first-key', origin.url('/img.png')))).status, 200);
      assert.equal((await fetchRaw(envPx.url + hexPath(SECOND_KEY, origin.url('/img.png')))).status, 200);
      assert.equal((await fetchRaw(envPx.url + hexPath(TEST_KEY, origin.url('/img.png')))).status, 403);
    } finally {
      await envPx.close();
    }
  });

  test('-k flags replace PIXGATE_CAMO_KEYS rather than adding to it', async () => {
    const envPx = await startPixgate({ env: { PIXGATE_CAMO_KEYS: 'env-key' }, argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.1/32'] });
    try {
      assert.equal((await fetchRaw(envPx.url + hexPath(TEST_KEY, origin.url('/img.png')))).status, 200);
      assert.equal((await fetchRaw(envPx.url + hexPath('env-key', origin.url('/img.png')))).status, 403);
    } finally {
      await envPx.close();
    }
  });
});
