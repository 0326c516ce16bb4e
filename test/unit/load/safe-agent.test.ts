// The connect-time address check (security.md §1.5): the lookup hook judges every resolved address, so a name
// that resolves to loopback, a multi-record answer and DNS rebinding between connections are all caught at the
// address actually connected. The resolver is injected, so no DNS is used; the real sockets go to loopback only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { createSafeFetcher } from '../../../src/load/http-fetch.js';
import { AddressDeniedError, createCheckedLookup, createSafeAgent } from '../../../src/load/safe-agent.js';
import { createAddressPolicy } from '../../../src/policy/address.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { serve, startCanary, startOrigin, testImages, type Canary, type Origin } from '../../helpers/origin.js';

type Answer = readonly LookupAddress[];
const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

/** A resolver that gives the next answer on each call (the last one repeats) and counts calls. */
function scripted(...answers: Answer[]) {
  let calls = 0;
  const resolve = (_host: string, cb: (err: Error | null, addresses: LookupAddress[]) => void) => {
    const answer = answers[Math.min(calls++, answers.length - 1)]!;
    queueMicrotask(() => cb(null, [...answer]));
  };
  return { resolve, calls: () => calls };
}

function lookupOnce(answers: Answer, options: LookupOptions, allow: string[] = []) {
  const lookup = createCheckedLookup(createAddressPolicy({ allowNetworks: allow }), scripted(answers).resolve);
  return new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family?: number }>((resolve) => {
    lookup('example.test', options, (err, address, family) => resolve({ err, address, family }));
  });
}

describe('createCheckedLookup', () => {
  test('refuses a name whose only address is loopback', async () => {
    const { err } = await lookupOnce([v4('127.0.0.1')], {});
    assert.ok(err instanceof AddressDeniedError);
    assert.equal((err as AddressDeniedError).range, '127.0.0.0/8');
  });

  test('refuses an AAAA answer that maps loopback (::ffff:127.0.0.1)', async () => {
    const { err } = await lookupOnce([v6('::ffff:127.0.0.1')], {});
    assert.ok(err instanceof AddressDeniedError);
  });

  test('keeps only the allowed addresses of a mixed answer, with and without `all`', async () => {
    const answer = [v4('127.0.0.1'), v4('93.184.215.14'), v6('::1'), v6('2606:2800:21f:cb07:6820:80da:af6b:8b2c')];
    const one = await lookupOnce(answer, {});
    assert.equal(one.err, null);
    assert.equal(one.address, '93.184.215.14');
    assert.equal(one.family, 4);
    const all = await lookupOnce(answer, { all: true });
    assert.deepEqual(all.address, [v4('93.184.215.14'), v6('2606:2800:21f:cb07:6820:80da:af6b:8b2c')]);
  });

  test('honours the requested family', async () => {
    const answer = [v4('93.184.215.14'), v6('2606:2800:21f:cb07:6820:80da:af6b:8b2c')];
    assert.equal((await lookupOnce(answer, { family: 6 })).address, '2606:2800:21f:cb07:6820:80da:af6b:8b2c');
    const none = await lookupOnce([v4('93.184.215.14')], { family: 6 });
    assert.ok(none.err instanceof AddressDeniedError);
  });

  test('lets an allowed network through', async () => {
    const { err, address } = await lookupOnce([v4('127.0.0.2')], {}, ['127.0.0.2/32']);
    assert.equal(err, null);
    assert.equal(address, '127.0.0.2');
  });

  test('passes a resolver error on', async () => {
    const lookup = createCheckedLookup(createAddressPolicy(), (_h, cb) => cb(Object.assign(new Error('queryA ENOTFOUND'), { code: 'ENOTFOUND' }), []));
    const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => lookup('nx.test', {}, (e) => resolve(e)));
    assert.equal(err?.code, 'ENOTFOUND');
  });
});

describe('createSafeAgent over real loopback sockets', () => {
  let canary: Canary;
  let origin: Origin;
  before(async () => {
    canary = await startCanary('127.0.0.1');
    origin = await startOrigin({ host: '127.0.0.2' });
    origin.route('/img.png', serve((await testImages()).png));
  });
  after(async () => {
    await canary.close();
    await origin.close();
  });

  async function requestThrough(agent: ReturnType<typeof createSafeAgent>, origin: string) {
    try {
      const res = await agent.request({ origin, path: '/img.png', method: 'GET' });
      await res.body.dump();
      return res.statusCode;
    } catch (err) {
      return err;
    }
  }

  function deniedBy(result: unknown): AddressDeniedError | undefined {
    for (let e: unknown = result, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
      if (e instanceof AddressDeniedError) return e;
    }
    return undefined;
  }

  test('refuses a host name that resolves to loopback, before connecting', async () => {
    const dns = scripted([v4('127.0.0.1')]);
    const agent = createSafeAgent({ policy: createAddressPolicy(), keepAlive: false, connectTimeoutMs: 1000, resolve: dns.resolve });
    try {
      const result = await requestThrough(agent, `http://loopback-alias.test:${canary.port}`);
      assert.ok(deniedBy(result), String(result));
      assert.equal(dns.calls(), 1);
      assert.equal(canary.connections(), 0);
    } finally {
      await agent.close();
    }
  });

  test('connects to the address the hook approved (the name exists nowhere else)', async () => {
    const dns = scripted([v4('127.0.0.2')]);
    const agent = createSafeAgent({ policy: createAddressPolicy({ allowNetworks: ['127.0.0.2/32'] }), keepAlive: false, connectTimeoutMs: 1000, resolve: dns.resolve });
    try {
      assert.equal(await requestThrough(agent, `http://images.test:${origin.port}`), 200);
      assert.equal(origin.last('/img.png').headers.host, `images.test:${origin.port}`);
    } finally {
      await agent.close();
    }
  });

  test('catches DNS rebinding: the second connection resolves to loopback and is refused', async () => {
    const dns = scripted([v4('127.0.0.2')], [v4('127.0.0.1')]);
    const agent = createSafeAgent({ policy: createAddressPolicy({ allowNetworks: ['127.0.0.2/32'] }), keepAlive: false, connectTimeoutMs: 1000, resolve: dns.resolve });
    try {
      // The verdict is read from the error: whether anything listens on 127.0.0.1 at that port does not matter.
      assert.equal(await requestThrough(agent, `http://rebind.test:${origin.port}`), 200);
      const second = await requestThrough(agent, `http://rebind.test:${origin.port}`);
      assert.equal(deniedBy(second)?.address, '127.0.0.1');
      assert.equal(dns.calls(), 2, 'each new connection is looked up and judged again');
    } finally {
      await agent.close();
    }
  });

  test('refuses IP literals without any lookup', async () => {
    const dns = scripted([v4('93.184.215.14')]);
    const agent = createSafeAgent({ policy: createAddressPolicy(), keepAlive: false, connectTimeoutMs: 1000, resolve: dns.resolve });
    try {
      for (const host of [`127.0.0.1:${canary.port}`, `[::ffff:127.0.0.1]:${canary.port}`, `[::1]:${canary.port}`]) {
        assert.ok(deniedBy(await requestThrough(agent, `http://${host}`)), host);
      }
      assert.equal(dns.calls(), 0);
      assert.equal(canary.connections(), 0);
    } finally {
      await agent.close();
    }
  });

  test('the fetcher answers ADDRESS_DENIED for a redirect to a name that resolves to loopback', async () => {
    const dns = scripted([v4('127.0.0.1')]);
    origin.route('/to-alias', (_req, res) => {
      res.writeHead(302, { Location: `http://alias.test:${canary.port}/x.png`, 'Content-Length': 0 }).end();
    });
    const dispatcher = createSafeAgent({ policy: createAddressPolicy({ allowNetworks: ['127.0.0.2/32'] }), keepAlive: true, connectTimeoutMs: 1000, resolve: dns.resolve });
    const fetcher = createSafeFetcher({ dispatcher, maxRedirects: 3, allowCredentialUrls: false, userAgent: 'test', via: 'test' });
    const signal = new AbortController().signal;
    try {
      await assert.rejects(
        fetcher.fetch({ url: origin.url('/to-alias'), method: 'GET', headers: {}, signal, deadline: signal, maxBytes: 0 }),
        (err: unknown) => isPixgateError(err) && err.code === 'ADDRESS_DENIED',
      );
      assert.equal(canary.connections(), 0);
    } finally {
      await dispatcher.close();
    }
  });
});
