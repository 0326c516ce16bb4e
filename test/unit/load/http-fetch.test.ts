// The request target of the first hop (camo.md: the signed URL reaches the origin as signed): Go's client, which
// go-camo and imagor use, sends url.URL.RawQuery untouched and RawPath when it is a valid RFC 3986 path, without
// resolving dot segments. Expected values follow those rules and RFC 3986 §2.1 (UTF-8 bytes, upper-case hex),
// not our output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import type { Dispatcher } from 'undici';
import { createSafeFetcher, requestTarget } from '../../../src/load/http-fetch.js';
import { fail, isPixgateError } from '../../../src/respond/errors.js';

const target = (raw: string) => requestTarget(raw, new URL(raw));

describe('requestTarget', () => {
  const cases: ReadonlyArray<readonly [name: string, raw: string, sent: string]> = [
    ['a plain path and query', 'http://h.test/a/b.png?x=1&y=2', '/a/b.png?x=1&y=2'],
    ['quotes in the query', `http://h.test/i.png?a='b'&c="d"`, `/i.png?a='b'&c="d"`],
    ['braces, pipe, caret, backtick, angle brackets and a second ? in the query', 'http://h.test/i?e={f}|g^h`i<j>?k', '/i?e={f}|g^h`i<j>?k'],
    ['escapes in the query, valid or not, in any case', 'http://h.test/i?a=%7e&b=%7E&c=%zz&d=%', '/i?a=%7e&b=%7E&c=%zz&d=%'],
    ['a space and non-ASCII in the query', 'http://h.test/i?q=a b&r=é', '/i?q=a%20b&r=%C3%A9'],
    ['dots inside segments, which are no dot segments', 'http://h.test/a.b/..c/.../c..png', '/a.b/..c/.../c..png'],
    ['RFC 3986 sub-delims, ":" and "@" in the path', "http://h.test/a!$&'()*+,;=:@b", "/a!$&'()*+,;=:@b"],
    ['escapes in the path as written', 'http://h.test/a%2Fb%7e', '/a%2Fb%7e'],
    ['characters that are no pchar, escaped one by one', 'http://h.test/a"b{c}d|e^f`g<h>', '/a%22b%7Bc%7Dd%7Ce%5Ef%60g%3Ch%3E'],
    ['non-ASCII and a space in the path, as UTF-8', 'http://h.test/é ✓', '/%C3%A9%20%E2%9C%93'],
    ['no path', 'http://h.test', '/'],
    ['no path with a query', 'http://h.test?q', '/?q'],
    ['an empty query (Go\'s ForceQuery)', 'http://h.test/p?', '/p?'],
    ['a fragment, which is never sent', 'http://h.test/p?q=1#frag?x', '/p?q=1'],
    ['credentials and a port', 'http://u:p@h.test:8080/x?y', '/x?y'],
    ['an IPv6 literal', 'http://[::1]:8080/x/y?q=\'1\'', "/x/y?q='1'"],
    ['an upper-case scheme', 'HTTPS://h.test/A', '/A'],
  ];
  for (const [name, raw, sent] of cases) {
    test(`sends ${name} as ${sent}`, () => {
      assert.equal(target(raw), sent);
    });
  }

  // Where the raw text and the URL parser's reading could differ, the parsed form goes out: the origin is never
  // asked for a path the policy read differently.
  const parsed: ReadonlyArray<readonly [name: string, raw: string, sent: string]> = [
    ['a backslash in the path (a separator to the URL parser)', 'http://h.test/a\\..\\b?q', '/b?q'],
    ['three slashes (the URL parser takes the next segment as the host)', 'http:///h.test/x/../y', '/y'],
    ['backslashes for slashes', 'http:\\\\h.test\\x', '/x'],
    ['a single slash after the scheme', 'http:/h.test/x/../y', '/y'],
    ['surrounding spaces (the URL parser strips them)', ' http://h.test/x/../y ', '/y'],
    ['a tab (the URL parser drops it)', 'http://h.test/x/\t../y', '/y'],
    ['dot segments (the policies judge the resolved path)', "http://h.test/a/./b/../../c.png?q='1'", "/c.png?q=%271%27"],
    ['escaped dot segments', 'http://h.test/a/%2e%2E/c.png', '/c.png'],
    ['a trailing dot segment', 'http://h.test/a/b/..', '/a/'],
  ];
  for (const [name, raw, sent] of parsed) {
    test(`falls back to the parsed URL for ${name}`, () => {
      assert.equal(target(raw), sent);
    });
  }

  test('whatever follows the host, the target starts with / and holds only printable ASCII (request-line safe)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (tail) => {
        let url: URL;
        try {
          url = new URL(`http://h.test/${tail}`);
        } catch {
          return;
        }
        const sent = requestTarget(`http://h.test/${tail}`, url);
        assert.match(sent, /^\/[\x21-\x7e]*$/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the safe fetcher', () => {
  /** A dispatcher that records each request's path and answers from a script (no socket). */
  function scripted(answers: ReadonlyArray<{ status: number; location?: string }>) {
    const paths: string[] = [];
    const dispatcher = {
      async request(opts: Dispatcher.RequestOptions) {
        paths.push(String(opts.path));
        const a = answers[Math.min(paths.length - 1, answers.length - 1)]!;
        return { statusCode: a.status, headers: a.location ? { location: a.location } : {}, body: Readable.from([]) };
      },
    } as unknown as Dispatcher;
    return { dispatcher, paths };
  }

  const request = (url: string) => ({
    url,
    method: 'GET' as const,
    headers: {},
    signal: new AbortController().signal,
    deadline: { aborted: false },
    maxBytes: 0,
  });

  test('sends the first hop as written and a redirect as the URL parser resolved it', async () => {
    const { dispatcher, paths } = scripted([{ status: 302, location: "/r/../s.png?a='b'" }, { status: 200 }]);
    const fetcher = createSafeFetcher({ dispatcher, maxRedirects: 3, allowCredentialUrls: false, userAgent: 'ua', via: 'via' });
    const res = await fetcher.fetch(request(`http://h.test/x/i.png?q="1"`));
    assert.equal(res.status, 200);
    // The Location is resolved as a browser would (RFC 3986 §5.2 removes dot segments when resolving a reference).
    assert.deepEqual(paths, ['/x/i.png?q="1"', '/s.png?a=%27b%27']);
  });

  test('the policy judges the resolved URL, before anything is sent', async () => {
    const { dispatcher, paths } = scripted([{ status: 200 }]);
    const fetcher = createSafeFetcher({ dispatcher, maxRedirects: 3, allowCredentialUrls: false, userAgent: 'ua', via: 'via' });
    const seen: string[] = [];
    const req = {
      ...request('http://h.test/public/../private/x.png'),
      checkUrl: (u: URL) => {
        seen.push(u.pathname);
        if (u.pathname.startsWith('/private/')) fail('SOURCE_NOT_ALLOWED', 'private');
      },
    };
    await assert.rejects(fetcher.fetch(req), (err) => isPixgateError(err) && err.code === 'SOURCE_NOT_ALLOWED');
    assert.deepEqual(seen, ['/private/x.png']);
    assert.deepEqual(paths, []);
  });
});
