// Limits and misbehaving origins (issue 2 "Fetching safely", camo.md §2 items 9-14, security.md §3): --max-size
// on Content-Length and on the bytes actually streamed (a body discovered to be too big mid-stream aborts the
// client connection instead of ending a truncated 200), lying and short bodies, the total --timeout, and go-camo's
// mapping of origin statuses. Nothing from the origin's body may appear in an error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { earlyEof, raw, serve, stall, startOrigin, status, testImages, trickle, type Origin, type TestImages } from '../helpers/origin.js';
import { fetchRaw, startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';

let images: TestImages;
let origin: Origin;

before(async () => {
  images = await testImages();
  origin = await startOrigin({ host: '127.0.0.2' });
});

after(() => origin.close());

/** The value of a counter (no labels) in the Prometheus text. */
async function counter(px: Pixgate, name: string): Promise<number> {
  const text = await px.app.metrics.registry.metrics();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in the metrics`);
  return Number(m[1]);
}

describe('--max-size', () => {
  const MAX_KB = 4;
  let px: Pixgate;
  before(async () => {
    assert.ok(images.bigPng.length > MAX_KB * 1024 * 4, 'the big test image must be well over the limit');
    px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--max-size', String(MAX_KB)] });
  });
  after(() => px.close());

  test('refuses a Content-Length over the limit with 404 Content length exceeded, before reading the body', async () => {
    origin.route('/big-cl.png', serve(images.bigPng));
    const before = await counter(px, 'camo_proxy_content_length_exceeded_total');
    const res = await fetchRaw(px.camo(origin.url('/big-cl.png')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Content length exceeded\n');
    assert.equal(await counter(px, 'camo_proxy_content_length_exceeded_total'), before + 1);
  });

  test('aborts the client connection when a chunked body passes the limit mid-stream', async () => {
    // 2000 bytes (past the 512-byte sniff window, under the limit) let the head go out; the rest follows later.
    origin.route('/big-chunked.png', trickle(images.bigPng, { first: 2000, step: 4000, intervalMs: 100 }));
    const before = await counter(px, 'camo_proxy_reponses_truncated_total');
    const res = await fetchRaw(px.camo(origin.url('/big-chunked.png')));
    assert.equal(res.status, 200, 'the head went out before the size was known');
    assert.equal(res.complete, false, 'the client must see a cut response, not a complete truncated image');
    assert.ok(res.body.length <= MAX_KB * 1024, `${res.body.length} bytes passed the limit`);
    assert.equal(await counter(px, 'camo_proxy_reponses_truncated_total'), before + 1);
  });

  test('aborts the client connection when a close-delimited body (no length, no chunks) passes the limit', async () => {
    const head = 'HTTP/1.0 200 OK\r\nContent-Type: image/png\r\n\r\n';
    origin.route('/big-close.png', raw([head, images.bigPng.subarray(0, 2000), images.bigPng.subarray(2000)], { intervalMs: 100 }));
    const res = await fetchRaw(px.camo(origin.url('/big-close.png')));
    assert.equal(res.status, 200);
    assert.equal(res.complete, false);
    assert.ok(res.body.length <= MAX_KB * 1024);
  });

  test('never ends a response normally when a body without Content-Length is over the limit', async () => {
    // Whether the limit is passed before or after the head went out depends on how the bytes arrive: either a
    // clean 404 or a cut 200 is right, a complete 200 never is.
    origin.route('/big-chunked-fast.png', serve(images.bigPng, { contentLength: false }));
    const res = await fetchRaw(px.camo(origin.url('/big-chunked-fast.png')));
    if (res.status === 200) {
      assert.equal(res.complete, false);
    } else {
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Content length exceeded\n');
    }
  });

  test('serves a chunked body of exactly the limit in full', async () => {
    const exact = images.bigPng.subarray(0, MAX_KB * 1024);
    origin.route('/exact.png', serve(exact, { contentLength: false }));
    const res = await fetchRaw(px.camo(origin.url('/exact.png')));
    assert.equal(res.status, 200);
    assert.equal(res.complete, true);
    assert.deepEqual(res.body, exact);
  });

  test('serves a small image with and without Content-Length', async () => {
    origin.route('/small.png', serve(images.png)).route('/small-chunked.png', serve(images.png, { contentLength: false }));
    for (const path of ['/small.png', '/small-chunked.png']) {
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, images.png);
    }
  });

  test('judges a 206 by the length of the part, as go-camo does', async () => {
    origin.route('/ranged-big.png', serve(images.bigPng, { ranges: true }));
    const res = await fetchRaw(px.camo(origin.url('/ranged-big.png')), { headers: { range: 'bytes=0-1023' } });
    assert.equal(res.status, 206);
    assert.equal(res.body.length, 1024);
  });

  test('--max-size-redirect answers 302 to the given URL instead of 404', async () => {
    const redirecting = await startPixgate({
      argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--max-size', String(MAX_KB), '--max-size-redirect', 'https://cdn.example/too-big.png'],
    });
    try {
      origin.route('/big-cl.png', serve(images.bigPng));
      const res = await fetchRaw(redirecting.camo(origin.url('/big-cl.png')));
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, 'https://cdn.example/too-big.png');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    } finally {
      await redirecting.close();
    }
  });

  test('--max-size 0 means no limit', async () => {
    const unlimited = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--max-size', '0'] });
    try {
      origin.route('/big-chunked.png', serve(images.bigPng, { contentLength: false }));
      const res = await fetchRaw(unlimited.camo(origin.url('/big-chunked.png')));
      assert.equal(res.complete, true);
      assert.deepEqual(res.body, images.bigPng);
    } finally {
      await unlimited.close();
    }
  });
});

describe('short and lying bodies', () => {
  let px: Pixgate;
  before(async () => {
    px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32'] });
  });
  after(() => px.close());

  test('aborts the client connection when the origin closes before its Content-Length is reached', async () => {
    origin.route('/eof-late.png', earlyEof(images.bigPng, 4000));
    const before = await counter(px, 'camo_proxy_reponses_failed_total');
    const res = await fetchRaw(px.camo(origin.url('/eof-late.png')));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(images.bigPng.length));
    assert.equal(res.complete, false);
    assert.ok(res.body.length <= 4000);
    assert.equal(await counter(px, 'camo_proxy_reponses_failed_total'), before + 1);
  });

  test('aborts the client connection when a chunked body stops without its last chunk', async () => {
    origin.route('/eof-chunked.png', earlyEof(images.bigPng, 4000, { chunked: true }));
    const res = await fetchRaw(px.camo(origin.url('/eof-chunked.png')));
    assert.equal(res.status, 200);
    assert.equal(res.complete, false);
  });

  test('answers 502 when the body breaks off before its first bytes could be checked', async () => {
    origin.route('/eof-early.png', earlyEof(images.bigPng, 100));
    const res = await fetchRaw(px.camo(origin.url('/eof-early.png')));
    assert.equal(res.status, 502);
    assert.equal(res.text, 'Error Fetching Resource\n');
  });

  test('reads only the declared bytes when the origin sends more than its Content-Length', async () => {
    const head = `HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\nConnection: close\r\n\r\n`;
    origin.route('/long-tail.png', raw(Buffer.concat([Buffer.from(head), images.bigPng])));
    const res = await fetchRaw(px.camo(origin.url('/long-tail.png')));
    assert.equal(res.status, 200);
    assert.equal(res.complete, true);
    assert.deepEqual(res.body, images.bigPng.subarray(0, 100));
  });

  test('refuses a response with two different Content-Lengths', async () => {
    const head = `HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\nContent-Length: 200\r\n\r\n`;
    origin.route('/two-cl.png', raw(Buffer.concat([Buffer.from(head), images.bigPng.subarray(0, 200)])));
    const res = await fetchRaw(px.camo(origin.url('/two-cl.png')));
    assert.ok(res.status >= 400, String(res.status));
  });

  test('answers 404 Error Fetching Resource when the origin refuses the connection', async () => {
    const gone = await startOrigin({ host: '127.0.0.2' });
    const url = gone.url('/x.png');
    await gone.close();
    const res = await fetchRaw(px.camo(url));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Error Fetching Resource\n');
    assert.equal(px.errorCodes().at(-1), 'UPSTREAM_FAILED');
  });
});

describe('--timeout, a total deadline', () => {
  const TIMEOUT_MS = 400;
  let px: Pixgate;
  before(async () => {
    px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--timeout', `${TIMEOUT_MS}ms`] });
  });
  after(() => px.close());

  async function timed(path: string) {
    const started = Date.now();
    const res = await fetchRaw(px.camo(origin.url(path)));
    return { res, ms: Date.now() - started };
  }

  test('answers 504 when the origin sends no headers', async () => {
    origin.route('/stall.png', stall());
    const { res, ms } = await timed('/stall.png');
    assert.equal(res.status, 504);
    assert.equal(res.text, 'Error Fetching Resource\n');
    assert.ok(ms >= TIMEOUT_MS - 50 && ms < TIMEOUT_MS + 3000, `${ms} ms`);
  });

  test('answers 504 when a trickling body has not shown its first bytes by the deadline', async () => {
    origin.route('/trickle-early.png', trickle(images.bigPng, { first: 20, step: 1, intervalMs: 50 }));
    const { res, ms } = await timed('/trickle-early.png');
    assert.equal(res.status, 504);
    assert.ok(ms < TIMEOUT_MS + 3000, `${ms} ms`);
  });

  test('cuts the client connection when the body is still trickling at the deadline (a byte at a time resets no timer)', async () => {
    origin.route('/trickle-late.png', trickle(images.bigPng, { first: 2000, step: 10, intervalMs: 30 }));
    const { res, ms } = await timed('/trickle-late.png');
    assert.equal(res.status, 200);
    assert.equal(res.complete, false);
    assert.ok(ms < TIMEOUT_MS + 3000, `${ms} ms`);
  });

  test('serves a slow origin that finishes inside the deadline', async () => {
    origin.route('/slow-ok.png', trickle(images.png, { first: 10, step: 40, intervalMs: 20 }));
    const { res } = await timed('/slow-ok.png');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, images.png);
  });
});

describe('origin statuses (go-camo mapping)', () => {
  let px: Pixgate;
  before(async () => {
    px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32'] });
  });
  after(() => px.close());

  // camo.md §2 item 11
  const table: ReadonlyArray<readonly [origin: number, status: number, text: string]> = [
    [500, 502, 'Error Fetching Resource\n'],
    [502, 502, 'Error Fetching Resource\n'],
    [503, 502, 'Error Fetching Resource\n'],
    [504, 502, 'Error Fetching Resource\n'],
    [501, 404, 'Not Found\n'],
    [505, 404, 'Not Found\n'],
    [404, 404, 'Not Found\n'],
    [401, 404, 'Not Found\n'],
    [403, 404, 'Not Found\n'],
    [410, 404, 'Not Found\n'],
    [429, 404, 'Not Found\n'],
    [201, 404, 'Not Found\n'],
    [203, 404, 'Not Found\n'],
    [204, 404, 'Not Found\n'],
    [300, 404, 'Multiple choices not supported\n'],
  ];
  for (const [code, expected, text] of table) {
    test(`answers an origin ${code} with ${expected} ${JSON.stringify(text.trim())}, leaking nothing of its body`, async () => {
      const path = `/status-${code}`;
      origin.route(path, code === 204 ? (_req, res) => void res.writeHead(204).end() : status(code, 'INTERNAL-SECRET-CANARY', { 'Set-Cookie': 'a=b' }));
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, expected);
      assert.equal(res.text, text);
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
      assert.equal(res.headers['set-cookie'], undefined);
    });
  }

  test('serves an image that an origin labels 404 as 404 Not Found, without the image', async () => {
    origin.route('/404-image.png', serve(images.png, { status: 404 }));
    const res = await fetchRaw(px.camo(origin.url('/404-image.png')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Not Found\n');
  });
});
