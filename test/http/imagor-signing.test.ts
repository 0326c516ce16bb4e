// imagor URL signing over HTTP (issue 3 "URL grammar and signing", imagor.md §1.1 and §4, the imagor security
// page): sha1/sha256/sha512 with and without truncation, secret rotation, the unescaped-path retry imagor does for
// crawlers that escape `:()`, unsafe mode on and off, and the settings that must stop the start. Hashes are made
// with node:crypto as the security page's python does (test/helpers/imagor.ts), and checked against its two
// published vectors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decode, makeQuadrant } from '../helpers/images.js';
import { errorBody, IMAGOR_SECRET, imagorHash, signedUrl, startImagorRig, unsafeUrl, type ImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { fetchRaw, runCli, spawnPixgate, startPixgate } from '../helpers/pixgate.js';

// The imagor security page (reference/imagor-security-docs.txt): secret "mysecret", this path.
const DOC_PATH = '500x500/top/raw.githubusercontent.com/cshum/imagor/master/testdata/gopher.png';
const DOC_SHA1 = 'cST4Ko5_FqwT3BDn-Wf4gO3RFSk=';
const DOC_SHA256_T40 = 'IGEn3TxngivD0jy4uuiZim2bdUCvhcnVi1Nm0xGy';

let origin: Origin;
let png: Buffer;

before(async () => {
  origin = await startOrigin({ host: '127.0.0.2' });
  png = await makeQuadrant(40, 40);
  origin.route('/q.png', serve(png));
});

after(() => origin.close());

const MISMATCH = { message: 'url signature mismatch', status: 403 };

describe('the published vectors', () => {
  test('the test signer reproduces both hashes of the imagor security page', () => {
    assert.equal(imagorHash(DOC_PATH, { secret: 'mysecret' }), DOC_SHA1);
    assert.equal(imagorHash(DOC_PATH, { secret: 'mysecret', type: 'sha256', truncate: 40 }), DOC_SHA256_T40);
  });

  test('a server with IMAGOR_SECRET=mysecret accepts the sha1 vector (checked on /params, nothing is fetched)', async () => {
    const px = await startPixgate({ env: { IMAGOR_SECRET: 'mysecret' } });
    try {
      const res = await fetchRaw(`${px.url}/params/${DOC_SHA1}/${DOC_PATH}`);
      assert.equal(res.status, 200, res.text);
      const json = JSON.parse(res.text) as Record<string, unknown>;
      assert.equal(json.hash, DOC_SHA1);
      assert.equal(json.path, DOC_PATH);
      assert.equal(json.width, 500);
      assert.equal(json.v_align, 'top');
      const bad = await fetchRaw(`${px.url}/params/${DOC_SHA256_T40}/${DOC_PATH}`);
      assert.equal(bad.status, 403);
    } finally {
      await px.close();
    }
  });

  test('a server with sha256 truncated to 40 accepts the sha256 vector and refuses the sha1 one', async () => {
    const px = await startPixgate({ env: { IMAGOR_SECRET: 'mysecret', IMAGOR_SIGNER_TYPE: 'sha256', IMAGOR_SIGNER_TRUNCATE: '40' } });
    try {
      assert.equal((await fetchRaw(`${px.url}/params/${DOC_SHA256_T40}/${DOC_PATH}`)).status, 200);
      assert.equal((await fetchRaw(`${px.url}/params/${DOC_SHA1}/${DOC_PATH}`)).status, 403);
    } finally {
      await px.close();
    }
  });
});

describe('signer types and truncation', () => {
  const cases = [
    { type: 'sha1', truncate: 0 },
    { type: 'sha1', truncate: 20 },
    { type: 'sha256', truncate: 0 },
    { type: 'sha256', truncate: 40 },
    { type: 'sha512', truncate: 0 },
    { type: 'sha512', truncate: 18 },
    { type: 'sha512', truncate: 17 },
  ] as const;

  for (const { type, truncate } of cases) {
    describe(`IMAGOR_SIGNER_TYPE=${type} IMAGOR_SIGNER_TRUNCATE=${truncate}`, () => {
      let rig: ImagorRig;
      const path = () => `20x20/${origin.url('/q.png')}`;
      before(async () => {
        rig = await startImagorRig({ origin, env: { IMAGOR_SIGNER_TYPE: type, IMAGOR_SIGNER_TRUNCATE: String(truncate) } });
      });
      after(() => rig.close());

      test('serves a URL signed the same way', async () => {
        const res = await fetchRaw(signedUrl(rig.px.url, path(), { type, truncate }));
        assert.equal(res.status, 200, res.text);
        const img = await decode(res.body);
        assert.deepEqual([img.width, img.height], [20, 20]);
      });

      test('refuses the hash of another signer type with 403', async () => {
        const other = type === 'sha1' ? 'sha256' : 'sha1';
        const res = await fetchRaw(signedUrl(rig.px.url, path(), { type: other, truncate }));
        assert.equal(res.status, 403);
        assert.deepEqual(errorBody(res.text), MISMATCH);
      });

      test('refuses the hash made with another secret', async () => {
        const res = await fetchRaw(signedUrl(rig.px.url, path(), { type, truncate, secret: 'not-the-secret' }));
        assert.equal(res.status, 403);
      });

      if (truncate > 0) {
        test('refuses the untruncated hash (imagor compares the exact string)', async () => {
          const res = await fetchRaw(signedUrl(rig.px.url, path(), { type }));
          assert.equal(res.status, 403);
        });
      }
      if (truncate > 17) {
        test('refuses a hash one character short', async () => {
          const hash = imagorHash(path(), { type, truncate: truncate - 1 });
          const res = await fetchRaw(`${rig.px.url}/${hash}/${path()}`);
          assert.equal(res.status, 403);
        });
      }
    });
  }

  test('a signature covers the whole path: changing the size or the image after signing is refused', async () => {
    const rig = await startImagorRig({ origin });
    try {
      const hash = imagorHash(`20x20/${origin.url('/q.png')}`);
      assert.equal((await fetchRaw(`${rig.px.url}/${hash}/20x20/${origin.url('/q.png')}`)).status, 200);
      assert.equal((await fetchRaw(`${rig.px.url}/${hash}/21x20/${origin.url('/q.png')}`)).status, 403);
      assert.equal((await fetchRaw(`${rig.px.url}/${hash}/20x20/${origin.url('/other.png')}`)).status, 403);
      assert.equal(origin.hits('/other.png'), 0);
    } finally {
      await rig.close();
    }
  });
});

describe('secret rotation with PIXGATE_IMAGOR_OLD_SECRETS', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin, env: { PIXGATE_IMAGOR_OLD_SECRETS: 'old-secret-one,old-secret-two' } });
  });
  after(() => rig.close());

  for (const secret of [IMAGOR_SECRET, 'old-secret-one', 'old-secret-two']) {
    test(`serves URLs signed with ${secret === IMAGOR_SECRET ? 'the current secret' : secret}`, async () => {
      const res = await fetchRaw(signedUrl(rig.px.url, `10x10/${origin.url('/q.png')}`, { secret }));
      assert.equal(res.status, 200, res.text);
    });
  }

  test('refuses a URL signed with a secret that is in neither list', async () => {
    const res = await fetchRaw(signedUrl(rig.px.url, `10x10/${origin.url('/q.png')}`, { secret: 'old-secret-three' }));
    assert.equal(res.status, 403);
    assert.deepEqual(errorBody(res.text), MISMATCH);
  });
});

describe('the unescaped-path retry (imagor.go ServeHTTP)', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ origin });
  });
  after(() => rig.close());

  test('a client signs filters:format(webp) and a crawler escapes ":()": still served, as WebP', async () => {
    const path = `16x16/filters:format(webp)/${origin.url('/q.png')}`;
    const escaped = path.replace(/:/g, '%3A').replace(/\(/g, '%28').replace(/\)/g, '%29');
    assert.notEqual(escaped, path);
    const res = await fetchRaw(`${rig.px.url}/${imagorHash(path)}/${escaped}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers['content-type'], 'image/webp');
    assert.equal((await decode(res.body)).format, 'webp');
  });

  test('a path signed in its escaped form verifies as sent; its escaped filter is a 400 naming it (imagor drops it silently)', async () => {
    const path = `16x16/filters:format%28webp%29/${origin.url('/q.png')}`;
    const res = await fetchRaw(`${rig.px.url}/${imagorHash(path)}/${path}`);
    assert.equal(res.status, 400, res.text);
    assert.match(res.text, /format%28webp%29/);
  });

  test('in unsafe mode, an escaped filters segment is retried unescaped when the first reading fails as invalid', async () => {
    const u = await startImagorRig({ origin, env: { IMAGOR_UNSAFE: '1' } });
    try {
      const res = await fetchRaw(unsafeUrl(u.px.url, `16x16/filters%3Aformat%28webp%29/${origin.url('/q.png')}`));
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers['content-type'], 'image/webp');
    } finally {
      await u.close();
    }
  });

  test('the retry does not make an altered path verify', async () => {
    const signed = `16x16/filters:format(webp)/${origin.url('/q.png')}`;
    const sent = `17x16/filters%3Aformat%28webp%29/${origin.url('/q.png')}`;
    const res = await fetchRaw(`${rig.px.url}/${imagorHash(signed)}/${sent}`);
    assert.equal(res.status, 403);
  });
});

describe('unsafe mode', () => {
  test('off (the default): /unsafe/ URLs get 403 and nothing is fetched', async () => {
    const rig = await startImagorRig({ origin });
    try {
      const before = origin.hits('/q.png');
      const res = await fetchRaw(unsafeUrl(rig.px.url, `10x10/${origin.url('/q.png')}`));
      assert.equal(res.status, 403);
      assert.deepEqual(errorBody(res.text), MISMATCH);
      assert.equal(origin.hits('/q.png'), before);
    } finally {
      await rig.close();
    }
  });

  describe('on (IMAGOR_UNSAFE=1)', () => {
    let rig: ImagorRig;
    before(async () => {
      rig = await startImagorRig({ origin, env: { IMAGOR_UNSAFE: '1' } });
    });
    after(() => rig.close());

    test('serves /unsafe/ URLs', async () => {
      const res = await fetchRaw(unsafeUrl(rig.px.url, `10x12/${origin.url('/q.png')}`));
      assert.equal(res.status, 200, res.text);
      const img = await decode(res.body);
      assert.deepEqual([img.width, img.height], [10, 12]);
    });

    test('still serves signed URLs', async () => {
      assert.equal((await fetchRaw(signedUrl(rig.px.url, `10x10/${origin.url('/q.png')}`))).status, 200);
    });

    test('refuses a plain path with neither hash nor unsafe/ (imagor_test.go TestWithUnsafe)', async () => {
      const res = await fetchRaw(`${rig.px.url}/10x10/${origin.url('/q.png')}`);
      assert.equal(res.status, 403);
      assert.deepEqual(errorBody(res.text), MISMATCH);
    });

    test('refuses a wrong hash: unsafe mode does not switch verification off for signed URLs', async () => {
      const res = await fetchRaw(`${rig.px.url}/${imagorHash('something/else.png')}/10x10/${origin.url('/q.png')}`);
      assert.equal(res.status, 403);
    });

    test('works without any secret', async () => {
      const px = await startPixgate({ env: { IMAGOR_UNSAFE: '1' }, argv: ['--allow-network', '127.0.0.2/32'] });
      try {
        assert.equal((await fetchRaw(unsafeUrl(px.url, `10x10/${origin.url('/q.png')}`))).status, 200);
        assert.equal((await fetchRaw(signedUrl(px.url, `10x10/${origin.url('/q.png')}`))).status, 403);
      } finally {
        await px.close();
      }
    });
  });

  test('the start warns loudly when unsafe mode is on', async () => {
    const child = spawnPixgate(['--listen', '127.0.0.1:0'], { IMAGOR_UNSAFE: '1' });
    try {
      await child.waitFor(/IMAGOR_UNSAFE is on/);
      const { stderr, stdout } = child.output();
      assert.match(stderr + stdout, /WARN.*IMAGOR_UNSAFE is on|"level":40.*IMAGOR_UNSAFE is on/);
    } finally {
      await child.stop();
    }
  });
});

describe('settings that stop the start', { concurrency: true }, () => {
  test('IMAGOR_SIGNER_TYPE=md5 is refused, naming the variable and the choices', async () => {
    const r = await runCli([], { IMAGOR_SECRET: 's', IMAGOR_SIGNER_TYPE: 'md5' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /IMAGOR_SIGNER_TYPE=md5: expected sha1\|sha256\|sha512/);
  });

  test('IMAGOR_SIGNER_TRUNCATE=10 is refused: no hash under 17 characters can be recognised', async () => {
    const r = await runCli([], { IMAGOR_SECRET: 's', IMAGOR_SIGNER_TRUNCATE: '10' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /IMAGOR_SIGNER_TRUNCATE=10/);
  });

  test('an unknown IMAGOR_ variable is refused with a did-you-mean', async () => {
    const r = await runCli([], { IMAGOR_SECRET: 's', IMAGOR_SINGER_TYPE: 'sha256' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /IMAGOR_SINGER_TYPE: unknown setting \(did you mean IMAGOR_SIGNER_TYPE\?\)/);
  });
});
