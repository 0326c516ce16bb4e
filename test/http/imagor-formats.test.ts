// Output formats of the imagor job (issue 3 "Geometry" and "Auto format", imagor.md §3 and §6 step 5): the
// source format is kept (SVG gives JPEG), format() and quality() choose otherwise, JPEG is written baseline, an
// animation converted to a still format keeps one frame, and IMAGOR_AUTO_WEBP / IMAGOR_AUTO_AVIF pick a format
// from Accept with its q-values honoured (`image/webp;q=0` is a refusal; imagor matches substrings) and
// `Vary: Accept` sent whenever the choice depended on Accept.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decode, jpegFrameMarker, LIME, makeAlphaPng, makeAnimated, makeQuadrant, makeSolid, near, RED, BLUE } from '../helpers/images.js';
import { startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, testImages, type Origin } from '../helpers/origin.js';
import { fetchRaw, type FetchedResponse } from '../helpers/pixgate.js';

let origin: Origin;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  const images = await testImages();
  origin.route('/q.png', serve(await makeQuadrant(40, 40, 'png')));
  origin.route('/q.jpg', serve(await makeQuadrant(40, 40, 'jpeg'), { type: 'image/jpeg' }));
  origin.route('/q.gif', serve(await makeQuadrant(40, 40, 'gif'), { type: 'image/gif' }));
  origin.route('/q.webp', serve(await makeQuadrant(40, 40, 'webp'), { type: 'image/webp' }));
  origin.route('/q.avif', serve(await makeQuadrant(40, 40, 'avif'), { type: 'image/avif' }));
  origin.route('/alpha.png', serve(await makeAlphaPng(40, 40)));
  origin.route('/anim.gif', serve(await makeAnimated('gif', 40, 40, [RED, LIME, BLUE]), { type: 'image/gif' }));
  origin.route('/red.svg', serve(images.svg, { type: 'image/svg+xml' }));
  origin.route(
    '/progressive.jpg',
    serve(await sharp({ create: { width: 64, height: 64, channels: 3, background: RED } }).jpeg({ progressive: true }).toBuffer(), { type: 'image/jpeg' }),
  );
  origin.route('/noise.png', serve(await sharp(Buffer.from(Array.from({ length: 96 * 96 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 96, height: 96, channels: 3 } }).png().toBuffer()));
  origin.route('/solid.jpg', serve(await makeSolid(40, 40, RED), { type: 'image/jpeg' }));
});

after(() => origin.close());

async function getOk(rig: ImagorRig, ops: string, path: string, headers: Record<string, string> = {}): Promise<FetchedResponse> {
  const res = await fetchRaw(rig.url(ops, path), { headers });
  assert.equal(res.status, 200, `${ops} ${path}: ${res.text}`);
  return res;
}

describe('formats without auto negotiation', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin });
  });
  after(() => rig.close());

  const kept = [
    ['/q.jpg', 'jpeg', 'image/jpeg'],
    ['/q.png', 'png', 'image/png'],
    ['/q.gif', 'gif', 'image/gif'],
    ['/q.webp', 'webp', 'image/webp'],
    ['/q.avif', 'heif', 'image/avif'],
  ] as const;
  for (const [path, format, type] of kept) {
    test(`keeps the source format: ${path} stays ${type}`, async () => {
      const res = await getOk(rig, '20x20', path);
      assert.equal(res.headers['content-type'], type);
      const img = await decode(res.body);
      assert.equal(img.format, format);
      assert.deepEqual([img.width, img.height], [20, 20]);
    });
  }

  test('an SVG source is written as JPEG (imagor supportedSaveFormat)', async () => {
    const res = await getOk(rig, '16x16', '/red.svg');
    assert.equal(res.headers['content-type'], 'image/jpeg');
    const img = await decode(res.body);
    assert.equal(img.format, 'jpeg');
    assert.ok(near(img.pixel(8, 8), RED));
  });

  for (const [name, format, type] of [
    ['webp', 'webp', 'image/webp'],
    ['png', 'png', 'image/png'],
    ['jpeg', 'jpeg', 'image/jpeg'],
    ['jpg', 'jpeg', 'image/jpeg'],
    ['gif', 'gif', 'image/gif'],
    ['avif', 'heif', 'image/avif'],
  ] as const) {
    test(`format(${name}) writes ${type}`, async () => {
      const res = await getOk(rig, `20x20/filters:format(${name})`, '/q.png');
      assert.equal(res.headers['content-type'], type);
      assert.equal((await decode(res.body)).format, format);
      assert.equal(res.headers.vary, undefined, 'an explicit format does not depend on Accept');
    });
  }

  test('JPEG output is baseline, even from a progressive source', async () => {
    const fromProgressive = await getOk(rig, '32x32', '/progressive.jpg');
    assert.equal(jpegFrameMarker(fromProgressive.body), 0xc0);
    const fromPng = await getOk(rig, '20x20/filters:format(jpeg)', '/q.png');
    assert.equal(jpegFrameMarker(fromPng.body), 0xc0);
  });

  test('quality() changes the JPEG size: quality(10) is smaller than quality(95)', async () => {
    const low = await getOk(rig, 'filters:format(jpeg):quality(10)', '/noise.png');
    const high = await getOk(rig, 'filters:format(jpeg):quality(95)', '/noise.png');
    assert.ok(low.body.length * 2 < high.body.length, `q10 ${low.body.length} bytes, q95 ${high.body.length} bytes`);
  });

  test('a PNG with alpha keeps its transparency as PNG', async () => {
    const img = await decode((await getOk(rig, '', '/alpha.png')).body);
    assert.equal(img.pixel(1, 1).a, 0);
    assert.equal(img.pixel(20, 20).a, 255);
  });

  test('a PNG with alpha written as JPEG has no alpha channel', async () => {
    const res = await getOk(rig, 'filters:format(jpeg)', '/alpha.png');
    const meta = await sharp(res.body).metadata();
    assert.equal(meta.format, 'jpeg');
    assert.equal(meta.hasAlpha, false);
    assert.ok(near((await decode(res.body)).pixel(20, 20), RED));
  });

  test('an animated GIF written as PNG keeps one frame at the frame size (not a strip of frames)', async () => {
    const res = await getOk(rig, 'filters:format(png)', '/anim.gif');
    const img = await decode(res.body);
    assert.equal(img.format, 'png');
    assert.deepEqual([img.width, img.height, img.frames], [40, 40, 1]);
    assert.ok(near(img.pixel(20, 20), RED));
  });

  test('an animated GIF written as WebP stays animated', async () => {
    const img = await decode((await getOk(rig, 'filters:format(webp)', '/anim.gif')).body);
    assert.equal(img.format, 'webp');
    assert.equal(img.frames, 3);
    assert.ok(near(img.pixel(20, 20, 2), BLUE));
  });

  test('with auto formats off, Accept changes nothing and there is no Vary', async () => {
    const res = await getOk(rig, '20x20', '/q.png', { accept: 'image/avif,image/webp,*/*' });
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.headers.vary, undefined);
  });
});

describe('IMAGOR_AUTO_WEBP and IMAGOR_AUTO_AVIF', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, env: { IMAGOR_AUTO_WEBP: '1', IMAGOR_AUTO_AVIF: '1' } });
  });
  after(() => rig.close());

  const cases: ReadonlyArray<readonly [accept: string | undefined, type: string]> = [
    ['image/avif,image/webp,image/apng,image/*,*/*;q=0.8', 'image/avif'],
    ['image/webp,*/*', 'image/webp'],
    ['image/webp;q=0,image/*;q=0.8', 'image/png'],
    ['image/webp; q=0.0, */*', 'image/png'],
    ['image/avif;q=0, image/webp;q=0.5', 'image/webp'],
    ['image/avif;q=0.4, image/webp;q=0.9', 'image/webp'],
    ['IMAGE/WEBP', 'image/webp'],
    ['image/webp;q=0.001', 'image/webp'],
    ['image/*', 'image/png'],
    ['*/*', 'image/png'],
    ['text/html', 'image/png'],
    [undefined, 'image/png'],
  ];
  for (const [accept, type] of cases) {
    test(`Accept: ${accept ?? '(none)'} -> ${type}, with Vary: Accept`, async () => {
      const res = await getOk(rig, '20x20', '/q.png', accept === undefined ? {} : { accept });
      assert.equal(res.headers['content-type'], type);
      assert.equal(res.headers.vary, 'Accept');
      const img = await decode(res.body);
      assert.equal(img.format, type === 'image/avif' ? 'heif' : type.slice('image/'.length));
    });
  }

  test('an explicit format() wins over Accept and sends no Vary', async () => {
    const res = await getOk(rig, '20x20/filters:format(png)', '/q.png', { accept: 'image/avif,image/webp' });
    assert.equal(res.headers['content-type'], 'image/png');
    assert.equal(res.headers.vary, undefined);
  });

  test('the same URL answers each Accept with its own format, one after the other', async () => {
    const webp = await getOk(rig, '24x24', '/q.jpg', { accept: 'image/webp' });
    const plain = await getOk(rig, '24x24', '/q.jpg', { accept: 'image/png' });
    const avif = await getOk(rig, '24x24', '/q.jpg', { accept: 'image/avif' });
    assert.equal(webp.headers['content-type'], 'image/webp');
    assert.equal(plain.headers['content-type'], 'image/jpeg');
    assert.equal(avif.headers['content-type'], 'image/avif');
    assert.notEqual(webp.headers.etag, plain.headers.etag);
  });

  test('the same URL asked at once with two Accepts gets two formats (no sharing across formats)', async () => {
    const [webp, plain] = await Promise.all([
      getOk(rig, '26x26', '/q.jpg', { accept: 'image/webp' }),
      getOk(rig, '26x26', '/q.jpg', { accept: 'image/jpeg' }),
    ]);
    assert.equal(webp.headers['content-type'], 'image/webp');
    assert.equal(plain.headers['content-type'], 'image/jpeg');
  });

  test(
    'an animation negotiated to AVIF falls back to animated WebP when WebP is acceptable too',
    async () => {
      const res = await getOk(rig, '', '/anim.gif', { accept: 'image/avif,image/webp' });
      assert.equal(res.headers['content-type'], 'image/webp');
      assert.equal((await decode(res.body)).frames, 3);
    },
  );
});

describe('IMAGOR_AUTO_WEBP alone', () => {
  test('AVIF in Accept is not chosen when only WebP is turned on', async () => {
    const rig = await startImagorRig({ origin, env: { IMAGOR_AUTO_WEBP: '1' } });
    try {
      const res = await getOk(rig, '20x20', '/q.png', { accept: 'image/avif,image/webp' });
      assert.equal(res.headers['content-type'], 'image/webp');
      const none = await getOk(rig, '20x20', '/q.png', { accept: 'image/avif' });
      assert.equal(none.headers['content-type'], 'image/png');
      assert.equal(none.headers.vary, 'Accept');
    } finally {
      await rig.close();
    }
  });
});

describe('IMAGOR_AUTO_JPEG', () => {
  test(
    'a PNG is written as JPEG when Accept is empty or allows JPEG, and kept when Accept names only PNG',
    async () => {
      const rig = await startImagorRig({ origin, env: { IMAGOR_AUTO_JPEG: '1' } });
      try {
        assert.equal((await getOk(rig, '20x20', '/q.png')).headers['content-type'], 'image/jpeg');
        assert.equal((await getOk(rig, '20x20', '/q.png', { accept: 'image/jpeg' })).headers['content-type'], 'image/jpeg');
        assert.equal((await getOk(rig, '20x20', '/q.png', { accept: 'image/png' })).headers['content-type'], 'image/png');
      } finally {
        await rig.close();
      }
    },
  );
});
