import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { classifyAddress, createAddressPolicy, parseIpAddress, parseNetwork } from '../../../src/policy/address.js';

// What `new URL()` makes of a host spelling, without brackets: the address the fetcher would connect to.
function canonical(host: string): string {
  const hostname = new URL(`http://${host}/`).hostname;
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

// security.md §1.2 address-encoding catalogue: every example that is an IP, with the range that must deny it
// (from the IANA special-purpose registries and RFC 4291 / 6052 / 3056 / 4380 / 5214 embedding rules).
const catalogue: ReadonlyArray<readonly [spelling: string, range: string]> = [
  ['127.0.0.1', '127.0.0.0/8'],
  ['127.0.0.2', '127.0.0.0/8'],
  ['127.255.255.254', '127.0.0.0/8'],
  ['2130706433', '127.0.0.0/8'],
  ['0177.0.0.1', '127.0.0.0/8'],
  ['017700000001', '127.0.0.0/8'],
  ['127.000.000.001', '127.0.0.0/8'],
  ['00000000000000000177.0.0.1', '127.0.0.0/8'],
  ['0x7f000001', '127.0.0.0/8'],
  ['0x7f.0x0.0x0.0x1', '127.0.0.0/8'],
  ['0x7f.1', '127.0.0.0/8'],
  ['0x7f000001.', '127.0.0.0/8'],
  ['127.1', '127.0.0.0/8'],
  ['127.0.1', '127.0.0.0/8'],
  ['0', '0.0.0.0/8'],
  ['0.0.0.0', '0.0.0.0/8'],
  ['0.0.0.0.', '0.0.0.0/8'],
  ['[::]', '::/128'],
  ['[::ffff:0.0.0.0]', '0.0.0.0/8'],
  ['[::1]', '::1/128'],
  ['[0:0:0:0:0:0:0:1]', '::1/128'],
  ['[::ffff:127.0.0.1]', '127.0.0.0/8'],
  ['[::ffff:7f00:1]', '127.0.0.0/8'],
  ['[0:0:0:0:0:ffff:127.0.0.1]', '127.0.0.0/8'],
  ['[::127.0.0.1]', '127.0.0.0/8'],
  ['[64:ff9b::7f00:1]', '127.0.0.0/8'],
  ['[64:ff9b::127.0.0.1]', '127.0.0.0/8'],
  ['[64:ff9b:1:7f00:0:100::]', '127.0.0.0/8'],
  ['[2002:7f00:1::]', '127.0.0.0/8'],
  ['[2001:0:4136:e378:8000:63bf:80ff:fffe]', '127.0.0.0/8'],
  ['[2001:db8::5efe:7f00:1]', '2001:db8::/32'],
  ['127.0.0.1.', '127.0.0.0/8'],
  ['%31%32%37.0.0.1', '127.0.0.0/8'],
  ['１２７.０.０.１', '127.0.0.0/8'],
  ['127。0。0。1', '127.0.0.0/8'],
  ['①②⑦.⓪.⓪.①', '127.0.0.0/8'],
  ['127.0.0.\t1', '127.0.0.0/8'],
  ['169.254.169.254', '169.254.0.0/16'],
  ['2852039166', '169.254.0.0/16'],
  ['0251.0376.0251.0376', '169.254.0.0/16'],
  ['0251.254.169.254', '169.254.0.0/16'],
  ['0xa9fea9fe', '169.254.0.0/16'],
  ['[::ffff:a9fe:a9fe]', '169.254.0.0/16'],
  ['[fd00:ec2::254]', 'fc00::/7'],
  ['10.0.0.1', '10.0.0.0/8'],
  ['012.0.0.1', '10.0.0.0/8'],
  ['172.16.0.1', '172.16.0.0/12'],
  ['192.168.0.1', '192.168.0.0/16'],
  ['100.64.0.1', '100.64.0.0/10'],
  ['0.1.2.3', '0.0.0.0/8'],
  ['198.18.0.1', '198.18.0.0/15'],
  ['192.0.0.1', '192.0.0.0/24'],
  ['240.0.0.1', '240.0.0.0/4'],
  ['224.0.0.1', '224.0.0.0/4'],
  ['255.255.255.255', '255.255.255.255/32'],
  ['[fd00::1]', 'fc00::/7'],
  ['[fe80::1]', 'fe80::/10'],
  ['[ff02::1]', 'ff00::/8'],
  ['[fec0::1]', 'fec0::/10'],
];

for (const [spelling, range] of catalogue) {
  test(`refuses ${JSON.stringify(spelling)} (${canonical(spelling)}) as ${range}`, () => {
    const verdict = classifyAddress(canonical(spelling));
    assert.equal(verdict.denied, true);
    assert.equal(verdict.denied && verdict.range, range);
  });
}

test('the URL zone-id spelling [::1%25lo] is not a URL, and a zone id reaching the classifier is refused', () => {
  assert.throws(() => new URL('http://[::1%25lo]/'));
  for (const ip of ['::1%lo', 'fe80::1%eth0', '2606:4700:4700::1111%1']) {
    const verdict = classifyAddress(ip);
    assert.equal(verdict.denied && verdict.range, 'invalid', ip);
  }
});

// Remaining IANA special-purpose ranges, each probed at its first and last address.
const specialRanges: ReadonlyArray<readonly [first: string, last: string, range: string]> = [
  ['0.0.0.0', '0.255.255.255', '0.0.0.0/8'],
  ['10.0.0.0', '10.255.255.255', '10.0.0.0/8'],
  ['100.64.0.0', '100.127.255.255', '100.64.0.0/10'],
  ['127.0.0.0', '127.255.255.255', '127.0.0.0/8'],
  ['169.254.0.0', '169.254.255.255', '169.254.0.0/16'],
  ['172.16.0.0', '172.31.255.255', '172.16.0.0/12'],
  ['192.0.0.0', '192.0.0.255', '192.0.0.0/24'],
  ['192.0.2.0', '192.0.2.255', '192.0.2.0/24'],
  ['192.88.99.0', '192.88.99.255', '192.88.99.0/24'],
  ['192.168.0.0', '192.168.255.255', '192.168.0.0/16'],
  ['198.18.0.0', '198.19.255.255', '198.18.0.0/15'],
  ['198.51.100.0', '198.51.100.255', '198.51.100.0/24'],
  ['203.0.113.0', '203.0.113.255', '203.0.113.0/24'],
  ['224.0.0.0', '239.255.255.255', '224.0.0.0/4'],
  ['240.0.0.0', '255.255.255.254', '240.0.0.0/4'],
  ['100::', '100::ffff:ffff:ffff:ffff', '100::/64'],
  ['2001:100::', '2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff', '2001::/23'],
  ['2001:2::', '2001:2::1', '2001::/23'],
  ['2001:db8::', '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8::/32'],
  ['3fff::', '3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff', '3fff::/20'],
  ['fc00::', 'fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fc00::/7'],
  ['fe80::', 'febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::/10'],
  ['fec0::', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fec0::/10'],
  ['ff00::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'ff00::/8'],
];

for (const [first, last, range] of specialRanges) {
  test(`refuses ${range} from ${first} to ${last}`, () => {
    for (const ip of [first, last]) {
      const verdict = classifyAddress(ip);
      assert.equal(verdict.denied && verdict.range, range, ip);
    }
  });
}

const publicAddresses = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.215.14',
  '1.0.0.0',
  '9.255.255.255',
  '11.0.0.0',
  '100.63.255.255',
  '100.128.0.0',
  '126.255.255.255',
  '128.0.0.0',
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '192.0.1.255',
  '192.0.3.0',
  '192.88.98.255',
  '192.167.255.255',
  '192.169.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '203.0.112.255',
  '223.255.255.255',
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '2a00:1450:4001:82b::200e',
  '2001:200::1',
  '2001:db7:ffff::1',
  '2001:db9::1',
  '2003::1',
  '3ffe::1',
  '2fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

for (const ip of publicAddresses) {
  test(`allows the public address ${ip}`, () => {
    assert.deepEqual(classifyAddress(ip), { denied: false });
  });
}

test('allows a public IPv4 inside IPv4-mapped, NAT64 well-known, 6to4 and ISATAP addresses', () => {
  for (const ip of ['::ffff:8.8.8.8', '::ffff:808:808', '64:ff9b::808:808', '64:ff9b::8.8.8.8', '2002:808:808::1', '2606:4700::5efe:808:808', '2606:4700::200:5efe:8.8.8.8']) {
    assert.deepEqual(classifyAddress(ip), { denied: false }, ip);
  }
});

test('refuses IPv4-compatible, NAT64 local-use and Teredo addresses even with a public IPv4 inside', () => {
  for (const ip of ['::8.8.8.8', '::808:808']) {
    const compatible = classifyAddress(ip);
    assert.equal(compatible.denied && compatible.range, '::/96', ip);
  }
  const local = classifyAddress('64:ff9b:1:808:8:800::');
  assert.equal(local.denied && local.range, '64:ff9b:1::/48');
  // Teredo client 8.8.8.8 is stored inverted: f7f7:f7f7
  const teredo = classifyAddress('2001:0:4136:e378:8000:63bf:f7f7:f7f7');
  assert.equal(teredo.denied && teredo.range, '2001::/32');
});

test('unwraps a private IPv4 from every IPv6 embedding and names it', () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['::ffff:10.1.2.3', '10.1.2.3', '10.0.0.0/8'],
    ['::10.1.2.3', '10.1.2.3', '10.0.0.0/8'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254', '169.254.0.0/16'],
    ['64:ff9b:1:c0a8:1:100::', '192.168.1.1', '192.168.0.0/16'],
    ['2002:a9fe:a9fe::1', '169.254.169.254', '169.254.0.0/16'],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', '10.0.0.1', '10.0.0.0/8'],
    ['2606:4700::5efe:a00:1', '10.0.0.1', '10.0.0.0/8'],
    ['2606:4700::200:5efe:a9fe:a9fe', '169.254.169.254', '169.254.0.0/16'],
    ['2002:808:808:1::5efe:7f00:1', '127.0.0.1', '127.0.0.0/8'],
  ];
  for (const [ip, inner, range] of cases) {
    const verdict = classifyAddress(ip);
    assert.equal(verdict.denied, true, ip);
    assert.equal(verdict.denied && verdict.range, range, ip);
    assert.equal(verdict.denied && verdict.embeddedIpv4, inner, ip);
  }
});

test('refuses reserved IPv6 space outside 2000::/3 that no special-purpose entry names', () => {
  for (const ip of ['::ffff:0:7f00:1', '::2:0:0', '5f00::1', '4000::1', '8000::1', 'e000::1', '1fff:ffff::1']) {
    assert.equal(classifyAddress(ip).denied, true, ip);
  }
});

test('refuses anything that is not a plainly written address, without throwing', () => {
  const garbage: unknown[] = [
    '', ' 127.0.0.1', '127.0.0.1 ', '127.1', '0x7f000001', '2130706433', '0177.0.0.1', '127.000.000.001',
    '012.0.0.1', '256.0.0.1', '1.2.3.4.5', '1.2.3.', '[::1]', 'localhost', '1::2::3', ':::', '::ffff:127.0.0.01',
    '::ffff:0x7f.0.0.1', '1:2:3:4:5:6:7:8:9', '12345::1', '::ffff:1.2.3', '1.2.3.4::', '１２７.０.０.１',
    'x'.repeat(100_000), '\u0000', undefined, null, 42, {}, ['127.0.0.1'],
  ];
  for (const input of garbage) {
    const verdict = classifyAddress(input as string);
    assert.equal(verdict.denied, true, String(input).slice(0, 40));
    assert.equal(verdict.denied && verdict.range, 'invalid', String(input).slice(0, 40));
  }
});

test('allowNetworks exempts the literal address and the IPv4 an IPv6 address carries', () => {
  const policy = createAddressPolicy({ allowNetworks: ['127.0.0.0/8'] });
  for (const ip of ['127.0.0.1', '127.9.9.9', '::ffff:127.0.0.1', '64:ff9b::7f00:1', '2002:7f00:1::']) {
    assert.deepEqual(policy.check(ip), { denied: false }, ip);
  }
  for (const ip of ['10.0.0.1', '::1', '0.0.0.0', '::ffff:10.0.0.1', '169.254.169.254']) {
    assert.equal(policy.check(ip).denied, true, ip);
  }
});

test('allowNetworks does not lift a denial that comes from the IPv6 range itself', () => {
  const policy = createAddressPolicy({ allowNetworks: ['127.0.0.0/8'] });
  for (const ip of ['fe80::5efe:7f00:1', 'fd00::5efe:127.0.0.1', 'ff02::5efe:7f00:1']) {
    assert.equal(policy.check(ip).denied, true, ip);
  }
});

test('allowNetworks takes IPv6 CIDRs and single addresses', () => {
  const policy = createAddressPolicy({ allowNetworks: ['::1/128', 'fd00:ec2::/32', '10.1.2.3'] });
  assert.deepEqual(policy.check('::1'), { denied: false });
  assert.deepEqual(policy.check('fd00:ec2::254'), { denied: false });
  assert.deepEqual(policy.check('10.1.2.3'), { denied: false });
  assert.equal(policy.check('10.1.2.4').denied, true);
  assert.equal(policy.check('127.0.0.1').denied, true);
  assert.equal(policy.check('fd00::1').denied, true);
});

test('denyNetworks refuses public addresses, also when wrapped in IPv6, and wins over allowNetworks', () => {
  const policy = createAddressPolicy({ allowNetworks: ['127.0.0.0/8'], denyNetworks: ['8.8.8.0/24', '127.0.0.2', '2606:4700::/32'] });
  for (const ip of ['8.8.8.8', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1', '127.0.0.2', '2606:4700:4700::1111']) {
    const verdict = policy.check(ip);
    assert.equal(verdict.denied, true, ip);
  }
  assert.deepEqual(policy.check('8.8.4.4'), { denied: false });
  assert.deepEqual(policy.check('127.0.0.1'), { denied: false });
});

test('createAddressPolicy refuses a CIDR that does not parse', () => {
  for (const bad of ['127.0.0.1/33', '::1/129', '0177.0.0.0/8', '10.0.0.0/', '10.0.0.0/08', 'abc', '', '10.0.0.0/8/8', '[::1]/128']) {
    assert.throws(() => createAddressPolicy({ allowNetworks: [bad] }), RangeError, bad);
    assert.throws(() => createAddressPolicy({ denyNetworks: [bad] }), RangeError, bad);
  }
  assert.ok(parseNetwork('0.0.0.0/0'));
  assert.ok(parseNetwork('::/0'));
});

test('parseIpAddress accepts exactly the spellings node:net accepts (zone ids aside)', () => {
  const ipChars = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEFx:.'), maxLength: 46 });
  const candidates = fc.oneof(fc.ipV4(), fc.ipV4Extended(), fc.ipV6(), ipChars, fc.string());
  fc.assert(
    fc.property(candidates, (text) => {
      fc.pre(!text.includes('%'));
      assert.equal(parseIpAddress(text) !== undefined, isIP(text) !== 0, text);
    }),
    { numRuns: 5000 },
  );
});

test('parseIpAddress reads IPv6 to the same address as the WHATWG URL parser', () => {
  fc.assert(
    fc.property(fc.ipV6(), (text) => {
      const parsed = parseIpAddress(text);
      assert.ok(parsed);
      assert.equal(`[${parsed.toString()}]`, new URL(`http://[${text}]/`).hostname);
    }),
    { numRuns: 2000 },
  );
});

test('an IPv4 address gets the same verdict bare, IPv4-mapped, behind NAT64 and in 6to4', () => {
  fc.assert(
    fc.property(fc.ipV4(), (ip) => {
      const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
      const hex = (x: number, y: number): string => ((x << 8) | y).toString(16);
      const bare = classifyAddress(ip).denied;
      assert.equal(classifyAddress(`::ffff:${ip}`).denied, bare);
      assert.equal(classifyAddress(`64:ff9b::${ip}`).denied, bare);
      assert.equal(classifyAddress(`2002:${hex(a, b)}:${hex(c, d)}::1`).denied, bare);
      assert.equal(classifyAddress(`2606:4700::5efe:${ip}`).denied, bare);
      assert.equal(classifyAddress(`::${ip}`).denied, true);
    }),
    { numRuns: 3000 },
  );
});

test('classifyAddress never throws, whatever it is given', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.anything()), (input) => {
      const verdict = classifyAddress(input as string);
      assert.equal(typeof verdict.denied, 'boolean');
    }),
    { numRuns: 3000 },
  );
});
