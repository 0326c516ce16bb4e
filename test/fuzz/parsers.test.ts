// Property-based fuzzing (fast-check) of every parser and decoder that reads attacker-controlled text: camo URL
// decoding, the imagor grammar and signatures, filter segments and every registered filter's arguments, presets
// and base params, the go-camo filter ruleset, settings (env and argv), Content-Type, Accept, routing, address
// and host-name classification, the sniffer and the probe's header readers. The one property everywhere: no input
// makes them throw anything but the module's own typed error (PixgateError; RulesetError for the ruleset,
// SettingsError for the settings loader, a plain Error with a message for a single settings value). Round trips
// complete it where a parser has a writer. Property tests that already live in test/unit (generate/parse of
// imagor paths, camo sign/verify, address consistency, key traversal) are not repeated here.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import fc from 'fast-check';
import { parseOperations, parsePresets, splitPresetSegment, expandPresets } from '../../src/parse/imagor-apply.js';
import { formatFiltersSegment, scanFiltersSegment, splitFilterArgs } from '../../src/parse/imagor-filters.js';
import { parseImagorPath, parseImagorUrlPath, queryUnescape } from '../../src/parse/imagor-path.js';
import { classifyAddress, createAddressPolicy, parseNetwork } from '../../src/policy/address.js';
import { checkProxiedContentType, formatMediaType, parseMediaType } from '../../src/policy/content-type.js';
import { checkLimits, resolveLimits } from '../../src/policy/limits.js';
import { hostIpLiteral, isLocalHostName } from '../../src/policy/local-names.js';
import { createNoProxyMatcher } from '../../src/policy/no-proxy.js';
import { parseRuleset, RulesetError } from '../../src/policy/ruleset.js';
import { bodyMatchesType, sniffBytes, type Sniffed } from '../../src/policy/sniff.js';
import { createSourcePolicy } from '../../src/policy/source.js';
import { defaultFilterRegistry, prepareFilters } from '../../src/process/filters/registry.js';
import { chooseOutputFormat, parseAccept } from '../../src/process/negotiate.js';
import { readHeaderSize } from '../../src/process/probe.js';
import { isPixgateError } from '../../src/respond/errors.js';
import { routeRequest } from '../../src/route/route.js';
import { loadSettings, SettingsError } from '../../src/settings/load.js';
import { settingEntries } from '../../src/settings/table.js';
import { bytes, cidr, duration, formatDurationMs, header, hostPort, parseDurationMs, url as urlValue } from '../../src/settings/values.js';
import { looksLikeCamoDigest, signCamoUrl, verifyCamoPath, verifyCamoQuery } from '../../src/verify/camo-digest.js';
import { decodeBase64Url, decodeHex, encodeBase64Url, encodeHex } from '../../src/verify/encoding.js';
import { resolveImagorRequest, signImagorPath, verifyImagorHash, type ImagorSigner } from '../../src/verify/imagor-signature.js';
import { nodeMac } from '../../src/verify/node-mac.js';

const RUNS = Number(process.env.PIXGATE_FUZZ_RUNS ?? 600);

/** Runs `fn`; an error that `typed` does not accept fails the property (and fast-check shrinks the input). */
function onlyTyped<T>(fn: () => T, typed: (e: unknown) => boolean = isPixgateError): T | undefined {
  try {
    return fn();
  } catch (e) {
    if (!typed(e)) throw new Error(`threw an untyped error: ${(e as Error)?.stack ?? String(e)}`);
    return undefined;
  }
}

const plainError = (e: unknown) => e instanceof Error && e.constructor === Error && e.message.length > 0;

// ---------------------------------------------------------------------------------------------------------
// Arbitraries

/** Any text: unicode, lone surrogates, controls. */
const anyText = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ maxLength: 80 }));

const urlTokens = [
  '/', '//', 'http://', 'https://', 'HTTP://', 'ftp://', 'file:///', 'data:', 'javascript:', '127.0.0.1', '[::1]', '[::ffff:7f00:1]',
  'localhost', 'example.com', ':80', ':0', ':99999', '@', '#', '?', '&', '=', '%', '%2F', '%2e%2e', '%00', '%zz', '%0d%0a', '\\', '..',
  '.', ' ', '\t', '\r\n', 'a', 'Z', '0', '9', 'é', '哈', '\u{1F600}', '\uD800', '+', ',', ';', '(', ')', '[', ']', 'b64:', 'aGk',
];
const urlish = fc.array(fc.constantFrom(...urlTokens), { maxLength: 14 }).map((t) => t.join(''));
const text = fc.oneof(anyText, urlish);

const imagorTokens = [
  '/', 'unsafe/', 'params/', 'meta/', 'trim/', 'trim:bottom-right:10/', '10x20:30x40/', '0.1x0.2:0.9x1.5/', 'fit-in/',
  'adaptive-full-fit-in/', 'stretch/', '-100x-0/', '100x/', 'x200/', '99999999999999999999x1/', '10x20/', '5x6:7x8/',
  'left/', 'right/', 'center/', 'top/', 'middle/', 'bottom/', 'smart/', 'filters:', 'blur(3)', 'quality(80)', 'format(webp)',
  'fill(red)', 'watermark(a.png,0,0,50)', 'image(', ')', '(', ':', ',', 'a.png', 'http://127.0.0.3/a.png', '%28', '%3A', '+', '%',
  'b64:', 'aHR0cDovL3g', 'color:red', '\n', '哈', 'AbCdEfGhIjKlMnOpQrStUvWxYz0=',
];
const imagorish = fc.array(fc.constantFrom(...imagorTokens), { maxLength: 16 }).map((t) => t.join(''));

const argTokens = [
  '0', '1', '-1', '2', '50', '100', '255', '256', '9999', '99999999999', '1e3', '0.5', '.5', '-0', 'NaN', 'Infinity', '', ' ',
  'red', 'RED', '#fff', '#ff00ff80', 'ff0000', 'auto', 'none', 'blur', 'transparent', 'rgb(1,2,3)', 'true', 'false', 'jpeg', 'webp',
  'png', 'avif', 'gif', 'center', 'top', 'left', 'repeat', 'http://127.0.0.3/a.png', 'b64:aGk', 'image(a.png)', 'x', '(', ')', ':',
  '%20', 'sRGB', 'p3', '90', '180', '270', '45',
];
const filterArgsText = fc.array(fc.oneof(fc.constantFrom(...argTokens), fc.constant(',')), { maxLength: 9 }).map((t) => t.join(''));

// ---------------------------------------------------------------------------------------------------------

describe('camo URL decoding', () => {
  const keys = ['k1', 'another key'];
  test('verifyCamoPath and verifyCamoQuery throw nothing but PixgateError (BAD_SIGNATURE or BAD_URL), for any text', () => {
    const digest = fc.oneof(text, fc.stringMatching(/^[0-9a-fA-F]{40}$/), fc.stringMatching(/^[A-Za-z0-9_-]{27}=?$/));
    fc.assert(
      fc.property(digest, text, (d, u) => {
        for (const run of [() => verifyCamoPath(d, u, keys, nodeMac), () => verifyCamoQuery(d, u, keys, nodeMac)]) {
          try {
            run();
          } catch (e) {
            assert.ok(isPixgateError(e) && (e.code === 'BAD_SIGNATURE' || e.code === 'BAD_URL'), String(e));
          }
        }
        looksLikeCamoDigest(d);
      }),
      { numRuns: RUNS },
    );
  });

  test('a one-character change of the digest or of the encoded URL never verifies (hex and base64)', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.constantFrom('hex' as const, 'base64' as const), fc.nat(), fc.boolean(), (source, enc, at, inDigest) => {
        const s = signCamoUrl(source, 'k1', enc, nodeMac);
        const target = inDigest ? s.digest : s.encodedUrl;
        const i = at % target.length;
        const alphabet = enc === 'hex' ? '0123456789abcdef' : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const replacement = alphabet[(alphabet.indexOf(target[i]!) + 1) % alphabet.length]!;
        const mutated = target.slice(0, i) + replacement + target.slice(i + 1);
        const [d, u] = inDigest ? [mutated, s.encodedUrl] : [s.digest, mutated];
        assert.throws(() => verifyCamoPath(d, u, ['k1'], nodeMac), (e: unknown) => isPixgateError(e));
      }),
      { numRuns: RUNS },
    );
  });

  test('hex and base64url decoding accept exactly one spelling per byte string (the one the encoder writes)', () => {
    fc.assert(
      fc.property(text, (t) => {
        const b64 = decodeBase64Url(t);
        if (b64) assert.equal(encodeBase64Url(b64, false), t.replace(/=+$/, ''));
        const hex = decodeHex(t);
        if (hex) assert.equal(encodeHex(hex), t.toLowerCase());
      }),
      { numRuns: RUNS },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        assert.deepEqual(decodeBase64Url(encodeBase64Url(b, false)), b);
        assert.deepEqual(decodeBase64Url(encodeBase64Url(b, true)), b);
        assert.deepEqual(decodeHex(encodeHex(b)), b);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the imagor grammar and signatures', () => {
  const signer: ImagorSigner = { secret: 'fuzz-secret', type: 'sha1', truncate: 0 };

  test('parseImagorPath, parseImagorUrlPath and queryUnescape are total: any text parses, nothing throws', () => {
    fc.assert(
      fc.property(fc.oneof(text, imagorish), (p) => {
        const params = parseImagorPath(p);
        assert.equal(typeof params.image, 'string');
        parseImagorUrlPath(p);
        queryUnescape(p);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('resolveImagorRequest throws nothing but PixgateError, signed or unsafe, for any path', () => {
    fc.assert(
      fc.property(fc.oneof(text, imagorish), fc.boolean(), (p, unsafe) => {
        const r = onlyTyped(() => resolveImagorRequest(p, [signer], unsafe, nodeMac));
        if (r?.kind === 'unsafe') assert.ok(unsafe, 'served unsafe/ with unsafe mode off');
        if (r?.kind === 'signed') {
          // Either reading of the path (as received, or QueryUnescape'd as imagor retries) must carry a hash that verifies.
          const readings = [p, queryUnescape(p)].filter((x): x is string => x !== undefined).map((x) => parseImagorUrlPath(x));
          assert.ok(readings.some((c) => c.kind === 'hash' && verifyImagorHash(c.hash, r.path, [signer], nodeMac)), 'served a path whose hash does not verify');
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('any path signed verifies (or is refused as empty, never as a bad signature); a one-character change never verifies', () => {
    const noEscapes = imagorish.map((p) => p.replace(/[%+\n]/g, '').replace(/^\/+/, ''));
    fc.assert(
      fc.property(noEscapes, fc.nat(), (path, at) => {
        fc.pre(path.length > 0);
        const hash = signImagorPath(path, signer, nodeMac);
        try {
          const r = resolveImagorRequest(`${hash}/${path}`, [signer], false, nodeMac);
          assert.equal(r.kind, 'signed');
        } catch (e) {
          assert.ok(isPixgateError(e) && e.code === 'INVALID_PARAMS', `signed path refused: ${String(e)}`);
        }
        const i = at % path.length;
        const changed = path.slice(0, i) + (path[i] === 'q' ? 'Q' : 'q') + path.slice(i + 1);
        assert.throws(() => resolveImagorRequest(`${hash}/${changed}`, [signer], false, nodeMac), (e: unknown) => isPixgateError(e));
      }),
      { numRuns: RUNS },
    );
  });

  test('presets and base params (PIXGATE_PRESETS, IMAGOR_BASE_PARAMS) throw nothing but PixgateError', () => {
    fc.assert(
      fc.property(fc.oneof(text, imagorish), fc.oneof(text, imagorish), (a, b) => {
        // parsePresets is a settings value parser: a plain Error naming the entry, which the loader reports.
        const presets = onlyTyped(() => parsePresets(a), plainError) ?? new Map();
        onlyTyped(() => parseOperations(b));
        const split = onlyTyped(() => splitPresetSegment(b));
        if (split) onlyTyped(() => expandPresets(split.names, parseImagorPath(`unsafe/${split.rest}`), presets));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('filters', () => {
  test('scanning a filters segment and splitting arguments never throw', () => {
    fc.assert(
      fc.property(fc.oneof(text, imagorish, filterArgsText), (t) => {
        scanFiltersSegment(`filters:${t}`);
        scanFiltersSegment(t);
        splitFilterArgs(t);
      }),
      { numRuns: RUNS },
    );
  });

  test('a written filters segment scans back to the same filters', () => {
    const name = fc.stringMatching(/^[a-z][a-z_]{0,11}$/);
    // Arguments with balanced parentheses and no top-level `:` or `/`, as a writer produces them.
    const balanced = fc.array(fc.constantFrom('1', ',', 'red', 'a.png', '(x)', '(1,2)', 'image(a.png,1)', '%20', ' ', '#fff', 'http://h/a.png'), { maxLength: 6 }).map((t) => t.join(''));
    fc.assert(
      fc.property(fc.array(fc.record({ name, args: balanced }).map((f) => ({ ...f })), { minLength: 1, maxLength: 5 }), (filters) => {
        const back = scanFiltersSegment(`${formatFiltersSegment(filters)}/img.png`);
        assert.deepEqual(back.filters, filters);
        assert.equal(back.image, 'img.png');
      }),
      { numRuns: RUNS },
    );
  });

  const names = defaultFilterRegistry.names;
  test(`every registered filter (${names.length}) reads any arguments with a typed refusal at most, and never throws when lenient`, () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), filterArgsText, fc.array(fc.record({ name: fc.constantFrom(...names), args: filterArgsText }), { maxLength: 3 }), (n, args, more) => {
        const filters = [{ name: n, args }, ...more];
        onlyTyped(() => prepareFilters(filters));
        prepareFilters(filters, { lenient: true });
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('unknown filter names and stray colons are typed refusals (strict) or ignored (lenient)', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.stringMatching(/^[a-z_]{1,12}$/)), filterArgsText, (n, args) => {
        onlyTyped(() => prepareFilters([{ name: n, args }]));
        prepareFilters([{ name: n, args }], { lenient: true });
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the go-camo filter ruleset', () => {
  const ruleTokens = ['allow', 'deny', 'Allow', '|', '||', 's', 'i', 'p', 'si', '*', '*.', '.', 'example.com', 'EXAMPLE.com.', '127.0.0.3', '[::1]', 'xn--', 'ⓔxample', '/', '/path/*', '*/x', '%2f', '%73', '#', '\n', '\r\n', ' ', '\t', 'a', '\0'];
  const rulesetText = fc.oneof(text, fc.array(fc.constantFrom(...ruleTokens), { maxLength: 30 }).map((t) => t.join('')));
  test('parseRuleset returns a ruleset or throws a RulesetError; the ruleset judges any URL without throwing', () => {
    fc.assert(
      fc.property(rulesetText, fc.webUrl({ withQueryParameters: true, withFragments: true }), (t, u) => {
        const rs = onlyTyped(() => parseRuleset(t), (e) => e instanceof RulesetError && e.problems.length > 0);
        if (rs) {
          rs.allows(new URL(u));
          rs.check(new URL(u));
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('settings', () => {
  const envNames = settingEntries.flatMap(([, spec]) => spec.env);
  const flags = settingEntries.flatMap(([, spec]) => [...spec.flags, ...(spec.short ? [spec.short] : [])]);
  const values = fc.oneof(
    fc.constantFrom('', '0', '1', '-1', 'true', 'no', '4s', '1m30s', '168h', '2GB', '512KB', 'abc', '127.0.0.1:8080', '[::1]:0', '10.0.0.0/8', '::1/129',
      '0177.0.0.1/8', 'http://x', 'https://[::1]:8080/p', 'file:///x', 'X-A: b', 'X-A: b\r\nSet-Cookie: c', 'sha256', 'STANDARD', '0o755', '755', '/camo', 'a,b,,c', '-', '--'),
    text,
  );
  test('loadSettings returns settings or throws a SettingsError listing the problems, for any env and argv', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.oneof(fc.constantFrom(...envNames), fc.constantFrom('PIXGATE_X', 'GOCAMO_QUIC', 'VIPS_UNLIMITED', 'IMAGOR_SECRETT')), values, { maxKeys: 6 }),
        fc.array(fc.oneof(fc.tuple(fc.constantFrom(...flags), values).map(([f, v]) => [f, v]), values.map((v) => [v]), fc.tuple(fc.constantFrom(...flags.filter((f) => f.startsWith('--'))), values).map(([f, v]) => [`${f}=${v}`])), { maxLength: 6 }),
        (env, argvParts) => {
          onlyTyped(() => loadSettings(env, argvParts.flat()), (e) => e instanceof SettingsError && e.errors.length > 0);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  test('each value type parses or throws a plain Error with a message (what the loader reports)', () => {
    const types = [duration, bytes, hostPort, cidr, header, urlValue];
    fc.assert(
      fc.property(fc.constantFrom(...types), values, (type, raw) => {
        onlyTyped(() => type.parse(raw), plainError);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('durations read back what they print, for any whole number of milliseconds', () => {
    fc.assert(fc.property(fc.nat({ max: 10 * 365 * 86_400_000 }), (ms) => assert.equal(parseDurationMs(formatDurationMs(ms)), ms)), { numRuns: RUNS });
  });
});

describe('HTTP values: Content-Type, Accept, routing', () => {
  test('parseMediaType never throws; what it reads, it writes back to the same reading', () => {
    fc.assert(
      fc.property(fc.oneof(text, fc.constantFrom('image/png', 'image/svg+xml; charset="a\\"b"', 'text/html, image/png', 'image/png;;', 'IMAGE/PNG; A=1; a=2')), (t) => {
        const m = parseMediaType(t);
        if (m) assert.deepEqual(parseMediaType(formatMediaType(m)), m);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('checkProxiedContentType throws nothing but PixgateError, and what it passes is image/*', () => {
    fc.assert(
      fc.property(fc.option(text), fc.boolean(), fc.boolean(), (t, allowVideo, allowAudio) => {
        const r = onlyTyped(() => checkProxiedContentType(t ?? undefined, { allowVideo, allowAudio }));
        if (r) assert.ok(r.type === 'image' || (allowVideo && r.type === 'video') || (allowAudio && r.type === 'audio'));
        if (r) assert.doesNotMatch(r.header, /[\r\n]/);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('parseAccept and chooseOutputFormat never throw, and q values stay within 0..1', () => {
    const acceptTokens = ['image/webp', 'image/avif', '*/*', 'image/*', 'text/html', ';q=0', ';q=1', ';q=0.5', ';q=2', ';q=-1', ';q=abc', ',', ' ', '*/webp', 'a/b/c', ';', '='];
    const accept = fc.oneof(text, fc.array(fc.constantFrom(...acceptTokens), { maxLength: 12 }).map((t) => t.join('')));
    fc.assert(
      fc.property(fc.option(accept), fc.boolean(), fc.boolean(), fc.boolean(), (a, w, v, j) => {
        for (const r of parseAccept(a ?? undefined)) assert.ok(r.q >= 0 && r.q <= 1);
        chooseOutputFormat({ accept: a ?? undefined, autoWebp: w, autoAvif: v, autoJpeg: j });
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('routeRequest is total over any method and request target', () => {
    const opts = { camoEnabled: true, camoPrefix: '', imagorEnabled: true, imagorPrefix: '', metricsEnabled: true };
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom('GET', 'HEAD', 'POST', 'CONNECT', 'get', ''), text), fc.oneof(text, imagorish, urlish), fc.boolean(), (m, target, prefixed) => {
        routeRequest(m, target, prefixed ? { ...opts, camoPrefix: '/camo', imagorPrefix: '/img' } : opts);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('addresses, host names and sources', () => {
  test('every address in the ranges security.md §6 lists is denied (checked against node:net BlockList)', () => {
    const v4 = new BlockList();
    for (const [net, prefix] of [['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4]] as const) v4.addSubnet(net, prefix, 'ipv4');
    v4.addAddress('255.255.255.255', 'ipv4');
    const v6 = new BlockList();
    for (const [net, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8], ['2001:db8::', 32]] as const) v6.addSubnet(net, prefix, 'ipv6');
    // Addresses drawn from the listed ranges as often as from anywhere.
    const inRange4 = fc.tuple(fc.constantFrom(0, 10, 127, 169, 172, 192, 198, 224, 240, 255, 100), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), inRange4), (ip) => {
        if (v4.check(ip, 'ipv4')) assert.ok(classifyAddress(ip).denied, `${ip} is in a listed range but allowed`);
      }),
      { numRuns: RUNS * 4 },
    );
    const inRange6 = fc.tuple(fc.constantFrom('fc', 'fd', 'fe8', 'fe9', 'fea', 'feb', 'fec', 'fed', 'ff', '2001:db8:'), fc.stringMatching(/^[0-9a-f]{1,2}$/)).map(([p, h]) => `${p}${p.endsWith(':') ? '' : '00'}${p.endsWith(':') ? h : ''}::${h}`);
    fc.assert(
      fc.property(fc.oneof(fc.ipV6(), inRange6), (ip) => {
        let listed = false;
        try {
          listed = v6.check(ip, 'ipv6');
        } catch {
          return; // BlockList refuses some spellings fast-check makes; the classifier is fuzzed below
        }
        if (listed) assert.ok(classifyAddress(ip).denied, `${ip} is in a listed range but allowed`);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  test('the address policy, host-name checks and CIDR parser never throw on any text', () => {
    const policy = createAddressPolicy({ allowNetworks: ['127.0.0.2/32'], denyNetworks: ['8.8.8.0/24'] });
    fc.assert(
      fc.property(fc.oneof(text, urlish, fc.ipV4Extended(), fc.ipV6()), (t) => {
        policy.check(t);
        parseNetwork(t);
        isLocalHostName(t);
        const literal = hostIpLiteral(t);
        if (literal !== undefined) classifyAddress(literal);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  test('the imagor source policy resolves or refuses any image key with a typed error; NO_PROXY matches any URL', () => {
    const policies = [
      createSourcePolicy({ baseUrl: undefined, defaultScheme: 'https', allowedSources: ['*.example.com', '127.0.0.3'], allowedSourceRegexp: undefined, httpsOnly: false }),
      createSourcePolicy({ baseUrl: 'http://127.0.0.3:8080/base/', defaultScheme: 'https', allowedSources: [], allowedSourceRegexp: '^https?://127\\.0\\.0\\.3', httpsOnly: false }),
      createSourcePolicy({ baseUrl: undefined, defaultScheme: 'nil', allowedSources: [], allowedSourceRegexp: undefined, httpsOnly: true }),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...policies), fc.oneof(text, urlish), fc.oneof(text, urlish), (policy, image, noProxy) => {
        const resolved = onlyTyped(() => policy.resolve(image));
        if (resolved !== undefined) {
          const u = onlyTyped(() => new URL(resolved), (e) => e instanceof TypeError);
          if (u) {
            onlyTyped(() => policy.check(u));
            createNoProxyMatcher(noProxy)(u);
          }
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('bytes: the sniffer and the probe header readers', () => {
  const magic = fc.constantFrom(
    Buffer.from('\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR', 'latin1'), Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('GIF89a'), Buffer.from('RIFF\0\0\0\0WEBPVP8X'),
    Buffer.from('RIFF\0\0\0\0WEBPVP8L'), Buffer.from('RIFF\0\0\0\0WEBPVP8 '), Buffer.from('\0\0\0\x1cftypavif'), Buffer.from('II*\0'),
    Buffer.from('<?xml version="1.0"?><svg'), Buffer.from('<!doctype html>'), Buffer.alloc(0),
  );
  test('sniffBytes and readHeaderSize never throw on any bytes; sizes read are whole and non-negative', () => {
    const formats: Sniffed[] = ['jpeg', 'png', 'gif', 'webp', 'avif', 'tiff', 'svg', 'unknown'];
    fc.assert(
      fc.property(magic, fc.uint8Array({ maxLength: 600 }), fc.constantFrom(...formats), (m, rest, format) => {
        const bytes = Buffer.concat([m, Buffer.from(rest)]);
        const sniffed = sniffBytes(bytes);
        bodyMatchesType('image', 'png', sniffed);
        for (const f of [format, sniffed]) {
          const size = readHeaderSize(bytes, f);
          if (size) assert.ok(Number.isInteger(size.width) && Number.isInteger(size.height) && size.width >= 0 && size.height >= 0, JSON.stringify(size));
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('the limit check throws only TOO_MANY_PIXELS, for any numbers', () => {
    const limits = resolveLimits();
    const n = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, Infinity, NaN));
    fc.assert(
      fc.property(n, n, fc.option(n), (width, height, frames) => {
        onlyTyped(() => checkLimits({ width, height, frames: frames ?? undefined }, limits, 'fuzz'), (e) => isPixgateError(e) && e.code === 'TOO_MANY_PIXELS');
      }),
      { numRuns: RUNS },
    );
  });
});
