// security.md §5: path traversal, through the whole server. The imagor file loader serves OUTDIR/fileroot; next to
// it lie a sibling directory with the same prefix, secrets outside the root, and symlinks pointing out. The
// secrets outside are real PNGs (a traversal would be answered 200 with a picture, not refused as undecodable),
// plus text files whose content must never appear. Also the raw request targets of §5 against the router, and
// the base-URL mode of the HTTP loader (HTTP_LOADER_BASE_URL), where a key must not change the host.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeSolid, RED, BLUE, LIME, YELLOW } from '../helpers/images.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { startPixgate, type Pixgate } from '../helpers/pixgate.js';
import { CANARY_TEXT, codesDuring, IMAGOR_SECRET, imagorPath, rawGet, startCountingCanary, startSecure, type CountingServer } from './harness.js';

let out: string;
let files: Pixgate;

const TEXT_CANARIES = ['OUTSIDE-ROOT-CANARY', 'SIBLING-CANARY', 'root:x:0:0'];

before(async () => {
  out = mkdtempSync(join(tmpdir(), 'pixgate-sec-traversal-'));
  const root = join(out, 'fileroot');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(out, 'fileroot-sibling'));
  mkdirSync(join(out, 'outside-dir'));
  writeFileSync(join(root, 'ok.png'), await makeSolid(8, 8, LIME, 'png'));
  writeFileSync(join(root, 'sub', 'ok.png'), await makeSolid(8, 8, LIME, 'png'));
  writeFileSync(join(out, 'fileroot-sibling', 'secret.png'), await makeSolid(8, 8, RED, 'png'));
  writeFileSync(join(out, 'fileroot-sibling', 'secret.txt'), 'SIBLING-CANARY');
  writeFileSync(join(out, 'outside-root-secret.png'), await makeSolid(8, 8, BLUE, 'png'));
  writeFileSync(join(out, 'outside-root-secret.txt'), 'OUTSIDE-ROOT-CANARY');
  writeFileSync(join(out, 'outside-dir', 'secret.png'), await makeSolid(8, 8, YELLOW, 'png'));
  symlinkSync('/etc/passwd', join(root, 'link-passwd.png'));
  symlinkSync(join(out, 'outside-root-secret.png'), join(root, 'link-outside.png'));
  symlinkSync(join(out, 'outside-dir'), join(root, 'linkdir'));
  // The HTTP loader is off: a key the file loader does not have must not turn into a DNS lookup.
  files = await startSecure(['--file-loader-base-dir', root, '--http-loader-disable']);
});

after(async () => {
  await files?.close();
  rmSync(out, { recursive: true, force: true });
});

describe('the file loader (imagor FILE_LOADER_BASE_DIR)', () => {
  test('control: keys inside the root are served', async () => {
    for (const key of ['ok.png', 'sub/ok.png']) {
      const res = await rawGet(files.url, imagorPath(`fit-in/8x8/${key}`));
      assert.equal(res.status, 200, key);
    }
  });

  const keys: ReadonlyArray<readonly [id: string, key: string]> = [
    ['traversal-dotdot', '../outside-root-secret.png'],
    ['traversal-deep', '../../../../../../../../etc/passwd'],
    ['traversal-sub-dotdot', 'sub/../../outside-root-secret.png'],
    ['traversal-sub-encoded', 'sub/%2e%2e/%2e%2e/outside-root-secret.png'],
    ['traversal-encoded-lower', '%2e%2e/outside-root-secret.png'],
    ['traversal-encoded-upper', '%2E%2E/outside-root-secret.png'],
    ['traversal-encoded-slash', '..%2foutside-root-secret.png'],
    ['traversal-fully-encoded', '%2e%2e%2foutside-root-secret.png'],
    ['traversal-double-encoded', '%252e%252e/outside-root-secret.png'],
    ['traversal-double-encoded-slash', '..%252foutside-root-secret.png'],
    ['traversal-mixed', '../%2e%2e/outside-root-secret.png'],
    ['traversal-backslash', '..\\outside-root-secret.png'],
    ['traversal-encoded-backslash', '..%5coutside-root-secret.png'],
    ['traversal-overlong-utf8', '%c0%ae%c0%ae/outside-root-secret.png'],
    ['traversal-overlong-utf8-slash', '..%c0%afoutside-root-secret.png'],
    ['traversal-four-dots', '....//outside-root-secret.png'],
    ['traversal-nul', 'ok.png%00.txt'],
    ['traversal-nul-dotdot', '../outside-root-secret.png%00.png'],
    ['traversal-absolute', '/etc/passwd'],
    ['traversal-absolute-encoded', '%2fetc%2fpasswd'],
    ['traversal-absolute-outdir', `${out}/outside-root-secret.png`],
    ['traversal-sibling-prefix', '../fileroot-sibling/secret.png'],
    ['traversal-sibling-prefix-text', '../fileroot-sibling/secret.txt'],
    ['traversal-symlink-passwd', 'link-passwd.png'],
    ['traversal-symlink-file-outside', 'link-outside.png'],
    ['traversal-symlink-dir-outside', 'linkdir/secret.png'],
  ];
  for (const [id, key] of keys) {
    test(`${id}: refuses the key ${JSON.stringify(key)} with a 4xx and nothing from outside the root`, async () => {
      const { value: res, codes } = await codesDuring(files, () => rawGet(files.url, imagorPath(`fit-in/8x8/${key}`)));
      assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
      for (const c of TEXT_CANARIES) assert.ok(!res.text.includes(c), `${c} in the response`);
      assert.ok(!codes.includes('INTERNAL'));
    });
  }

  test('the refusals name the key as invalid, not merely missing, for the keys that try to leave', async () => {
    for (const key of ['../outside-root-secret.png', '%2e%2e/outside-root-secret.png', 'link-outside.png', 'linkdir/secret.png', '../fileroot-sibling/secret.png']) {
      const { codes } = await codesDuring(files, () => rawGet(files.url, imagorPath(`fit-in/8x8/${key}`)));
      assert.deepEqual(codes, ['INVALID_PARAMS'], key);
    }
  });
});

describe('raw request targets against the router (§5 "proxy routes")', () => {
  const targets = [
    '/../../etc/passwd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/..%2f..%2fetc%2fpasswd',
    '/static/..%2f..%2fpackage.json',
    '/..%2fpackage.json',
    '/%00',
    '/..%00/etc/passwd',
    '/assets/../package.json',
  ];
  for (const target of targets) {
    test(`traversal-route ${target}: a 4xx that shows no file`, async () => {
      const res = await rawGet(files.url, target);
      assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
      assert.ok(!res.text.includes('root:x:0:0'));
      assert.ok(!res.text.includes('"name": "pixgate"'));
    });
  }
});

describe('base-URL mode (HTTP_LOADER_BASE_URL): the key never changes the host', () => {
  let origin: Origin;
  let canary: CountingServer;
  let based: Pixgate;
  before(async () => {
    origin = await startOrigin({ host: '127.0.0.3' });
    origin.route('/base/img.png', serve(await makeSolid(8, 8, LIME, 'png')));
    origin.route('/secret.png', serve(await makeSolid(8, 8, RED, 'png')));
    canary = (await startCountingCanary('127.0.0.1'))!;
    based = await startPixgate({ argv: ['--imagor-secret', IMAGOR_SECRET, '--allow-network', '127.0.0.3/32', '--http-loader-base-url', `${origin.base}/base/`] });
  });
  after(async () => {
    await based.close();
    await origin.close();
    await canary.close();
  });

  test('control: a key under the base URL is served', async () => {
    assert.equal((await rawGet(based.url, imagorPath('fit-in/8x8/img.png'))).status, 200);
  });

  const keys: ReadonlyArray<readonly [id: string, shown: string, key: () => string]> = [
    ['base-scheme-relative', '//127.0.0.1:P/x.png', () => `//127.0.0.1:${canary.port}/x.png`],
    ['base-userinfo', '@127.0.0.1:P/x.png', () => `@127.0.0.1:${canary.port}/x.png`],
    ['base-absolute-url', 'http://127.0.0.1:P/x.png', () => `http://127.0.0.1:${canary.port}/x.png`],
    ['base-dotdot', '../secret.png', () => '../secret.png'],
    ['base-dotdot-encoded', '..%2f..%2fsecret.png', () => '..%2f..%2fsecret.png'],
    ['base-dotdot-encoded-dots', '%2e%2e/secret.png', () => '%2e%2e/secret.png'],
    ['base-backslash', '\\\\127.0.0.1:P/x.png', () => `\\\\127.0.0.1:${canary.port}/x.png`],
  ];
  for (const [id, shown, key] of keys) {
    test(`${id}: the key ${shown} never reaches another host or a path outside the base`, async () => {
      const res = await rawGet(based.url, imagorPath(`fit-in/8x8/${key()}`));
      assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
      assert.ok(!res.text.includes(CANARY_TEXT));
      assert.equal(canary.hits(), 0);
      assert.equal(origin.hits('/secret.png'), 0);
      for (const r of origin.requests()) assert.ok(r.path.startsWith('/base/'), `the origin was asked for ${r.path}`);
    });
  }
});
