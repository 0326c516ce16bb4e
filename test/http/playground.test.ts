/**
 * The playground over real HTTP: absent (404, whatever the method) unless in dev mode, since it signs any URL; in
 * dev mode its page runs under a CSP that allows its own script and style and nothing inline, and its signing
 * endpoint returns URLs the same server serves. `pixgate dev` prints its address and prefills the sample image.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import sharp from 'sharp';
import { PLAYGROUND_CSP } from '../../src/server/playground.js';
import { makeSolid, RED } from '../helpers/images.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { fetchRaw, spawnPixgate, startPixgate, TEST_KEY, type FetchedResponse, type Pixgate } from '../helpers/pixgate.js';

const SECRET = 'playground-test-secret';

/** A request with a body (fetchRaw sends none). */
function post(url: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<FetchedResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const data = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, headerNames: [], body: data, text: data.toString('utf8'), complete: res.complete });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('the playground outside dev mode', () => {
  let pixgate: Pixgate;
  before(async () => {
    pixgate = await startPixgate({ argv: ['-k', TEST_KEY, '--imagor-secret', SECRET] });
  });
  after(() => pixgate.close());

  for (const path of ['/__playground', '/__playground/', '/__playground/app.js', '/__playground/app.css', '/__playground/sign']) {
    test(`GET ${path} is 404`, async () => {
      const r = await fetchRaw(pixgate.url + path);
      assert.equal(r.status, 404);
      assert.doesNotMatch(r.text, /playground/);
    });
  }

  test('POST /__playground/sign is 404 and signs nothing', async () => {
    const r = await post(`${pixgate.url}/__playground/sign`, JSON.stringify({ url: 'http://example.com/a.png' }));
    assert.equal(r.status, 404);
    assert.doesNotMatch(r.text, /example\.com|imagor|camo/);
  });
});

describe('the playground in dev mode', () => {
  let pixgate: Pixgate;
  let origin: Origin;
  before(async () => {
    origin = await startOrigin();
    origin.route('/red.jpg', serve(await makeSolid(640, 480, RED, 'jpeg'), { type: 'image/jpeg' }));
    pixgate = await startPixgate({ argv: ['--dev', '-k', TEST_KEY, '--imagor-secret', SECRET, '--allow-network', '127.0.0.1/32'] });
  });
  after(async () => {
    await pixgate.close();
    await origin.close();
  });

  test('the page has a CSP that allows its own script and style, no inline code and no framing', async () => {
    const r = await fetchRaw(`${pixgate.url}/__playground/`);
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(r.headers['content-security-policy'], PLAYGROUND_CSP);
    const csp = Object.fromEntries(PLAYGROUND_CSP.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    assert.deepEqual(csp['default-src'], ["'none'"]);
    assert.deepEqual(csp['script-src'], ["'self'"]);
    assert.deepEqual(csp['style-src'], ["'self'"]);
    assert.deepEqual(csp['frame-ancestors'], ["'none'"]);
    assert.ok(!PLAYGROUND_CSP.includes('unsafe'), 'nothing unsafe-inline or unsafe-eval');
    // Every script is external and no element carries inline style or event handlers.
    assert.deepEqual([...r.text.matchAll(/<script\b([^>]*)>/g)].map((m) => /\bsrc="\/__playground\/app\.js"/.test(m[1]!)), [true]);
    assert.doesNotMatch(r.text, /<style|\sstyle=|\son[a-z]+=/i);
  });

  test('the script and the style are served with their types', async () => {
    const js = await fetchRaw(`${pixgate.url}/__playground/app.js`);
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    const css = await fetchRaw(`${pixgate.url}/__playground/app.css`);
    assert.equal(css.status, 200);
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal((await fetchRaw(`${pixgate.url}/__playground/nothing-here`)).status, 404);
  });

  test('signs a URL and operations into URLs this server serves', async () => {
    const r = await post(
      `${pixgate.url}/__playground/sign`,
      JSON.stringify({ url: origin.url('/red.jpg'), operations: { width: 160, height: 0, fitIn: true, format: 'webp', quality: 70 } }),
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['cache-control'], 'no-store');
    const signed = JSON.parse(r.text) as { imagor: string; camo: string; code: string };
    assert.match(signed.imagor, /^\/[A-Za-z0-9_=-]{28}\/fit-in\/160x0\/filters:format\(webp\):quality\(70\)\/http:\/\/127\.0\.0\.1:\d+\/red\.jpg$/);
    assert.equal(signed.camo, pixgate.camo(origin.url('/red.jpg')).slice(pixgate.url.length));
    assert.match(signed.code, /filters: \[f\.format\('webp'\), f\.quality\(70\)\]/);

    const processed = await fetchRaw(pixgate.url + signed.imagor);
    assert.equal(processed.status, 200);
    const meta = await sharp(processed.body).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['webp', 160, 120]);
    const original = await fetchRaw(pixgate.url + signed.camo);
    assert.equal(original.status, 200);
    assert.equal(original.headers['content-type'], 'image/jpeg');
  });

  const refusals: readonly [string, string, Record<string, string> | undefined, RegExp][] = [
    ['a body that is not JSON', 'url=x', { 'content-type': 'application/x-www-form-urlencoded' }, /application\/json/],
    ['malformed JSON', '{"url":', undefined, /not JSON/],
    ['a URL that is not http(s)', JSON.stringify({ url: 'file:///etc/passwd' }), undefined, /absolute http/],
    ['a negative width', JSON.stringify({ url: 'http://example.com/a.png', operations: { width: -5 } }), undefined, /for width but received -5/],
    ['a filter the page does not offer', JSON.stringify({ url: 'http://example.com/a.png', operations: { filters: ['watermark'] } }), undefined, /not offered/],
    ['an unknown format', JSON.stringify({ url: 'http://example.com/a.png', operations: { format: 'exe' } }), undefined, /for format/],
  ];
  for (const [what, body, headers, message] of refusals) {
    test(`refuses ${what} with 400`, async () => {
      const r = await post(`${pixgate.url}/__playground/sign`, body, headers);
      assert.equal(r.status, 400);
      assert.match((JSON.parse(r.text) as { message: string }).message, message);
    });
  }

  test('GET on the signing endpoint is 405', async () => {
    assert.equal((await fetchRaw(`${pixgate.url}/__playground/sign`)).status, 405);
  });

  test('answers only to an IP address or localhost in Host (DNS rebinding)', async () => {
    const page = await fetchRaw(`${pixgate.url}/__playground/`, { headers: { host: 'attacker.example:8080' } });
    assert.equal(page.status, 404);
    const sign = await post(`${pixgate.url}/__playground/sign`, JSON.stringify({ url: 'http://example.com/a.png' }), {
      'content-type': 'application/json',
      host: 'attacker.example',
    });
    assert.equal(sign.status, 404);
    assert.equal((await fetchRaw(`${pixgate.url}/__playground/`, { headers: { host: 'localhost:1234' } })).status, 200);
  });
});

test('pixgate dev prints the playground address and prefills the bundled sample image', async () => {
  const px = spawnPixgate(['dev', '--listen', '127.0.0.1:0']);
  try {
    const m = await px.waitFor(/playground: (http:\/\/127\.0\.0\.1:\d+\/__playground\/)/);
    const page = await fetchRaw(m[1]!);
    assert.equal(page.status, 200);
    const sample = /id="url"[^>]* value="(http:\/\/127\.0\.0\.1:\d+\/sample\.jpg)"/.exec(page.text)?.[1];
    assert.ok(sample, 'the URL field holds the sample image');
    const signed = await post(`${m[1]!}sign`, JSON.stringify({ url: sample, operations: { width: 120, fitIn: true } }));
    assert.equal(signed.status, 200, signed.text);
    const base = m[1]!.slice(0, -'/__playground/'.length);
    const image = await fetchRaw(base + (JSON.parse(signed.text) as { imagor: string }).imagor);
    assert.equal(image.status, 200);
    assert.equal((await sharp(image.body).metadata()).width, 120);
  } finally {
    await px.stop();
  }
});
