// Presets end to end (issue 7 "Presets"): a signed `preset:name/` URL is served with the preset's operations, the
// preset name is covered by the signature, the library's builder makes URLs the server accepts, URL segments
// apply on top of the preset, and redefining a preset changes the result instead of serving stale stored results.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { decode, makeQuadrant } from '../helpers/images.js';
import { IMAGOR_SECRET, imagorHash, startImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { fetchRaw } from '../helpers/pixgate.js';
import { imagorUrlSync } from '../../src/sdk/index.js';

const nodeMac = (algorithm: 'sha1' | 'sha256' | 'sha512', key: Uint8Array, data: Uint8Array) => createHmac(algorithm, key).update(data).digest();

let origin: Origin;
let dir: string;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  origin.route('/q.png', serve(await makeQuadrant(80, 60)));
  dir = mkdtempSync(join(tmpdir(), 'pixgate-presets-'));
});

after(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A rig whose presets and result storage are given; every rig shares the one result directory. */
function rig(presets: string) {
  return startImagorRig({ origin, env: { PIXGATE_PRESETS: presets, FILE_RESULT_STORAGE_BASE_DIR: dir } });
}

const signed = (base: string, path: string) => `${base}/${imagorHash(path)}/${path}`;

describe('presets', () => {
  test('a signed preset URL is served with the preset operations, and URL segments apply on top', async () => {
    const r = await rig('thumb=fit-in/20x20/filters:format(png)');
    try {
      const plain = await fetchRaw(signed(r.px.url, `preset:thumb/${r.src('/q.png')}`));
      assert.equal(plain.status, 200, plain.text);
      assert.equal(plain.headers['content-type'], 'image/png');
      const img = await decode(plain.body);
      assert.deepEqual([img.width, img.height], [20, 15]);

      const flipped = await fetchRaw(signed(r.px.url, `preset:thumb/filters:format(webp)/${r.src('/q.png')}`));
      assert.equal(flipped.status, 200, flipped.text);
      assert.equal(flipped.headers['content-type'], 'image/webp', 'a URL filter after the preset wins');
    } finally {
      await r.close();
    }
  });

  test('the preset name is signed: another name with the same hash is refused 403', async () => {
    const r = await rig('thumb=fit-in/20x20;big=fit-in/60x60');
    try {
      const hash = imagorHash(`preset:thumb/${r.src('/q.png')}`);
      const tampered = await fetchRaw(`${r.px.url}/${hash}/preset:big/${r.src('/q.png')}`);
      assert.equal(tampered.status, 403);
    } finally {
      await r.close();
    }
  });

  test('an unknown preset name is a 400 naming it', async () => {
    const r = await rig('thumb=fit-in/20x20');
    try {
      const res = await fetchRaw(signed(r.px.url, `preset:nosuch/${r.src('/q.png')}`));
      assert.equal(res.status, 400, res.text);
      assert.match(res.text, /nosuch/);
    } finally {
      await r.close();
    }
  });

  test("the library's builder makes preset URLs the server serves", async () => {
    const r = await rig('thumb=fit-in/20x20');
    try {
      const url = imagorUrlSync({ image: r.src('/q.png'), presets: ['thumb'], filters: [] }, { secret: IMAGOR_SECRET, baseUrl: r.px.url }, nodeMac);
      assert.match(url, /\/preset:thumb\//);
      const res = await fetchRaw(url);
      assert.equal(res.status, 200, res.text);
      const img = await decode(res.body);
      assert.deepEqual([img.width, img.height], [20, 15]);
    } finally {
      await r.close();
    }
  });

  test('redefining a preset serves the new definition, not the result stored under the old one', async () => {
    const first = await rig('card=fit-in/20x20');
    let path: string;
    try {
      path = `preset:card/${first.src('/q.png')}`;
      const res = await fetchRaw(signed(first.px.url, path));
      assert.equal(res.status, 200, res.text);
      assert.equal((await decode(res.body)).width, 20);
    } finally {
      await first.close();
    }
    const second = await rig('card=fit-in/40x40');
    try {
      const res = await fetchRaw(signed(second.px.url, path));
      assert.equal(res.status, 200, res.text);
      assert.equal((await decode(res.body)).width, 40);
    } finally {
      await second.close();
    }
  });
});
