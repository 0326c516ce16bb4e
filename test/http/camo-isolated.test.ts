// Non-loopback targets (security.md §1.2 "isolation" rows): private, link-local, CGNAT, reserved and
// documentation ranges, and IPv6 forms that embed them (NAT64, 6to4, Teredo, ISATAP, IPv4-compatible). pixgate
// runs inside a fresh network namespace (`unshare -rn`) that has only a loopback interface, so not a single
// packet can leave the machine even if the address check were missing; the test talks to it over a unix socket.
// In the namespace a connect that is attempted fails with ENETUNREACH (UPSTREAM_FAILED), so the log's error code
// tells a refusal by the address policy (ADDRESS_DENIED) from a connect that was tried.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { camoUrl, fetchRaw, spawnPixgate, TEST_KEY, type RunningPixgate } from '../helpers/pixgate.js';

const NETNS_WRAP = ['unshare', '-rn', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];

function namespacesWork(): boolean {
  const r = spawnSync(NETNS_WRAP[0]!, [...NETNS_WRAP.slice(1), 'true'], { stdio: 'ignore', timeout: 5000 });
  return r.status === 0;
}

const isolated = namespacesWork();

interface Isolated {
  readonly pixgate: RunningPixgate;
  readonly socketPath: string;
  /** Error codes of the `request failed` records logged so far. */
  codes(): string[];
}

async function startIsolated(dir: string, name: string, extra: readonly string[]): Promise<Isolated> {
  const socketPath = join(dir, `${name}.sock`);
  const pixgate = spawnPixgate(['serve', '-k', TEST_KEY, '--listen', '127.0.0.1:0', '--socket-listen', socketPath, '--log-json', '-v', ...extra], {}, NETNS_WRAP);
  await pixgate.waitFor(/"address":"unix:/);
  const codes = () =>
    pixgate
      .output()
      .stderr.split('\n')
      .filter((l) => l.includes('"msg":"request failed"'))
      .map((l) => String((JSON.parse(l) as { code?: string }).code));
  return { pixgate, socketPath, codes };
}

/** Requests `source` through the isolated pixgate; returns the response and the error code it logged. */
async function probe(px: Isolated, source: string) {
  const before = px.codes().length;
  const res = await fetchRaw('http://pixgate' + new URL(camoUrl('http://x', source, TEST_KEY)).pathname, { socketPath: px.socketPath });
  // The log line is written before the response; it may still be in the pipe.
  for (let waited = 0; px.codes().length <= before && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  return { res, code: px.codes()[before] };
}

describe('non-loopback targets, inside a network namespace', { skip: isolated ? false : 'unshare -rn is not available here' }, () => {
  let dir: string;
  let strict: Isolated;
  let lenient: Isolated;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-netns-'));
    [strict, lenient] = await Promise.all([
      startIsolated(dir, 'strict', []),
      startIsolated(dir, 'lenient', ['--allow-network', '10.0.0.0/8']),
    ]);
  });

  after(async () => {
    await Promise.all([strict?.pixgate.stop(), lenient?.pixgate.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const denied: ReadonlyArray<readonly [name: string, host: string]> = [
    ['RFC 1918 10.0.0.1', '10.0.0.1'],
    ['octal 012.0.0.1 (10.0.0.1, CVE-2026-69192)', '012.0.0.1'],
    ['RFC 1918 172.16.0.1', '172.16.0.1'],
    ['RFC 1918 192.168.0.1', '192.168.0.1'],
    ['CGNAT 100.64.0.1', '100.64.0.1'],
    ['0.1.2.3 in 0/8', '0.1.2.3'],
    ['benchmarking 198.18.0.1', '198.18.0.1'],
    ['IETF 192.0.0.1', '192.0.0.1'],
    ['reserved 240.0.0.1', '240.0.0.1'],
    ['multicast 224.0.0.1', '224.0.0.1'],
    ['broadcast 255.255.255.255', '255.255.255.255'],
    ['documentation 192.0.2.1', '192.0.2.1'],
    ['documentation 198.51.100.1', '198.51.100.1'],
    ['documentation 203.0.113.1', '203.0.113.1'],
    ['cloud metadata 169.254.169.254', '169.254.169.254'],
    ['metadata as decimal 2852039166', '2852039166'],
    ['metadata as hex 0xa9fea9fe', '0xa9fea9fe'],
    ['metadata as dotted octal 0251.0376.0251.0376', '0251.0376.0251.0376'],
    ['metadata IPv4-mapped [::ffff:a9fe:a9fe]', '[::ffff:a9fe:a9fe]'],
    ['AWS IPv6 metadata [fd00:ec2::254]', '[fd00:ec2::254]'],
    ['ULA [fd00::1]', '[fd00::1]'],
    ['link-local [fe80::1]', '[fe80::1]'],
    ['site-local [fec0::1]', '[fec0::1]'],
    ['multicast [ff02::1]', '[ff02::1]'],
    ['discard-only [100::1]', '[100::1]'],
    ['documentation [2001:db8::1]', '[2001:db8::1]'],
    ['IPv4-compatible [::127.0.0.1]', '[::127.0.0.1]'],
    ['NAT64 [64:ff9b::7f00:1]', '[64:ff9b::7f00:1]'],
    ['NAT64 dotted [64:ff9b::127.0.0.1]', '[64:ff9b::127.0.0.1]'],
    ['NAT64 of 10.0.0.1 [64:ff9b::a00:1]', '[64:ff9b::a00:1]'],
    ['NAT64 local-use [64:ff9b:1:7f00:0:100::]', '[64:ff9b:1:7f00:0:100::]'],
    ['6to4 [2002:7f00:1::]', '[2002:7f00:1::]'],
    ['6to4 of 169.254.169.254 [2002:a9fe:a9fe::]', '[2002:a9fe:a9fe::]'],
    ['Teredo [2001:0:4136:e378:8000:63bf:80ff:fffe]', '[2001:0:4136:e378:8000:63bf:80ff:fffe]'],
    ['ISATAP [2001:db8::5efe:7f00:1]', '[2001:db8::5efe:7f00:1]'],
  ];

  for (const [name, host] of denied) {
    test(`refuses ${name} by policy, without a connect attempt`, async () => {
      const { res, code } = await probe(strict, `http://${host}/x.png`);
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Error Fetching Resource\n');
      assert.equal(code, 'ADDRESS_DENIED');
    });
  }

  test('control: a public address passes the policy (and finds no route in the namespace)', async () => {
    const { res, code } = await probe(strict, 'http://1.1.1.1/x.png');
    assert.equal(res.status, 404);
    assert.equal(code, 'UPSTREAM_FAILED');
  });

  test('control: --allow-network 10.0.0.0/8 lets 10.0.0.1 through to a connect attempt, and nothing more', async () => {
    const allowed = await probe(lenient, 'http://10.0.0.1/x.png');
    assert.equal(allowed.code, 'UPSTREAM_FAILED');
    const other = await probe(lenient, 'http://172.16.0.1/x.png');
    assert.equal(other.code, 'ADDRESS_DENIED');
    // An allowed IPv4 range exempts its IPv4-mapped form too.
    const mapped = await probe(lenient, 'http://[::ffff:10.0.0.1]/x.png');
    assert.equal(mapped.code, 'UPSTREAM_FAILED');
  });
});
