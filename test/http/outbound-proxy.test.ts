import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, startOrigin, testImages } from '../helpers/origin.js';
import { camoUrl, fetchRaw, spawnPixgate, startPixgate, TEST_KEY } from '../helpers/pixgate.js';

interface TestProxy {
  readonly url: string;
  readonly port: number;
  /** Request lines received, in order: `GET http://host:port/path` or `CONNECT host:port`. */
  readonly seen: string[];
  close(): Promise<void>;
}

/**
 * A forward proxy on loopback that behaves like stock squid: absolute-form requests for http:// targets,
 * CONNECT only to port 443 (403 otherwise), 400 for an origin-form request. It resolves names itself, from
 * `names` (`host:port` -> a loopback port), so nothing ever leaves loopback; any other name gets 502.
 */
async function startProxy(names: Readonly<Record<string, number>>): Promise<TestProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('origin-form request to a proxy');
      return;
    }
    const port = target.protocol === 'http:' ? names[`${target.hostname}:${target.port || 80}`] : undefined;
    if (port === undefined) {
      res.writeHead(502).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    delete headers['proxy-authorization'];
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: target.pathname + target.search, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  server.on('connect', (req, client: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    const [host, portText] = (req.url ?? '').split(':');
    if (portText !== '443') {
      client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const port = names[`${host}:${portText}`];
    if (port === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test('camo fetches an http:// origin through HTTP_PROXY as an absolute-form GET, and the proxy resolves the name', async (t) => {
  const images = await testImages();
  const origin = await startOrigin();
  origin.route('/a.png', serve(images.png, { type: 'image/png' }));
  const proxy = await startProxy({ [`origin.test:${origin.port}`]: origin.port });
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: proxy.url } });
  t.after(async () => {
    await px.close();
    await proxy.close();
    await origin.close();
  });
  const res = await fetchRaw(px.camo(`http://origin.test:${origin.port}/a.png?v=1`));
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, images.png);
  assert.deepEqual(proxy.seen, [`GET http://origin.test:${origin.port}/a.png?v=1`]);
  assert.equal(origin.last('/a.png').headers.host, `origin.test:${origin.port}`);
});

test('an https:// source through HTTPS_PROXY is asked for with CONNECT host:443, and nothing in the clear', async (t) => {
  const origin = await startOrigin();
  const proxy = await startProxy({});
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url } });
  t.after(async () => {
    await px.close();
    await proxy.close();
    await origin.close();
  });
  const res = await fetchRaw(px.camo('https://secure.test/a.png'));
  assert.equal(res.status, 404); // the proxy knows no secure.test
  const other = await fetchRaw(px.camo('https://secure.test:8443/a.png'));
  assert.equal(other.status, 404); // CONNECT to a port other than 443 is refused, as squid does
  assert.deepEqual(proxy.seen, ['CONNECT secure.test:443', 'CONNECT secure.test:8443']);
});

test('an https:// origin is fetched end to end through the CONNECT tunnel (pixgate in a child that trusts a test CA)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'pixgate-proxy-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=secure.test', '-addext', 'subjectAltName=DNS:secure.test', '-keyout', keyFile, '-out', certFile,
    ], { stdio: 'ignore' });
  } catch {
    return t.skip('no openssl');
  }
  const images = await testImages();
  const tls = createHttpsServer({ key: readFileSync(keyFile), cert: readFileSync(certFile) }, (req, res) => {
    if (req.url === '/a.png' && req.headers.host === 'secure.test') {
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': images.png.length });
      res.end(images.png);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
  const proxy = await startProxy({ 'secure.test:443': (tls.address() as AddressInfo).port });
  const child = spawnPixgate(['--listen', '127.0.0.1:0'], { PIXGATE_CAMO_KEYS: TEST_KEY, HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: certFile });
  t.after(async () => {
    await child.stop();
    await proxy.close();
    tls.closeAllConnections();
    await new Promise<void>((r) => tls.close(() => r()));
  });
  const base = (await child.waitFor(/listening address="(http:\/\/[^"]+)"/))[1]!;
  const res = await fetchRaw(camoUrl(base, 'https://secure.test/a.png', TEST_KEY));
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.body, images.png);
  assert.deepEqual(proxy.seen, ['CONNECT secure.test:443']);
});

test('a denied IP literal is refused before it reaches the proxy, and so is the proxy itself', async (t) => {
  const origin = await startOrigin();
  const proxy = await startProxy({});
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: proxy.url } });
  t.after(async () => {
    await px.close();
    await proxy.close();
    await origin.close();
  });
  for (const target of [`http://127.0.0.1:${origin.port}/a.png`, `http://[::ffff:7f00:1]:${origin.port}/a.png`, `${proxy.url}/x.png`]) {
    const res = await fetchRaw(px.camo(target));
    assert.equal(res.status, 404, target);
  }
  assert.deepEqual(proxy.seen, []);
  assert.equal(origin.hits(), 0);
});

test('the proxy is refused as a source however its address is spelled, even where the address policy would allow it', async (t) => {
  const proxy = await startProxy({});
  // 127.0.0.0/8 allowed, so only the proxy check stands between these URLs and the proxy.
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: `127.0.0.1:${proxy.port}`, PIXGATE_ALLOW_NETWORKS: '127.0.0.0/8' } });
  t.after(async () => {
    await px.close();
    await proxy.close();
  });
  const spellings = [
    `http://127.0.0.1:${proxy.port}/x.png`,
    `http://127.0.0.1.:${proxy.port}/x.png`,
    `http://[::ffff:127.0.0.1]:${proxy.port}/x.png`,
    `https://127.0.0.1:${proxy.port}/x.png`,
  ];
  for (const target of spellings) {
    const res = await fetchRaw(px.camo(target));
    assert.equal(res.status, 404, target);
  }
  assert.deepEqual(px.errorCodes(), spellings.map(() => 'FILTER_REJECTED'));
  assert.deepEqual(proxy.seen, []);
});

test('NO_PROXY hosts go direct, where the connect-time address check applies again', async (t) => {
  const origin = await startOrigin();
  const proxy = await startProxy({});
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } });
  t.after(async () => {
    await px.close();
    await proxy.close();
    await origin.close();
  });
  const res = await fetchRaw(px.camo(`http://127.0.0.1:${origin.port}/a.png`));
  assert.equal(res.status, 404);
  assert.deepEqual(proxy.seen, []);
  assert.ok(px.errorCodes().includes('ADDRESS_DENIED'), 'refused by the connect-time check of the direct path');
  assert.equal(origin.hits(), 0);
});

test('a NO_PROXY host is fetched directly, in origin form, when the address policy allows it', async (t) => {
  const images = await testImages();
  const origin = await startOrigin({ host: '127.0.0.2' });
  origin.route('/a.png', serve(images.png, { type: 'image/png' }));
  const proxy = await startProxy({});
  const px = await startPixgate({
    env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: proxy.url, NO_PROXY: 'example.invalid, 127.0.0.2', PIXGATE_ALLOW_NETWORKS: '127.0.0.2/32' },
  });
  t.after(async () => {
    await px.close();
    await proxy.close();
    await origin.close();
  });
  const res = await fetchRaw(px.camo(`http://127.0.0.2:${origin.port}/a.png`));
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, images.png);
  assert.equal(origin.last('/a.png').url, '/a.png');
  assert.deepEqual(proxy.seen, []);
});

test('start-up warns that the proxy must refuse private destinations, without logging its password', async (t) => {
  const proxy = await startProxy({});
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTPS_PROXY: `http://user:hunter2@127.0.0.1:${proxy.port}` } });
  t.after(async () => {
    await px.close();
    await proxy.close();
  });
  const warning = px.logs.find((r) => r.level === 40 && /outbound proxy/.test(r.msg ?? ''));
  assert.ok(warning, 'a warning about the outbound proxy');
  assert.match(warning.msg ?? '', /must refuse private/);
  assert.match(warning.msg ?? '', /NO_PROXY/);
  assert.deepEqual(warning.proxies, [`127.0.0.1:${proxy.port}`]);
  assert.ok(!JSON.stringify(px.logs).includes('hunter2'));
});

test('no proxy warning without a proxy', async (t) => {
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY } });
  t.after(() => px.close());
  assert.equal(px.logs.some((r) => /outbound proxy/.test(r.msg ?? '')), false);
});
