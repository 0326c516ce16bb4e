// The imagor HTTP loader's source policy (policy/source.ts): which URL an image key resolves to and whether a URL
// may be loaded. Host globs follow imagor's loader/httploader/httploader.go, which runs Go's path.Match against
// u.Host (host:port when the URL names a port).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileGoRegexp, createSourcePolicy, translateGoRegexp, type SourcePolicyOptions } from '../../../src/policy/source.js';
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

// imagor compiles HTTP_LOADER_ALLOWED_SOURCE_REGEXP with Go's regexp.MustCompile (RE2 syntax): the expected
// matches below follow Go's regexp/syntax documentation (pkg.go.dev/regexp/syntax), not our output.
describe('HTTP_LOADER_ALLOWED_SOURCE_REGEXP in Go syntax', () => {
  const matches: ReadonlyArray<readonly [pattern: string, url: string, ok: boolean]> = [
    // (?i) at the start: case-insensitive for the whole expression.
    ['(?i)^https://CDN\\.example\\.com/', 'https://cdn.example.com/a.png', true],
    ['(?i)^https://cdn\\.example\\.com/', 'https://cdn.example.org/a.png', false],
    ['(?is)^https://cdn\\.example\\.com/.*\\.PNG$', 'https://cdn.example.com/a/b.png', true],
    ['(?i)(?s)^https://cdn\\.example\\.com/', 'https://cdn.example.com/', true],
    ['(?i-s)^HTTPS://', 'https://x.example/', true],
    // \A and \z anchor the whole text; JavaScript would read them as the letters A and z.
    ['\\Ahttps://cdn\\.example\\.com/', 'https://cdn.example.com/a.png', true],
    ['\\Ahttps://cdn\\.example\\.com/', 'https://evil.example/?https://cdn.example.com/', false],
    ['\\.png\\z', 'https://cdn.example.com/a.png', true],
    ['\\.png\\z', 'https://cdn.example.com/a.png?x', false],
    ['(?m)\\Ahttps://a\\.example/\\z', 'https://a.example/', true],
    ['(?m)\\Aa\\z', 'b\na', false], // \A and \z ignore (?m): start and end of the text only
    ['(?m)^a$', 'b\na', true],
    // Named groups in Go's (?P<name>...) spelling.
    ['^https://(?P<host>[a-z]+)\\.example\\.com/', 'https://cdn.example.com/a.png', true],
    ['^https://(?P<host>[a-z]+)\\.example\\.com/', 'https://c-dn.example.com/a.png', false],
    // ASCII classes, \Q...\E and \x{...}.
    ['^https://[[:alpha:]]+\\.example\\.com/', 'https://cdn.example.com/', true],
    ['^https://[[:alpha:]]+\\.example\\.com/', 'https://cdn1.example.com/', false],
    ['^https://[[:alnum:]-]+\\.example\\.com/', 'https://cdn-1.example.com/', true],
    ['^\\Qhttps://cdn.example.com/\\E', 'https://cdn.example.com/a', true],
    ['^\\Qhttps://cdn.example.com/\\E', 'https://cdnxexample.com/a', false],
    ['^https://cdn\\x{2E}example\\.com/', 'https://cdn.example.com/', true],
    // A ] first in a class is a literal in Go.
    ['^a[]x]b$', 'a]b', true],
    ['^a[]x]b$', 'axb', true],
    ['^a[]x]b$', 'ab', false],
    ['^[^]a]$', ']', false],
    ['^[^]a]$', 'b', true],
    // Plain expressions mean the same in both.
    ['^https://c\\.example\\.com/public/', 'https://c.example.com/public/x', true],
    ['/allowed/', 'https://c.example.com/allowed/x', true],
    ['^https?://[a-z.]{3,}/x{1,2}', 'http://abc/xx', true],
    ['^https://a\\.example/{', 'https://a.example/{', false],
  ];
  for (const [pattern, url, ok] of matches) {
    test(`${pattern} ${ok ? 'matches' : 'does not match'} ${url}`, () => {
      if (url.startsWith('https://') || url.startsWith('http://')) {
        assert.equal(allowed({ allowedSources: [], allowedSourceRegexp: pattern }, url), ok);
      } else {
        assert.equal(compileGoRegexp(pattern).test(url), ok);
      }
    });
  }

  test('turns leading flag groups into JavaScript flags', () => {
    assert.deepEqual(translateGoRegexp('(?i)a'), { source: 'a', flags: 'i' });
    assert.deepEqual(translateGoRegexp('(?sim)a'), { source: 'a', flags: 'ims' });
    assert.deepEqual(translateGoRegexp('(?P<x>a)'), { source: '(?<x>a)', flags: '' });
  });

  test('a ] first in a class and a { that starts no repetition are literals, as in Go', () => {
    assert.equal(compileGoRegexp('^[]a]+$').test(']a]'), true);
    assert.equal(compileGoRegexp('^a{$').test('a{'), true);
    assert.equal(compileGoRegexp('^a{,2}$').test('a{,2}'), true);
  });

  const refused: ReadonlyArray<readonly [pattern: string, message: RegExp]> = [
    ['^https://(?i)cdn\\.example\\.com/', /inline flags/],
    ['^https://(?i:cdn)\\.example\\.com/', /inline flags/],
    ['^a(?-i)b', /inline flags/],
    ['(?U)^a+', /ungreedy/],
    ['(?x)^a', /unknown flag x/],
    ['^a\\Z', /\\Z is not Go syntax/],
    ['^a++', /possessive/],
    ['^a*+', /possessive/],
    ['^a?+', /possessive/],
    ['^a{2}+', /possessive/],
    ['^[a-z]++', /possessive/],
    ['^\\pL', /Unicode classes/],
    ['^\\p{Greek}', /Unicode classes/],
    ['^\\C', /any byte/],
    ['^(a)\\1', /back-references/],
    ['^\\e', /not a Go escape/],
    ['^\\u0041', /not a Go escape/],
    ['^[\\b]', /inside a character class/],
    ['^[\\A]', /inside a character class/],
    ['^[[:^alpha:]]', /negated ASCII class/],
    ['^[[:letters:]]', /unknown ASCII class/],
    ['^\\x{1F600}', /above U\+FFFF/],
    ['^\\xZZ', /malformed hex/],
    ['^a\\', /trailing backslash/],
    ['(?P=name)', /unsupported group/],
    ['^(a', /invalid regular expression/],
  ];
  for (const [pattern, message] of refused) {
    test(`refuses ${pattern}: ${message.source}`, () => {
      assert.throws(() => compileGoRegexp(pattern), message);
    });
  }

  test('a refused expression stops the policy from being built, naming the setting', () => {
    assert.throws(
      () => createSourcePolicy({ ...defaults, allowedSourceRegexp: '^https://(?i)cdn\\.example\\.com/' }),
      /^Error: HTTP_LOADER_ALLOWED_SOURCE_REGEXP: inline flags/,
    );
  });
});
