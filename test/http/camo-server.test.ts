// The server around the camo job (issue 2 "Serving", camo.md §2.2 and §6): /healthcheck, /metrics with go-camo's
// metric names only with --metrics, client keep-alive and --no-fk, HTTPS with HTTP/2 and HTTP/1.1, the unix socket
// listener, and logs that never carry a key or a signed URL at info level.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as http2Connect, constants as h2 } from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/observe/log.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createApp, StartupError } from '../../src/server/app.js';
import { createHandler } from '../../src/server/handler.js';
import { closeListeners, resolveHttpAddress, startListeners } from '../../src/server/listen.js';
import { loadSettings } from '../../src/settings/load.js';
import { version } from '../../src/version.js';
import { serve, startOrigin, testImages, type Origin, type TestImages } from '../helpers/origin.js';
import { fetchRaw, repoRoot, startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';

let images: TestImages;
let origin: Origin;
let dir: string;

before(async () => {
  images = await testImages();
  origin = await startOrigin({ host: '127.0.0.2' });
  origin.route('/img.png', serve(images.png, { headers: { 'Cache-Control': 'max-age=60' } }));
  dir = mkdtempSync(join(tmpdir(), 'pixgate-server-'));
});

after(async () => {
  await origin.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('/healthcheck', () => {
  test('answers 200 with an empty body to GET and HEAD, key or no key', async () => {
    const noKey = await startPixgate();
    try {
      for (const method of ['GET', 'HEAD']) {
        const res = await fetchRaw(noKey.url + '/healthcheck', { method });
        assert.equal(res.status, 200);
        assert.equal(res.body.length, 0);
        assert.equal(res.headers['x-content-type-options'], 'nosniff');
      }
    } finally {
      await noKey.close();
    }
  });
});

describe('/metrics', () => {
  // camo.md §6 metrics table (go-camo names, typos included)
  const GO_CAMO_METRICS = [
    'camo_response_duration_seconds',
    'camo_response_size_bytes',
    'camo_responses_total',
    'camo_proxy_content_length_exceeded_total',
    'camo_proxy_reponses_failed_total',
    'camo_proxy_reponses_truncated_total',
    'camo_build_info',
  ];

  test('is absent without --metrics, and so is /debug/vars', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY] });
    try {
      assert.equal((await fetchRaw(px.url + '/metrics')).status, 404);
      // Only camo is on, so /debug/vars reads as a camo URL with a bad digest: 403, as go-camo without debug vars.
      const vars = await fetchRaw(px.url + '/debug/vars');
      assert.equal(vars.status, 403);
      assert.doesNotMatch(vars.text, /cmdline|memstats/);
    } finally {
      await px.close();
    }
  });

  test("serves go-camo's metric names and the process and Node.js defaults with --metrics, never the key", async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--metrics', '--allow-network', '127.0.0.2/32'] });
    try {
      assert.equal((await fetchRaw(px.camo(origin.url('/img.png')))).status, 200);
      const res = await fetchRaw(px.url + '/metrics');
      assert.equal(res.status, 200);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      for (const name of GO_CAMO_METRICS) assert.match(res.text, new RegExp(`^# TYPE ${name} `, 'm'), name);
      assert.match(res.text, /^# TYPE camo_response_duration_seconds histogram$/m);
      assert.match(res.text, /^# TYPE camo_responses_total counter$/m);
      // promhttp (go-camo's instrumentation) lower-cases the method label.
      assert.match(res.text, /^camo_responses_total\{code="200",method="get"\} 1$/m);
      assert.match(res.text, /^camo_response_size_bytes_bucket\{le="1024"\} 1$/m, 'size buckets start at 1 KiB');
      assert.match(res.text, /^camo_response_size_bytes_bucket\{le="524288"\} /m, '... and end at 512 KiB');
      assert.match(res.text, /^process_cpu_seconds_total /m);
      assert.match(res.text, /^nodejs_heap_size_total_bytes /m);
      assert.equal(res.text.includes(TEST_KEY), false);
      const vars = await fetchRaw(px.url + '/debug/vars');
      assert.equal(vars.status, 403, 'no expvar endpoint exposes the command line');
      assert.doesNotMatch(vars.text, /cmdline|memstats/);
    } finally {
      await px.close();
    }
  });

  test('does not count its own scrapes in camo_responses_total (go-camo)', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--metrics'] });
    try {
      await fetchRaw(px.url + '/metrics');
      const res = await fetchRaw(px.url + '/metrics');
      assert.doesNotMatch(res.text, /^camo_responses_total\{/m);
    } finally {
      await px.close();
    }
  });

  test('counts every response but a scrape, as go-camo\'s instrumented router: method label, size and duration', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--metrics'] });
    try {
      assert.equal((await fetchRaw(px.url + '/healthcheck')).status, 200);
      assert.equal((await fetchRaw(px.url + '/healthcheck', { method: 'HEAD' })).status, 200);
      const notFound = await fetchRaw(px.url + '/no/such/thing');
      assert.equal(notFound.status, 404);
      assert.ok(notFound.body.length > 0);
      const res = await fetchRaw(px.url + '/metrics');
      assert.match(res.text, /^camo_responses_total\{code="200",method="get"\} 1$/m);
      assert.match(res.text, /^camo_responses_total\{code="200",method="head"\} 1$/m);
      assert.match(res.text, /^camo_responses_total\{code="404",method="get"\} 1$/m);
      assert.match(res.text, /^camo_response_size_bytes_count 3$/m);
      assert.match(res.text, new RegExp(`^camo_response_size_bytes_sum ${notFound.body.length}$`, 'm'), 'the error body is counted');
      assert.match(res.text, /^camo_response_duration_seconds_count 3$/m);
    } finally {
      await px.close();
    }
  });

  test('labels camo_build_info with the package version, or APP_INFO_* when set', async () => {
    const { version } = JSON.parse(readFileSync(`${repoRoot}package.json`, 'utf8')) as { version: string };
    const plain = await startPixgate({ argv: ['--metrics'] });
    const custom = await startPixgate({ argv: ['--metrics'], env: { APP_INFO_VERSION: '9.9.9', APP_INFO_REVISION: 'abc123', APP_INFO_BRANCH: 'release' } });
    try {
      const a = (await fetchRaw(plain.url + '/metrics')).text;
      assert.match(a, new RegExp(`^camo_build_info\\{[^}]*version="${version.replace(/\./g, '\\.')}"[^}]*\\} 1$`, 'm'));
      const b = (await fetchRaw(custom.url + '/metrics')).text;
      assert.match(b, /^camo_build_info\{[^}]*version="9\.9\.9"[^}]*\} 1$/m);
      assert.match(b, /^camo_build_info\{[^}]*revision="abc123"[^}]*branch="release"[^}]*\} 1$/m);
    } finally {
      await plain.close();
      await custom.close();
    }
  });
});

describe('client keep-alive', () => {
  test('keeps client connections alive by default', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY] });
    try {
      const res = await fetchRaw(px.url + '/healthcheck', { headers: { connection: 'keep-alive' } });
      assert.equal(res.headers.connection, 'keep-alive');
    } finally {
      await px.close();
    }
  });

  test('--no-fk answers every request with Connection: close, errors included', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--no-fk', '--allow-network', '127.0.0.2/32'] });
    try {
      for (const url of [px.url + '/healthcheck', px.camo(origin.url('/img.png')), px.url + '/x/y/z']) {
        const res = await fetchRaw(url, { headers: { connection: 'keep-alive' } });
        assert.equal(res.headers.connection, 'close', url);
      }
    } finally {
      await px.close();
    }
  });
});

describe('origin keep-alive', () => {
  test('reuses one connection to an origin by default', async () => {
    const own = await startOrigin({ host: '127.0.0.2' });
    own.route('/img.png', serve(images.png));
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32'] });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetchRaw(px.camo(own.url('/img.png')))).status, 200);
      assert.equal(own.hits('/img.png'), 3);
      assert.equal(own.connections(), 1);
    } finally {
      await px.close();
      await own.close();
    }
  });

  test('--no-bk opens a new connection for every request', async () => {
    const own = await startOrigin({ host: '127.0.0.2' });
    own.route('/img.png', serve(images.png));
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--no-bk'] });
    try {
      for (let i = 0; i < 3; i++) assert.equal((await fetchRaw(px.camo(own.url('/img.png')))).status, 200);
      assert.equal(own.hits('/img.png'), 3);
      assert.equal(own.connections(), 3);
    } finally {
      await px.close();
      await own.close();
    }
  });
});

describe('--ssl-listen', () => {
  let px: Pixgate | undefined;
  let cert: Buffer;
  let httpsUrl = '';

  before(async () => {
    const keyFile = join(dir, 'key.pem');
    const certFile = join(dir, 'cert.pem');
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyFile, '-out', certFile,
      ], { stdio: 'ignore' });
    } catch {
      return; // no openssl here: the tests below skip themselves
    }
    cert = readFileSync(certFile);
    px = await startPixgate({
      argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--ssl-listen', '127.0.0.1:0', '--ssl-key', keyFile, '--ssl-cert', certFile],
    });
    httpsUrl = px.listeners.find((l) => l.kind === 'https')!.address;
  });
  after(() => px?.close());

  test('serves a camo image over HTTP/2', async (t) => {
    if (!px) return t.skip('no openssl');
    const path = new URL(px.camo(origin.url('/img.png'))).pathname;
    const session = http2Connect(httpsUrl, { ca: cert });
    try {
      const { status, headers, body } = await new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const req = session.request({ [h2.HTTP2_HEADER_PATH]: path });
        const chunks: Buffer[] = [];
        let head: Record<string, unknown> = {};
        req.on('response', (h) => (head = h));
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => resolve({ status: Number(head[':status']), headers: head, body: Buffer.concat(chunks) }));
        req.on('error', reject);
        req.end();
      });
      assert.equal(session.alpnProtocol, 'h2');
      assert.equal(status, 200);
      assert.equal(headers['content-type'], 'image/png');
      assert.equal(headers['x-content-type-options'], 'nosniff');
      assert.equal(headers.connection, undefined, 'HTTP/2 has no Connection header');
      assert.deepEqual(body, images.png);
    } finally {
      session.close();
    }
  });

  test('serves HTTP/1.1 on the same TLS port', async (t) => {
    if (!px) return t.skip('no openssl');
    const res = await fetchRaw(httpsUrl + new URL(px.camo(origin.url('/img.png'))).pathname, { ca: cert });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, images.png);
    const health = await fetchRaw(httpsUrl + '/healthcheck', { ca: cert });
    assert.equal(health.status, 200);
  });

  test('keeps serving plain HTTP beside it', async (t) => {
    if (!px) return t.skip('no openssl');
    assert.equal((await fetchRaw(px.url + '/healthcheck')).status, 200);
  });

  test('stops the start when the key file cannot be read', async () => {
    const certFile = join(dir, 'cert-only.pem');
    writeFileSync(certFile, 'not a certificate');
    await assert.rejects(
      startPixgate({ argv: ['--ssl-listen', '127.0.0.1:0', '--ssl-key', join(dir, 'missing-key.pem'), '--ssl-cert', certFile] }),
      StartupError,
    );
  });
});

describe('--socket-listen', () => {
  test('serves HTTP on a unix socket', async () => {
    const socketPath = join(dir, 'pixgate.sock');
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--socket-listen', socketPath] });
    try {
      assert.equal(px.listeners.find((l) => l.kind === 'unix')?.address, `unix:${socketPath}`);
      const res = await fetchRaw('http://pixgate' + new URL(px.camo(origin.url('/img.png'))).pathname, { socketPath });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, images.png);
    } finally {
      await px.close();
    }
    assert.equal(existsSync(socketPath), false, 'the socket file is removed on close');
  });

  test('refuses to start when the socket path already exists', async () => {
    const socketPath = join(dir, 'taken.sock');
    writeFileSync(socketPath, '');
    await assert.rejects(startPixgate({ argv: ['--socket-listen', socketPath] }), (err: unknown) => err instanceof StartupError && /already exists/.test(err.message));
  });
});

describe('--listen ""', () => {
  test('starts no plain HTTP listener, as go-camo, and serves on the other one', async () => {
    const socketPath = join(dir, 'only.sock');
    const { settings, explicit } = loadSettings({ PORT: '0' }, ['-k', TEST_KEY, '--listen=', '--socket-listen', socketPath]);
    const app = await createApp({ settings, version, log: createLogger({ json: true, timestamps: false, verbose: false, destination: { write() {} } }), metrics: createMetrics({ version, revision: '', branch: '', buildDate: '' }) });
    const listeners = await startListeners(settings, resolveHttpAddress(settings, explicit), createHandler(app));
    try {
      assert.deepEqual(listeners.map((l) => l.kind), ['unix']);
      assert.equal((await fetchRaw('http://pixgate/healthcheck', { socketPath })).status, 200);
    } finally {
      await closeListeners(listeners, 0);
      await app.close();
    }
  });
});

describe('an unexpected throw in the handler', () => {
  test('ends as a logged 500 for that request, and the server goes on serving', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY] });
    const app = px.app as { defaultHeaders: unknown };
    const good = app.defaultHeaders;
    try {
      // A value node:http refuses (settings refuse it at start; this reaches the handler by hand).
      app.defaultHeaders = [['X-Bad', 'a\x01b']];
      const res = await fetchRaw(px.url + '/healthcheck');
      assert.equal(res.status, 500);
      assert.equal(res.headers['x-bad'], undefined);
      assert.ok(px.logs.some((r) => r.msg === 'unexpected error' && r.level >= 50), 'logged as an error');
      app.defaultHeaders = good;
      assert.equal((await fetchRaw(px.url + '/healthcheck')).status, 200);
    } finally {
      app.defaultHeaders = good;
      await px.close();
    }
  });
});

describe('a throw after the response went out', () => {
  test('is logged, never an unhandled rejection, and the server goes on serving', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY] });
    const metrics = px.app.metrics as { countRequest: unknown };
    const good = metrics.countRequest;
    try {
      metrics.countRequest = () => {
        throw new Error('bookkeeping failed');
      };
      assert.equal((await fetchRaw(px.url + '/healthcheck')).status, 200);
      await new Promise((resolve) => setImmediate(resolve));
      assert.ok(px.logs.some((r) => r.msg === 'unexpected error' && JSON.stringify(r).includes('bookkeeping failed')));
      metrics.countRequest = good;
      assert.equal((await fetchRaw(px.url + '/healthcheck')).status, 200);
    } finally {
      metrics.countRequest = good;
      await px.close();
    }
  });
});

describe('logs', () => {
  test('never carry the key or the signed path at info level', async () => {
    const px = await startPixgate({ argv: ['-k', TEST_KEY, '--allow-network', '127.0.0.2/32', '--access-log'] });
    try {
      const url = px.camo(origin.url('/img.png'));
      await fetchRaw(url);
      await fetchRaw(url.replace(/\/[0-9a-f]{40}\//, `/${'1'.repeat(40)}/`));
      const info = px.logs.filter((r) => r.level >= 30).map((r) => JSON.stringify(r));
      assert.ok(info.some((line) => line.includes('"route":"camo"')), 'request lines are logged');
      const path = new URL(url).pathname;
      for (const line of info) {
        assert.equal(line.includes(TEST_KEY), false, line);
        assert.equal(line.includes(path.split('/')[1]!), false, line);
        assert.equal(line.includes(path.split('/')[2]!), false, line);
        assert.equal(line.includes('/img.png'), false, line);
      }
    } finally {
      await px.close();
    }
  });
});
