import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostIpLiteral, isLocalHostName } from '../../../src/policy/local-names.js';

const hostnameOf = (host: string): string => new URL(`http://${host}/`).hostname;

test('treats localhost, localdomain and names under them as local (go-camo localsFilter)', () => {
  for (const name of [
    'localhost', 'LOCALHOST', 'LocalHost', 'localhost.', 'localhost..', 'ssrf.localhost', 'a.b.localhost',
    'x.localhost.', 'localdomain', 'LOCALDOMAIN.', 'host.localdomain', 'localhost.localdomain',
  ]) {
    assert.equal(isLocalHostName(name), true, name);
  }
});

test('treats the security catalogue spellings of localhost as local once the URL parser has read them', () => {
  for (const spelling of ['localhost', 'LOCALHOST', 'loc%61lhost', 'ⓛⓞⓒⓐⓛⓗⓞⓢⓣ', 'ssrf.localhost', 'localhost.', 'ＬＯＣＡＬＨＯＳＴ']) {
    assert.equal(isLocalHostName(hostnameOf(spelling)), true, spelling);
  }
});

test('respects label boundaries: names that merely contain localhost are not local', () => {
  for (const name of [
    'notlocalhost', 'localhost.com', 'localhostx', 'mylocaldomain', 'localdomain.example', 'example.com', '',
    'xlocalhost.', 'localhost-1', '127.0.0.1',
  ]) {
    assert.equal(isLocalHostName(name), false, name);
  }
});

test('returns the address of IPv4 and IPv6 literal hosts as URL#hostname gives them', () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['127.0.0.1', '127.0.0.1'],
    ['127.0.0.1.', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['１２７.０.０.１', '127.0.0.1'],
    ['0', '0.0.0.0'],
    ['[::1]', '::1'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
    ['[64:ff9b::127.0.0.1]', '64:ff9b::7f00:1'],
    ['[2606:4700:4700::1111]', '2606:4700:4700::1111'],
  ];
  for (const [spelling, ip] of cases) {
    assert.equal(hostIpLiteral(hostnameOf(spelling)), ip, spelling);
  }
});

test('canonicalises IPv4 spellings it is handed directly, as the WHATWG parser would', () => {
  assert.equal(hostIpLiteral('127.1'), '127.0.0.1');
  assert.equal(hostIpLiteral('0x7f000001'), '127.0.0.1');
  assert.equal(hostIpLiteral('127.0.0.1.'), '127.0.0.1');
  assert.equal(hostIpLiteral('::1'), '::1');
});

test('returns undefined for domain names, which go through the lookup hook', () => {
  for (const name of ['example.com', 'localhost', '1.2.3.4.example', 'a1', '0x7f.example', 'xn--bcher-kva.example', '']) {
    assert.equal(hostIpLiteral(name), undefined, name);
  }
});

test('hands back malformed literals as they are, so the address check refuses them instead of a resolver', () => {
  assert.equal(hostIpLiteral('[not-an-ip]'), 'not-an-ip');
  assert.equal(hostIpLiteral('[::1'), '::1');
  assert.equal(hostIpLiteral('1.2.3.4.5'), '1.2.3.4.5');
  assert.equal(hostIpLiteral('999.1.1.1'), '999.1.1.1');
  assert.equal(hostIpLiteral('evil@1.2.3.4'), 'evil@1.2.3.4');
});
