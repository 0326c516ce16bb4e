// Fetching safely, over real sockets on loopback (issue 2 "Fetching safely", security.md §1.2-1.4): every
// spelling of a loopback address is refused at connect time without --allow-network, names are refused before
// any lookup, redirects from an allowed origin to a denied address are refused hop by hop, and the filter
// ruleset applies to the first URL and to every redirect hop. A canary listener counts connections: it must stay
// at zero. Forms that could leave the host if the check failed (NAT64, 6to4, private ranges) are only tried in
// camo-isolated.test.ts, inside a network namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartupError } from '../../src/server/app.js';
import { redirect, serve, startCanary, startOrigin, testImages, type Canary, type Origin, type TestImages } from '../helpers/origin.js';
import { fetchRaw, startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';

let images: TestImages;
let canary: Canary;
/** On ::1 when the machine has IPv6; else the [::1] cases aim at the IPv4 canary's port (the error code still tells). */
let canary6: Canary | undefined;
const port6 = () => canary6?.port ?? canary.port;

before(async () => {
  images = await testImages();
  canary = await startCanary('127.0.0.1');
  canary6 = await startCanary('::1').catch(() => undefined);
});

after(async () => {
  await canary.close();
  await canary6?.close();
});

function assertCanariesUntouched() {
  assert.equal(canary.connections(), 0, 'the 127.0.0.1 canary was contacted');
  assert.equal(canary6?.connections() ?? 0, 0, 'the ::1 canary was contacted');
}

describe('without --allow-network, loopback in every spelling', () => {
  let px: Pixgate;
  before(async () => {
    px = await startPixgate({ argv: ['-k', TEST_KEY] });
  });
  after(() => px.close());

  // security.md §1.2: the hosts below all reach the canary's address if the check is missing.
  const ipForms: ReadonlyArray<readonly [name: string, host: (p: number, p6: number) => string]> = [
    ['plain 127.0.0.1', (p) => `127.0.0.1:${p}`],
    ['decimal 2130706433', (p) => `2130706433:${p}`],
    ['hex 0x7f000001', (p) => `0x7f000001:${p}`],
    ['octal 0177.0.0.1', (p) => `0177.0.0.1:${p}`],
    ['short 127.1', (p) => `127.1:${p}`],
    ['32-bit octal 017700000001', (p) => `017700000001:${p}`],
    ['zero-padded 127.000.000.001', (p) => `127.000.000.001:${p}`],
    ['mixed hex 0x7f.1', (p) => `0x7f.1:${p}`],
    ['trailing dot 127.0.0.1.', (p) => `127.0.0.1.:${p}`],
    ['percent-encoded %31%32%37.0.0.1', (p) => `%31%32%37.0.0.1:${p}`],
    ['full-width digits', (p) => `１２７.０.０.１:${p}`],
    ['unspecified 0.0.0.0 (reaches the local host on Linux)', (p) => `0.0.0.0:${p}`],
    ['unspecified 0', (p) => `0:${p}`],
    ['IPv6 loopback [::1]', (_p, p6) => `[::1]:${p6}`],
    ['IPv6 loopback written out [0:0:0:0:0:0:0:1]', (_p, p6) => `[0:0:0:0:0:0:0:1]:${p6}`],
    ['IPv6 unspecified [::]', (p) => `[::]:${p}`],
    ['IPv4-mapped [::ffff:127.0.0.1]', (p) => `[::ffff:127.0.0.1]:${p}`],
    ['IPv4-mapped hex [::ffff:7f00:1]', (p) => `[::ffff:7f00:1]:${p}`],
    ['IPv4-mapped written out [0:0:0:0:0:ffff:127.0.0.1]', (p) => `[0:0:0:0:0:ffff:127.0.0.1]:${p}`],
    ['IPv4-mapped unspecified [::ffff:0.0.0.0]', (p) => `[::ffff:0.0.0.0]:${p}`],
  ];

  for (const [name, host] of ipForms) {
    test(`refuses ${name} with 404 Error Fetching Resource, without connecting`, async () => {
      const source = `http://${host(canary.port, port6())}/x.png`;
      const res = await fetchRaw(px.camo(source));
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Error Fetching Resource\n');
      assert.equal(px.errorCodes().at(-1), 'ADDRESS_DENIED', 'refused by the address policy, not by a failed connect');
      assertCanariesUntouched();
    });
  }

  const names: ReadonlyArray<readonly [name: string, host: string]> = [
    ['localhost', 'localhost'],
    ['LOCALHOST', 'LOCALHOST'],
    ['localhost. with a trailing dot', 'localhost.'],
    ['a name under .localhost (RFC 6761)', 'ssrf.localhost'],
    ['percent-encoded loc%61lhost', 'loc%61lhost'],
    ['IDNA ⓛⓞⓒⓐⓛⓗⓞⓢⓣ', 'ⓛⓞⓒⓐⓛⓗⓞⓢⓣ'],
    ['localdomain', 'localdomain'],
    ['a name under .localdomain', 'box.localdomain'],
  ];
  for (const [name, host] of names) {
    test(`refuses ${name} with 404 Bad url host, before any lookup`, async () => {
      const res = await fetchRaw(px.camo(`http://${host}:${canary.port}/x.png`));
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Bad url host\n');
      assertCanariesUntouched();
    });
  }

  test('refuses a host name that resolves to loopback (from /etc/hosts) at connect time', async (t) => {
    const name = await loopbackAlias();
    if (!name) {
      t.skip('no name other than localhost resolves to a loopback address here');
      return;
    }
    const res = await fetchRaw(px.camo(`http://${name}:${canary.port}/x.png`));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Error Fetching Resource\n');
    assert.equal(px.errorCodes().at(-1), 'ADDRESS_DENIED');
    assertCanariesUntouched();
  });

  const schemes = ['ftp://127.0.0.1/x.png', 'file:///etc/passwd', 'gopher://127.0.0.1:70/_x', 'data:image/png;base64,iVBORw0KGgo=', 'javascript:alert(1)', 'ws://127.0.0.1/x', 'blob:http://127.0.0.1/x'];
  for (const source of schemes) {
    test(`refuses the scheme of ${source.slice(0, source.indexOf(':') + 1)} with 404 Bad url scheme`, async () => {
      const res = await fetchRaw(px.camo(source));
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Bad url scheme\n');
    });
  }

  test('refuses credentials in the URL with 404 Userinfo URL rejected', async () => {
    const res = await fetchRaw(px.camo(`http://user:pass@example.com:${canary.port}/x.png`));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Userinfo URL rejected\n');
  });

  test('refuses a signed URL carrying a raw CR LF with 400 Bad url (nothing can reach upstream headers)', async () => {
    const res = await fetchRaw(px.camo(`http://127.0.0.1:${canary.port}/a\r\nX-Injected: 1`));
    assert.equal(res.status, 400);
    assert.equal(res.text, 'Bad url\n');
    assertCanariesUntouched();
  });

  test('the canary really answers when the address policy allows it (the harness can see a leak)', async () => {
    const open = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.1/32'] });
    const probe = await startCanary('127.0.0.1');
    try {
      const res = await fetchRaw(open.camo(`${probe.base}/x.png`));
      assert.equal(probe.connections(), 1);
      // The canary's body is text labelled image/png: the content sniff refuses it, so nothing of it leaks.
      assert.equal(res.status, 400);
      assert.equal(res.text.includes('INTERNAL-SECRET-CANARY'), false);
    } finally {
      await open.close();
      await probe.close();
    }
  });
});

describe('pixgate is not a forward proxy', () => {
  let px: Pixgate;
  before(async () => {
    px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.1/32'] });
  });
  after(() => px.close());

  /** Sends one raw request and returns the status line, or '' when the connection is closed without an answer. */
  function rawRequest(text: string): Promise<string> {
    const { hostname, port } = new URL(px.url);
    return new Promise((resolve) => {
      const socket = connect(Number(port), hostname, () => socket.write(text));
      let got = '';
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('error', () => {});
      socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
      socket.setTimeout(3000, () => socket.destroy());
    });
  }

  test('answers an absolute-form request target with 404, even with 127.0.0.1 allowed', async () => {
    const line = await rawRequest(`GET ${canary.base}/x.png HTTP/1.1\r\nHost: 127.0.0.1:${canary.port}\r\nConnection: close\r\n\r\n`);
    assert.equal(line, 'HTTP/1.1 404 Not Found');
    assertCanariesUntouched();
  });

  test('never tunnels a CONNECT', async () => {
    const line = await rawRequest(`CONNECT 127.0.0.1:${canary.port} HTTP/1.1\r\nHost: 127.0.0.1:${canary.port}\r\n\r\n`);
    assert.doesNotMatch(line, /^HTTP\/1\.1 2/);
    assertCanariesUntouched();
  });
});

/** A name other than localhost that the system resolver maps to 127.x (a hosts-file alias), if there is one. */
async function loopbackAlias(): Promise<string | undefined> {
  const candidates = new Set<string>([hostname()]);
  try {
    for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
      const [addr, ...names] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (addr && /^127\./.test(addr)) for (const n of names) candidates.add(n);
    }
  } catch {
    // no hosts file: only the host name is a candidate
  }
  for (const name of candidates) {
    if (!name || /(^|\.)localhost\.?$/i.test(name) || /(^|\.)localdomain\.?$/i.test(name) || !/^[a-z0-9.-]+$/i.test(name)) continue;
    try {
      const all = await lookup(name, { all: true });
      if (all.length > 0 && all.every((a) => a.address.startsWith('127.'))) return name;
    } catch {
      // not resolvable here
    }
  }
  return undefined;
}

describe('redirects from an allowed origin (127.0.0.2/32 only) to denied addresses', () => {
  let origin: Origin;
  let px: Pixgate;
  before(async () => {
    origin = await startOrigin({ host: '127.0.0.2' });
    origin.route('/img.png', serve(images.png));
    px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--max-redirects', '5'] });
  });
  after(async () => {
    await px.close();
    await origin.close();
  });

  test('the allowed origin on 127.0.0.2 itself is served', async () => {
    const res = await fetchRaw(px.camo(origin.url('/img.png')));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, images.png);
  });

  test('127.0.0.1 stays denied when only 127.0.0.2/32 is allowed', async () => {
    const res = await fetchRaw(px.camo(`${canary.base}/x.png`));
    assert.equal(res.status, 404);
    assert.equal(px.errorCodes().at(-1), 'ADDRESS_DENIED');
    assertCanariesUntouched();
  });

  for (const code of [301, 302, 303, 307, 308]) {
    test(`refuses a ${code} to http://127.0.0.1 with 404 Error Fetching Resource`, async () => {
      const path = `/to-loopback-${code}`;
      origin.route(path, redirect(code, `${canary.base}/x.png`));
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Error Fetching Resource\n');
      assert.equal(origin.hits(path), 1);
      assertCanariesUntouched();
    });
  }

  const targets: ReadonlyArray<readonly [name: string, location: () => string]> = [
    ['decimal 2130706433', () => `http://2130706433:${canary.port}/x.png`],
    ['octal 0177.0.0.1', () => `http://0177.0.0.1:${canary.port}/x.png`],
    ['short 127.1', () => `http://127.1:${canary.port}/x.png`],
    ['IPv4-mapped [::ffff:127.0.0.1]', () => `http://[::ffff:127.0.0.1]:${canary.port}/x.png`],
    ['[::1]', () => `http://[::1]:${port6()}/x.png`],
    ['0.0.0.0', () => `http://0.0.0.0:${canary.port}/x.png`],
    ['localhost', () => `http://localhost:${canary.port}/x.png`],
    ['a scheme-relative //127.0.0.1', () => `//127.0.0.1:${canary.port}/x.png`],
    ['/\\127.0.0.1 (WHATWG reads it as //127.0.0.1)', () => `/\\127.0.0.1:${canary.port}/x.png`],
    ['the allowed origin spelled as userinfo before 127.0.0.1', () => `http://127.0.0.2:${origin.port}@127.0.0.1:${canary.port}/x.png`],
    ['file:///etc/passwd', () => 'file:///etc/passwd'],
    ['gopher:', () => `gopher://127.0.0.1:${canary.port}/_x`],
    ['data:', () => 'data:image/png;base64,iVBORw0KGgo='],
  ];
  for (const [name, location] of targets) {
    test(`refuses a redirect to ${name}`, async () => {
      const path = `/to-${name.replace(/[^a-z0-9]+/gi, '-')}`;
      origin.route(path, redirect(302, location()));
      const res = await fetchRaw(px.camo(origin.url(path)));
      assert.equal(res.status, 404);
      assert.equal(res.text, 'Error Fetching Resource\n');
      assert.equal(origin.hits(path), 1);
      assertCanariesUntouched();
    });
  }

  // security.md §1.3: URL parser differentials. WHATWG URL decides the host; the allowed origin only appears to be it.
  const differentials: ReadonlyArray<readonly [name: string, source: () => string, text: string]> = [
    ['the allowed origin after # @', () => `http://127.0.0.1:${canary.port}#@127.0.0.2:${origin.port}/img.png`, 'Error Fetching Resource\n'],
    ['the allowed origin after ? @', () => `http://127.0.0.1:${canary.port}?@127.0.0.2:${origin.port}/img.png`, 'Error Fetching Resource\n'],
    ['the allowed origin as userinfo', () => `http://127.0.0.2:${origin.port}@127.0.0.1:${canary.port}/x.png`, 'Userinfo URL rejected\n'],
    ['the allowed origin, %2F and userinfo (a startsWith check would pass it)', () => `http://127.0.0.2:${origin.port}%2F@127.0.0.1:${canary.port}/x.png`, 'Userinfo URL rejected\n'],
  ];
  for (const [name, source, text] of differentials) {
    test(`refuses 127.0.0.1 disguised with ${name}`, async () => {
      const res = await fetchRaw(px.camo(source()));
      assert.equal(res.status, 404);
      assert.equal(res.text, text);
      assertCanariesUntouched();
    });
  }

  test('a backslash before @ keeps the allowed origin as the host (WHATWG), never 127.0.0.1', async () => {
    const res = await fetchRaw(px.camo(`http://127.0.0.2:${origin.port}\\@127.0.0.1:${canary.port}/x.png`));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Not Found\n', 'the allowed origin answered 404 for the path /@127.0.0.1:.../x.png');
    assert.equal(origin.last().path, `/@127.0.0.1:${canary.port}/x.png`);
    assertCanariesUntouched();
  });

  test('refuses three same-origin hops followed by a 307 to 127.0.0.1', async () => {
    origin.route('/h1', redirect(302, '/h2')).route('/h2', redirect(301, '/h3')).route('/h3', redirect(307, '/h4'));
    origin.route('/h4', redirect(307, `${canary.base}/x.png`));
    const res = await fetchRaw(px.camo(origin.url('/h1')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Error Fetching Resource\n');
    assert.deepEqual(['/h1', '/h2', '/h3', '/h4'].map((p) => origin.hits(p)), [1, 1, 1, 1]);
    assertCanariesUntouched();
  });
});

describe('credential URLs with --allow-credential-urls', () => {
  let origin: Origin;
  let other: Origin;
  let px: Pixgate;
  before(async () => {
    origin = await startOrigin({ host: '127.0.0.2' });
    other = await startOrigin({ host: '127.0.0.3' });
    origin.route('/img.png', serve(images.png));
    other.route('/img.png', serve(images.png));
    origin.route('/moved', redirect(302, '/img.png'));
    origin.route('/moved-away', redirect(302, other.url('/img.png')));
    px = await startPixgate({
      argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--allow-network', '127.0.0.3/32', '--allow-credential-urls'],
    });
  });
  after(async () => {
    await px.close();
    await origin.close();
    await other.close();
  });

  const basic = `Basic ${Buffer.from('us er:p@ss').toString('base64')}`;

  test('sends the userinfo as Basic auth, and keeps it on a same-origin relative redirect (as Go\'s client does)', async () => {
    const res = await fetchRaw(px.camo(`http://us%20er:p%40ss@127.0.0.2:${origin.port}/moved`));
    assert.equal(res.status, 200);
    assert.equal(origin.last('/moved').headers.authorization, basic);
    assert.equal(origin.last('/img.png').headers.authorization, basic);
  });

  test('never sends the credentials to the host of a cross-origin redirect', async () => {
    const res = await fetchRaw(px.camo(`http://us%20er:p%40ss@127.0.0.2:${origin.port}/moved-away`));
    assert.equal(res.status, 200);
    assert.equal(origin.last('/moved-away').headers.authorization, basic);
    assert.equal(other.last('/img.png').headers.authorization, undefined);
  });
});

describe('filter ruleset', () => {
  let dir: string;
  let allowed: Origin;
  let other: Origin;
  let px: Pixgate;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-ruleset-'));
    allowed = await startOrigin({ host: '127.0.0.2' });
    other = await startOrigin({ host: '127.0.0.3' });
    for (const o of [allowed, other]) o.route('/img.png', serve(images.png)).route('/secret/x.png', serve(images.png));
    allowed.route('/to-secret', redirect(302, '/secret/x.png'));
    allowed.route('/to-SECRET', redirect(302, '/SECRET/x.png'));
    allowed.route('/SECRET/x.png', serve(images.png));
    allowed.route('/to-other', redirect(302, other.url('/img.png')));
    allowed.route('/to-img', redirect(302, '/img.png'));
    const rules = join(dir, 'rules.txt');
    writeFileSync(rules, ['# only 127.0.0.2, and never its /secret/ tree', 'allow||127.0.0.2||', 'deny||127.0.0.2||/secret/*', ''].join('\n'));
    px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--allow-network', '127.0.0.3/32', '--filter-ruleset', rules] });
  });
  after(async () => {
    await px.close();
    await allowed.close();
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serves a URL that an allow rule matches and no deny rule does', async () => {
    assert.equal((await fetchRaw(px.camo(allowed.url('/img.png')))).status, 200);
  });

  test('refuses a first URL matching a deny rule with 404 Rejected due to filter-ruleset', async () => {
    const res = await fetchRaw(px.camo(allowed.url('/secret/x.png')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Rejected due to filter-ruleset\n');
    assert.equal(allowed.hits('/secret/x.png'), 0);
  });

  test('refuses a first URL that no allow rule matches (two-phase evaluation)', async () => {
    const res = await fetchRaw(px.camo(other.url('/img.png')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Rejected due to filter-ruleset\n');
    assert.equal(other.hits(), 0);
  });

  test('refuses a redirect hop into a denied path with 404 Error Fetching Resource (go-camo)', async () => {
    const res = await fetchRaw(px.camo(allowed.url('/to-secret')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Error Fetching Resource\n');
    assert.equal(allowed.hits('/secret/x.png'), 0);
  });

  test('a deny path glob is case-sensitive without the i flag', async () => {
    const res = await fetchRaw(px.camo(allowed.url('/to-SECRET')));
    assert.equal(res.status, 200);
  });

  test('refuses a redirect hop to a host no allow rule matches', async () => {
    const res = await fetchRaw(px.camo(allowed.url('/to-other')));
    assert.equal(res.status, 404);
    assert.equal(res.text, 'Error Fetching Resource\n');
    assert.equal(other.hits(), 0);
  });

  test('follows a redirect hop the rules allow', async () => {
    const res = await fetchRaw(px.camo(allowed.url('/to-img')));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, images.png);
  });

  test('a bad line stops the start, naming the line', async () => {
    const bad = join(dir, 'bad.txt');
    writeFileSync(bad, 'allow||127.0.0.2||\nAllow|s|example.com||\n');
    await assert.rejects(
      startPixgate({ argv: ['-k', TEST_KEY, '--filter-ruleset', bad] }),
      (err: unknown) => err instanceof StartupError && /--filter-ruleset=.*bad\.txt/.test(err.message) && /line 2/.test(err.message),
    );
  });

  test('a missing ruleset file stops the start', async () => {
    await assert.rejects(startPixgate({ argv: ['-k', TEST_KEY, '--filter-ruleset', join(dir, 'nope.txt')] }), StartupError);
  });
});
