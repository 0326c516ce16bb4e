import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createFileLoader } from '../../../src/store/file-loader.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import type { ErrorCode } from '../../../src/respond/error-table.js';

const CANARIES = ['OUTSIDE-ROOT-CANARY', 'SIBLING-CANARY', 'root:'];

/** security.md section 5 layout: OUTDIR/fileroot, a sibling with the same prefix, a secret beside it, symlinks out. */
async function makeLayout(t: { after: (fn: () => Promise<void>) => void }): Promise<{ out: string; root: string }> {
  const out = await mkdtemp(join(tmpdir(), 'pixgate-fl-'));
  t.after(() => rm(out, { recursive: true, force: true }));
  const root = join(out, 'fileroot');
  await mkdir(join(root, 'sub'), { recursive: true });
  await mkdir(join(out, 'fileroot-sibling'));
  await writeFile(join(out, 'fileroot-sibling', 'secret.png'), 'SIBLING-CANARY');
  await writeFile(join(out, 'outside-root-secret.txt'), 'OUTSIDE-ROOT-CANARY');
  await writeFile(join(root, 'ok.png'), 'OK-IMAGE');
  await writeFile(join(root, 'sub', 'img.png'), 'SUB-IMAGE');
  await symlink('/etc/passwd', join(root, 'link-passwd'));
  await symlink(join(out, 'outside-root-secret.txt'), join(root, 'link-outside.txt'));
  await symlink(join(out, 'fileroot-sibling'), join(root, 'link-dir'));
  await symlink(join(root, 'sub'), join(root, 'link-inside'));
  return { out, root };
}

/** The loader's answer: the body, 'miss', or the error code; anything else fails the test. */
async function outcome(p: Promise<{ body: Buffer } | undefined>): Promise<string> {
  try {
    const r = await p;
    return r === undefined ? 'miss' : r.body.toString();
  } catch (err) {
    assert.ok(isPixgateError(err), `unexpected error ${String(err)}`);
    return err.code;
  }
}

test('reads images under the root, through symlinks that stay inside it', async (t) => {
  const { root } = await makeLayout(t);
  const loader = createFileLoader({ baseDir: root });
  assert.equal(await outcome(loader.get('ok.png')), 'OK-IMAGE');
  assert.equal(await outcome(loader.get('/sub/img.png')), 'SUB-IMAGE');
  assert.equal(await outcome(loader.get('link-inside/img.png')), 'SUB-IMAGE');
  assert.equal(await outcome(loader.get('missing.png')), 'miss');
  assert.equal(await outcome(loader.get('sub')), 'miss', 'a directory is not an image');
  const meta = await loader.stat('ok.png');
  const st = await stat(join(root, 'ok.png'));
  assert.equal(meta?.size, 8);
  assert.equal(meta?.modifiedMs, Math.floor(st.mtimeMs));
  assert.equal(await loader.stat('missing.png'), undefined);
});

test('refuses the traversal corpus of security.md section 5 and never returns a canary', async (t) => {
  const { root } = await makeLayout(t);
  const loader = createFileLoader({ baseDir: root });
  const refused: ReadonlyArray<string> = [
    '../outside-root-secret.txt', '../../../etc/passwd', '../../../../../../etc/passwd',
    '%2e%2e/outside-root-secret.txt', '%2E%2E/outside-root-secret.txt', '..%2foutside-root-secret.txt',
    '%2e%2e%2foutside-root-secret.txt', '%252e%252e/outside-root-secret.txt', '%252e%252e%252foutside-root-secret.txt',
    '../%2e%2e/outside-root-secret.txt', '..\\outside-root-secret.txt', '..%5coutside-root-secret.txt',
    '%c0%ae%c0%ae/outside-root-secret.txt', '%c0%ae%c0%ae%c0%afoutside-root-secret.txt', '....//outside-root-secret.txt',
    'sub/../../outside-root-secret.txt', 'sub/%2e%2e/%2e%2e/outside-root-secret.txt',
    'ok.png%00.txt', 'ok.png\0.txt', '../x%00.png', '../fileroot-sibling/secret.png', '..%2ffileroot-sibling%2fsecret.png',
    'link-passwd', 'link-outside.txt', 'link-dir/secret.png', '.hidden', 'sub/.git/config', 'sub/\n../../outside-root-secret.txt',
  ];
  for (const key of refused) {
    const got = await outcome(loader.get(key));
    assert.equal(got, 'INVALID_PARAMS' satisfies ErrorCode, `get ${JSON.stringify(key)} -> ${got}`);
    const meta = await outcome(loader.stat(key).then(() => undefined));
    assert.equal(meta, 'INVALID_PARAMS', `stat ${JSON.stringify(key)}`);
  }
});

test('treats absolute and encoded absolute paths as keys under the root, not as host paths', async (t) => {
  const { root } = await makeLayout(t);
  const loader = createFileLoader({ baseDir: root });
  for (const key of ['/etc/passwd', '%2fetc%2fpasswd', '//etc/passwd']) {
    const got = await outcome(loader.get(key));
    assert.ok(!CANARIES.some((c) => got.includes(c)), `${key} -> ${got}`);
    assert.equal(got, 'miss', key);
  }
  await mkdir(join(root, 'etc'));
  await writeFile(join(root, 'etc', 'passwd'), 'IN-ROOT');
  assert.equal(await outcome(loader.get('/etc/passwd')), 'IN-ROOT');
});

test('with a path prefix, keys outside it are not this loader\'s (the next loader is tried)', async (t) => {
  const { root } = await makeLayout(t);
  const loader = createFileLoader({ baseDir: root, pathPrefix: '/local' });
  assert.equal(await outcome(loader.get('local/ok.png')), 'OK-IMAGE');
  assert.equal(await outcome(loader.get('https://example.com/ok.png')), 'miss');
  assert.equal(await outcome(loader.get('local-sibling/ok.png')), 'miss');
  assert.equal(await outcome(loader.get('local/../fileroot-sibling/secret.png')), 'INVALID_PARAMS');
});

test('refuses sources over the size limit, from the loader or from the call', async (t) => {
  const { root } = await makeLayout(t);
  await writeFile(join(root, 'big.png'), Buffer.alloc(2048));
  const loader = createFileLoader({ baseDir: root, maxBytes: 1024 });
  assert.equal(await outcome(loader.get('big.png')), 'CONTENT_LENGTH_EXCEEDED');
  assert.equal((await loader.get('big.png', { maxBytes: 4096 }))?.body.length, 2048);
  assert.equal(await outcome(loader.get('big.png', { maxBytes: 2047 })), 'CONTENT_LENGTH_EXCEEDED');
  assert.equal(await outcome(createFileLoader({ baseDir: root }).get('big.png').then((r) => r && { body: Buffer.from(String(r.body.length)) })), '2048');
});

test('does not hang on a FIFO, and a missing root is a miss', async (t) => {
  const { root, out } = await makeLayout(t);
  execFileSync('mkfifo', [join(root, 'pipe.png')]);
  const loader = createFileLoader({ baseDir: root });
  assert.equal(await outcome(loader.get('pipe.png')), 'miss');
  assert.equal(await outcome(createFileLoader({ baseDir: join(out, 'nope') }).get('ok.png')), 'miss');
});

test('a deadline is UPSTREAM_TIMEOUT', async (t) => {
  const { root } = await makeLayout(t);
  const loader = createFileLoader({ baseDir: root });
  const signal = AbortSignal.timeout(0);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await outcome(loader.get('ok.png', { signal })), 'UPSTREAM_TIMEOUT');
});
