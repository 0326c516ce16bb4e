// The imagor meta endpoint over HTTP (issue 4, imagor.md §5): `/HASH/meta/...` answers imagor's JSON describing
// the output after the operations, is kept in result storage as JSON, and refuses bad blurhash/thumbhash/avgcolor
// arguments with 400. A real server on 127.0.0.1 against a loopback origin on 127.0.0.2.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { makeAnimated, makeSolid, BLUE, LIME, RED, YELLOW } from '../helpers/images.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { fetchRaw, startPixgate, type Pixgate } from '../helpers/pixgate.js';

const SECRET = 'meta-test-secret-7d1e';

/** imagor's URL for `path`: HMAC-SHA1 of the path, base64url with padding (imagor's security docs). */
function signed(base: string, path: string): string {
  const hash = createHmac('sha1', SECRET).update(path).digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
  return `${base}/${hash}/${path}`;
}

let origin: Origin;
let px: Pixgate;
let dir: string;

function files(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      let isDir: boolean;
      try {
        isDir = statSync(p).isDirectory();
      } catch {
        continue; // a temp file renamed away meanwhile
      }
      if (isDir) walk(p);
      else if (!name.startsWith('.pixgate-tmp')) out.push(p.slice(root.length + 1));
    }
  };
  walk(root);
  return out;
}

/** Waits until result storage has written what earlier requests made it write (those writes are not awaited). */
async function settled(root: string): Promise<string[]> {
  let last = -1;
  for (let i = 0; i < 50; i++) {
    const now = files(root).length;
    if (now === last) return files(root);
    last = now;
    await new Promise((r) => setTimeout(r, 60));
  }
  return files(root);
}

async function waitFor(check: () => boolean, ms = 3000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  origin.route('/red.png', serve(await makeSolid(100, 80, RED, 'png')));
  origin.route('/photo.jpg', serve(await sharp(await makeSolid(60, 40, BLUE, 'jpeg')).withExif({ IFD0: { Make: 'PixgateCam', Model: 'Test 1' } }).jpeg().toBuffer(), { type: 'image/jpeg' }));
  origin.route('/anim.gif', serve(await makeAnimated('gif', 40, 30, [RED, LIME, BLUE]), { type: 'image/gif' }));
  origin.route('/mark.png', serve(await makeSolid(10, 10, YELLOW, 'png')));
  dir = mkdtempSync(join(tmpdir(), 'pixgate-meta-'));
  px = await startPixgate({
    env: { IMAGOR_SECRET: SECRET, FILE_RESULT_STORAGE_BASE_DIR: dir, IMAGOR_RESULT_STORAGE_PATH_STYLE: 'suffix' },
    argv: ['--allow-network', '127.0.0.0/8'],
  });
});

after(async () => {
  await px.close();
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

const src = (path: string) => origin.url(path);

describe('GET /HASH/meta/...', () => {
  test('answers imagor\'s JSON about the output, as application/json', async () => {
    const res = await fetchRaw(signed(px.url, `meta/fit-in/50x50/${src('/red.png')}`));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['content-disposition'], 'inline');
    assert.ok(res.headers.etag);
    assert.deepEqual(JSON.parse(res.text), {
      format: 'png',
      content_type: 'image/png',
      width: 50,
      height: 40,
      orientation: 0,
      pages: 1,
      bands: 3,
      exif: {},
    });
    // Go's encoding/json layout: compact, imagor's field order.
    assert.match(res.text, /^\{"format":"png","content_type":"image\/png","width":50,"height":40,/);
  });

  test('shows the source EXIF, and an empty object after strip_exif', async () => {
    const withExif = JSON.parse((await fetchRaw(signed(px.url, `meta/${src('/photo.jpg')}`))).text);
    assert.equal(withExif.exif.Make, 'PixgateCam');
    assert.equal(withExif.exif.Model, 'Test 1');
    const stripped = JSON.parse((await fetchRaw(signed(px.url, `meta/filters:strip_exif()/${src('/photo.jpg')}`))).text);
    assert.deepEqual(stripped.exif, {});
  });

  test('counts the frames of an animation the output keeps', async () => {
    const gif = JSON.parse((await fetchRaw(signed(px.url, `meta/fit-in/20x20/${src('/anim.gif')}`))).text);
    assert.deepEqual([gif.format, gif.pages, gif.width, gif.height], ['gif', 3, 20, 15]);
    const jpeg = JSON.parse((await fetchRaw(signed(px.url, `meta/fit-in/20x20/filters:format(jpeg)/${src('/anim.gif')}`))).text);
    assert.deepEqual([jpeg.format, jpeg.pages], ['jpeg', 1]);
  });

  test('adds blurhash, thumbhash and average_color when asked', async () => {
    const res = await fetchRaw(signed(px.url, `meta/filters:blurhash(4,3):thumbhash():avgcolor()/${src('/red.png')}`));
    const body = JSON.parse(res.text);
    assert.equal(res.status, 200);
    assert.equal(typeof body.blurhash, 'string');
    assert.equal(body.blurhash.length, 28);
    assert.match(body.thumbhash, /^[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(body.average_color, { r: 255, g: 0, b: 0 });
    assert.deepEqual(Object.keys(body).slice(-3), ['blurhash', 'thumbhash', 'average_color']);
  });

  test('describes overlays loaded from the origin', async () => {
    const body = JSON.parse((await fetchRaw(signed(px.url, `meta/filters:watermark(${src('/mark.png')},0,0,0)/${src('/red.png')}`))).text);
    assert.deepEqual([body.width, body.height, body.bands], [100, 80, 4]);
  });

  for (const bad of ['blurhash(0,3)', 'blurhash(4)', 'blurhash(a,b)', 'thumbhash(1)', 'avgcolor(x)']) {
    test(`${bad} is a 400 with imagor's JSON error`, async () => {
      const hits = origin.hits('/red.png');
      const res = await fetchRaw(signed(px.url, `meta/filters:${bad}/${src('/red.png')}`));
      assert.equal(res.status, 400);
      assert.equal(res.headers['content-type'], 'application/json');
      const body = JSON.parse(res.text) as { message: string; status: number };
      assert.equal(body.status, 400);
      assert.match(body.message, new RegExp(bad.slice(0, bad.indexOf('('))));
      assert.equal(origin.hits('/red.png'), hits, 'nothing loaded');
    });
  }

  test('is kept in result storage as .json and served from there', async () => {
    const path = `meta/fit-in/30x30/${src('/red.png')}`;
    const before = new Set(await settled(dir));
    const first = await fetchRaw(signed(px.url, path));
    assert.equal(first.status, 200);
    await waitFor(() => files(dir).some((f) => !before.has(f)));
    const added = files(dir).filter((f) => !before.has(f));
    // The suffix style names it after the image, with the meta extension.
    assert.equal(added.length, 1, JSON.stringify(added));
    assert.match(added[0]!, /red\.[0-9a-f]{20}\.json$/);
    const hits = origin.hits('/red.png');
    const second = await fetchRaw(signed(px.url, path));
    assert.equal(origin.hits('/red.png'), hits, 'served from result storage');
    assert.equal(second.status, 200);
    assert.equal(second.headers['content-type'], 'application/json');
    assert.equal(second.text, first.text);
  });
});

describe('meta in lenient mode', () => {
  test('bad blurhash arguments are still a 400, as in imagor', async () => {
    const lenient = await startPixgate({ env: { IMAGOR_UNSAFE: '1', PIXGATE_LENIENT_FILTERS: '1' }, argv: ['--allow-network', '127.0.0.0/8'] });
    try {
      const res = await fetchRaw(`${lenient.url}/unsafe/meta/filters:blurhash(10,1)/${src('/red.png')}`);
      assert.equal(res.status, 400);
      const ok = await fetchRaw(`${lenient.url}/unsafe/meta/filters:nonsense()/${src('/red.png')}`);
      assert.equal(ok.status, 200);
    } finally {
      await lenient.close();
    }
  });
});
