// security.md §1.2 "isolation" rows, §1.4 redirects to them and §1.5 names, against BOTH jobs. pixgate runs in a
// fresh user + network + mount namespace (`unshare -rnm`) whose only interface is `lo`. Inside it, lo also
// carries the private, link-local, reserved and IPv6-embedding addresses under test, each with a canary on port 80
// that reports every connection, and two stand-ins for public hosts (1.1.1.1, 8.8.8.8) serving an image and
// redirects; /etc/hosts is replaced for names. So a missing check shows as a canary hit, and still no packet can
// leave the machine: nothing outside the namespace has these addresses and no DNS server is reachable.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CANARY_TEXT, JOBS, jobPath, namespacesWork, NETNS_PUBLIC, NETNS_UNWRAP_ONLY, REFUSAL_CODES, startIsolated, type IsolatedPixgate, type Job } from './harness.js';

const isolated = namespacesWork();
const skip = isolated ? false : 'unshare -rnm (user + network + mount namespaces) is not available here: the isolation cases are NOT run';
if (!isolated) process.stderr.write(`ssrf-isolated: SKIPPED: ${skip}\n`);

const HOSTS = (rebindTo: string) =>
  [
    '127.0.0.1 localhost',
    '::1 localhost ip6-localhost',
    '10.0.0.1 internal.test',
    // The dotted spelling too, as systemd-resolved answers it.
    '169.254.169.254 metadata.google.internal metadata.google.internal. metadata.test',
    '127.0.0.1 alias.test',
    '::1 alias6.test',
    'fd00:ec2::254 aws6.test',
    '64:ff9b::7f00:1 nat64.test',
    '192.168.0.1 printer.test',
    `${NETNS_UNWRAP_ONLY.isatapGlobal} isatap.test`,
    `${NETNS_PUBLIC} public.test`,
    `${NETNS_PUBLIC} multi.test`,
    '10.0.0.1 multi.test',
    `${rebindTo} rebind.test`,
    '',
  ].join('\n');

describe('SSRF inside a loopback-only network namespace', { skip }, () => {
  let dir: string;
  let hostsFile: string;
  let px: IsolatedPixgate;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-sec-netns-'));
    hostsFile = join(dir, 'hosts');
    writeFileSync(hostsFile, HOSTS(NETNS_PUBLIC));
    px = await startIsolated(join(dir, 'strict.sock'), ['--max-redirects', '5'], hostsFile);
  });

  after(async () => {
    await px?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  // Per test, so that a leak is charged to the case that caused it.
  let hitsBefore = 0;
  beforeEach(() => {
    hitsBefore = px.canaryHits().length;
  });
  afterEach(async () => {
    await new Promise((r) => setTimeout(r, 20)); // a canary's report travels through a pipe
    assert.deepEqual(px.canaryHits().slice(hitsBefore), [], 'a canary inside the namespace was contacted');
  });

  async function expectRefused(job: Job, source: string, id: string): Promise<void> {
    const { res, code } = await px.get(jobPath(job, source));
    assert.ok(res.status >= 400 && res.status < 500, `${id} [${job}]: got ${res.status} ${res.text.slice(0, 80)}`);
    assert.ok(!res.text.includes(CANARY_TEXT), `${id} [${job}]: canary text in the response`);
    assert.ok(code !== undefined && REFUSAL_CODES.has(code), `${id} [${job}]: logged ${code}, not a policy refusal`);
  }

  test('the namespace carries the addresses under test, each with a canary', () => {
    for (const a of ['10.0.0.1', '169.254.169.254', 'fd00:ec2::254', '64:ff9b::7f00:1', '2002:a9fe:a9fe::', ...Object.values(NETNS_UNWRAP_ONLY), 'origin:1.1.1.1']) {
      assert.ok(px.listening.includes(a), `${a} is not listening inside the namespace (${px.listening.join(' ')})`);
    }
  });

  for (const job of JOBS) {
    test(`control [${job}]: a public address (a stand-in inside the namespace) is served, by IP and by name`, async () => {
      for (const source of [`http://${NETNS_PUBLIC}/img.png`, 'http://public.test/img.png']) {
        const { res } = await px.get(jobPath(job, source));
        assert.equal(res.status, 200, source);
      }
    });
  }

  describe('§1.2 addresses outside loopback', () => {
    const hosts: ReadonlyArray<readonly [id: string, host: string]> = [
      ['ssrf-rfc1918-10', '10.0.0.1'],
      ['ssrf-rfc1918-octal', '012.0.0.1'],
      ['ssrf-rfc1918-172', '172.16.0.1'],
      ['ssrf-rfc1918-192', '192.168.0.1'],
      ['ssrf-cgnat', '100.64.0.1'],
      ['ssrf-this-network', '0.1.2.3'],
      ['ssrf-benchmarking', '198.18.0.1'],
      ['ssrf-ietf-192.0.0', '192.0.0.1'],
      ['ssrf-reserved-240', '240.0.0.1'],
      ['ssrf-6to4-relay', '192.88.99.1'],
      ['ssrf-multicast', '224.0.0.1'],
      ['ssrf-broadcast', '255.255.255.255'],
      ['ssrf-test-net-1', '192.0.2.1'],
      ['ssrf-test-net-2', '198.51.100.1'],
      ['ssrf-test-net-3', '203.0.113.1'],
      ['ssrf-metadata', '169.254.169.254'],
      ['ssrf-metadata-decimal', '2852039166'],
      ['ssrf-metadata-octal', '0251.0376.0251.0376'],
      ['ssrf-metadata-octal-mixed', '0251.254.169.254'],
      ['ssrf-metadata-hex', '0xa9fea9fe'],
      ['ssrf-metadata-mapped', '[::ffff:a9fe:a9fe]'],
      ['ssrf-metadata-aws-ipv6', '[fd00:ec2::254]'],
      ['ssrf-ula', '[fd00::1]'],
      ['ssrf-link-local-v6', '[fe80::1]'],
      ['ssrf-site-local-v6', '[fec0::1]'],
      ['ssrf-multicast-v6', '[ff02::1]'],
      ['ssrf-discard-only', '[100::1]'],
      ['ssrf-documentation-v6', '[2001:db8::1]'],
      ['ssrf-ipv4-compatible', '[::127.0.0.1]'],
      ['ssrf-nat64', '[64:ff9b::7f00:1]'],
      ['ssrf-nat64-dotted', '[64:ff9b::127.0.0.1]'],
      ['ssrf-nat64-rfc1918', '[64:ff9b::a00:1]'],
      ['ssrf-nat64-local-use', '[64:ff9b:1:7f00:0:100::]'],
      ['ssrf-6to4', '[2002:7f00:1::]'],
      ['ssrf-6to4-metadata', '[2002:a9fe:a9fe::]'],
      ['ssrf-teredo', '[2001:0:4136:e378:8000:63bf:80ff:fffe]'],
      // Also denied as documentation space (2001:db8::/32), whatever it carries.
      ['ssrf-isatap', '[2001:db8::5efe:7f00:1]'],
      // Global prefixes: only the ISATAP unwrapping denies these (NETNS_UNWRAP_ONLY in harness.ts).
      ['ssrf-isatap-global', `[${NETNS_UNWRAP_ONLY.isatapGlobal}]`],
      ['ssrf-isatap-global-dotted', '[2606:4700::5efe:127.0.0.1]'],
      ['ssrf-isatap-6to4', `[${NETNS_UNWRAP_ONLY.isatap6to4}]`],
      ['ssrf-isatap-u-bit-metadata', `[${NETNS_UNWRAP_ONLY.isatapUbitMetadata}]`],
    ];
    for (const [id, host] of hosts) {
      for (const job of JOBS) {
        test(`${id} [${job}]: refuses http://${host}/ by policy`, async () => {
          await expectRefused(job, `http://${host}/x.png`, id);
        });
      }
    }
    test('ssrf-scheme-less [imagor]: a scheme-less key (https by default) to a private address is refused too', async () => {
      await expectRefused('imagor', '10.0.0.1/x.png', 'ssrf-scheme-less');
    });
  });

  describe('§1.5 names', () => {
    const names: ReadonlyArray<readonly [id: string, name: string]> = [
      ['ssrf-localhost-subdomain', 'ssrf.localhost'],
      ['ssrf-localhost-trailing-dot', 'localhost.'],
      ['ssrf-localdomain', 'localdomain'],
      ['ssrf-localdomain-subdomain', 'box.localdomain'],
      ['ssrf-hosts-alias-rfc1918', 'internal.test'],
      ['ssrf-metadata-name', 'metadata.google.internal'],
      ['ssrf-metadata-name-trailing-dot', 'metadata.google.internal.'],
      ['ssrf-hosts-alias', 'alias.test'],
      ['ssrf-hosts-alias-v6', 'alias6.test'],
      ['ssrf-hosts-alias-aws-v6', 'aws6.test'],
      ['ssrf-hosts-alias-nat64', 'nat64.test'],
      ['ssrf-hosts-alias-192', 'printer.test'],
      ['ssrf-hosts-alias-isatap', 'isatap.test'],
    ];
    for (const [id, name] of names) {
      for (const job of JOBS) {
        test(`${id} [${job}]: refuses ${name}, which the hosts file maps to a denied address`, async () => {
          await expectRefused(job, `http://${name}/x.png`, id);
        });
      }
    }
    for (const job of JOBS) {
      test(`ssrf-dns-multi-a [${job}]: a name with a public and a private answer connects only to the public one`, async () => {
        const { res } = await px.get(jobPath(job, 'http://multi.test/img.png'));
        assert.equal(res.status, 200);
      });
    }

    test('ssrf-dns-rebind: a name moved from a public to a private address in the hosts file is refused at its next connection', async () => {
      try {
        for (const job of JOBS) {
          writeFileSync(hostsFile, HOSTS(NETNS_PUBLIC));
          const first = await px.get(jobPath(job, `http://rebind.test/img.png?${job}`));
          assert.equal(first.res.status, 200, `[${job}] first answer`);
          writeFileSync(hostsFile, HOSTS('10.0.0.1'));
          const second = await px.get(jobPath(job, `http://rebind.test/img.png?${job}-again`));
          assert.ok(second.res.status >= 400 && second.res.status < 500, `[${job}] got ${second.res.status}`);
          assert.equal(second.code, 'ADDRESS_DENIED');
        }
      } finally {
        writeFileSync(hostsFile, HOSTS(NETNS_PUBLIC));
      }
    });

    for (const [id, source] of [
      ['url-single-slash', 'http:/127.0.0.1/x.png'],
      ['url-backslashes', 'http:\\\\127.0.0.1/x.png'],
    ] as const) {
      test(`${id} [imagor]: ${source} never reaches 127.0.0.1 (imagor reads it as a key for a host named "http")`, async () => {
        const { res } = await px.get(jobPath('imagor', source));
        assert.ok(res.status >= 400 && res.status < 500, `got ${res.status}`);
        assert.ok(!res.text.includes(CANARY_TEXT));
      });
    }
  });

  describe('§1.4 redirects from a public host to isolated targets', () => {
    const redirectFrom = (to: string, code: number) => `http://${NETNS_PUBLIC}/redirect?code=${code}&to=${encodeURIComponent(to)}`;
    const cases: [id: string, to: string, code: number][] = [
      ...[301, 302, 303, 307, 308].map((code) => [`redir-metadata-${code}`, 'http://169.254.169.254/latest/meta-data/', code] as [string, string, number]),
      ['redir-metadata-decimal', 'http://2852039166/latest/meta-data/', 302],
      ['redir-metadata-name', 'http://metadata.google.internal/computeMetadata/v1/', 302],
      ['redir-rfc1918', 'http://10.0.0.1/x.png', 302],
      ['redir-rfc1918-name', 'http://internal.test/x.png', 307],
      ['redir-nat64', 'http://[64:ff9b::7f00:1]/x.png', 302],
      ['redir-6to4', 'http://[2002:a9fe:a9fe::]/x.png', 308],
      ['redir-aws-ipv6', 'http://[fd00:ec2::254]/x.png', 302],
      ['redir-teredo', 'http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/x.png', 302],
      ['redir-isatap-metadata', `http://[${NETNS_UNWRAP_ONLY.isatapUbitMetadata}]/latest/meta-data/`, 302],
      ['redir-loopback', 'http://127.0.0.1/x.png', 302],
      ['redir-ipv6-loopback', 'http://[::1]/x.png', 302],
      ['redir-scheme-relative', '//10.0.0.1/x.png', 302],
    ];
    for (const [id, to, code] of cases) {
      for (const job of JOBS) {
        test(`${id} [${job}]: refuses a ${code} from a public host to ${to}`, async () => {
          const before = px.originHits().length;
          await expectRefused(job, redirectFrom(to, code), id);
          assert.equal(px.originHits().length, before + 1, 'the public host answered the first hop');
        });
      }
    }

    test('redir-chain-then-metadata [camo, imagor]: public -> public -> metadata is refused at the last hop', async () => {
      for (const job of JOBS) {
        const inner = redirectFrom('http://169.254.169.254/latest/meta-data/', 307).replace(NETNS_PUBLIC, '8.8.8.8');
        await expectRefused(job, redirectFrom(inner, 302), 'redir-chain-then-metadata');
      }
    });
  });
});

// With the default policy a Teredo address is denied as 2001::/32 whatever client it names, so the unwrapping
// can only decide a case where the operator has opened that range: then --deny-network must still match the IPv4
// inside (createAddressPolicy: deny lists are checked against the embedded address and win over allows).
describe('embedded IPv4 against the operator\'s lists (--allow-network 2001::/32, --deny-network 169.254.0.0/16)', { skip }, () => {
  let dir: string;
  let px: IsolatedPixgate;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-sec-netns-lists-'));
    px = await startIsolated(join(dir, 'lists.sock'), ['--allow-network', '2001::/32', '--deny-network', '169.254.0.0/16']);
  });

  after(async () => {
    await px?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('control: the allow opens Teredo, so both jobs reach the canary of a Teredo client 1.1.1.1', async () => {
    const before = px.canaryHits().length;
    for (const job of JOBS) await px.get(jobPath(job, `http://[${NETNS_UNWRAP_ONLY.teredoPublic}]/x.png`));
    for (let waited = 0; px.canaryHits().length < before + 2 && waited < 2000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(px.canaryHits().slice(before), [NETNS_UNWRAP_ONLY.teredoPublic, NETNS_UNWRAP_ONLY.teredoPublic]);
  });

  for (const job of JOBS) {
    test(`ssrf-teredo-deny-listed [${job}]: a Teredo client 169.254.169.254 is refused by --deny-network inside the allowed range`, async () => {
      const before = px.canaryHits().length;
      const { res, code } = await px.get(jobPath(job, `http://[${NETNS_UNWRAP_ONLY.teredoMetadata}]/latest/meta-data/`));
      assert.ok(res.status >= 400 && res.status < 500, `got ${res.status} ${res.text.slice(0, 80)}`);
      assert.ok(!res.text.includes(CANARY_TEXT));
      assert.equal(code, 'ADDRESS_DENIED');
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(px.canaryHits().slice(before), []);
    });
  }
});

describe('control: the namespace shows a leak when nothing is denied', { skip }, () => {
  test('with --allow-network 0.0.0.0/0 and ::/0, both jobs reach the canaries on 10.0.0.1, 169.254.169.254 and 64:ff9b::7f00:1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pixgate-sec-netns-open-'));
    const open = await startIsolated(join(dir, 'open.sock'), ['--allow-network', '0.0.0.0/0', '--allow-network', '::/0']);
    try {
      for (const job of JOBS) {
        for (const host of ['10.0.0.1', '169.254.169.254', '[64:ff9b::7f00:1]']) await open.get(jobPath(job, `http://${host}/x.png`));
      }
      for (let waited = 0; open.canaryHits().length < 6 && waited < 2000; waited += 20) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(open.canaryHits().sort(), ['10.0.0.1', '10.0.0.1', '169.254.169.254', '169.254.169.254', '64:ff9b::7f00:1', '64:ff9b::7f00:1']);
    } finally {
      await open.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
