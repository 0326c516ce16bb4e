// imagor URLs on the wire (issue 3 "URL grammar and signing", imagor.md §1 and §5): `/params/...` answers imagor's
// JSON only for a URL that verifies (imagor answers for any URL), the disabled endpoint's empty 200, camo and
// imagor URLs of the same image on one port, and both mounted under prefixes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, makeQuadrant, near, RED } from '../helpers/images.js';
import { errorBody, IMAGOR_SECRET, imagorHash, signedUrl, startImagorRig, unsafeUrl, type ImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { camoUrl, fetchRaw, startPixgate, TEST_KEY } from '../helpers/pixgate.js';

// imagorpath/params.go: the Params struct's JSON names in declaration order (all `omitempty`).
const IMAGOR_PARAMS_KEYS = [
  'path', 'image', 'base64_image', 'unsafe', 'hash', 'meta', 'trim', 'trim_by', 'trim_tolerance',
  'crop_left', 'crop_top', 'crop_right', 'crop_bottom', 'fit_in', 'adaptive_fit_in', 'full_fit_in', 'stretch',
  'width', 'height', 'padding_left', 'padding_top', 'padding_right', 'padding_bottom', 'h_flip', 'v_flip',
  'h_align', 'v_align', 'smart', 'filters',
];

let origin: Origin;
let png: Buffer;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  png = await makeQuadrant(40, 30);
  origin.route('/q.png', serve(png));
});

after(() => origin.close());

describe('/params', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin });
  });
  after(() => rig.close());

  const PATH =
    'meta/trim:bottom-right:10/10x20:300x400/adaptive-full-fit-in/stretch/-200x-150/5x6:7x8/left/bottom/smart/' +
    'filters:quality(80):format(webp)/example.com/a.jpg';

  test("answers a verifying URL with imagor's JSON: field names, values, key order, two-space indent", async () => {
    const hash = imagorHash(PATH);
    const res = await fetchRaw(`${rig.px.url}/params/${hash}/${PATH}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'application/json');
    const json = JSON.parse(res.text) as Record<string, unknown>;
    assert.deepEqual(json, {
      path: PATH,
      image: 'example.com/a.jpg',
      hash,
      meta: true,
      trim: true,
      trim_by: 'bottom-right',
      trim_tolerance: 10,
      crop_left: 10,
      crop_top: 20,
      crop_right: 300,
      crop_bottom: 400,
      fit_in: true,
      adaptive_fit_in: true,
      full_fit_in: true,
      stretch: true,
      width: 200,
      height: 150,
      padding_left: 5,
      padding_top: 6,
      padding_right: 7,
      padding_bottom: 8,
      h_flip: true,
      v_flip: true,
      h_align: 'left',
      v_align: 'bottom',
      smart: true,
      filters: [
        { name: 'quality', args: '80' },
        { name: 'format', args: 'webp' },
      ],
    });
    assert.deepEqual(Object.keys(json), IMAGOR_PARAMS_KEYS.filter((k) => k in json));
    assert.match(res.text, /^\{\n {2}"path": /);
    assert.equal(origin.hits(), 0, '/params never loads the image');
  });

  test('leaves zero values out (Go omitempty) for a plain resize', async () => {
    const path = '30x20/example.com/b.png';
    const res = await fetchRaw(`${rig.px.url}/params/${imagorHash(path)}/${path}`);
    assert.deepEqual(JSON.parse(res.text), { path, image: 'example.com/b.png', hash: imagorHash(path), width: 30, height: 20 });
  });

  test('refuses a URL whose hash does not verify with 403 (imagor would answer it)', async () => {
    const path = '30x20/example.com/b.png';
    const res = await fetchRaw(`${rig.px.url}/params/${imagorHash('30x21/example.com/b.png')}/${path}`);
    assert.equal(res.status, 403);
    assert.deepEqual(errorBody(res.text), { message: 'url signature mismatch', status: 403 });
    assert.doesNotMatch(res.text, /example\.com/);
  });

  test('refuses an unsafe/ URL while unsafe mode is off', async () => {
    const res = await fetchRaw(`${rig.px.url}/params/unsafe/30x20/example.com/b.png`);
    assert.equal(res.status, 403);
  });

  test('answers an unsafe/ URL in unsafe mode, with "unsafe": true', async () => {
    const u = await startImagorRig({ origin, env: { IMAGOR_UNSAFE: '1' } });
    try {
      const res = await fetchRaw(unsafeUrl(`${u.px.url}/params`, '30x20/example.com/b.png'));
      assert.equal(res.status, 200);
      assert.deepEqual(JSON.parse(res.text), { path: '30x20/example.com/b.png', image: 'example.com/b.png', unsafe: true, width: 30, height: 20 });
    } finally {
      await u.close();
    }
  });

  test('IMAGOR_DISABLE_PARAMS_ENDPOINT answers an empty 200, as imagor does', async () => {
    const d = await startImagorRig({ origin, env: { IMAGOR_DISABLE_PARAMS_ENDPOINT: '1' } });
    try {
      const path = '30x20/example.com/b.png';
      const res = await fetchRaw(`${d.px.url}/params/${imagorHash(path)}/${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers['content-length'], '0');
    } finally {
      await d.close();
    }
  });
});

describe('image forms', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin });
  });
  after(() => rig.close());

  test('b64: + unpadded base64url of the source URL loads that URL', async () => {
    const image = `b64:${Buffer.from(origin.url('/q.png')).toString('base64url')}`;
    const res = await fetchRaw(signedUrl(rig.px.url, `20x15/${image}`));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([(await decode(res.body)).width], [20]);
    assert.equal(origin.last().path, '/q.png');
  });

  test('a percent-escaped source URL is unescaped once (a query string survives as %3F)', async () => {
    origin.route('/query.png', serve(png));
    const res = await fetchRaw(signedUrl(rig.px.url, `20x15/${origin.url('/query.png')}%3Fv%3D1`));
    assert.equal(res.status, 200, res.text);
    assert.equal(origin.last('/query.png').url, '/query.png?v=1');
  });

  test('color:<name> makes a solid image of the asked size without loading anything', async () => {
    const before = origin.hits();
    const res = await fetchRaw(signedUrl(rig.px.url, '12x8/color:red'));
    assert.equal(res.status, 200, res.text);
    const img = await decode(res.body);
    assert.deepEqual([img.width, img.height], [12, 8]);
    assert.ok(near(img.pixel(5, 5), RED), JSON.stringify(img.pixel(5, 5)));
    assert.equal(origin.hits(), before);
  });
});

describe('imagor routes without a secret', () => {
  test('are off: a signed imagor URL is not found, and so is /params', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32'] });
    try {
      assert.equal((await fetchRaw(signedUrl(px.url, `20x15/${origin.url('/q.png')}`))).status, 404);
      const path = '20x15/example.com/a.png';
      assert.equal((await fetchRaw(`${px.url}/params/${imagorHash(path)}/${path}`)).status, 404);
      assert.equal((await fetchRaw(px.camo(origin.url('/q.png')))).status, 200, 'camo still works');
    } finally {
      await px.close();
    }
  });
});

describe('camo and imagor URLs on one port', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, argv: ['-k', TEST_KEY] });
  });
  after(() => rig.close());

  test('serves a camo URL and an imagor URL of the same image, each as its own job', async () => {
    const source = origin.url('/q.png');
    const camo = await fetchRaw(rig.px.camo(source));
    assert.equal(camo.status, 200, camo.text);
    assert.ok(camo.body.equals(png), 'camo passes the bytes through untouched');

    const imagor = await fetchRaw(signedUrl(rig.px.url, `20x15/${source}`));
    assert.equal(imagor.status, 200, imagor.text);
    const img = await decode(imagor.body);
    assert.deepEqual([img.width, img.height], [20, 15]);
    assert.ok(imagor.headers.etag, 'the imagor job sets an ETag on its result');
  });

  test('an imagor URL shaped like a base64 camo URL (HASH/key, the key valid base64url) is served by imagor', async () => {
    // A sha1 imagor hash is 27 base64url characters and "=", the shape of a padded base64 camo digest.
    const both = await startImagorRig({ origin, argv: ['-k', TEST_KEY], env: { HTTP_LOADER_BASE_URL: `${origin.base}/base/` } });
    try {
      origin.route('/base/Zm9vYmFy', serve(png));
      const hash = imagorHash('Zm9vYmFy');
      assert.match(hash, /^[A-Za-z0-9_-]{27}=$/);
      const res = await fetchRaw(`${both.px.url}/${hash}/Zm9vYmFy`);
      assert.equal(res.status, 200, res.text);
      assert.ok(res.headers.etag, 'processed by the imagor job');
      assert.equal(origin.last().path, '/base/Zm9vYmFy');
    } finally {
      await both.close();
    }
  });

  test('the base64 camo form works beside imagor too', async () => {
    const res = await fetchRaw(rig.px.camo(origin.url('/q.png'), 'base64'));
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(png));
  });

  test('a camo URL with a wrong digest is a camo error (plain text), an imagor URL with a wrong hash an imagor one (JSON)', async () => {
    const good = rig.px.camo(origin.url('/q.png'));
    const parts = good.split('/');
    const digest = parts[3]!;
    parts[3] = (digest[0] === 'a' ? 'b' : 'a') + digest.slice(1);
    const camo = await fetchRaw(parts.join('/'));
    assert.equal(camo.status, 403);
    assert.equal(camo.text, 'Bad Signature\n');

    const imagor = await fetchRaw(`${rig.px.url}/${imagorHash('nope')}/20x15/${origin.url('/q.png')}`);
    assert.equal(imagor.status, 403);
    assert.deepEqual(errorBody(imagor.text), { message: 'url signature mismatch', status: 403 });
  });

  test('a camo URL signed with the imagor secret is not served, nor is an imagor URL signed with the camo key', async () => {
    const crossCamo = await fetchRaw(camoUrl(rig.px.url, origin.url('/q.png'), IMAGOR_SECRET));
    assert.equal(crossCamo.status, 403);
    const crossImagor = await fetchRaw(signedUrl(rig.px.url, `20x15/${origin.url('/q.png')}`, { secret: TEST_KEY }));
    assert.equal(crossImagor.status, 403);
  });
});

describe('prefixes (--imagor-prefix, --camo-prefix)', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, argv: ['-k', TEST_KEY, '--imagor-prefix', '/img', '--camo-prefix', '/camo'] });
  });
  after(() => rig.close());

  test('serves imagor URLs under the imagor prefix, signed without it', async () => {
    const res = await fetchRaw(signedUrl(`${rig.px.url}/img`, `20x15/${origin.url('/q.png')}`));
    assert.equal(res.status, 200, res.text);
    assert.deepEqual([(await decode(res.body)).width], [20]);
  });

  test('serves /params under the imagor prefix', async () => {
    const path = '20x15/example.com/a.png';
    const res = await fetchRaw(`${rig.px.url}/img/params/${imagorHash(path)}/${path}`);
    assert.equal(res.status, 200);
    assert.equal((JSON.parse(res.text) as { width: number }).width, 20);
  });

  test('an imagor URL at the root is not found', async () => {
    const res = await fetchRaw(signedUrl(rig.px.url, `20x15/${origin.url('/q.png')}`));
    assert.equal(res.status, 404);
  });

  test('an imagor URL signed over the prefix too does not verify', async () => {
    const path = `20x15/${origin.url('/q.png')}`;
    const res = await fetchRaw(`${rig.px.url}/img/${imagorHash(`img/${path}`)}/${path}`);
    assert.equal(res.status, 403);
  });

  test('serves camo URLs under the camo prefix and not at the root', async () => {
    const res = await fetchRaw(camoUrl(`${rig.px.url}/camo`, origin.url('/q.png'), TEST_KEY));
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(png));
    const root = await fetchRaw(rig.px.camo(origin.url('/q.png')));
    assert.equal(root.status, 404);
  });

  test('a camo URL under the imagor prefix is not served as camo', async () => {
    const res = await fetchRaw(camoUrl(`${rig.px.url}/img`, origin.url('/q.png'), TEST_KEY));
    assert.notEqual(res.status, 200);
  });
});
