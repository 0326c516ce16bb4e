import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  cleanPath,
  createSafeChars,
  digestPath,
  fileSafeChars,
  findTraversal,
  normalizeDirPrefix,
  normalizeKey,
  parseBucketSpec,
  resolveKey,
  resultKey,
  resultKeyInput,
  s3ObjectKey,
  s3SafeChars,
  splitWildcardKey,
  storageKey,
  type KeyRules,
} from '../../../src/store/keys.js';
import { createImagorParams } from '../../../src/parse/imagor-params.js';
import { parseImagorPath } from '../../../src/parse/imagor-path.js';

const fileRules = (prefix = '', safe = ''): KeyRules => ({ pathPrefix: normalizeDirPrefix(prefix), safeChars: fileSafeChars(safe), refuseDotFiles: true });
const s3Rules = (prefix = '', safe = ''): KeyRules => ({ pathPrefix: normalizeDirPrefix(prefix), safeChars: s3SafeChars(safe), refuseDotFiles: false });

/** imagor's FileStorage.Path result for a base dir, or undefined where imagor answers !ok. */
function filePath(baseDir: string, prefix: string, image: string, safe = ''): string | undefined {
  const r = resolveKey(image, fileRules(prefix, safe));
  return r.ok ? `${baseDir}/${r.relative}` : undefined;
}

/** imagor's S3Storage.Path result, or undefined where imagor answers !ok. */
function s3Path(bucket: string, baseDir: string, prefix: string, image: string, safe = ''): [string, string] | undefined {
  const spec = parseBucketSpec(bucket, baseDir);
  const r = resolveKey(image, s3Rules(prefix, safe));
  return r.ok ? [spec.bucket, s3ObjectKey(spec.baseDir, r.relative)] : undefined;
}

test('normalises the result key of the imagor storage docs with file escaping: `:` and `()` are escaped', () => {
  // imagor docs/docs/storage-s3.md shows this form; it is what the file (and GCS) rule produces.
  assert.equal(
    normalizeKey('fit-in/1800x1800/filters:format(jpeg):quality(90)/test.jpg', fileSafeChars('')),
    'fit-in/1800x1800/filters%3Aformat%28jpeg%29%3Aquality%2890%29/test.jpg',
  );
});

test('keeps !"()* unescaped on S3, as imagor s3storage.New does (the docs example shows the file form)', () => {
  assert.equal(
    normalizeKey('fit-in/1800x1800/filters:format(jpeg):quality(90)/test.jpg', s3SafeChars('')),
    'fit-in/1800x1800/filters%3Aformat(jpeg)%3Aquality(90)/test.jpg',
  );
  assert.equal(normalizeKey('a!b"c(d)e*f', s3SafeChars('')), 'a!b"c(d)e*f');
  assert.equal(normalizeKey('a!b"c(d)e*f', fileSafeChars('')), 'a%21b%22c%28d%29e%2Af');
});

test('matches imagor TestFileStore_Path cases', () => {
  const cases: ReadonlyArray<readonly [string, string, string, string | undefined]> = [
    // [prefix, image, safe chars, expected]
    ['', '/foo/b{:}ar', '', '/home/imagor/foo/b%7B%3A%7Dar'],
    ['', '/foo/b{:}ar', '{}', '/home/imagor/foo/b{%3A}ar'],
    ['', '/foo/b{:}ar', '--', '/home/imagor/foo/b{:}ar'],
    ['/foo', '/foo/bar', '', '/home/imagor/bar'],
    ['', '/foo/bar', '', '/home/imagor/foo/bar'],
    ['/foo', '/fooo/bar', '', undefined],
    ['/foo', '/foo/../../etc/passwd', '', undefined],
    ['/foo', '/foo/bar/.git', '', undefined],
    ['/foo', '/foo/bar/.git/logs/HEAD', '', undefined],
    ['/foo', '/foo/bar/abc/def/ghi.txt', '', '/home/imagor/bar/abc/def/ghi.txt'],
  ];
  for (const [prefix, image, safe, expected] of cases) {
    assert.equal(filePath('/home/imagor', prefix, image, safe), expected, `${prefix} ${image} ${safe}`);
  }
});

test('refuses /../../etc/passwd outright, where imagor cleans it to a path under the base dir', () => {
  // imagor TestFileStore_Path "path under must not escalate" maps it to /home/imagor/etc/passwd; both stay inside.
  const r = resolveKey('/../../etc/passwd', fileRules('/'));
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.reason, 'traversal');
});

test('matches imagor TestS3Store_Path cases', () => {
  const cases: ReadonlyArray<readonly [string, string, string, string, string, [string, string] | undefined]> = [
    // [bucket, base dir, prefix, image, safe chars, expected [bucket, key]]
    ['mybucket', '', '', '/foo/bar', '', ['mybucket', 'foo/bar']],
    ['mybucket', '', '', '/foo/b{:}ar', '', ['mybucket', 'foo/b%7B%3A%7Dar']],
    ['mybucket', '', '', '/foo/b{:}"ar', '{}', ['mybucket', 'foo/b{%3A}"ar']],
    ['mybucket', '', '', '/foo/b{:}"ar', '--', ['mybucket', 'foo/b{:}"ar']],
    ['mybucket', '/home/imagor', '/foo', '/foo/bar', '', ['mybucket', 'home/imagor/bar']],
    ['mybucket', '/home/imagor', '', '/foo/bar', '', ['mybucket', 'home/imagor/foo/bar']],
    ['mybucket', '/home/imagor', '/foo', '/fooo/bar', '', undefined],
    ['mybucket/home/imagor', '', '/foo', '/foo/bar', '', ['mybucket', 'home/imagor/bar']],
    ['mybucket', '/', '', '/foo/bar', '', ['mybucket', 'foo/bar']],
    ['mybucket', '/images', '', '/foo/bar', '', ['mybucket', 'images/foo/bar']],
    ['mybucket', '/', '/api', '/api/foo/bar', '', ['mybucket', 'foo/bar']],
    ['mybucket', 'images', '', '/foo/bar', '', ['mybucket', 'images/foo/bar']],
  ];
  for (const [bucket, baseDir, prefix, image, safe, expected] of cases) {
    assert.deepEqual(s3Path(bucket, baseDir, prefix, image, safe), expected, `${bucket} ${baseDir} ${prefix} ${image}`);
  }
});

test('refuses on S3 a `..` that imagor would let climb out of the base dir', () => {
  assert.equal(s3Path('b', '/base', '', 'x/../../other/secret'), undefined);
  // A line break removed after path.Clean joins `.` and `.` into `..` (imagor's order); refused after normalisation.
  assert.equal(s3Path('b', '/base', '', 'x/.\n./../other'), undefined);
  assert.equal(normalizeKey('x/.\n./y', s3SafeChars('')), 'x/../y');
});

test('escapes space as + and every other unsafe UTF-8 byte as upper-case %XX', () => {
  assert.equal(normalizeKey('a b+c', fileSafeChars('')), 'a+b%2Bc');
  assert.equal(normalizeKey('ä/日', fileSafeChars('')), '%C3%A4/%E6%97%A5');
  assert.equal(normalizeKey('a b', createSafeChars(' ')), 'a b');
  assert.equal(normalizeKey('a b%', createSafeChars('--')), 'a b%');
});

test('cleans, strips line breaks and trims slashes like imagor Normalize', () => {
  assert.equal(normalizeKey('//a//b/./c/../d//', fileSafeChars('')), 'a/b/d');
  assert.equal(normalizeKey('a\r\nb\u2028c', fileSafeChars('')), 'abc');
  assert.equal(normalizeKey('', fileSafeChars('')), '.');
});

test('cleans paths as Go path.Clean does', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['', '.'], ['/', '/'], ['a/..', '.'], ['/..', '/'], ['../..', '../..'], ['a/../../b', '../b'],
    ['/a/b/../../../c', '/c'], ['a//b', 'a/b'], ['./a/', 'a'], ['abc/./def/', 'abc/def'],
  ];
  for (const [input, expected] of cases) assert.equal(cleanPath(input), expected, input);
});

test('escaped keys decode back to the cleaned key (checked with the platform URI decoder)', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
      const text = s.replace(/[\r\n\v\f\u0085\u2028\u2029]/g, '');
      const key = normalizeKey(text, fileSafeChars(''));
      assert.match(key, /^[A-Za-z0-9/\-_.~%+]*$/);
      const expected = cleanPath(text).replace(/^\/+|\/+$/g, '');
      assert.equal(decodeURIComponent(key.replace(/\+/g, ' ')), expected);
    }),
  );
});

test('digest storage path style is sha1 split 2/2/36 (imagor DigestStorageHasher)', () => {
  // sha1("fit-in/16x17/foobar") from imagor TestHasher.
  assert.equal(digestPath('fit-in/16x17/foobar'), 'd5/c2/804e5d81c475bee50f731db17ee613f43262');
  assert.equal(storageKey('fit-in/16x17/foobar', 'digest'), 'd5/c2/804e5d81c475bee50f731db17ee613f43262');
  assert.equal(storageKey('a.com/b.jpg', 'original'), 'a.com/b.jpg');
});

test('result path styles match imagor TestHasher on parsed paths', () => {
  const cases: ReadonlyArray<readonly [string, Record<'original' | 'digest' | 'suffix' | 'size', string | undefined>]> = [
    ['fit-in/16x17/foobar', {
      original: 'fit-in/16x17/foobar',
      digest: 'd5/c2/804e5d81c475bee50f731db17ee613f43262',
      suffix: 'foobar.d5c2804e5d81c475bee5',
      size: 'foobar.d5c2804e5d81c475bee5_16x17',
    }],
    ['17x19/smart/example.com/foobar', {
      original: undefined, digest: undefined,
      suffix: 'example.com/foobar.ddd349e092cda6d9c729',
      size: 'example.com/foobar.ddd349e092cda6d9c729_17x19',
    }],
    ['smart/example.com/foobar', {
      original: undefined, digest: undefined,
      suffix: 'example.com/foobar.afa3503c0d76bc49eccd',
      size: 'example.com/foobar.afa3503c0d76bc49eccd',
    }],
    ['166x169/top/foobar.jpg', {
      original: undefined, digest: undefined,
      suffix: 'foobar.45d8ebb31bd4ed80c26e.jpg',
      size: 'foobar.45d8ebb31bd4ed80c26e_166x169.jpg',
    }],
  ];
  for (const [path, expected] of cases) {
    const input = resultKeyInput(parseImagorPath(path));
    for (const style of ['original', 'digest', 'suffix', 'size'] as const) {
      if (expected[style] !== undefined) assert.equal(resultKey(input, style), expected[style], `${path} ${style}`);
    }
    // imagor regenerates an empty path (p.Path = ""): same keys.
    const regenerated = resultKeyInput({ ...parseImagorPath(path), path: '' });
    assert.equal(resultKey(regenerated, 'suffix'), expected.suffix, `${path} regenerated`);
  }
});

test('suffix and size styles take the format() extension, or .json for meta (imagor TestSuffixResultStorageHasher)', () => {
  const webp = createImagorParams({ smart: true, width: 17, height: 19, image: 'example.com/foobar.jpg', filters: [{ name: 'format', args: 'webp' }] });
  assert.equal(resultKey(resultKeyInput(webp), 'suffix'), 'example.com/foobar.8aade9060badfcb289f9.webp');
  assert.equal(resultKey(resultKeyInput(webp), 'size'), 'example.com/foobar.8aade9060badfcb289f9_17x19.webp');
  const meta = createImagorParams({ meta: true, smart: true, width: 17, height: 19, image: 'example.com/foobar.jpg' });
  assert.equal(resultKey(resultKeyInput(meta), 'suffix'), 'example.com/foobar.d72ff6ef20ba41fa570c.json');
  assert.equal(resultKey(resultKeyInput(meta), 'size'), 'example.com/foobar.d72ff6ef20ba41fa570c_17x19.json');
  const metaWebp = createImagorParams({ ...meta, filters: [{ name: 'format', args: 'webp' }] });
  assert.equal(resultKey(resultKeyInput(metaWebp), 'suffix'), 'example.com/foobar.c80ab0faf85b35a140a8.json');
  assert.equal(resultKey(resultKeyInput(metaWebp), 'size'), 'example.com/foobar.c80ab0faf85b35a140a8_17x19.json');
});

test('the last format() filter names the extension, as in imagor\'s loop', () => {
  const input = { path: 'p', image: 'a/b.jpg', meta: false, width: 0, height: 0, format: 'png' };
  assert.match(resultKey(input, 'suffix'), /^a\/b\.[0-9a-f]{20}\.png$/);
  const params = createImagorParams({ image: 'a/b.jpg', filters: [{ name: 'format', args: 'webp' }, { name: 'format', args: 'avif' }] });
  assert.equal(resultKeyInput(params).format, 'avif');
  // A dot only in a directory name is not an extension.
  assert.match(resultKey({ ...input, image: 'a.com/b' }, 'suffix'), /^a\.com\/b\.[0-9a-f]{20}$/);
});

test('path prefixes and base dirs are normalised as imagor WithPathPrefix / WithBaseDir', () => {
  assert.equal(normalizeDirPrefix(''), '/');
  assert.equal(normalizeDirPrefix('/'), '/');
  assert.equal(normalizeDirPrefix('foo'), '/foo/');
  assert.equal(normalizeDirPrefix('//foo/bar//'), '/foo/bar/');
  assert.deepEqual(parseBucketSpec('*'), { bucket: '*', baseDir: '/' });
  assert.deepEqual(parseBucketSpec('b/x/y', 'z'), { bucket: 'b', baseDir: '/z/' });
  assert.deepEqual(splitWildcardKey('/mybucket/images/photo.jpg'), { bucket: 'mybucket', rest: '/images/photo.jpg' });
  assert.equal(splitWildcardKey('nokey'), undefined);
});

test('refuses the traversal corpus of security.md section 5 in every spelling', () => {
  const refused = [
    '../secret.png', '../../../etc/passwd', 'sub/../../secret.png', '%2e%2e/secret.png', '%2E%2E/secret.png',
    '..%2fsecret.png', '%2e%2e%2fsecret.png', '%252e%252e/secret.png', '../%2e%2e/x', '..\\secret.png', '..%5csecret.png',
    '%c0%ae%c0%ae/secret.png', 'sub/%2e%2e/%2e%2e/secret.png', 'ok.png\0.txt', 'ok.png%00.txt', '../x%00.png',
    '%25252e%25252e/x',
  ];
  for (const key of refused) {
    assert.notEqual(findTraversal(key), undefined, key);
    const r = resolveKey(key, fileRules());
    assert.equal(r.ok, false, key);
  }
  for (const key of ['a/b.png', 'a..b/c.png', '...png', 'x/..a/b', 'https://a.com/x.jpg', 'fit-in/1x2/filters:fill(..)/x.png']) {
    assert.equal(findTraversal(key), undefined, key);
  }
  assert.equal(resolveKey('....//x.png', fileRules()).ok, false);
});

test('keys outside the path prefix and empty keys are not resolved', () => {
  const prefixed = fileRules('/local');
  assert.deepEqual(resolveKey('/local/a.png', prefixed), { ok: true, relative: 'a.png' });
  const sibling = resolveKey('/local-sibling/a.png', prefixed);
  assert.equal(!sibling.ok && sibling.reason, 'outside-prefix');
  const empty = resolveKey('///', fileRules());
  assert.equal(!empty.ok && empty.reason, 'empty');
});

test('resolved keys never climb out, never start with a slash and never hold a dot segment', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom('a', '.', '..', '', '%2e', '\n', '/', '\\', 'b c', '~', '%00'), { maxLength: 12 }), (parts) => {
      const key = parts.join('');
      for (const rules of [fileRules(), s3Rules(), fileRules('', '--')]) {
        const r = resolveKey(key, rules);
        if (!r.ok) continue;
        assert.ok(!r.relative.startsWith('/'), key);
        assert.ok(!r.relative.split('/').some((s) => s === '..' || s === '.' || s === ''), key);
        assert.ok(!r.relative.includes('\0'), key);
      }
    }),
  );
});
