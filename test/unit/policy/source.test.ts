// The imagor HTTP loader's source policy (policy/source.ts): which URL an image key resolves to and whether a URL
// may be loaded. Host globs follow imagor's loader/httploader/httploader.go, which runs Go's path.Match against
// u.Host (host:port when the URL names a port).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSourcePolicy, type SourcePolicyOptions } from '../../../src/policy/source.js';
import { isPixgateError } from '../../../src/respond/errors.js';

const defaults: SourcePolicyOptions = {
  baseUrl: undefined,
  defaultScheme: 'https',
  allowedSources: [],
  allowedSourceRegexp: undefined,
  httpsOnly: false,
};

function allowed(opts: Partial<SourcePolicyOptions>, url: string): boolean {
  try {
    createSourcePolicy({ ...defaults, ...opts }).check(new URL(url));
    return true;
  } catch (err) {
    if (isPixgateError(err) && err.code === 'SOURCE_NOT_ALLOWED') return false;
    throw err;
  }
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (err) {
    return isPixgateError(err) ? err.code : 'not a PixgateError';
  }
}

describe('allowed source globs', () => {
  const cases: ReadonlyArray<readonly [pattern: string, url: string, ok: boolean]> = [
    ['*.example.com', 'https://a.example.com/x.png', true],
    ['*.example.com', 'https://a.b.example.com/x.png', true],
    ['*.example.com', 'https://example.com/x.png', false],
    ['*.example.com', 'https://a.example.com.evil.net/x.png', false],
    ['*.example.com', 'https://a.example.com:8443/x.png', false],
    ['*.example.com', 'https://a.example.com:443/x.png', true], // the default port is no port to a WHATWG URL
    ['*.example.com:*', 'https://a.example.com:8443/x.png', true],
    ['cdn.example.com:8080', 'http://cdn.example.com:8080/x.png', true],
    ['cdn.example.com:8080', 'http://cdn.example.com:8081/x.png', false],
    ['cdn.example.com', 'https://CDN.Example.COM./x.png', true],
    ['127.0.0.*', 'http://127.0.0.2/x.png', true],
    ['127.0.0.*', 'http://127.0.0.2:9000/x.png', true], // a trailing `*` takes the port too, as in Go
    ['a?c.example.com', 'https://abc.example.com/x.png', true],
  ];
  for (const [pattern, url, ok] of cases) {
    test(`${pattern} ${ok ? 'allows' : 'refuses'} ${url}`, () => {
      assert.equal(allowed({ allowedSources: [pattern] }, url), ok);
    });
  }

  test('several globs and the regexp are ORed', () => {
    const opts = { allowedSources: ['a.example.com', 'b.example.com'], allowedSourceRegexp: '^https://c\\.example\\.com/public/' };
    assert.equal(allowed(opts, 'https://b.example.com/x'), true);
    assert.equal(allowed(opts, 'https://c.example.com/public/x'), true);
    assert.equal(allowed(opts, 'https://c.example.com/private/x'), false);
  });

  test('no globs and no regexp allow any host', () => {
    assert.equal(allowed({}, 'https://anything.example/x'), true);
  });
});

describe('https only', () => {
  test('refuses http and allows https', () => {
    assert.equal(allowed({ httpsOnly: true }, 'http://a.example.com/x'), false);
    assert.equal(allowed({ httpsOnly: true }, 'https://a.example.com/x'), true);
  });
});

describe('resolving an image key', () => {
  const policy = (opts: Partial<SourcePolicyOptions> = {}) => createSourcePolicy({ ...defaults, ...opts });

  test('a scheme-less key gets the default scheme', () => {
    assert.equal(policy().resolve('a.example.com/x.png'), 'https://a.example.com/x.png');
    assert.equal(policy({ defaultScheme: 'http' }).resolve('a.example.com/x.png'), 'http://a.example.com/x.png');
  });

  test('nil refuses a scheme-less key; a percent escape in one is refused too (imagor)', () => {
    assert.equal(codeOf(() => policy({ defaultScheme: 'nil' }).resolve('a.example.com/x.png')), 'INVALID_PARAMS');
    assert.equal(codeOf(() => policy().resolve('a.example.com/x%2Fy.png')), 'INVALID_PARAMS');
  });

  test('only http and https schemes', () => {
    assert.equal(codeOf(() => policy().resolve('file:///etc/passwd')), 'SOURCE_NOT_ALLOWED');
    assert.equal(codeOf(() => policy().resolve('ftp://a.example.com/x')), 'SOURCE_NOT_ALLOWED');
  });

  test('a base URL keeps every key on its origin and under its path', () => {
    const p = policy({ baseUrl: 'https://assets.example.com/img/' });
    assert.equal(p.resolve('a/b.png'), 'https://assets.example.com/img/a/b.png');
    assert.equal(new URL(p.resolve('//evil.example/x.png')).host, 'assets.example.com');
    assert.equal(new URL(p.resolve('@evil.example/x.png')).host, 'assets.example.com');
    assert.equal(new URL(p.resolve('https://evil.example/x.png')).host, 'assets.example.com');
    assert.equal(codeOf(() => p.resolve('../secret.png')), 'SOURCE_NOT_ALLOWED');
    assert.equal(codeOf(() => p.resolve('%2e%2e/secret.png')), 'SOURCE_NOT_ALLOWED');
  });

  test('a redirect hop outside the base URL is refused by check()', () => {
    const p = policy({ baseUrl: 'https://assets.example.com/img' });
    assert.doesNotThrow(() => p.check(new URL('https://assets.example.com/img/x.png')));
    assert.equal(codeOf(() => p.check(new URL('https://assets.example.com/imgx/x.png'))), 'SOURCE_NOT_ALLOWED');
    assert.equal(codeOf(() => p.check(new URL('https://assets.example.com:8443/img/x.png'))), 'SOURCE_NOT_ALLOWED');
  });
});
