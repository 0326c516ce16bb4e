import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BOTH_KINDS_WARNING, parseRuleset, RulesetError } from '../../../src/policy/ruleset.js';

const allows = (rules: string, url: string): boolean => parseRuleset(rules).allows(new URL(url));

function assertVerdicts(rules: string, expected: { allowed?: string[]; refused?: string[] }): void {
  const ruleset = parseRuleset(rules);
  for (const url of expected.allowed ?? []) assert.equal(ruleset.allows(new URL(url)), true, `should allow ${url}`);
  for (const url of expected.refused ?? []) assert.equal(ruleset.allows(new URL(url)), false, `should refuse ${url}`);
}

function parseError(text: string): RulesetError {
  try {
    parseRuleset(text);
  } catch (err) {
    assert.ok(err instanceof RulesetError, `expected RulesetError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(text)} not to parse`);
}

// go-camo-filtering(5) FULL_EXAMPLES
test('man page: deny|s|example.com|i|/some/subdir/* refuses the domain and subdomains under a case-insensitive prefix', () => {
  assertVerdicts('deny|s|example.com|i|/some/subdir/*', {
    refused: ['http://example.com/some/subdir/a.png', 'http://img.example.com/SOME/SubDir/x/y.png', 'https://a.b.example.com/some/subdir/'],
    allowed: ['http://example.com/some/other.png', 'http://notexample.com/some/subdir/a.png', 'http://example.org/some/subdir/a.png', 'http://example.com/x/some/subdir/a.png'],
  });
});

test('man page: deny||*||*/somebadfile.png matches any domain with a case-sensitive suffix (go-camo never matches a root *)', () => {
  assertVerdicts('deny||*||*/somebadfile.png', {
    refused: ['http://example.org/a/b/somebadfile.png', 'http://1.2.3.4/somebadfile.png', 'http://x.y.z/deep/er/somebadfile.png?q=1'],
    allowed: ['http://example.org/a/SomeBadFile.png', 'http://example.org/somebadfile.png.bak', 'http://example.org/notsomebadfile.png'],
  });
});

test('man page: deny|s|bad.example.net|| refuses everything on the domain and its subdomains', () => {
  assertVerdicts('deny|s|bad.example.net||', {
    refused: ['http://bad.example.net/', 'http://foo.bad.example.net/x.png', 'http://bar.bad.example.net/y', 'http://BAD.example.net:8080/'],
    allowed: ['http://example.net/', 'http://notbad.example.net/', 'http://bad.example.net.evil.com/'],
  });
});

test('man page: |*.example.com matches subdomains but not the base; s|example.com matches both', () => {
  assertVerdicts('allow||*.example.com||', {
    allowed: ['http://a.example.com/', 'http://a.b.c.example.com/x'],
    refused: ['http://example.com/', 'http://aexample.com/', 'http://example.com.evil.org/'],
  });
  assertVerdicts('allow|s|example.com||', {
    allowed: ['http://example.com/', 'http://a.example.com/', 'http://a.b.example.com/'],
    refused: ['http://notexample.com/', 'http://example.co/'],
  });
  assertVerdicts('allow|s|*.example.com||', { allowed: ['http://a.example.com/'], refused: ['http://example.com/'] });
});

test('man page: i|/foo/file.png matches /fOo/FiLe.PnG, and |*/file.png is a suffix match', () => {
  assertVerdicts('allow||example.com|i|/foo/file.png', {
    allowed: ['http://example.com/foo/file.png', 'http://example.com/fOo/FiLe.PnG'],
    refused: ['http://example.com/foo/file.png/x', 'http://example.com/bar/foo/file.png'],
  });
  assertVerdicts('allow||example.com||*/file.png', {
    allowed: ['http://example.com/file.png', 'http://example.com/a/b/file.png'],
    refused: ['http://example.com/a/File.png', 'http://example.com/a/myfile.png'],
  });
});

test('man page INVALID_EXAMPLES: a domain glob must be a whole left-most label', () => {
  for (const rule of ['deny||ex*ample.com||*', 'deny||*example.com||*', 'deny||example*.com||*', 'deny||example.*||*', 'deny||*.*.example.com||*', 'deny||a.*.example.com||*']) {
    assert.equal(parseError(rule).line, 1, rule);
  }
});

test('man page IDNA_NOTES: Unicode and punycode forms of a domain match each other', () => {
  assertVerdicts('deny||bücher.example.com||*', {
    refused: ['http://bücher.example.com/', 'http://xn--bcher-kva.example.com/a.png', 'http://BÜCHER.example.com/'],
    allowed: ['http://bucher.example.com/', 'http://bücher.example.net/'],
  });
  assertVerdicts('deny||xn--bcher-kva.example.com||', { refused: ['http://bücher.example.com/'] });
});

// go-camo pkg/htrie/htrie_test.go TestHTrieCheckURL, as allow rules
test('go-camo htrie vectors: domain and path rules match and miss as upstream expects', () => {
  const rules = [
    'allow|s|example.org|i|*/test.png',
    'allow||*.example.com||*/test.png',
    'allow||example.net||*',
    'allow||foo.example.net||/',
    'allow||bar.example.net|i|*/test.png',
    'allow||bar.example.net|i|*/test.png.extra',
    'allow||bücher.example.net||',
  ].join('\n');
  assertVerdicts(rules, {
    allowed: [
      'http://example.org/foo/test.png', 'http://example.org/foo/TEST.png', 'http://bar.example.com/foo/test.png',
      'http://example.net/test.png', 'http://foo.example.net/', 'http://bar.example.net/foo/test.png',
      'http://bar.example.net/foo/test.png.extra', 'http://bücher.example.net/', 'http://xn--bcher-kva.example.net/',
    ],
    refused: [
      'http://example.com/foo/test.png', 'http://example.org/foo/testx.png', 'http://foo.example.net/nope',
      'http://bar.example.org/foo/testx.png', 'http://bar.example.net/foo/test.png.ex', 'http://bücher.example.com/',
    ],
  });
});

// go-camo pkg/htrie/glob_path_chk_test.go TestGlobPathChecker
test('go-camo glob vectors: * spans slashes, globs are anchored, Unicode in a rule matches the escaped path', () => {
  const rules = [
    'allow||*|i|*/test.png',
    'allow||*||/hodor/test.png',
    'allow||*||/hodor/test.png.longer',
    'allow||*||/hodor/bar*',
    'allow||*||/hodor/ütest.png',
    'allow||*||/no*/to/s*/here',
    'allow||*||/i/can/s*/it*',
    'allow||*||/play/*/ball/img.png',
    'allow||*||/yalp*llab/img.png',
  ].join('\n');
  assertVerdicts(rules, {
    allowed: [
      'http://bar.example.com/foo/TEST.png', 'http://example.org/foo/test.png', 'http://example.org/hodor/test.png',
      'http://example.org/hodor/ütest.png', 'http://example.org/hodor/%C3%BCtest.png', 'http://example.org/hodor/test.png.longer',
      'http://example.org/hodor/bartholemew', 'http://example.org/hodor/bart/homer.png', 'http://example.net/nothing/to/see/here',
      'http://example.net/i/can/see/it/in/the/clouds/file.png', 'http://example.org/play/base/ball/img.png',
      'http://example.org/yalp/base/llab/img.png', 'http://example.org/yalpllab/img.png',
    ],
    refused: ['http://bar.example.com/foo/testx.png', 'http://example.net/something/to/see/here/file.png', 'http://example.org/hodor/test.png.long'],
  });
});

test('never looks at the query string or the fragment', () => {
  assertVerdicts('deny||example.com||/a.png', {
    refused: ['http://example.com/a.png?x=1', 'http://example.com/a.png#frag', 'http://example.com/a.png?/b.png'],
    allowed: ['http://example.com/b.png?/a.png'],
  });
});

test('compares paths after RFC 3986 normalisation, so percent-encoding cannot dodge a deny rule', () => {
  assertVerdicts('deny||example.com||/secret/*\ndeny||example.com||/b%c3%bc/*', {
    refused: ['http://example.com/%73ecret/x', 'http://example.com/secre%74/x', 'http://example.com/b%C3%BC/x', 'http://example.com/bü/x', 'http://example.com/b%c3%bc/x'],
    allowed: ['http://example.com/Secret/x', 'http://example.com/secret%2Fx'],
  });
  assertVerdicts('deny||example.com||/a b/*', { refused: ['http://example.com/a%20b/c', 'http://example.com/a b/c'] });
});

test('ignores the port and trailing dots on the host (go-camo lets example.com. past its rules)', () => {
  assertVerdicts('deny|s|example.com||', {
    refused: ['http://example.com:8080/', 'http://example.com./', 'http://www.example.com./x', 'https://EXAMPLE.COM:443/'],
  });
});

test('matches IP literal hosts by their canonical form', () => {
  assertVerdicts('deny||127.0.0.1||\ndeny||::1||\ndeny||[::ffff:10.0.0.1]||', {
    refused: ['http://127.0.0.1/', 'http://2130706433/', 'http://0x7f.1/', 'http://[::1]/', 'http://[0:0::1]/', 'http://[::ffff:a00:1]/'],
    allowed: ['http://127.0.0.2/', 'http://[::2]/'],
  });
});

test('two phases: with allow rules only matching URLs pass, then any deny rule refuses, whatever the file order', () => {
  const allowThenDeny = 'allow|s|example.com||\ndeny|s|example.com||/private/*';
  const denyThenAllow = 'deny|s|example.com||/private/*\nallow|s|example.com||';
  for (const rules of [allowThenDeny, denyThenAllow]) {
    assertVerdicts(rules, {
      allowed: ['http://example.com/public/a.png', 'http://cdn.example.com/a.png'],
      refused: ['http://example.com/private/a.png', 'http://cdn.example.com/private/x', 'http://example.org/a.png'],
    });
  }
  const ruleset = parseRuleset(allowThenDeny);
  assert.equal(ruleset.hasBothKinds, true);
  assert.deepEqual(ruleset.check(new URL('http://example.org/')), { allowed: false, reason: 'no allow rule matches' });
  const denied = ruleset.check(new URL('http://example.com/private/x'));
  assert.equal(denied.allowed, false);
  assert.equal(!denied.allowed && denied.reason === 'deny rule matches' && denied.rule.line, 2);
});

test('deny rules alone refuse only what they match; allow rules alone refuse everything else; no rules allow all', () => {
  assertVerdicts('deny||bad.org||', { allowed: ['http://good.org/', 'http://sub.bad.org/'], refused: ['http://bad.org/x'] });
  assertVerdicts('allow||good.org||', { allowed: ['http://good.org/x'], refused: ['http://bad.org/', 'http://sub.good.org/'] });
  assertVerdicts('', { allowed: ['http://anything.example/'] });
  assertVerdicts('# only a comment\n\n', { allowed: ['http://anything.example/'] });
  const onlyDeny = parseRuleset('deny||bad.org||');
  assert.deepEqual([onlyDeny.hasAllow, onlyDeny.hasDeny, onlyDeny.hasBothKinds], [false, true, false]);
  const onlyAllow = parseRuleset('allow||good.org||');
  assert.deepEqual([onlyAllow.hasAllow, onlyAllow.hasDeny, onlyAllow.hasBothKinds], [true, false, false]);
});

test('each rule stands alone: a path rule for a domain does not narrow an earlier domain-only rule', () => {
  for (const rules of ['allow||example.com||\nallow||example.com||/foo/*', 'allow||example.com||/foo/*\nallow||example.com||']) {
    assertVerdicts(rules, { allowed: ['http://example.com/bar', 'http://example.com/foo/x'] });
  }
  // and the s flag of one line does not widen another line for the same domain
  assertVerdicts('allow|s|example.com||/a/*\nallow||example.com||/b/*', {
    allowed: ['http://x.example.com/a/1', 'http://example.com/b/1'],
    refused: ['http://x.example.com/b/1'],
  });
});

test('exports go-camo’s warning for rulesets with both kinds', () => {
  assert.match(BOTH_KINDS_WARNING, /^Warning! Allow and Deny rules both supplied\./);
  assert.match(BOTH_KINDS_WARNING, /THEN deny rules are evaluated/);
});

test('accepts comments, blank lines, surrounding whitespace, CRLF, a BOM and trailing separators', () => {
  const text = '\uFEFF# a comment\r\n\r\n   allow| s | Example.COM | i | /Img/* |\r\n\t# indented comment\n  deny||bad.example.com||  \n';
  const ruleset = parseRuleset(text);
  assert.deepEqual(ruleset.rules.map((r) => [r.kind, r.line]), [['allow', 3], ['deny', 5]]);
  assert.equal(ruleset.allows(new URL('http://cdn.example.com/img/a.png')), true);
  assert.equal(ruleset.allows(new URL('http://bad.example.com/img/a.png')), false);
  assert.equal(ruleset.allows(new URL('http://cdn.example.com/other.png')), false);
});

test('refuses lines that go-camo would silently ignore, naming the line', () => {
  const cases: ReadonlyArray<readonly [string, RegExp]> = [
    ['Allow|s|example.com||', /lower case/],
    ['DENY||example.com||', /lower case/],
    ['allow |s|example.com||', /no space before/],
    ['allows|s|example.com||', /not a rule/],
    ['example.com', /not a rule/],
    ['// comment', /not a rule/],
  ];
  for (const [line, message] of cases) {
    const err = parseError(`# header\n\n${line}\n`);
    assert.equal(err.line, 3, line);
    assert.match(err.message, message, line);
    assert.match(err.message, /line 3/, line);
  }
});

test('refuses every malformed rule with the line number and a reason', () => {
  const cases: ReadonlyArray<readonly [string, RegExp]> = [
    ['deny|s|example.com', /5 fields/],
    ['deny||example.com|', /5 fields/],
    ['allow|s|x.org||||', /5 fields/],
    ['deny|x|example.com||', /domain flag/],
    ['deny|S|example.com||', /domain flag/],
    ['deny|si|example.com||', /domain flag/],
    ['deny||example.com|x|/a', /url flag/],
    ['deny||example.com|I|/a', /url flag/],
    ['deny||||', /no domain/],
    ['deny|| ||/a', /no domain/],
    ['deny||*.||', /no domain/],
    ['deny||.||', /no domain/],
    ['deny||ex*ample.com||', /left-most label/],
    ['deny||a..b.com||', /empty label/],
    ['deny||exa mple.com||', /not a valid domain/],
    ['deny||xn--zz.com||', /not a valid domain/],
    ['deny||example.com:80||', /not a valid domain/],
    ['deny||*.127.0.0.1||', /IP address/],
    ['deny||*.[::1]||', /left-most|IP address|valid domain/],
    ['deny||example.com||/a?b', /\? or #/],
    ['deny||example.com||/a#b', /\? or #/],
    ['deny||example.com||a/b', /start with \/ or \*/],
    ['deny||example.com||http://example.com/a', /start with \/ or \*/],
  ];
  for (const [line, message] of cases) {
    const err = parseError(`allow||ok.example||\n${line}`);
    assert.equal(err.line, 2, line);
    assert.deepEqual(err.problems.map((p) => p.line), [2], line);
    assert.match(err.problems[0]?.message ?? '', message, line);
  }
});

test('reports every bad line at once, first line in .line', () => {
  const err = parseError('deny||ok.example||\nAllow||a||\ndeny|x|b||\n# fine\ndeny||c||d');
  assert.equal(err.line, 2);
  assert.deepEqual(err.problems.map((p) => p.line), [2, 3, 5]);
  assert.match(err.message, /line 2: .*line 3: .*line 5: /);
  const many = parseError(Array.from({ length: 50 }, () => 'nope').join('\n'));
  assert.equal(many.problems.length, 50);
  assert.match(many.message, /and 40 more$/);
});

test('keeps go-camo’s trailing-separator tolerance and surrounding-dot trimming', () => {
  assertVerdicts('deny|s|x.org|i|/p|', { refused: ['http://a.x.org/P'], allowed: ['http://a.x.org/q'] });
  assertVerdicts('deny||.example.com.||', { refused: ['http://example.com/'] });
  assertVerdicts('deny||example.com||*\ndeny||example.org|i|', { refused: ['http://example.com/any', 'http://example.org/Any'] });
});

test('glob matching agrees with an anchored regular expression where * is .*', () => {
  const glob = fc.array(fc.constantFrom('a', 'b', '/', '*'), { maxLength: 8 }).map((cs) => `/${cs.join('')}`);
  const path = fc.array(fc.constantFrom('a', 'b', '/'), { maxLength: 10 }).map((cs) => `/${cs.join('')}`);
  fc.assert(
    fc.property(glob, path, (g, p) => {
      const source = `^${g.split('*').map((piece) => piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`;
      assert.equal(allows(`allow||example.com||${g}`, `http://example.com${p}`), new RegExp(source, 's').test(p), `${g} vs ${p}`);
    }),
    { numRuns: 3000 },
  );
});

test('parseRuleset throws nothing but RulesetError, whatever the text', () => {
  const token = fc.constantFrom('allow', 'deny', 'Allow', '|', '||', 's', 'i', '*', '*.', '.', 'example.com', 'bücher', 'xn--', '/', '?', '#', ' ', '\n', '\r\n', '%', '[', ']', ':', '\u0000', '\uD800', 'ⓛ', '\u00AD');
  const ruleish = fc.array(token, { maxLength: 20 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), ruleish), (text) => {
      try {
        const ruleset = parseRuleset(text);
        ruleset.allows(new URL('http://example.com/a/b.png'));
      } catch (err) {
        assert.ok(err instanceof RulesetError, `threw ${String(err)} for ${JSON.stringify(text)}`);
        assert.ok(err.line >= 1);
      }
    }),
    { numRuns: 5000 },
  );
});
