// Response control over HTTP (issue 4, imagor.md §2 and §6): expire -> 410 or a private TTL capped to the time
// left, max_age, attachment's Content-Disposition, preview (no result storage), raw (source bytes untouched, still
// under the content-type and size rules), the result key untouched by expire/attachment/max_age, and overlays
// loaded through the same loaders and limits as the source. Real server on 127.0.0.1, loopback origins.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, makeSolid, near, RED, YELLOW } from '../helpers/images.js';
import { serve, startOrigin, testImages, type Origin, type TestImages } from '../helpers/origin.js';
import { fetchRaw, startPixgate, type Pixgate } from '../helpers/pixgate.js';

const SECRET = 'response-test-secret-19ac';
const NO_CACHE = 'private, no-cache, no-store, must-revalidate';

function signed(base: string, path: string): string {
  const hash = createHmac('sha1', SECRET).update(path).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
  return `${base}/${hash}/${path}`;
}

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let isDir: boolean;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue;
      }
      if (isDir) walk(p);
      else if (!name.startsWith('.pixgate-tmp')) out.push(p.slice(root.length + 1));
    }
  };
  walk(root);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until result storage has written what it is going to write (writes are not awaited by the request). */
async function settled(dir: string): Promise<string[]> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const now = files(dir).length;
    if (now === last) return files(dir);
    last = now;
    await sleep(60);
  }
  return files(dir);
}

let origin: Origin;
let other: Origin;
let images: TestImages;
let px: Pixgate;
let dir: string;
let red: Buffer;

before(async () => {
  images = await testImages();
  red = await makeSolid(40, 30, RED, 'png');
  origin = await startOrigin({ host: '127.0.0.2' });
  origin.route('/a.png', serve(red));
  origin.route('/mark.png', serve(await makeSolid(10, 10, YELLOW, 'png')));
  origin.route('/photo.jpg', serve(images.jpeg, { type: 'image/jpeg' }));
  origin.route('/page.svg', serve('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', { type: 'image/svg+xml' }));
  origin.route('/fake.png', serve('<html><script>alert(1)</script></html>', { type: 'image/png' }));
  origin.route('/big.png', serve(images.bigPng));
  other = await startOrigin({ host: '127.0.0.3' });
  other.route('/mark.png', serve(await makeSolid(10, 10, YELLOW, 'png')));
  dir = mkdtempSync(join(tmpdir(), 'pixgate-response-'));
  px = await startPixgate({
    env: {
      IMAGOR_SECRET: SECRET,
      FILE_RESULT_STORAGE_BASE_DIR: dir,
      HTTP_LOADER_ALLOWED_SOURCES: '127.0.0.2:*',
      HTTP_LOADER_MAX_ALLOWED_SIZE: '20000',
    },
    argv: ['--allow-network', '127.0.0.0/8'],
  });
});

after(async () => {
  await px.close();
  await origin.close();
  await other.close();
  rmSync(dir, { recursive: true, force: true });
});

const src = (path: string) => origin.url(path);
const get = (path: string, headers?: Record<string, string>) => fetchRaw(signed(px.url, path), headers ? { headers } : {});
const errorOf = (text: string) => JSON.parse(text) as { message: string; status: number };

describe('expire()', () => {
  test('answers 410 once the time has passed, before loading anything', async () => {
    const hits = origin.hits();
    const res = await get(`filters:expire(${Date.now() - 1000})/${src('/a.png')}`);
    assert.equal(res.status, 410);
    assert.deepEqual(errorOf(res.text), { message: 'expired', status: 410 });
    assert.equal(origin.hits(), hits);
  });

  test('before then, the response is private and cached no longer than the time left (rounded up)', async () => {
    const res = await get(`filters:expire(${Date.now() + 90_500})/${src('/a.png')}`);
    assert.equal(res.status, 200);
    const cc = String(res.headers['cache-control']);
    const m = /^private, max-age=(\d+), no-transform$/.exec(cc);
    assert.ok(m, cc);
    assert.ok(Number(m[1]) >= 90 && Number(m[1]) <= 91, cc);
    const expires = Date.parse(String(res.headers.expires));
    assert.ok(Math.abs(expires - (Date.now() + Number(m[1]) * 1000)) < 3000, String(res.headers.expires));
  });

  test('an unreadable time is a 400 naming expire', async () => {
    const res = await get(`filters:expire(tomorrow)/${src('/a.png')}`);
    assert.equal(res.status, 400);
    assert.match(errorOf(res.text).message, /expire/);
  });
});

describe('max_age()', () => {
  test('sets the TTL', async () => {
    const res = await get(`filters:max_age(60)/${src('/a.png')}`);
    assert.equal(res.headers['cache-control'], 'public, s-maxage=60, max-age=60, no-transform');
  });

  test('0 means no caching', async () => {
    const res = await get(`filters:max_age(0)/${src('/a.png')}`);
    assert.equal(res.headers['cache-control'], NO_CACHE);
  });

  test('the earlier of max_age and expire wins', async () => {
    const res = await get(`filters:max_age(600):expire(${Date.now() + 120_000})/${src('/a.png')}`);
    const m = /^private, max-age=(\d+), no-transform$/.exec(String(res.headers['cache-control']));
    assert.ok(m && Number(m[1]) >= 119 && Number(m[1]) <= 120, String(res.headers['cache-control']));
    const short = await get(`filters:max_age(30):expire(${Date.now() + 120_000})/${src('/a.png')}`);
    assert.equal(short.headers['cache-control'], 'private, max-age=30, no-transform');
  });

  test('a request asking for no-cache still gets none', async () => {
    const res = await get(`filters:max_age(60)/${src('/a.png')}`, { 'cache-control': 'no-cache' });
    assert.equal(res.headers['cache-control'], NO_CACHE);
  });

  test('a negative value is a 400', async () => {
    assert.equal((await get(`filters:max_age(-1)/${src('/a.png')}`)).status, 400);
  });
});

describe('attachment()', () => {
  test('images are inline by default', async () => {
    assert.equal((await get(`fit-in/10x10/${src('/a.png')}`)).headers['content-disposition'], 'inline');
  });

  test('without a name, the image\'s own file name', async () => {
    const res = await get(`filters:attachment()/${src('/a.png')}`);
    assert.equal(res.headers['content-disposition'], 'attachment; filename="a.png"');
  });

  test('the real output type\'s extension is added', async () => {
    const res = await get(`filters:attachment(report.png):format(jpeg)/${src('/a.png')}`);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.equal(res.headers['content-disposition'], 'attachment; filename="report.png.jpg"');
    const jpeg = await get(`filters:attachment(report.jpeg):format(jpeg)/${src('/a.png')}`);
    assert.equal(jpeg.headers['content-disposition'], 'attachment; filename="report.jpeg"');
  });

  test('a quote cannot end the file name early', async () => {
    const res = await get(`filters:attachment(a"b.png)/${src('/a.png')}`);
    assert.equal(res.headers['content-disposition'], 'attachment; filename="a%22b.png"');
  });
});

describe('the result key', () => {
  test('does not change with expire, attachment or max_age', async () => {
    const base = `fit-in/21x21/${src('/a.png')}`;
    const before = new Set(await settled(dir));
    const hits = origin.hits('/a.png');
    assert.equal((await get(base)).status, 200);
    for (let i = 0; i < 100 && files(dir).every((f) => before.has(f)); i++) await sleep(30);
    const written = (await settled(dir)).filter((f) => !before.has(f));
    assert.equal(written.length, 1, JSON.stringify(written));
    for (const filters of [`expire(${Date.now() + 600_000})`, 'attachment(x.png)', 'max_age(60)', `max_age(5):attachment():expire(${Date.now() + 600_000})`]) {
      const res = await get(`fit-in/21x21/filters:${filters}/${src('/a.png')}`);
      assert.equal(res.status, 200, filters);
    }
    assert.equal(origin.hits('/a.png'), hits + 1, 'every later request was a result storage hit');
    assert.deepEqual((await settled(dir)).filter((f) => !before.has(f)), written);
  });
});

describe('preview()', () => {
  test('neither reads nor writes result storage', async () => {
    const path = `fit-in/23x23/filters:preview()/${src('/a.png')}`;
    const before = new Set(await settled(dir));
    const hits = origin.hits('/a.png');
    assert.equal((await get(path)).status, 200);
    assert.equal((await get(path)).status, 200);
    assert.equal(origin.hits('/a.png'), hits + 2);
    assert.deepEqual((await settled(dir)).filter((f) => !before.has(f)), []);
  });
});

describe('raw()', () => {
  test('sends the source bytes untouched, with script-src none, and stores nothing', async () => {
    const before = new Set(await settled(dir));
    const res = await get(`fit-in/5x5/filters:raw()/${src('/a.png')}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(red), 'the origin\'s bytes');
    assert.equal(res.headers['content-type'], 'image/png');
    assert.match(String(res.headers['content-security-policy']), /script-src 'none'/);
    assert.match(String(res.headers['content-security-policy']), /default-src 'none'/, 'our default policy is kept');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual((await settled(dir)).filter((f) => !before.has(f)), []);
  });

  test('types the body from its bytes', async () => {
    const res = await get(`filters:raw()/${src('/photo.jpg')}`);
    assert.equal(res.headers['content-type'], 'image/jpeg');
    assert.ok(res.body.equals(images.jpeg));
  });

  test('never sends SVG', async () => {
    const res = await get(`filters:raw()/${src('/page.svg')}`);
    assert.equal(res.status, 406);
    assert.doesNotMatch(res.text, /script/);
  });

  test('never sends HTML, whatever the origin called it', async () => {
    const res = await get(`filters:raw()/${src('/fake.png')}`);
    assert.equal(res.status, 406);
    assert.doesNotMatch(res.text, /script/);
  });

  test('keeps the size limit', async () => {
    const res = await get(`filters:raw()/${src('/big.png')}`);
    assert.equal(res.status, 400);
    assert.equal(errorOf(res.text).message, 'maximum size exceeded');
  });

  test('keeps the source policy', async () => {
    const res = await get(`filters:raw()/${other.url('/mark.png')}`);
    assert.equal(res.status, 403);
    assert.equal(other.hits(), 0);
  });

  test('of a color: image is a 400', async () => {
    assert.equal((await get('filters:raw()/color:red')).status, 400);
  });
});

describe('watermark over HTTP', () => {
  test('is loaded from the origin and drawn where asked', async () => {
    const res = await get(`filters:watermark(${src('/mark.png')},0,0,0):format(png)/${src('/a.png')}`);
    assert.equal(res.status, 200, res.text);
    const d = await decode(res.body);
    assert.ok(near(d.pixel(5, 5), YELLOW));
    assert.ok(near(d.pixel(20, 20), RED));
  });

  test('from a source the policy refuses is a 403, and the other host is never contacted', async () => {
    const res = await get(`filters:watermark(${other.url('/mark.png')},0,0,0)/${src('/a.png')}`);
    assert.equal(res.status, 403);
    assert.equal(errorOf(res.text).message, 'http source not allowed');
    assert.equal(other.hits(), 0);
  });

  test('over the size limit is refused like a source', async () => {
    const res = await get(`filters:watermark(${src('/big.png')},0,0,0)/${src('/a.png')}`);
    assert.equal(res.status, 400);
    assert.equal(errorOf(res.text).message, 'maximum size exceeded');
  });

  test('that is not an image is refused like a source', async () => {
    const res = await get(`filters:watermark(${src('/fake.png')},0,0,0)/${src('/a.png')}`);
    assert.equal(res.status, 406);
  });

  test('text needs no loader', async () => {
    const res = await get(`filters:text(Hi,0,0,sans-bold-20,yellow):format(png)/${src('/a.png')}`);
    assert.equal(res.status, 200);
    const d = await decode(res.body);
    let yellow = 0;
    for (let y = 0; y < d.height; y++) for (let x = 0; x < d.width; x++) if (near(d.pixel(x, y), YELLOW, 40)) yellow++;
    assert.ok(yellow > 5, `${yellow} yellow pixels`);
  });
});

describe('lenient mode', () => {
  test('an unreadable expire or max_age is ignored, as imagor does', async () => {
    const lenient = await startPixgate({ env: { IMAGOR_UNSAFE: '1', PIXGATE_LENIENT_FILTERS: '1' }, argv: ['--allow-network', '127.0.0.0/8'] });
    try {
      const res = await fetchRaw(`${lenient.url}/unsafe/filters:expire(tomorrow):max_age(-5)/${src('/a.png')}`);
      assert.equal(res.status, 200);
      assert.match(String(res.headers['cache-control']), /^public, s-maxage=604800/);
    } finally {
      await lenient.close();
    }
  });
});
