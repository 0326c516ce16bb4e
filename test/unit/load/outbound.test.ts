import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Agent } from 'undici';
import { createOutbound, endpointKey, parseProxyUri, type OutboundOptions } from '../../../src/load/outbound.js';

function outbound(opts: Partial<OutboundOptions>) {
  const direct = new Agent();
  const o = createOutbound({ direct, httpProxy: undefined, httpsProxy: undefined, noProxy: '', keepAlive: true, ...opts });
  return { ...o, close: () => o.dispatcher.destroy() };
}

test('parseProxyUri reads a URL, or host:port as http:// (as Go reads HTTP_PROXY)', () => {
  const cases: [string, string | undefined][] = [
    ['proxy.corp:3128', 'http://proxy.corp:3128/'],
    ['proxy.corp', 'http://proxy.corp/'],
    ['http://user:pw@proxy.corp:3128', 'http://user:pw@proxy.corp:3128/'],
    ['https://proxy.corp', 'https://proxy.corp/'],
    ['HTTP://Proxy.Corp:3128', 'http://proxy.corp:3128/'],
    ['10.0.0.5:8080', 'http://10.0.0.5:8080/'],
    ['[fd00::5]:8080', 'http://[fd00::5]:8080/'],
    ['proxy.corp:99999', undefined],
    ['http://', undefined],
    ['proxy corp:3128', undefined],
  ];
  for (const [value, href] of cases) assert.equal(parseProxyUri(value)?.href, href, value);
});

test('endpointKey fills in the default port of the scheme, strips a trailing dot and writes addresses one way', () => {
  const cases: [string, string][] = [
    ['http://proxy.corp/', 'proxy.corp:80'],
    ['https://proxy.corp/', 'proxy.corp:443'],
    ['http://PROXY.corp.:3128/', 'proxy.corp:3128'],
    ['http://proxy.corp..:3128/', 'proxy.corp:3128'],
    ['http://[::ffff:127.0.0.1]:3128/', '127.0.0.1:3128'],
    ['http://[0:0:0:0:0:0:0:1]:3128/', '[::1]:3128'],
    ['socks5://proxy.corp/', 'proxy.corp:1080'],
  ];
  for (const [url, key] of cases) assert.equal(endpointKey(new URL(url)), key, url);
});

test('isProxy refuses every spelling of the proxy host and port, and nothing else', async () => {
  const o = outbound({ httpProxy: 'proxy.corp:3128', httpsProxy: 'https://Secure-Proxy.corp' });
  try {
    const same = [
      'http://proxy.corp:3128/a.png',
      'http://PROXY.corp:3128/a.png',
      'http://proxy.corp.:3128/a.png',
      'http://Proxy.Corp.:3128/a.png',
      'https://proxy.corp:3128/a.png',
      'http://proxy.corp..:3128/a.png',
      'https://secure-proxy.corp/a.png',
      'https://secure-proxy.corp.:443/a.png',
      'http://secure-proxy.corp:443/a.png',
    ];
    for (const u of same) assert.equal(o.isProxy(new URL(u)), true, u);
    const other = [
      'http://proxy.corp/a.png',
      'http://proxy.corp:3129/a.png',
      'http://sub.proxy.corp:3128/a.png',
      'http://proxy.corp.evil:3128/a.png',
      'http://secure-proxy.corp/a.png',
      'https://secure-proxy.corp:8443/a.png',
    ];
    for (const u of other) assert.equal(o.isProxy(new URL(u)), false, u);
    assert.deepEqual(o.proxies, ['proxy.corp:3128', 'secure-proxy.corp:443']);
  } finally {
    await o.close();
  }
});

test('isProxy matches an IP-literal proxy written as an IPv4-mapped IPv6 address', async () => {
  const o = outbound({ httpProxy: 'http://10.0.0.5:3128' });
  try {
    assert.equal(o.isProxy(new URL('http://[::ffff:10.0.0.5]:3128/')), true);
    assert.equal(o.isProxy(new URL('http://[::ffff:a00:5]:3128/')), true);
    assert.equal(o.isProxy(new URL('http://10.0.0.6:3128/')), false);
  } finally {
    await o.close();
  }
});

test('a proxy listed with a default port matches targets that leave the port out', async () => {
  const o = outbound({ httpProxy: 'http://proxy.corp:80' });
  try {
    assert.equal(o.isProxy(new URL('http://proxy.corp./x')), true);
    assert.equal(o.isProxy(new URL('https://proxy.corp:80/x')), true);
    assert.equal(o.isProxy(new URL('https://proxy.corp/x')), false);
  } finally {
    await o.close();
  }
});

test('routes by scheme and NO_PROXY', async () => {
  const o = outbound({ httpProxy: 'proxy.corp:3128', noProxy: 'internal.corp, 10.1.2.3' });
  try {
    assert.equal(o.isProxied(new URL('http://images.example/a.png')), true);
    assert.equal(o.isProxied(new URL('https://images.example/a.png')), false, 'no HTTPS_PROXY: https goes direct');
    assert.equal(o.isProxied(new URL('http://cdn.internal.corp/a.png')), false);
    assert.equal(o.isProxied(new URL('http://10.1.2.3/a.png')), false);
  } finally {
    await o.close();
  }
});

test('without a proxy nothing is proxied and nothing is the proxy', async () => {
  const o = outbound({});
  try {
    assert.equal(o.isProxied(new URL('http://images.example/a.png')), false);
    assert.equal(o.isProxy(new URL('http://images.example/a.png')), false);
    assert.deepEqual(o.proxies, []);
  } finally {
    await o.close();
  }
});

test('a proxy value that is not a URL or host:port throws', () => {
  assert.throws(() => createOutbound({ direct: new Agent(), httpProxy: 'http://[oops', httpsProxy: undefined, noProxy: '', keepAlive: true }));
});

// ---------------------------------------------------------------------------------------------------------
// On the wire, against a recording proxy on loopback (it never forwards anything).

interface Seen {
  readonly line: string;
  readonly headers: IncomingHttpHeaders;
}

async function recordingProxy() {
  const seen: Seen[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push({ line: `${req.method} ${req.url}`, headers: req.headers });
    res.end('from proxy');
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  server.on('connect', (req, socket: Socket) => {
    seen.push({ line: `CONNECT ${req.url}`, headers: req.headers });
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test('an http:// origin goes to the proxy as an absolute-form GET, with the proxy credentials', async () => {
  const proxy = await recordingProxy();
  const o = outbound({ httpProxy: `http://user:s%40cret@127.0.0.1:${proxy.port}` });
  try {
    const res = await o.dispatcher.request({ origin: 'http://origin.test:8080', path: '/a.png?v=1', method: 'GET' });
    assert.equal(await res.body.text(), 'from proxy');
    assert.deepEqual(proxy.seen.map((s) => s.line), ['GET http://origin.test:8080/a.png?v=1']);
    assert.equal(proxy.seen[0]!.headers.host, 'origin.test:8080');
    assert.equal(proxy.seen[0]!.headers['proxy-authorization'], `Basic ${Buffer.from('user:s@cret').toString('base64')}`);
  } finally {
    await o.close();
    await proxy.close();
  }
});

test('an https:// origin is tunnelled with CONNECT host:port, never sent in the clear', async () => {
  const proxy = await recordingProxy();
  const o = outbound({ httpsProxy: `127.0.0.1:${proxy.port}` });
  try {
    await assert.rejects(o.dispatcher.request({ origin: 'https://secure.test', path: '/a.png', method: 'GET' }));
    await assert.rejects(o.dispatcher.request({ origin: 'https://secure.test:8443', path: '/a.png', method: 'GET' }));
    assert.deepEqual(proxy.seen.map((s) => s.line), ['CONNECT secure.test:443', 'CONNECT secure.test:8443']);
  } finally {
    await o.close();
    await proxy.close();
  }
});

test('the absolute-form path keeps connections alive only when keep-alive is on', async () => {
  for (const keepAlive of [true, false]) {
    const proxy = await recordingProxy();
    const o = outbound({ httpProxy: `127.0.0.1:${proxy.port}`, keepAlive });
    try {
      const res = await o.dispatcher.request({ origin: 'http://origin.test', path: '/', method: 'GET' });
      await res.body.text();
      assert.equal(proxy.seen[0]?.line, 'GET http://origin.test/');
      assert.equal(proxy.seen[0]?.headers.connection, keepAlive ? 'keep-alive' : 'close', `keepAlive ${keepAlive}`);
    } finally {
      await o.close();
      await proxy.close();
    }
  }
});

test('a NO_PROXY origin is fetched directly, in origin form', async () => {
  const server = await recordingProxy(); // here it plays the origin
  const proxy = await recordingProxy();
  const o = outbound({ httpProxy: `127.0.0.1:${proxy.port}`, noProxy: '127.0.0.1' });
  try {
    const res = await o.dispatcher.request({ origin: `http://127.0.0.1:${server.port}`, path: '/a.png', method: 'GET' });
    await res.body.text();
    assert.deepEqual(server.seen.map((s) => s.line), ['GET /a.png']);
    assert.deepEqual(proxy.seen, []);
  } finally {
    await o.close();
    await proxy.close();
    await server.close();
  }
});
