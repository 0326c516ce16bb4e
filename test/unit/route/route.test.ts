import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { routeRequest, type RouteOptions } from '../../../src/route/route.js';

const HEX = '0f6def1cb147b0e84f39cbddc5ea10c80253a6f3';
const B64 = 'D23vHLFHsOhPOcvdxeoQyAJTpvM';
const URL_HEX = '687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67';

const camoOnly: RouteOptions = { camoEnabled: true, camoPrefix: '', imagorEnabled: false, imagorPrefix: '', metricsEnabled: false };
const kind = (method: string, target: string, opts: RouteOptions = camoOnly) => routeRequest(method, target, opts).kind;

describe('fixed endpoints', () => {
  test('/healthcheck, /favicon.ico and / for GET and HEAD', () => {
    for (const method of ['GET', 'HEAD']) {
      assert.equal(kind(method, '/healthcheck'), 'health');
      assert.equal(kind(method, '/favicon.ico'), 'favicon');
      assert.equal(kind(method, '/'), 'landing');
    }
  });

  test('/metrics only when metrics are on', () => {
    assert.equal(kind('GET', '/metrics'), 'not-found');
    assert.equal(kind('GET', '/metrics', { ...camoOnly, metricsEnabled: true }), 'metrics');
  });

  test('a query string does not change the endpoint', () => {
    assert.equal(kind('GET', '/healthcheck?x=1'), 'health');
  });

  test('/debug/vars and /debug/pprof are no endpoints (go-camo exposes the command line there)', () => {
    const none = { ...camoOnly, camoEnabled: false, metricsEnabled: true };
    for (const path of ['/debug/vars', '/debug/pprof/', '/debug/pprof/profile']) assert.equal(kind('GET', path, none), 'not-found');
    // With camo on, /debug/vars has go-camo's two-segment shape: a camo URL that cannot verify (403), as in go-camo
    // with --no-debug-vars.
    assert.deepEqual(routeRequest('GET', '/debug/vars', { ...camoOnly, metricsEnabled: true }), {
      kind: 'signed',
      camo: { form: 'path', digest: 'debug', encodedUrl: 'vars' },
    });
    assert.equal(kind('GET', '/debug/pprof/profile', { ...camoOnly, metricsEnabled: true }), 'not-found');
  });
});

describe('methods', () => {
  test('anything but GET and HEAD is 405 before any routing, on every path', () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'get']) {
      assert.equal(kind(method, `/${HEX}/${URL_HEX}`), 'method-not-allowed', method);
      assert.equal(kind(method, '/healthcheck'), 'method-not-allowed', method);
    }
  });
});

describe('camo URLs', () => {
  test('the path form with a hex or base64 digest carries both parts as given', () => {
    assert.deepEqual(routeRequest('GET', `/${HEX}/${URL_HEX}`, camoOnly), { kind: 'signed', camo: { form: 'path', digest: HEX, encodedUrl: URL_HEX } });
    assert.deepEqual(routeRequest('HEAD', `/${HEX.toUpperCase()}/${URL_HEX}`, camoOnly), {
      kind: 'signed',
      camo: { form: 'path', digest: HEX.toUpperCase(), encodedUrl: URL_HEX },
    });
    assert.deepEqual(routeRequest('GET', `/${B64}=/aHR0cDovL2E=`, camoOnly), { kind: 'signed', camo: { form: 'path', digest: `${B64}=`, encodedUrl: 'aHR0cDovL2E=' } });
  });

  test('ignores the query string of the path form (go-camo reads only the path)', () => {
    assert.deepEqual(routeRequest('GET', `/${HEX}/${URL_HEX}?url=http://x/`, camoOnly), { kind: 'signed', camo: { form: 'path', digest: HEX, encodedUrl: URL_HEX } });
  });

  test("camo's query form: a hex digest alone and exactly one url parameter, percent-decoded", () => {
    assert.deepEqual(routeRequest('GET', `/${HEX}?url=http%3A%2F%2Fexample.com%2Fa%20b.png`, camoOnly), {
      kind: 'signed',
      camo: { form: 'query', digest: HEX, url: 'http://example.com/a b.png' },
    });
    assert.equal(kind('GET', `/${HEX}?url=a&url=b`), 'not-found');
    assert.equal(kind('GET', `/${HEX}`), 'not-found');
    assert.equal(kind('GET', `/${B64}?url=http%3A%2F%2Fa`), 'not-found');
  });

  test('camo alone takes every /<digest>/<url> path as go-camo\'s router does, whatever the digest looks like', () => {
    const cases: ReadonlyArray<readonly [string, string, string]> = [
      ['a digest of the wrong length', HEX.slice(1), URL_HEX],
      ['a digest with a non-hex, non-base64 character', `${HEX.slice(1)}!`, URL_HEX],
      ['an empty encoded URL', HEX, ''],
      ['a path that is no camo URL at all', 'images', 'cat.png'],
    ];
    for (const [name, digest, encodedUrl] of cases) {
      assert.deepEqual(routeRequest('GET', `/${digest}/${encodedUrl}`, camoOnly), { kind: 'signed', camo: { form: 'path', digest, encodedUrl } }, name);
    }
  });

  const notCamo: ReadonlyArray<readonly [string, string]> = [
    ['a trailing slash', `/${HEX}/${URL_HEX}/`],
    ['an extra component', `/${HEX}/${URL_HEX}/x.png`],
    ['a double slash in front', `//${HEX}/${URL_HEX}`],
    ['an empty digest (Go\'s ServeMux redirects //x to /x)', `//${URL_HEX}`],
    ['an absolute-form request target (we are not a forward proxy)', `http://example.com/${HEX}/${URL_HEX}`],
    ['an asterisk-form request target', '*'],
  ];
  for (const [name, target] of notCamo) {
    test(`is not found with ${name}`, () => {
      assert.equal(kind('GET', target), 'not-found');
    });
  }

  test('nothing is a camo URL when camo is off (no key)', () => {
    assert.equal(kind('GET', `/${HEX}/${URL_HEX}`, { ...camoOnly, camoEnabled: false }), 'not-found');
  });

  test('a prefix mounts camo URLs below it, and only there', () => {
    const opts = { ...camoOnly, camoPrefix: '/camo' };
    assert.deepEqual(routeRequest('GET', `/camo/${HEX}/${URL_HEX}`, opts), { kind: 'signed', camo: { form: 'path', digest: HEX, encodedUrl: URL_HEX } });
    assert.equal(kind('GET', `/${HEX}/${URL_HEX}`, opts), 'not-found');
    assert.equal(kind('GET', `/camouflage/${HEX}/${URL_HEX}`, opts), 'not-found');
    assert.equal(kind('GET', '/camo', opts), 'not-found');
    assert.equal(kind('GET', '/healthcheck', opts), 'health');
  });
});

describe('with imagor beside camo', () => {
  const both = { ...camoOnly, imagorEnabled: true };

  test('a path that fits both carries both candidates; the signature decides', () => {
    const r = routeRequest('GET', `/${HEX}/${URL_HEX}`, both);
    assert.equal(r.kind, 'signed');
    assert.ok(r.kind === 'signed' && r.camo && r.imagor);
    const b64 = routeRequest('GET', `/${B64}/${URL_HEX}`, both);
    assert.ok(b64.kind === 'signed' && b64.camo && b64.imagor);
  });

  test('only a digest of a camo digest\'s shape makes a camo candidate; anything else is imagor\'s alone', () => {
    for (const path of [`/${HEX.slice(1)}/${URL_HEX}`, `/${HEX.slice(1)}!/${URL_HEX}`, `/${HEX}/`, '/unsafe/cat.png', '/images/cat.png']) {
      const r = routeRequest('GET', path, both);
      assert.ok(r.kind === 'signed' && !r.camo && r.imagor, path);
    }
  });
});
