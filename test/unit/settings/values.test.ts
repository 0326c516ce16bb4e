import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import fc from 'fast-check';
import {
  bool, bytes, cidr, duration, formatBytes, formatDurationMs, header, headerValue, hostPort, int, list, number, oneOf,
  parseBytes, parseDurationMs, secret, string, url,
} from '../../../src/settings/values.js';

describe('bool', () => {
  test('reads the usual spellings, in any case and with spaces', () => {
    for (const t of ['1', 'true', 'TRUE', 't', 'yes', 'y', 'on', ' On ']) assert.equal(bool.parse(t), true, t);
    for (const f of ['0', 'false', 'False', 'f', 'no', 'n', 'off', '']) assert.equal(bool.parse(f), false, f);
  });
  test('refuses anything else', () => {
    for (const bad of ['2', 'yep', 'enabled', 'tru']) assert.throws(() => bool.parse(bad), /expected true or false/);
  });
  test('is a flag that takes no argument', () => {
    assert.equal(bool.isBoolean, true);
  });
});

describe('int and number', () => {
  test('int reads signed integers and enforces the range', () => {
    const t = int({ min: 0, max: 20 });
    assert.equal(t.parse('3'), 3);
    assert.equal(t.parse(' 20 '), 20);
    assert.equal(t.parse('+0'), 0);
    assert.throws(() => t.parse('21'), /from 0 to 20/);
    assert.throws(() => t.parse('-1'), /from 0 to 20/);
    for (const bad of ['3.5', '1e3', '0x10', '', 'three', '3 4']) assert.throws(() => t.parse(bad), /expected an integer/, bad);
  });
  test('number reads decimals and enforces the range', () => {
    const t = number({ min: 0, max: 1 });
    assert.equal(t.parse('0.5'), 0.5);
    assert.equal(t.parse('.25'), 0.25);
    assert.equal(t.parse('1.'), 1);
    assert.throws(() => t.parse('1.5'), /from 0 to 1/);
    for (const bad of ['', '.', 'NaN', 'Infinity', '1e-3']) assert.throws(() => t.parse(bad), /expected a number/, bad);
  });
});

describe('duration (Go time.ParseDuration units, in milliseconds)', () => {
  const cases: ReadonlyArray<readonly [string, number]> = [
    ['4s', 4000],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['168h', 168 * 3_600_000],
    ['1h1h', 7_200_000],
    ['1.5s', 1500],
    ['250us', 0.25],
    ['250µs', 0.25],
    ['1000000ns', 1],
    ['0s', 0],
    // a bare number is seconds (go-camo's flags always have a unit; imagor's env values often have none)
    ['4', 4000],
    ['2.5', 2500],
  ];
  for (const [raw, ms] of cases) {
    test(`reads ${raw} as ${ms} ms`, () => {
      assert.equal(parseDurationMs(raw), ms);
      assert.equal(duration.parse(raw), ms);
    });
  }
  test('refuses units Go does not have, signs, and empty text', () => {
    for (const bad of ['', '4x', '4 s', '1d', '-4s', 's', '4sec', '1h-30m']) assert.throws(() => parseDurationMs(bad), /expected a duration/, bad);
  });
  test('formats with the largest whole unit and reads its own output back', () => {
    assert.equal(formatDurationMs(4000), '4s');
    assert.equal(formatDurationMs(90_000), '90s');
    assert.equal(formatDurationMs(120_000), '2m');
    assert.equal(formatDurationMs(3_600_000), '1h');
    assert.equal(formatDurationMs(250), '250ms');
    assert.equal(formatDurationMs(0), '0s');
    fc.assert(fc.property(fc.integer({ min: 0, max: 10 ** 9 }), (ms) => parseDurationMs(formatDurationMs(ms)) === ms));
  });
});

describe('bytes (binary units)', () => {
  const cases: ReadonlyArray<readonly [string, number]> = [
    ['1048576', 1_048_576],
    ['512KB', 512 * 1024],
    ['512 KiB', 512 * 1024],
    ['2GB', 2 * 1024 ** 3],
    ['1.5m', 1.5 * 1024 ** 2],
    ['10b', 10],
    ['1TB', 1024 ** 4],
  ];
  for (const [raw, n] of cases) {
    test(`reads ${raw} as ${n}`, () => {
      assert.equal(parseBytes(raw), n);
      assert.equal(bytes.parse(raw), n);
    });
  }
  test('refuses unknown units and negative sizes', () => {
    for (const bad of ['', 'KB', '5XB', '-1', '1 2', '1e6']) assert.throws(() => parseBytes(bad), /expected a size/, bad);
  });
  test('formats whole units and reads its own output back', () => {
    assert.equal(formatBytes(20 * 1024 ** 2), '20MB');
    assert.equal(formatBytes(1536), '1536');
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (n) => parseBytes(formatBytes(n)) === n));
  });
});

describe('strings and secrets', () => {
  test('string keeps the text as given', () => {
    assert.equal(string.parse('  a b  '), '  a b  ');
  });
  test('secret refuses empty text and never formats its value', () => {
    assert.throws(() => secret.parse(''), /must not be empty/);
    assert.equal(secret.parse('k3y'), 'k3y');
    assert.equal(secret.format('k3y'), '***');
    assert.equal(secret.secret, true);
  });
});

describe('oneOf', () => {
  test('matches in any case and returns the canonical choice', () => {
    const t = oneOf(['sha1', 'sha256'] as const);
    assert.equal(t.parse('SHA256'), 'sha256');
    assert.equal(t.name, 'sha1|sha256');
    assert.throws(() => t.parse('md5'), /expected sha1\|sha256/);
  });
});

describe('list', () => {
  test('splits on commas, trims, drops empty items and parses each', () => {
    assert.deepEqual(list(int()).parse(' 1, 2,,3 ,'), [1, 2, 3]);
    assert.deepEqual(list(string).parse(''), []);
    assert.throws(() => list(int()).parse('1,x'), /expected an integer/);
  });
  test('takes another separator (headers are newline-separated in env)', () => {
    assert.deepEqual(list(header, { separator: '\n' }).parse('A: 1, 2\nB: x'), [['A', '1, 2'], ['B', 'x']]);
  });
  test('a list of secrets stays secret', () => {
    const keys = list(secret);
    assert.equal(keys.secret, true);
    assert.equal(keys.format(['a', 'b']), '***');
    assert.equal(keys.format([]), '');
    assert.equal(keys.isList, true);
  });
});

describe('url', () => {
  test('takes absolute http and https URLs and normalises them', () => {
    assert.equal(url.parse(' https://cdn.example/too-big.png '), 'https://cdn.example/too-big.png');
    assert.equal(url.parse('HTTP://Example.COM'), 'http://example.com/');
  });
  test('refuses relative URLs and other schemes', () => {
    assert.throws(() => url.parse('/too-big.png'), /absolute URL/);
    assert.throws(() => url.parse('javascript:alert(1)'), /http or https/);
    assert.throws(() => url.parse('ftp://example.com/'), /http or https/);
  });
});

describe('hostPort', () => {
  const cases: ReadonlyArray<readonly [string, { host: string; port: number }]> = [
    ['0.0.0.0:8080', { host: '0.0.0.0', port: 8080 }],
    [':8080', { host: '0.0.0.0', port: 8080 }],
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['[::1]:443', { host: '::1', port: 443 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ];
  for (const [raw, v] of cases) {
    test(`reads ${raw}`, () => {
      assert.deepEqual(hostPort.parse(raw), v);
    });
  }
  test('refuses a missing or out-of-range port and an unbracketed IPv6 address', () => {
    for (const bad of ['8080', 'host:', 'host:65536', '::1:80', '[::1]', 'host:80:90']) assert.throws(() => hostPort.parse(bad), /host:port/, bad);
  });
  test('formats IPv6 hosts in brackets', () => {
    assert.equal(hostPort.format({ host: '::1', port: 8080 }), '[::1]:8080');
    assert.equal(hostPort.format({ host: '0.0.0.0', port: 8080 }), '0.0.0.0:8080');
  });
});

describe('cidr', () => {
  test('reads ranges and single addresses (as host routes)', () => {
    assert.equal(cidr.parse('127.0.0.0/8'), '127.0.0.0/8');
    assert.equal(cidr.parse(' 10.1.2.3 '), '10.1.2.3/32');
    assert.equal(cidr.parse('::1'), '::1/128');
    assert.equal(cidr.parse('fd00::/8'), 'fd00::/8');
    assert.equal(cidr.parse('::ffff:127.0.0.1/128'), '::ffff:127.0.0.1/128');
  });
  test('refuses what the address policy would refuse, so a bad value cannot crash the start', () => {
    for (const bad of ['127.0.0.0/33', '::/129', '999.0.0.1/8', '017.0.0.1', '1.2.3', '0x7f.0.0.1', ':::', 'fe80::1%eth0', 'example.com', '10.0.0.0/', '']) {
      assert.throws(() => cidr.parse(bad), Error, bad);
    }
  });
});

describe('header (-H "Name: value")', () => {
  test('splits at the first colon and trims both sides', () => {
    assert.deepEqual(header.parse('X-Frame-Options: DENY'), ['X-Frame-Options', 'DENY']);
    assert.deepEqual(header.parse('Link:<https://a.example/>; rel=x'), ['Link', '<https://a.example/>; rel=x']);
    assert.deepEqual(header.parse('X-Empty:'), ['X-Empty', '']);
  });
  test('refuses a missing or invalid name and CR, LF or NUL in the value', () => {
    for (const bad of ['no colon', ': value', 'Bad Name: v', 'X-A: a\r\nSet-Cookie: x', 'X-A: a\nb', 'X-A: \0']) {
      assert.throws(() => header.parse(bad), Error, JSON.stringify(bad));
    }
  });
  test('refuses any other control character and anything outside Latin-1 in the value', () => {
    for (const bad of ['X-A: a\x01b', 'X-A: a\x1bb', 'X-A: a\x7fb', 'X-A: €', 'X-A: Ā', 'X-A: 😀']) {
      assert.throws(() => header.parse(bad), /a header value cannot hold/, JSON.stringify(bad));
    }
  });
  test('keeps a tab and Latin-1 letters inside the value', () => {
    assert.deepEqual(header.parse('X-A: a\tb'), ['X-A', 'a\tb']);
    assert.deepEqual(header.parse('X-A: café ÿ'), ['X-A', 'café ÿ']);
  });
  test('takes exactly the names node:http takes', () => {
    // Names without whitespace or a colon, so that the split and trim leave them whole.
    const chars = Array.from({ length: 0x100 }, (_, c) => String.fromCharCode(c)).filter((ch) => ch !== ':' && ch.trim() !== '');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...chars), { minLength: 1, maxLength: 8 }).map((a) => a.join('')), (name) => {
        let nodeTakes = true;
        try {
          validateHeaderName(name);
        } catch {
          nodeTakes = false;
        }
        let weTake = true;
        try {
          header.parse(`${name}: v`);
        } catch {
          weTake = false;
        }
        return nodeTakes === weTake;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('headerValue (--server-name, --user-agent)', () => {
  test('keeps the text as given, spaces included', () => {
    assert.equal(headerValue.parse(' pixgate 1.0 '), ' pixgate 1.0 ');
    assert.equal(headerValue.parse(''), '');
  });
  test('names the offending character', () => {
    assert.throws(() => headerValue.parse('pix\x01gate'), /control character U\+0001 at position 4/);
    assert.throws(() => headerValue.parse('pix€'), /U\+20AC at position 4: only Latin-1/);
  });
  test('takes exactly the values node:http takes (validateHeaderValue)', () => {
    const nodeTakes = (value: string) => {
      try {
        validateHeaderValue('x-test', value);
        return true;
      } catch {
        return false;
      }
    };
    const weTake = (value: string) => {
      try {
        headerValue.parse(value);
        return true;
      } catch {
        return false;
      }
    };
    // Every character up to U+01FF one by one (controls, DEL, Latin-1 and just past it), then mixed strings.
    for (let c = 0; c < 0x200; c++) {
      const ch = String.fromCharCode(c);
      assert.equal(weTake(`a${ch}b`), nodeTakes(`a${ch}b`), `U+${c.toString(16)}`);
    }
    const edges = fc.constantFrom('\t', ' ', '~', '\x7f', '\x80', '\xff', '\u0100', '\0', '\r', '\n', '\x01', '\x1f', 'a', '€', '\ud83d');
    const unit = fc.oneof(edges, fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)));
    const value = fc.array(unit, { maxLength: 12 }).map((units) => units.join(''));
    fc.assert(fc.property(value, (v) => weTake(v) === nodeTakes(v)), { numRuns: 1000 });
  });
});
