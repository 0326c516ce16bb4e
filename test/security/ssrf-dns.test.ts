// security.md §1.5: names that resolve to loopback, several answers of which some are denied, and an answer
// that changes between lookups (DNS rebinding), against BOTH jobs. No real DNS: pixgate is wired as
// `pixgate serve` wires it (src/server/app.ts), except that its safe agent gets an injected resolver
// (createSafeAgent's `resolve`). The allowed origin listens on 127.0.0.2:P and a canary on 127.0.0.1:P (and
// [::1]:P), the same port, so a name that rebinds from the first address to the second would reach the canary.
// Names resolving to non-loopback addresses (metadata.google.internal, RFC 1918) are in ssrf-isolated.test.ts.
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createImagorContext } from '../../src/jobs/imagor-context.js';
import { createSafeFetcher } from '../../src/load/http-fetch.js';
import { createSafeAgent } from '../../src/load/safe-agent.js';
import { createLogger } from '../../src/observe/log.js';
import { createMetrics } from '../../src/observe/metrics.js';
import { createApp, type App } from '../../src/server/app.js';
import { createHandler } from '../../src/server/handler.js';
import { closeListeners, startListeners, type Listener } from '../../src/server/listen.js';
import { loadSettings } from '../../src/settings/load.js';
import { version } from '../../src/version.js';
import { serve, startOrigin, testImages, type Origin, type OriginHandler } from '../helpers/origin.js';
import { assertRefused, JOBS, jobPath, rawGet, REFUSAL_CODES, secureArgv, startCountingCanary, type CountingServer, type Job } from './harness.js';

type Answer = readonly LookupAddress[];
/** name -> the answers of its successive lookups (the last one repeats). */
const answers = new Map<string, Answer[]>();
const lookups = new Map<string, number>();

function resolve(hostname: string, cb: (err: Error | null, addresses: LookupAddress[]) => void): void {
  const name = hostname.toLowerCase();
  const list = answers.get(name);
  const n = lookups.get(name) ?? 0;
  lookups.set(name, n + 1);
  setImmediate(() => {
    if (!list) return cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    cb(null, [...list[Math.min(n, list.length - 1)]!]);
  });
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

let origin: Origin;
let canary: CountingServer;
let canary6: CountingServer | undefined;
let url: string;
let listeners: Listener[];
let app: App;
let base: App;
const logs: { msg?: string; code?: string }[] = [];

async function originAndCanaryOnOnePort(): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const o = await startOrigin({ host: '127.0.0.2' });
    const c = await startCountingCanary('127.0.0.1', o.port);
    if (c) {
      origin = o;
      canary = c;
      canary6 = await startCountingCanary('::1', o.port);
      return;
    }
    await o.close();
  }
  throw new Error('no port free on both 127.0.0.1 and 127.0.0.2');
}

before(async () => {
  await originAndCanaryOnOnePort();
  const images = await testImages();
  const closing: OriginHandler = (req, res) => {
    res.setHeader('Connection', 'close');
    return serve(images.png)(req, res);
  };
  origin.route('/img.png', closing);
  origin.route('/hop1', (_req, res) => {
    res.writeHead(302, { Location: '/img.png', Connection: 'close', 'Content-Length': 0 });
    res.end();
  });

  const { settings } = loadSettings({}, [...secureArgv(['--allow-network', '127.0.0.2/32']), '--listen', '127.0.0.1:0']);
  const log = createLogger({
    json: true,
    timestamps: false,
    verbose: true,
    destination: { write: (line: string) => void line.split('\n').filter(Boolean).forEach((l) => logs.push(JSON.parse(l) as { msg?: string; code?: string })) },
  });
  const metrics = createMetrics({ version, revision: '', branch: '', buildDate: '' });
  base = await createApp({ settings, version, log, metrics });
  const dispatcher = createSafeAgent({ policy: base.addressPolicy, keepAlive: true, connectTimeoutMs: 3000, resolve });
  const fetcher = createSafeFetcher({
    dispatcher,
    maxRedirects: settings.maxRedirects,
    allowCredentialUrls: settings.allowCredentialUrls,
    userAgent: settings.userAgent,
    via: settings.serverName,
  });
  const imagor = await createImagorContext({ settings, fetcher, metrics, log });
  app = { ...base, dispatcher, fetcher, imagor };
  listeners = await startListeners(settings, settings.listen, createHandler(app));
  url = listeners[0]!.address;
});

after(async () => {
  await closeListeners(listeners ?? [], 0);
  await app?.dispatcher.destroy();
  await app?.imagor.stores.close();
  await base?.close();
  await origin?.close();
  await canary?.close();
  await canary6?.close();
});

// Per test, so that a leak is charged to the case that caused it.
let hitsBefore = [0, 0];
beforeEach(() => {
  hitsBefore = [canary.hits(), canary6?.hits() ?? 0];
});
afterEach(() => {
  assert.equal(canary.hits() - hitsBefore[0]!, 0, 'the 127.0.0.1 canary was contacted');
  assert.equal((canary6?.hits() ?? 0) - hitsBefore[1]!, 0, 'the ::1 canary was contacted');
});

const codes = () => logs.filter((r) => r.msg === 'request failed' || r.msg === 'unexpected error').map((r) => String(r.code ?? 'INTERNAL'));

async function get(job: Job, source: string) {
  const before = codes().length;
  const res = await rawGet(url, jobPath(job, source));
  await new Promise((r) => setImmediate(r));
  return { res, codes: codes().slice(before) };
}

describe('names that resolve to loopback', () => {
  const cases: ReadonlyArray<readonly [id: string, name: string, answers: Answer]> = [
    ['ssrf-hosts-alias-v4', 'a name answered 127.0.0.1', [v4('127.0.0.1')]],
    ['ssrf-hosts-alias-v6', 'a name answered ::1', [v6('::1')]],
    ['ssrf-dns-aaaa-mapped', 'a name answered AAAA ::ffff:127.0.0.1', [v6('::ffff:127.0.0.1')]],
    ['ssrf-dns-unspecified', 'a name answered 0.0.0.0', [v4('0.0.0.0')]],
    ['ssrf-dns-multi-denied', 'a name answered 127.0.0.1 and ::1', [v4('127.0.0.1'), v6('::1')]],
    ['ssrf-dns-invalid-answer', 'a name answered with a non-canonical address text', [v4('127.1')]],
  ];
  for (const [id, what, answer] of cases) {
    for (const job of JOBS) {
      test(`${id} [${job}]: refuses ${what} at connect time`, async () => {
        const name = `${id}-${job}.test`;
        answers.set(name, [answer]);
        const { res, codes: logged } = await get(job, `http://${name}:${origin.port}/img.png`);
        assertRefused(res, id);
        assert.deepEqual(logged, ['ADDRESS_DENIED']);
        assert.equal(lookups.get(name), 1);
      });
    }
  }
});

describe('several answers', () => {
  for (const job of JOBS) {
    test(`ssrf-dns-multi-a [${job}]: with a loopback and an allowed answer, connects only to the allowed one`, async () => {
      const name = `multi-${job}.test`;
      answers.set(name, [[v4('127.0.0.1'), v4('127.0.0.2'), v6('::1')]]);
      const before = origin.hits('/img.png');
      const { res } = await get(job, `http://${name}:${origin.port}/img.png`);
      assert.equal(res.status, 200);
      assert.equal(origin.hits('/img.png'), before + 1);
    });
  }
});

describe('answers that change between lookups (rebinding)', () => {
  for (const job of JOBS) {
    test(`ssrf-dns-rebind [${job}]: a name that answered the allowed origin, then 127.0.0.1, is refused on its next connection`, async () => {
      const name = `rebind-${job}.test`;
      answers.set(name, [[v4('127.0.0.2')], [v4('127.0.0.1')]]);
      const first = await get(job, `http://${name}:${origin.port}/img.png`);
      assert.equal(first.res.status, 200, 'the first answer is the allowed origin');
      // Another path, so the imagor result of the first request is not simply reused.
      const second = await get(job, `http://${name}:${origin.port}/img.png?again`);
      assertRefused(second.res, 'ssrf-dns-rebind');
      assert.deepEqual(second.codes, ['ADDRESS_DENIED']);
      assert.equal(lookups.get(name), 2, 'the second connection looked the name up again, and that answer was checked');
    });

    test(`ssrf-dns-rebind-redirect [${job}]: a rebinding between two hops of one request is refused at the second connection`, async () => {
      const name = `rebind-hop-${job}.test`;
      answers.set(name, [[v4('127.0.0.2')], [v4('127.0.0.1')]]);
      const before = origin.hits('/hop1');
      const { res, codes: logged } = await get(job, `http://${name}:${origin.port}/hop1`);
      assertRefused(res, 'ssrf-dns-rebind-redirect');
      assert.deepEqual(logged, ['ADDRESS_DENIED']);
      assert.equal(origin.hits('/hop1'), before + 1);
      assert.equal(lookups.get(name), 2);
    });
  }

  test('ssrf-dns-unknown-name: a name that does not resolve is a 4xx, not a 500', async () => {
    for (const job of JOBS) {
      const { res, codes: logged } = await get(job, `http://nx-${job}.test:${origin.port}/img.png`);
      assert.ok(res.status >= 400 && res.status < 500, `[${job}] got ${res.status}`);
      assert.ok(logged.every((c) => c === 'UPSTREAM_FAILED' || REFUSAL_CODES.has(c)), logged.join(','));
    }
  });
});
