import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCamoTool } from '../../../src/cli/url-tool.js';

// camo.md §1.3 and §1.4: go-camo's seed vector and what its url-tool prints for it.
const KEY = 'test';
const URL = 'http://golang.org/doc/gopher/frontpage.png';
const HEX = '/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67';
const B64 = '/D23vHLFHsOhPOcvdxeoQyAJTpvM/aHR0cDovL2dvbGFuZy5vcmcvZG9jL2dvcGhlci9mcm9udHBhZ2UucG5n';

const ok = (stdout: string) => ({ stdout, stderr: '', exitCode: 0 });

describe('encode', () => {
  test('prints /digest/encoded in hex by default, with a newline', () => {
    assert.deepEqual(runCamoTool(['encode', '-k', KEY, URL], {}), ok(HEX + '\n'));
  });

  test('prints base64 with -b base64, --base=base64 and -b=base64', () => {
    for (const flag of [['-b', 'base64'], ['--base=base64'], ['-b=base64']]) {
      assert.deepEqual(runCamoTool(['encode', '-k', KEY, ...flag, URL], {}), ok(B64 + '\n'), flag.join(' '));
    }
  });

  test('puts the prefix in front, without its trailing slash', () => {
    assert.deepEqual(runCamoTool(['encode', '-k', KEY, '-p', 'https://img.example.org/', URL], {}), ok(`https://img.example.org${HEX}\n`));
    assert.deepEqual(runCamoTool(['encode', '-k', KEY, '--prefix', 'https://img.example.org', URL], {}), ok(`https://img.example.org${HEX}\n`));
  });

  test('takes flags before the command, as url-tool does (-k KEY encode URL), and the enc alias', () => {
    assert.deepEqual(runCamoTool(['-k', KEY, 'enc', URL], {}), ok(HEX + '\n'));
    assert.deepEqual(runCamoTool(['--key', KEY, 'encode', URL], {}), ok(HEX + '\n'));
  });

  test('takes the first key of PIXGATE_CAMO_KEYS or GOCAMO_HMAC; -k wins', () => {
    assert.deepEqual(runCamoTool(['encode', URL], { PIXGATE_CAMO_KEYS: `${KEY}, other` }), ok(HEX + '\n'));
    assert.deepEqual(runCamoTool(['encode', URL], { GOCAMO_HMAC: KEY }), ok(HEX + '\n'));
    assert.deepEqual(runCamoTool(['encode', '-k', KEY, URL], { GOCAMO_HMAC: 'other' }), ok(HEX + '\n'));
  });
});

describe('decode', () => {
  test('prints the URL of a full hex or base64 camo URL', () => {
    assert.deepEqual(runCamoTool(['decode', '-k', KEY, `https://img.example.org${HEX}`], {}), ok(URL + '\n'));
    assert.deepEqual(runCamoTool(['dec', '-k', KEY, `https://img.example.org${B64}`], {}), ok(URL + '\n'));
  });

  test('takes a bare path too', () => {
    assert.deepEqual(runCamoTool(['decode', '-k', KEY, HEX], {}), ok(URL + '\n'));
  });

  test('says hmac is invalid, exit 1, for the wrong key or a changed URL', () => {
    assert.deepEqual(runCamoTool(['decode', '-k', 'wrong', HEX], {}), { stdout: '', stderr: 'hmac is invalid\n', exitCode: 1 });
    assert.equal(runCamoTool(['decode', '-k', KEY, HEX.slice(0, -2) + '00'], {}).exitCode, 1);
  });

  test('refuses something that is not a camo URL', () => {
    const r = runCamoTool(['decode', '-k', KEY, 'https://img.example.org/'], {});
    assert.equal(r.exitCode, 1);
    assert.equal(r.stdout, '');
  });
});

describe('usage errors', () => {
  const cases: ReadonlyArray<readonly [name: string, argv: readonly string[], message: RegExp]> = [
    ['no command', ['-k', KEY, URL], /expected encode or decode/],
    ['no key', ['encode', URL], /empty HMAC/],
    ['an unknown encoding', ['encode', '-k', KEY, '-b', 'base32', URL], /invalid encoding "base32"/],
    ['two URLs', ['encode', '-k', KEY, URL, URL], /exactly one URL/],
    ['no URL', ['encode', '-k', KEY], /exactly one URL/],
    ['an unknown flag', ['encode', '-k', KEY, '--fast', URL], /unknown flag --fast/],
  ];
  for (const [name, argv, message] of cases) {
    test(`${name}: exit 2 with the usage`, () => {
      const r = runCamoTool(argv, {});
      assert.equal(r.exitCode, 2);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: pixgate camo encode/);
    });
  }

  test('-h prints the usage on stdout', () => {
    const r = runCamoTool(['-h'], {});
    assert.equal(r.exitCode, 0);
    assert.match(r.stdout, /^Usage: pixgate camo encode/);
  });
});
