// Redirects (camo.md §5, security.md §1.4): pixgate follows 301/302/303/307/308 itself, resolves relative
// Locations, allows --max-redirects hops (default 3: the 4th fails, as go-camo), refuses loops, requests that
// carry its own Via, and hops that lead back to itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { redirect, serve, startOrigin, status, testImages, type Origin, type TestImages } from '../helpers/origin.js';
import { fetchRaw, startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';

let images: TestImages;
let origin: Origin;
let elsewhere: Origin;
let px: Pixgate;

before(async () => {
  images = await testImages();
  origin = await startOrigin({ host: '127.0.0.1' });
  elsewhere = await startOrigin({ host: '127.0.0.3' });
  origin.route('/img.png', serve(images.png));
  elsewhere.route('/img.png', serve(images.jpeg, { type: 'image/jpeg' }));
  // 127.0.0.0/8 is allowed so that a hop back to pixgate itself is judged as a loop, not as a denied address.
  px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.0/8'] });
});

after(async () => {
  await px.close();
  await origin.close();
  await elsewhere.close();
});

async function expectServed(path: string, body = images.png) {
  const res = await fetchRaw(px.camo(origin.url(path)));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, body);
}

async function expectRefused(path: string, text = 'Error Fetching Resource\n') {
  const res = await fetchRaw(px.camo(origin.url(path)));
  assert.equal(res.status, 404);
  assert.equal(res.text, text);
}

describe('following', () => {
  for (const code of [301, 302, 303, 307, 308]) {
    test(`follows a ${code} with an absolute Location`, async () => {
      origin.route(`/abs-${code}`, redirect(code, origin.url('/img.png')));
      await expectServed(`/abs-${code}`);
    });
  }

  test('resolves a path-only Location against the current URL', async () => {
    origin.route('/dir/rel', redirect(302, '/img.png'));
    await expectServed('/dir/rel');
  });

  test('resolves a relative Location against the current path', async () => {
    origin.route('/dir/sub/rel', redirect(302, '../../img.png'));
    await expectServed('/dir/sub/rel');
  });

  test('follows a redirect to another allowed host, also written as hex', async () => {
    origin.route('/to-elsewhere', redirect(302, elsewhere.url('/img.png')));
    await expectServed('/to-elsewhere', images.jpeg);
    origin.route('/to-elsewhere-hex', redirect(302, `http://0x7f000003:${elsewhere.port}/img.png`));
    await expectServed('/to-elsewhere-hex', images.jpeg);
  });

  test('keeps HEAD as HEAD across a 303', async () => {
    origin.route('/head-303', redirect(303, '/img.png'));
    const before = origin.hits('/img.png');
    const res = await fetchRaw(px.camo(origin.url('/head-303')), { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(origin.hits('/img.png'), before + 1);
    assert.equal(origin.last('/img.png').method, 'HEAD');
  });

  test('sends Via on every hop', async () => {
    origin.route('/via-1', redirect(302, '/via-2')).route('/via-2', redirect(302, '/img.png'));
    await expectServed('/via-1');
    assert.equal(origin.last('/via-1').headers.via, 'pixgate');
    assert.equal(origin.last('/via-2').headers.via, 'pixgate');
    assert.equal(origin.last('/img.png').headers.via, 'pixgate');
  });
});

describe('limits', () => {
  function chain(prefix: string, hops: number) {
    for (let i = 1; i <= hops; i++) origin.route(`/${prefix}-${i}`, redirect(302, i === hops ? `/${prefix}-end.png` : `/${prefix}-${i + 1}`));
    origin.route(`/${prefix}-end.png`, serve(images.png));
  }

  test('follows 3 redirects by default', async () => {
    chain('three', 3);
    await expectServed('/three-1');
  });

  test('refuses the 4th redirect by default with 404 Error Fetching Resource, before requesting it', async () => {
    chain('four', 4);
    await expectRefused('/four-1');
    assert.deepEqual([1, 2, 3, 4].map((i) => origin.hits(`/four-${i}`)), [1, 1, 1, 1]);
    assert.equal(origin.hits('/four-end.png'), 0);
  });

  test('--max-redirects 0 refuses the first redirect; --max-redirects 5 follows 4', async () => {
    const none = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.0/8', '--max-redirects', '0'] });
    const five = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.0/8', '--max-redirects', '5'] });
    try {
      chain('zero', 1);
      assert.equal((await fetchRaw(none.camo(origin.url('/zero-1')))).status, 404);
      assert.equal(origin.hits('/zero-end.png'), 0);
      assert.equal((await fetchRaw(none.camo(origin.url('/img.png')))).status, 200);
      chain('five', 4);
      assert.equal((await fetchRaw(five.camo(origin.url('/five-1')))).status, 200);
    } finally {
      await none.close();
      await five.close();
    }
  });

  test('ends a 30-hop chain quickly, having made at most max-redirects + 1 requests', async () => {
    chain('long', 30);
    const started = Date.now();
    await expectRefused('/long-1');
    const requests = origin.requests().filter((r) => r.path.startsWith('/long-')).length;
    assert.ok(requests <= 4, `${requests} requests`);
    assert.ok(Date.now() - started < 5000);
  });

  test('refuses a self-redirect loop', async () => {
    origin.route('/self', redirect(302, '/self'));
    await expectRefused('/self');
    assert.equal(origin.hits('/self'), 1);
  });

  test('refuses a two-step loop even when the hop count would allow it', async () => {
    const many = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.0/8', '--max-redirects', '10'] });
    try {
      origin.route('/ping', redirect(302, '/pong')).route('/pong', redirect(307, origin.url('/ping')));
      const res = await fetchRaw(many.camo(origin.url('/ping')));
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Error Fetching Resource\n');
      assert.deepEqual([origin.hits('/ping'), origin.hits('/pong')], [1, 1]);
    } finally {
      await many.close();
    }
  });
});

describe('redirects that are not followed', () => {
  const notFollowed: ReadonlyArray<readonly [name: string, handler: () => ReturnType<typeof redirect>, text: string]> = [
    // camo.md §2 item 11: a redirect reaching the status mapping (no Location) is a 404 Not Found
    ['a 302 without Location', () => redirect(302, undefined), 'Not Found\n'],
    ['a 301 with an empty Location', () => redirect(301, ''), 'Not Found\n'],
    ['a 300 Multiple Choices, even with a Location', () => redirect(300, '/img.png'), 'Multiple choices not supported\n'],
    ['a 305 Use Proxy', () => redirect(305, '/img.png'), 'Not Found\n'],
    ['an unparseable Location', () => redirect(302, 'http://[::1'), 'Error Fetching Resource\n'],
  ];
  for (const [name, handler, text] of notFollowed) {
    test(`answers 404 for ${name}`, async () => {
      const path = `/nf-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      origin.route(path, handler());
      const before = origin.hits('/img.png');
      await expectRefused(path, text);
      assert.equal(origin.hits('/img.png'), before);
    });
  }

  test('never follows a Refresh header or a meta refresh', async () => {
    origin.route('/refresh-header.png', serve(images.png, { headers: { Refresh: `0; url=${origin.url('/refreshed')}` } }));
    origin.route('/meta-refresh', serve(`<html><meta http-equiv="refresh" content="0; url=${origin.url('/refreshed')}"></html>`, { type: 'text/html' }));
    origin.route('/refreshed', serve(images.png));
    const header = await fetchRaw(px.camo(origin.url('/refresh-header.png')));
    assert.equal(header.status, 200);
    assert.equal(header.headers.refresh, undefined);
    assert.equal((await fetchRaw(px.camo(origin.url('/meta-refresh')))).status, 400);
    assert.equal(origin.hits('/refreshed'), 0);
  });
});

describe('loops through pixgate itself', () => {
  test('refuses a request that carries our own Via with 404 Request loop failure, without fetching', async () => {
    for (const via of ['pixgate', '1.1 pixgate', '1.0 cdn-edge, 1.1 pixgate']) {
      const before = origin.hits('/img.png');
      const res = await fetchRaw(px.camo(origin.url('/img.png')), { headers: { via } });
      assert.equal(res.status, 404, via);
      assert.equal(res.text, 'Request loop failure\n');
      assert.equal(origin.hits('/img.png'), before);
    }
  });

  test('serves a request whose Via names another proxy', async () => {
    const res = await fetchRaw(px.camo(origin.url('/img.png')), { headers: { via: '1.1 pixgate-edge, 1.1 varnish' } });
    assert.equal(res.status, 200);
  });

  test('refuses a signed URL that points at pixgate itself', async () => {
    const inner = px.camo(origin.url('/img.png'));
    const res = await fetchRaw(px.camo(inner));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Request loop failure\n');
    assert.equal(px.errorCodes().at(-1), 'LOOP_DETECTED');
  });

  test('refuses a redirect hop back to pixgate itself', async () => {
    origin.route('/back-to-proxy', redirect(302, px.camo(origin.url('/img.png'))));
    const before = origin.hits('/img.png');
    const res = await fetchRaw(px.camo(origin.url('/back-to-proxy')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Request loop failure\n');
    assert.equal(origin.hits('/img.png'), before);
  });

  test('stops a self-request under another spelling of our address at the second pass, by its Via', async () => {
    const port = new URL(px.url).port;
    const inner = px.camo(origin.url('/img.png')).replace(`127.0.0.1:${port}`, `[::ffff:127.0.0.1]:${port}`);
    const before = origin.hits('/img.png');
    const res = await fetchRaw(px.camo(inner));
    assert.equal(res.status, 404);
    assert.ok(px.errorCodes().includes('LOOP_DETECTED'), 'the inner request was refused by its Via');
    assert.equal(origin.hits('/img.png'), before);
  });
});

describe('origin statuses behind a redirect', () => {
  test('maps the final hop status as go-camo does', async () => {
    origin.route('/to-500', redirect(302, '/500')).route('/500', status(500, 'boom'));
    const res = await fetchRaw(px.camo(origin.url('/to-500')));
    assert.equal(res.status, 502);
    assert.equal(res.text, 'Error Fetching Resource\n');
  });
});
