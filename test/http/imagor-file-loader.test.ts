// The file loader over HTTP (issue 3 "Loaders", imagor.md §7; security.md section 5): images under
// FILE_LOADER_BASE_DIR, keys under FILE_LOADER_PATH_PREFIX, and no way out of the base directory by `..`, encoded
// dots or slashes, NUL bytes, absolute paths, dotfiles or symlinks that point outside. Paths are sent as written
// (fetchPath), since a URL parser would resolve the dot segments before they left the client. The HTTP loader is
// off in these servers, so a key the file loader does not serve is a 404 and nothing else is tried.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BLUE, decode, makeSolid, near, RED } from '../helpers/images.js';
import { errorBody, fetchPath, imagorHash, startImagorRig, type ImagorRig } from '../helpers/imagor.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import type { FetchedResponse } from '../helpers/pixgate.js';

let dir: string;
let base: string;
let redPng: Buffer;
let secretPng: Buffer;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pixgate-file-loader-'));
  base = join(dir, 'base');
  const outside = join(dir, 'outside');
  mkdirSync(join(base, 'sub'), { recursive: true });
  mkdirSync(outside);
  redPng = await makeSolid(16, 16, RED, 'png');
  secretPng = await makeSolid(16, 16, BLUE, 'png');
  writeFileSync(join(base, 'q.png'), redPng);
  writeFileSync(join(base, 'sub', 'q.png'), redPng);
  writeFileSync(join(base, 'with+space.png'), redPng);
  writeFileSync(join(base, 'real space.png'), redPng);
  writeFileSync(join(base, '.hidden.png'), secretPng);
  writeFileSync(join(outside, 'secret.png'), secretPng);
  writeFileSync(join(dir, 'secret.png'), secretPng);
  symlinkSync(join(outside, 'secret.png'), join(base, 'link-out.png'));
  symlinkSync(outside, join(base, 'dir-out'));
  symlinkSync(join(base, 'q.png'), join(base, 'link-in.png'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

function get(rig: ImagorRig, image: string, ops = '8x8'): Promise<FetchedResponse> {
  const path = `${ops}/${image}`;
  return fetchPath(rig.px.url, `/${imagorHash(path)}/${path}`);
}

async function assertServesRed(res: FetchedResponse) {
  assert.equal(res.status, 200, res.text);
  const img = await decode(res.body);
  assert.deepEqual([img.width, img.height], [8, 8]);
  assert.ok(near(img.pixel(4, 4), RED));
}

/** Refused or not found, and in any case not the blue secret. */
function assertNotServed(res: FetchedResponse, statuses: readonly number[] = [400, 404]) {
  assert.ok(statuses.includes(res.status), `status ${res.status}: ${res.text}`);
  assert.equal(res.headers['content-type'], 'application/json');
  const body = errorBody(res.text);
  assert.equal(body.status, res.status);
  assert.doesNotMatch(res.text, /secret|outside|base|\//, 'the error names no path');
}

describe('FILE_LOADER_BASE_DIR', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ env: { FILE_LOADER_BASE_DIR: base, HTTP_LOADER_DISABLE: '1' } });
  });
  after(() => rig.close());

  test('serves an image by its key under the base directory', async () => {
    await assertServesRed(await get(rig, 'q.png'));
    await assertServesRed(await get(rig, 'sub/q.png'));
  });

  test("a space in a key is the file's `+`, as imagor's key normalisation writes it (reference §12 item 10)", async () => {
    await assertServesRed(await get(rig, 'with%20space.png'));
    await assertServesRed(await get(rig, 'with+space.png'));
    assert.equal((await get(rig, 'real%20space.png')).status, 404);
  });

  test('a symlink that stays inside the base directory is followed', async () => {
    await assertServesRed(await get(rig, 'link-in.png'));
  });

  test('a missing key is 404 not found', async () => {
    const res = await get(rig, 'nope.png');
    assert.equal(res.status, 404);
    assert.deepEqual(errorBody(res.text), { message: 'not found', status: 404 });
  });

  const escapes: ReadonlyArray<readonly [name: string, image: string]> = [
    ['../ to a sibling directory', '../outside/secret.png'],
    ['../ to the parent', '../secret.png'],
    ['sub/../../', 'sub/../../secret.png'],
    ['percent-encoded dots %2e%2e/', '%2e%2e/outside/secret.png'],
    ['upper-case %2E%2E/', '%2E%2E/secret.png'],
    ['encoded slashes ..%2f', '..%2foutside%2fsecret.png'],
    ['fully encoded %2e%2e%2f', '%2e%2e%2f%2e%2e%2fsecret.png'],
    ['double-encoded %252e%252e%252f', '%252e%252e%252fsecret.png'],
    ['a backslash ..\\', '..%5Csecret.png'],
    ['an absolute path', '/etc/passwd'],
    ['an absolute path to the secret', `${dir}/secret.png`],
    ['a NUL byte', 'q.png%00../../secret.png'],
    ['a NUL byte before the extension', '../secret.png%00.png'],
    ['a symlink to a file outside', 'link-out.png'],
    ['a symlinked directory outside', 'dir-out/secret.png'],
    ['a dotfile', '.hidden.png'],
    ['a dotfile in a subdirectory path', 'sub/../.hidden.png'],
  ];
  for (const [name, image] of escapes) {
    test(`refuses ${name}`, async () => {
      assertNotServed(await get(rig, image));
    });
  }
});

describe('FILE_LOADER_PATH_PREFIX', () => {
  let rig: ImagorRig;
  before(async () => {
    rig = await startImagorRig({ env: { FILE_LOADER_BASE_DIR: base, FILE_LOADER_PATH_PREFIX: '/img/', HTTP_LOADER_DISABLE: '1' } });
  });
  after(() => rig.close());

  test('serves keys under the prefix, the prefix removed', async () => {
    await assertServesRed(await get(rig, 'img/q.png'));
    await assertServesRed(await get(rig, 'img/sub/q.png'));
  });

  test('a key outside the prefix is not this loader\'s: 404', async () => {
    const res = await get(rig, 'q.png');
    assert.equal(res.status, 404);
  });

  test('cannot climb out through the prefix', async () => {
    assertNotServed(await get(rig, 'img/../../secret.png'));
    assertNotServed(await get(rig, 'img/../q.png'));
    assertNotServed(await get(rig, 'img/%2e%2e/%2e%2e/secret.png'));
  });
});

describe('file loader and HTTP loader together', () => {
  let origin: Origin;
  let rig: ImagorRig;
  before(async () => {
    origin = await startOrigin({ host: '127.0.0.2' });
    origin.route('/remote.png', serve(secretPng));
    rig = await startImagorRig({ origin, env: { FILE_LOADER_BASE_DIR: base } });
  });
  after(async () => {
    await rig.close();
    await origin.close();
  });

  test('a key in the base directory comes from the file, a URL from the HTTP loader (file first, HTTP last)', async () => {
    await assertServesRed(await get(rig, 'q.png'));
    const res = await get(rig, origin.url('/remote.png'));
    assert.equal(res.status, 200, res.text);
    assert.ok(near((await decode(res.body)).pixel(4, 4), BLUE));
  });

  test('a refused file key is not retried over HTTP', async () => {
    const before = origin.hits();
    assertNotServed(await get(rig, '../secret.png'));
    assert.equal(origin.hits(), before);
  });
});
