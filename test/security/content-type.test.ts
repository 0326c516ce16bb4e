// security.md §2.2 "content-type lies" and §1.6 (responses come from an allow-list): what an origin says about its
// body is checked, for the camo job which relays the type to the browser, and for the imagor HTTP loader with an
// HTTP_LOADER_ACCEPT list. A real PNG labelled as something that is not an image must not be relayed under that
// label; a body whose bytes contradict its image label must not be relayed at all.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serve, startOrigin, testImages, type Origin, type TestImages } from '../helpers/origin.js';
import { startPixgate, type Pixgate } from '../helpers/pixgate.js';
import { camoPath, codesDuring, IMAGOR_SECRET, imagorPath, rawGet, startSecure } from './harness.js';

let images: TestImages;
let origin: Origin;
let px: Pixgate;

before(async () => {
  images = await testImages();
  origin = await startOrigin({ host: '127.0.0.3' });
  px = await startSecure(['--allow-network', '127.0.0.3/32']);
});

after(async () => {
  await px?.close();
  await origin?.close();
});

describe('camo: the Content-Type is checked, then re-serialised', () => {
  const labels: ReadonlyArray<readonly [id: string, type: string | null]> = [
    ['ct-text-html', 'text/html'],
    ['ct-text-html-charset', 'text/html; charset=image/png'],
    ['ct-octet-stream', 'application/octet-stream'],
    ['ct-javascript', 'application/javascript'],
    ['ct-xhtml', 'application/xhtml+xml'],
    ['ct-missing', null],
    ['ct-empty', ''],
    ['ct-two-types', 'image/png, text/html'],
    ['ct-space-smuggle', 'image/png text/html'],
    ['ct-video-default-off', 'video/mp4'],
    ['ct-garbage', '\u00ff\u00fe/png'],
  ];
  for (const [id, type] of labels) {
    test(`${id}: a real PNG labelled ${JSON.stringify(type)} is refused with 400, never relayed under that label`, async () => {
      const path = `/${id}.png`;
      origin.route(path, serve(images.png, { type }));
      const { value: res, codes } = await codesDuring(px, () => rawGet(px.url, camoPath(origin.url(path))));
      assert.equal(res.status, 400, `got ${res.status} ${String(res.headers['content-type'])}`);
      assert.ok(codes.every((c) => c === 'UNSUPPORTED_CONTENT_TYPE' || c === 'EMPTY_CONTENT_TYPE'), codes.join(','));
      assert.equal(res.headers['content-type'], 'text/plain; charset=utf-8');
    });
  }

  test('ct-reserialised: an image type with odd spelling is relayed re-serialised, never as the origin wrote it', async () => {
    origin.route('/odd.png', serve(images.png, { type: 'IMAGE/PNG ;  foo="bar\\"baz"' }));
    const res = await rawGet(px.url, camoPath(origin.url('/odd.png')));
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'image/png; foo="bar\\"baz"');
  });

  test('ct-sniff-mismatch: PNG bytes labelled image/svg+xml or image/jpeg are relayed only when the bytes agree', async () => {
    origin.route('/png-as-svg', serve(images.png, { type: 'image/svg+xml' }));
    origin.route('/png-as-jpeg', serve(images.png, { type: 'image/jpeg' }));
    assert.equal((await rawGet(px.url, camoPath(origin.url('/png-as-svg')))).status, 400);
    // A raster labelled as another raster type is not dangerous (browsers sniff among images); go-camo relays it.
    assert.equal((await rawGet(px.url, camoPath(origin.url('/png-as-jpeg')))).status, 200);
  });
});

describe('imagor: HTTP_LOADER_ACCEPT', () => {
  let strict: Pixgate;
  before(async () => {
    strict = await startPixgate({ argv: ['--imagor-secret', IMAGOR_SECRET, '--allow-network', '127.0.0.3/32', '--http-loader-accept', 'image/*'] });
  });
  after(() => strict.close());

  for (const type of ['text/html', 'application/octet-stream', null] as const) {
    test(`ct-loader-accept ${JSON.stringify(type)}: refused with 406 when the loader accepts image/* only`, async () => {
      const path = `/accept-${String(type).replace(/\W/g, '-')}.png`;
      origin.route(path, serve(images.png, { type }));
      const res = await rawGet(strict.url, imagorPath(`fit-in/8x8/${origin.url(path)}`));
      assert.equal(res.status, 406);
    });
  }

  test('ct-loader-accept control: an image/png is loaded', async () => {
    origin.route('/accept-ok.png', serve(images.png));
    assert.equal((await rawGet(strict.url, imagorPath(`fit-in/8x8/${origin.url('/accept-ok.png')}`))).status, 200);
  });
});
