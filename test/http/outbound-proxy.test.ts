import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { serve, startOrigin, testImages } from '../helpers/origin.js';
import { fetchRaw, startPixgate, TEST_KEY } from '../helpers/pixgate.js';

/** A CONNECT proxy on loopback that maps the name `origin.test` to a loopback port and records what it was asked. */
async function startProxy(originPort: number): Promise<{ url: string; connects: string[]; close(): Promise<void> }> {
  const connects: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.statusCode = 405;
    res.end();
  });
  server.on('connect', (req, client: Socket) => {
    connects.push(req.url ?? '');
    sockets.add(client);
    const [host, port] = (req.url ?? '').split(':');
    if (host !== 'origin.test') {
      client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    const upstream = connect(originPort, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    void port;
    sockets.add(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connects,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

test('camo fetches through HTTP_PROXY, and the proxy, not pixgate, resolves the name', async (t) => {
  const images = await testImages();
  const origin = await startOrigin();
  origin.route('/a.png', serve(images.png, { type: 'image/png' }));
  const proxy = await startProxy(origin.port);
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: proxy.url } });
  t.after(async () => {
    await px.close();
    await proxy.close();
    await origin.close();
  });
  const res = await fetchRaw(px.camo(`http://origin.test:${origin.port}/a.png`));
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, images.png);
  assert.deepEqual(proxy.connects, [`origin.test:${origin.port}`]);
});

test('a denied IP literal is refused before it reaches the proxy, and so is the proxy itself', async (t) => {
  const origin = await startOrigin();
  const proxy = await startProxy(origin.port);
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
  assert.deepEqual(proxy.connects, []);
  assert.equal(origin.hits(), 0);
});

test('NO_PROXY hosts go direct, where the connect-time address check applies again', async (t) => {
  const origin = await startOrigin();
  const proxy = await startProxy(origin.port);
  const px = await startPixgate({ env: { PIXGATE_CAMO_KEYS: TEST_KEY, HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' } });
  t.after(async () => {
    await px.close();
    await proxy.close();
    await origin.close();
  });
  const res = await fetchRaw(px.camo(`http://127.0.0.1:${origin.port}/a.png`));
  assert.equal(res.status, 404);
  assert.deepEqual(proxy.connects, []);
  assert.ok(px.errorCodes().includes('ADDRESS_DENIED'), 'refused by the connect-time check of the direct path');
  assert.equal(origin.hits(), 0);
});
