// pixgate as a fleet, with real processes: two instances started from docs/examples/fleet.env (only S3_ENDPOINT
// pointed at the test S3 server) share one bucket, so the second serves the first one's result without processing
// it, a changed source is processed again, and an outage of the bucket costs no request; the bounded disk cache
// stays under its bound while workers fill it and survives a restart; a --workers cluster spreads requests over
// its workers, replaces a killed one, sums their metrics and drains on SIGTERM; with a result storage, identical
// requests arriving at different workers are processed once; and the primary gives up on workers that cannot start. Every server listens on 127.0.0.1 only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import { createLogger } from '../../src/observe/log.js';
import { MAX_START_FAILURES, restartDelayMs, runPrimary } from '../../src/server/cluster.js';
import { loadSettings } from '../../src/settings/load.js';
import { signImagorPath, type ImagorSigner } from '../../src/verify/imagor-signature.js';
import { nodeMac } from '../../src/verify/node-mac.js';
import { BLUE, decode, makeSolid, near, RED } from '../helpers/images.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { fetchRaw, repoRoot, runCli, spawnPixgate, type Env, type FetchedResponse, type RunningPixgate } from '../helpers/pixgate.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

// ---------------------------------------------------------------------------------------------------------
// Helpers

/** KEY=value lines, `#` comments and blank lines: the format of docker --env-file and systemd EnvironmentFile=. */
function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(t);
    assert.ok(m, `not a KEY=value line: ${t}`);
    assert.ok(!/^["']/.test(m[2]!), `${m[1]}: quotes are not stripped by every env-file reader`);
    env[m[1]!] = m[2]!;
  }
  return env;
}

interface LogRecord {
  readonly msg?: string;
  readonly worker?: number;
  readonly [field: string]: unknown;
}

interface Instance {
  readonly px: RunningPixgate;
  readonly url: string;
  records(): LogRecord[];
  metrics(): Promise<string>;
}

/** JSON log records so far (the instances log JSON, from PIXGATE_LOG_JSON). */
function recordsOf(px: RunningPixgate): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of px.output().stderr.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogRecord);
    } catch {
      // A line still being written.
    }
  }
  return out;
}

async function eventually<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000, stepMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

/** Starts `pixgate` on 127.0.0.1:0 and waits until `workers` workers (or the single process) are listening. */
async function startInstance(env: Env, argv: readonly string[] = [], workers = 1): Promise<Instance> {
  const px = spawnPixgate(['--listen', '127.0.0.1:0', '--allow-network', '127.0.0.1/32', ...argv], env);
  const line = await px.waitFor(/^\{.*"msg":"listening".*$/m, 30_000);
  const url = String((JSON.parse(line[0]) as { address: string }).address);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  if (workers > 1) {
    await eventually(`${workers} workers`, () => recordsOf(px).filter((r) => r.msg === 'worker started').length >= workers || undefined, 30_000);
  }
  return {
    px,
    url,
    records: () => recordsOf(px),
    metrics: async () => {
      const r = await fetchRaw(`${url}/metrics`);
      assert.equal(r.status, 200, r.text);
      return r.text;
    },
  };
}

/** The value of one series (`name` or `name{labels}`) in a text exposition; 0 when absent. */
function seriesValue(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/** The sum of every series of a metric. */
function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '))
    .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

function signedUrl(base: string, path: string, signer: ImagorSigner): string {
  return `${base}/${signImagorPath(path, signer, nodeMac)}/${path}`;
}

async function centre(body: Buffer): Promise<{ r: number; g: number; b: number }> {
  const d = await decode(body);
  return d.pixel(Math.floor(d.width / 2), Math.floor(d.height / 2));
}

/** Deterministic noise, so PNG results keep about 3 bytes a pixel and sizes are predictable. */
function noise(length: number): Buffer {
  const out = Buffer.alloc(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

function filesUnder(dir: string): Array<{ path: string; size: number }> {
  const out: Array<{ path: string; size: number }> = [];
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const name of names) {
      const p = join(d, name);
      try {
        const st = statSync(p);
        if (st.isDirectory()) walk(p);
        else if (st.isFile()) out.push({ path: p, size: st.size });
      } catch {
        // Evicted while listed.
      }
    }
  };
  walk(dir);
  return out;
}

async function stopAll(instances: ReadonlyArray<Instance | undefined>): Promise<void> {
  await Promise.all(instances.map((i) => i?.px.stop('SIGTERM', 20_000)));
}

// ---------------------------------------------------------------------------------------------------------
// Two instances, one bucket

const fleetEnvFile = parseEnvFile(readFileSync(join(repoRoot, 'docs/examples/fleet.env'), 'utf8'));

describe('a fleet from docs/examples/fleet.env sharing one bucket', { concurrency: 1 }, () => {
  let s3: S3TestServer;
  let bucket: S3Client;
  let origin: Origin;
  let a: Instance | undefined;
  let b: Instance | undefined;
  const fleet = loadSettings(fleetEnvFile, []).settings;
  const signer: ImagorSigner = { secret: fleet.imagorSecret!, type: fleet.imagorSignerType, truncate: fleet.imagorSignerTruncate };
  const bucketName = fleetEnvFile.S3_RESULT_STORAGE_BUCKET!;
  const hourAgo = new Date(Date.now() - 3_600_000).toUTCString();
  let red: Buffer;
  let blue: Buffer;
  const photo = (size: number) => `fit-in/${size}x${size}/filters:format(png)/${origin.url('/photo.png')}`;

  const objects = async () => (await bucket.send(new ListObjectsV2Command({ Bucket: bucketName }))).Contents ?? [];

  before(async () => {
    s3 = await startS3Server({ buckets: [bucketName] });
    bucket = s3.client();
    origin = await startOrigin();
    red = await makeSolid(64, 64, RED, 'png');
    blue = await makeSolid(64, 64, BLUE, 'png');
    origin.route('/photo.png', serve(red, { headers: { 'Last-Modified': hourAgo } }));
    // The documented file as it is, with the endpoint of the test server in place of the example one.
    const env = { ...fleetEnvFile, S3_ENDPOINT: s3.endpoint };
    const workers = fleet.workers === 'auto' ? 2 : fleet.workers;
    [a, b] = await Promise.all([startInstance(env, [], workers), startInstance(env, [], workers)]);
  });

  after(async () => {
    await stopAll([a, b]);
    await origin?.close();
    await s3?.close();
  });

  test('the example configuration is complete: signing, shared result bucket, path style, cache headers, workers', () => {
    assert.ok(fleet.imagorSecret);
    assert.ok(fleet.s3ResultStorageBucket);
    assert.ok(fleet.s3ForcePathStyle);
    assert.equal(fleet.imagorResultStoragePathStyle, 'digest');
    assert.equal(fleet.imagorModifiedTimeCheck, true);
    assert.ok(fleet.cacheHeaderTtl > 0);
    assert.ok(fleet.metrics);
    assert.notEqual(fleet.workers, 1);
  });

  test('the second instance serves the first one\'s result without processing it', async () => {
    const first = await fetchRaw(signedUrl(a!.url, photo(40), signer));
    assert.equal(first.status, 200, first.text);
    assert.equal(first.headers['content-type'], 'image/png');
    assert.ok(near(await centre(first.body), RED));
    // The result is saved after the response: wait for it to reach the bucket.
    await eventually('the result in the bucket', async () => ((await objects()).length === 1 ? true : undefined));

    const second = await fetchRaw(signedUrl(b!.url, photo(40), signer));
    assert.equal(second.status, 200, second.text);
    assert.deepEqual(second.body, first.body);
    // What a CDN sees is the same from either instance: validators and cache lifetime.
    assert.equal(second.headers.etag, first.headers.etag);
    assert.ok(first.headers['last-modified']);
    assert.equal(second.headers['last-modified'], first.headers['last-modified']);
    const ttl = fleet.cacheHeaderTtl / 1000;
    for (const r of [first, second]) assert.match(String(r.headers['cache-control']), new RegExp(`^public, s-maxage=${ttl}, max-age=${ttl}, `));

    const bm = await b!.metrics();
    assert.equal(seriesValue(bm, 'pixgate_images_processed_total'), 0);
    assert.equal(seriesValue(bm, 'pixgate_result_storage_total{outcome="hit"}'), 1);
    assert.equal(seriesValue(bm, 'pixgate_result_storage_total{outcome="miss"}'), 0);
    assert.equal(seriesValue(await a!.metrics(), 'pixgate_images_processed_total'), 1);

    const revalidated = await fetchRaw(signedUrl(b!.url, photo(40), signer), { headers: { 'If-None-Match': String(first.headers.etag) } });
    assert.equal(revalidated.status, 304);
    const byDate = await fetchRaw(signedUrl(b!.url, photo(40), signer), { headers: { 'If-Modified-Since': String(first.headers['last-modified']) } });
    assert.equal(byDate.status, 304, 'a CDN revalidating by date with either instance gets a 304');
    assert.equal(seriesValue(await b!.metrics(), 'pixgate_images_processed_total'), 0);
    // Only the first instance fetched the source (the second sent a HEAD for the modified-time check).
    assert.equal(origin.requests('/photo.png').filter((r) => r.method === 'GET').length, 1);
  });

  test('with the modified-time check, a source changed at the origin is processed again, and the new result shared', async () => {
    // Last-Modified has second precision: change the source a full second after the result was stored.
    await sleep(1100);
    const changedAt = new Date();
    origin.route('/photo.png', serve(blue, { headers: { 'Last-Modified': changedAt.toUTCString() } }));

    const fresh = await fetchRaw(signedUrl(b!.url, photo(40), signer));
    assert.equal(fresh.status, 200, fresh.text);
    assert.ok(near(await centre(fresh.body), BLUE), 'the changed source');
    const bm = await b!.metrics();
    assert.equal(seriesValue(bm, 'pixgate_result_storage_total{outcome="stale"}'), 1);
    assert.equal(seriesValue(bm, 'pixgate_images_processed_total'), 1);

    const key = (await objects())[0]!.Key!;
    await eventually('the new result in the bucket', async () => {
      const head = await bucket.send(new HeadObjectCommand({ Bucket: bucketName, Key: key }));
      return head.LastModified && head.LastModified.getTime() >= Math.floor(changedAt.getTime() / 1000) * 1000 ? true : undefined;
    });
    const onA = await fetchRaw(signedUrl(a!.url, photo(40), signer));
    assert.equal(onA.status, 200);
    assert.deepEqual(onA.body, fresh.body);
    assert.equal(seriesValue(await a!.metrics(), 'pixgate_images_processed_total'), 1, 'the first instance did not process it again');
  });

  test('a storage outage costs no request: refused and hung connections are counted, and storage comes back', async () => {
    const before = metricSum(await a!.metrics(), 'pixgate_storage_errors_total');
    const stored = (await objects()).length;

    await s3.stop();
    const refused = await fetchRaw(signedUrl(a!.url, photo(41), signer));
    assert.equal(refused.status, 200, refused.text);
    assert.ok(near(await centre(refused.body), BLUE));

    await s3.start();
    s3.hang();
    const started = Date.now();
    const hung = await fetchRaw(signedUrl(a!.url, photo(42), signer), { timeoutMs: 15_000 });
    assert.equal(hung.status, 200, hung.text);
    // The hang never ends: the lookup gives up after PIXGATE_S3_TIMEOUT (from the example), then the image is
    // processed and served (the margin is for a loaded machine).
    assert.ok(Date.now() - started < fleet.s3Timeout + 10_000, `${Date.now() - started} ms`);

    const after = metricSum(await a!.metrics(), 'pixgate_storage_errors_total');
    assert.ok(after >= before + 2, `storage errors ${before} -> ${after}`);

    await s3.start();
    // Once the circuit breaker's cool-down is over, results are stored again and the other instance serves them.
    await eventually(
      'a result stored after the outage',
      async () => {
        const r = await fetchRaw(signedUrl(a!.url, photo(43), signer));
        assert.equal(r.status, 200);
        await sleep(300);
        return (await objects()).length > stored ? true : undefined;
      },
      30_000,
      700,
    );
    const processedOnB = seriesValue(await b!.metrics(), 'pixgate_images_processed_total');
    const fromB = await fetchRaw(signedUrl(b!.url, photo(43), signer));
    assert.equal(fromB.status, 200);
    assert.equal(seriesValue(await b!.metrics(), 'pixgate_images_processed_total'), processedOnB);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The bounded disk cache

describe('the bounded disk result cache under a two-worker cluster', { concurrency: 1 }, () => {
  const BOUND = 200 * 1024;
  const secret = 'fleet-cache-test-secret';
  const signer: ImagorSigner = { secret, type: 'sha1', truncate: 0 };
  let dir: string;
  let origin: Origin;
  let c: Instance | undefined;

  const start = () =>
    startInstance(
      {
        IMAGOR_SECRET: secret,
        FILE_RESULT_STORAGE_BASE_DIR: dir,
        PIXGATE_RESULT_CACHE_MAX_SIZE: '200KB',
        PIXGATE_WORKERS: '2',
        PIXGATE_LOG_JSON: 'true',
        PIXGATE_METRICS: 'true',
      },
      [],
      2,
    );

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-fleet-cache-'));
    origin = await startOrigin();
    const source = await sharp(noise(160 * 160 * 3), { raw: { width: 160, height: 160, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    origin.route('/noise.png', serve(source));
    c = await start();
  });

  after(async () => {
    await stopAll([c]);
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('stays under PIXGATE_RESULT_CACHE_MAX_SIZE while many distinct results are written, keeping the recent ones', async () => {
    const bytesOnDisk = () => filesUnder(dir).reduce((sum, f) => sum + f.size, 0);
    // A result is saved after its response, and counted from its rename to the eviction that follows: wait until
    // the directory stops changing, then it must be within the bound.
    const settled = async () => {
      let last = -1;
      return eventually('the cache to settle', async () => {
        await sleep(60);
        const now = bytesOnDisk();
        const stable = now === last;
        last = now;
        return stable ? now : undefined;
      });
    };
    let served = 0;
    const responses: FetchedResponse[] = [];
    for (let size = 60; size < 100; size++) {
      const r = await fetchRaw(signedUrl(c!.url, `${size}x${size}/filters:format(png)/${origin.url('/noise.png')}`, signer));
      assert.equal(r.status, 200, r.text);
      responses.push(r);
      served += r.body.length;
      const total = await settled();
      assert.ok(total <= BOUND, `${total} bytes on disk after ${size}x${size}, bound ${BOUND}`);
    }
    assert.ok(served > 2 * BOUND, `the test wrote only ${served} bytes`);
    const total = bytesOnDisk();
    assert.ok(total > BOUND / 2, `${total} bytes: the cache was emptied rather than bounded`);

    // The most recent result is still there: asking for it again is a hit, not a second processing.
    const before = await c!.metrics();
    const again = await fetchRaw(signedUrl(c!.url, `99x99/filters:format(png)/${origin.url('/noise.png')}`, signer));
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, responses[responses.length - 1]!.body);
    const after = await c!.metrics();
    // A hit from the disk cache, or from the in-memory copy of a worker that served it moments ago.
    const hits = (text: string) => seriesValue(text, 'pixgate_result_storage_total{outcome="hit"}') + seriesValue(text, 'pixgate_result_storage_total{outcome="memory"}');
    assert.equal(hits(after), hits(before) + 1);
    assert.equal(seriesValue(after, 'pixgate_images_processed_total'), seriesValue(before, 'pixgate_images_processed_total'));
  });

  test('a restarted cluster keeps the cache it finds under the bound, instead of trimming it to one worker\'s share', async () => {
    const files = () => filesUnder(dir).map((f) => `${f.path} ${f.size}`).sort();
    const kept = files();
    assert.ok(filesUnder(dir).reduce((s, f) => s + f.size, 0) > BOUND / 2, 'more than one share to keep');
    const stopped = await c!.px.stop('SIGTERM', 20_000);
    assert.equal(stopped.code, 0);
    c = await start();
    await sleep(500);
    assert.deepEqual(files(), kept);
  });
});

// ---------------------------------------------------------------------------------------------------------
// --workers

describe('pixgate --workers 2', { concurrency: 1 }, () => {
  const secret = 'fleet-workers-test-secret';
  const signer: ImagorSigner = { secret, type: 'sha1', truncate: 0 };
  let origin: Origin;
  let d: Instance | undefined;
  let image: Buffer;
  const env = { IMAGOR_SECRET: secret, PIXGATE_LOG_JSON: 'true', PIXGATE_METRICS: 'true', PIXGATE_ACCESS_LOG: 'true' };
  const url = (path: string) => signedUrl(d!.url, `fit-in/16x16/filters:format(png)/${origin.url(path)}`, signer);
  const workersServing = () => new Set(d!.records().filter((r) => r.msg === 'request' && r.route === 'imagor').map((r) => r.worker));
  const startedWorkers = () => d!.records().filter((r) => r.msg === 'worker started').map((r) => Number(r.worker));

  before(async () => {
    origin = await startOrigin();
    image = await makeSolid(32, 32, RED, 'png');
    origin.route('/a.png', serve(image));
    d = await startInstance(env, ['--workers', '2'], 2);
  });

  after(async () => {
    await stopAll([d]);
    await origin?.close();
  });

  test('serves requests from two worker processes, and /metrics counts the requests of both', async () => {
    const pids = startedWorkers();
    assert.equal(new Set(pids).size, 2);
    assert.ok(!pids.includes(d!.px.child.pid!), 'the primary serves nothing');
    for (let i = 0; i < 6; i++) {
      const r = await fetchRaw(url('/a.png'));
      assert.equal(r.status, 200, r.text);
    }
    const serving = await eventually('request lines from both workers', () => (workersServing().size === 2 ? workersServing() : undefined), 5000);
    for (const pid of serving) assert.ok(pids.includes(Number(pid)), `request served by ${pid}`);
    // Whichever worker answers the scrape, the sum over both: 6 imagor requests.
    for (let i = 0; i < 3; i++) {
      assert.equal(seriesValue(await d!.metrics(), 'pixgate_requests_total{route="imagor",code="200"}'), 6);
    }
  });

  test('a killed worker is replaced by a new process and requests go on', async () => {
    const [victim, survivor] = startedWorkers();
    process.kill(victim!, 'SIGKILL');
    const replacement = await eventually('a replacement worker', () => startedWorkers().find((p) => p !== victim && p !== survivor), 30_000);
    const exited = d!.records().find((r) => r.msg === 'worker exited; starting another' && r.worker === victim);
    assert.ok(exited, 'the primary logged the exit');
    assert.equal(exited.signal, 'SIGKILL');
    await eventually('a request served by the replacement', async () => {
      const r = await fetchRaw(url('/a.png'));
      assert.equal(r.status, 200);
      return workersServing().has(replacement) ? true : undefined;
    });
  });

  test('SIGTERM drains: a slow request in flight completes, then every process exits 0', async () => {
    origin.route('/slow.png', async (req, res) => {
      await sleep(1500);
      serve(image)(req, res);
    });
    const inFlight = fetchRaw(url('/slow.png'), { timeoutMs: 15_000 });
    await eventually('the origin to receive the slow request', () => (origin.hits('/slow.png') > 0 ? true : undefined));
    const workers = startedWorkers().filter((pid) => isAlive(pid));
    const exit = d!.px.stop('SIGTERM', 20_000);
    const r = await inFlight;
    assert.equal(r.status, 200, r.text);
    assert.ok(r.complete);
    assert.ok(near(await centre(r.body), RED));
    const result = await exit;
    d = undefined;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /"msg":"all workers stopped"/);
    for (const pid of workers) assert.equal(isAlive(pid), false, `worker ${pid} is gone`);
  });
});

// ---------------------------------------------------------------------------------------------------------
// --workers with a result storage: one processing for the whole cluster

describe('pixgate --workers 2 with a file result storage', { concurrency: 1 }, () => {
  const secret = 'fleet-lease-test-secret';
  const signer: ImagorSigner = { secret, type: 'sha1', truncate: 0 };
  let dir: string;
  let origin: Origin;
  let e: Instance | undefined;
  let image: Buffer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-fleet-lease-'));
    origin = await startOrigin();
    image = await makeSolid(48, 48, RED, 'png');
    const env = {
      IMAGOR_SECRET: secret,
      FILE_RESULT_STORAGE_BASE_DIR: dir,
      PIXGATE_LOG_JSON: 'true',
      PIXGATE_METRICS: 'true',
      PIXGATE_ACCESS_LOG: 'true',
    };
    e = await startInstance(env, ['--workers', '2'], 2);
  });

  after(async () => {
    await stopAll([e]);
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('8 identical requests arriving together on both workers are processed once, from one origin fetch', async () => {
    // The primary hands connections to its workers in turn, which usually splits 8 between both but cannot be
    // forced: an attempt served by one worker alone proves nothing about the cluster, so another (with another
    // source URL, so another result) is made.
    for (let attempt = 0; attempt < 4; attempt++) {
      const path = `/gated-${attempt}.png`;
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      origin.route(path, async (req, res) => {
        await gate;
        serve(image)(req, res);
      });
      const url = signedUrl(e!.url, `fit-in/24x24/filters:format(png)/${origin.url(path)}`, signer);
      const before = await e!.metrics();
      const linesBefore = e!.records().length;
      const pending = Array.from({ length: 8 }, () => fetchRaw(url, { timeoutMs: 20_000 }));
      await eventually('the origin to receive the source request', () => (origin.hits(path) > 0 ? true : undefined));
      // The slow origin holds the first worker's fetch while the other requests arrive at both workers.
      await sleep(1000);
      open();
      const responses = await Promise.all(pending);
      for (const r of responses) {
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, responses[0]!.body);
      }
      assert.ok(near(await centre(responses[0]!.body), RED));
      const serving = await eventually('8 request lines', () => {
        const lines = e!.records().slice(linesBefore).filter((r) => r.msg === 'request' && r.route === 'imagor');
        return lines.length >= 8 ? new Set(lines.map((r) => r.worker)) : undefined;
      });

      const after = await e!.metrics();
      const processed = seriesValue(after, 'pixgate_images_processed_total') - seriesValue(before, 'pixgate_images_processed_total');
      assert.equal(processed, 1, 'images processed over both workers');
      assert.equal(origin.requests(path).filter((r) => r.method === 'GET').length, 1, 'origin GETs');
      if (serving.size === 2) {
        // The worker that waited read the holder's result from storage.
        const hits = seriesValue(after, 'pixgate_result_storage_total{outcome="hit"}') - seriesValue(before, 'pixgate_result_storage_total{outcome="hit"}');
        assert.equal(hits, 1, 'result storage hits');
        return;
      }
    }
    assert.fail('every attempt was served by one worker alone');
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('with --workers, a start failure in a worker stops the cluster with exit 2 and the message, once', async () => {
  const missing = join(tmpdir(), `pixgate-missing-ruleset-${process.pid}.txt`);
  const r = await runCli(['--workers', '2', '--listen', '127.0.0.1:0', '--filter-ruleset', missing], {}, { timeoutMs: 30_000 });
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l === `pixgate: --filter-ruleset=${missing}: cannot read the file (ENOENT)`);
  assert.equal(lines.length, 1, r.stderr);
});

// ---------------------------------------------------------------------------------------------------------
// The primary alone, with stand-in workers

describe('the cluster primary with workers that cannot start', { concurrency: 1 }, () => {
  let dir: string;
  const records: Array<{ msg?: string }> = [];
  const log = createLogger({
    json: true,
    timestamps: false,
    verbose: false,
    destination: { write: (line: string) => void records.push(JSON.parse(line) as { msg?: string }) },
  });
  const standIn = (code: string) => {
    const file = join(dir, `worker-${records.length}-${Math.random().toString(36).slice(2)}.mjs`);
    writeFileSync(file, code);
    cluster.setupPrimary({ exec: file, execArgv: [], args: [], silent: true });
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'pixgate-primary-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('workers dying at start are restarted with growing delays, then the primary gives up with exit 1', async () => {
    standIn('process.exit(1);\n');
    let forks = 0;
    const onFork = () => forks++;
    cluster.on('fork', onFork);
    const started = Date.now();
    const code = await runPrimary({ workers: 4, log, drainMs: 1000 });
    cluster.off('fork', onFork);
    assert.equal(code, 1);
    // One stand-in at a time (the others wait for one to listen), MAX_START_FAILURES of them, no more.
    assert.equal(forks, MAX_START_FAILURES);
    const waited = Array.from({ length: MAX_START_FAILURES - 1 }, (_, i) => restartDelayMs(i + 1)).reduce((a, b) => a + b, 0);
    assert.ok(Date.now() - started >= waited, `${Date.now() - started} ms, expected at least ${waited}`);
  });

  test('a worker exiting 2 at start (main.ts\'s start failure) stops everything with exit 2 and no retry', async () => {
    standIn('process.exit(2);\n');
    let forks = 0;
    const onFork = () => forks++;
    cluster.on('fork', onFork);
    const code = await runPrimary({ workers: 3, log, drainMs: 1000 });
    cluster.off('fork', onFork);
    assert.equal(code, 2);
    assert.equal(forks, 1);
  });
});
