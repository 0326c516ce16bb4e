// Cases added by the defence check (docs/security.md, "Defence check"): with each defence switched off in turn,
// these were the defences the catalogue files did not notice, or noticed for one job only. Against BOTH jobs
// where both have the defence: the redirect loop check below the hop cap, the refusal of stacked and unknown
// Content-Encodings on the header, and the address check of IP literals that go through an outbound proxy.
// Everything listens on loopback; the proxy never forwards, it only records and answers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { redirect, startOrigin, testImages, type Origin, type TestImages } from '../helpers/origin.js';
import type { Pixgate } from '../helpers/pixgate.js';
import { assertRefused, CANARY_TEXT, codesDuring, JOBS, jobPath, rawGet, startSecure } from './harness.js';

let images: TestImages;
let origin: Origin;

before(async () => {
  images = await testImages();
  origin = await startOrigin({ host: '127.0.0.3' });
});

after(async () => {
  await origin?.close();
});

describe('redir-loop-under-cap: a loop is refused when it comes round, not at --max-redirects', () => {
  let px: Pixgate;
  before(async () => {
    px = await startSecure(['--allow-network', '127.0.0.3/32', '--max-redirects', '20']);
  });
  after(async () => {
    await px?.close();
  });

  for (const job of JOBS) {
    test(`redir-loop-under-cap [${job}]: ping -> pong -> ping with 20 hops allowed asks the origin for each URL once`, async () => {
      const ping = `/ping-${job}`;
      const pong = `/pong-${job}`;
      origin.route(ping, redirect(302, pong)).route(pong, redirect(307, origin.url(ping)));
      const { value: res, codes } = await codesDuring(px, () => rawGet(px.url, jobPath(job, origin.url(ping))));
      assertRefused(res, 'redir-loop-under-cap');
      assert.deepEqual(codes, ['TOO_MANY_REDIRECTS']);
      assert.deepEqual([origin.hits(ping), origin.hits(pong)], [1, 1]);
    });
  }
});

describe('exhaust-encoding-on-header [imagor]: a Content-Encoding the loader cannot undo in one step is refused before the body', () => {
  // The body starts with a real PNG and then stalls: a loader that let the encoding through would wait for the
  // load deadline (408) or hand the bytes to the decoder as they are.
  const LOAD_TIMEOUT_MS = 6000;
  let px: Pixgate;
  before(async () => {
    px = await startSecure(['--allow-network', '127.0.0.3/32', '--imagor-load-timeout', `${LOAD_TIMEOUT_MS}ms`]);
  });
  after(async () => {
    await px?.close();
  });

  const encodings = ['gzip, gzip', 'gzip,gzip', 'deflate, gzip', 'gzip, br', 'identity, gzip', 'zstd', 'compress', 'x-custom'];
  for (const encoding of encodings) {
    test(`exhaust-encoding-on-header [imagor]: Content-Encoding: ${encoding} gets 406 at once`, async () => {
      const path = `/enc-${encoding.replace(/[^a-z]+/g, '-')}.png`;
      origin.route(path, (_req, res) => {
        res.on('error', () => {});
        res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Encoding': encoding });
        res.write(images.png.subarray(0, 64));
      });
      const { value: res, codes } = await codesDuring(px, () => rawGet(px.url, jobPath('imagor', origin.url(path)), { timeoutMs: LOAD_TIMEOUT_MS + 5000 }));
      assert.equal(res.status, 406, `got ${res.status} after ${res.ms} ms`);
      assert.deepEqual(codes, ['UNSUPPORTED_FORMAT']);
      assert.ok(res.ms < 2000, `took ${res.ms} ms`);
    });
  }
});

/** A forward proxy on loopback that records each request line and answers everything with a PNG; never forwards. */
async function startRecordingProxy(png: Buffer): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length, 'X-Canary': CANARY_TEXT });
    res.end(png);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req, client: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    client.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('ssrf-proxied-literal: behind HTTP_PROXY, denied IP literals are refused by pixgate, not left to the proxy', () => {
  let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
  let px: Pixgate;
  before(async () => {
    proxy = await startRecordingProxy(images.png);
    px = await startSecure([], { HTTP_PROXY: proxy.url });
  });
  after(async () => {
    await px?.close();
    await proxy?.close();
  });

  for (const job of JOBS) {
    test(`control [${job}]: a named source goes to the proxy and is served`, async () => {
      const before = proxy.seen.length;
      const source = `http://images.example/${job}.png`;
      const res = await rawGet(px.url, jobPath(job, source));
      assert.equal(res.status, 200);
      assert.deepEqual(proxy.seen.slice(before), [`GET ${source}`]);
    });
  }

  const literals: ReadonlyArray<readonly [id: string, source: string]> = [
    ['metadata', 'http://169.254.169.254/latest/meta-data/'],
    ['rfc1918', 'http://10.0.0.1/x.png'],
    ['loopback', 'http://127.0.0.1:9/x.png'],
    ['mapped', 'http://[::ffff:a9fe:a9fe]/latest/meta-data/'],
    ['aws-ipv6', 'http://[fd00:ec2::254]/latest/meta-data/'],
    ['nat64', 'http://[64:ff9b::a9fe:a9fe]/latest/meta-data/'],
    ['decimal', 'http://2852039166/latest/meta-data/'],
  ];
  for (const [id, source] of literals) {
    for (const job of JOBS) {
      test(`ssrf-proxied-literal-${id} [${job}]: ${source} is refused before the proxy sees it`, async () => {
        const before = proxy.seen.length;
        const { value: res, codes } = await codesDuring(px, () => rawGet(px.url, jobPath(job, source)));
        assertRefused(res, id);
        assert.deepEqual(codes, ['ADDRESS_DENIED']);
        assert.deepEqual(proxy.seen.slice(before), []);
      });
    }
  }
});
