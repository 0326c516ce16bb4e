import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, createS3Store, type S3ClientOptions, type S3StoreOptions } from '../../src/store/s3-store.js';
import { isStorageError, type BlobStore, type StorageFailure } from '../../src/store/result-store.js';
import { createStores, defaultStorageSettings } from '../../src/store/create-stores.js';
import { resultKey, resultKeyInput } from '../../src/store/keys.js';
import { parseImagorPath } from '../../src/parse/imagor-path.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

const md5Etag = (b: Buffer): string => `"${createHash('md5').update(b).digest('hex')}"`;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function rejectsWith(p: Promise<unknown>, reason: StorageFailure): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(isStorageError(err), `expected a StorageError, got ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return true;
  });
}

async function elapsedMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn().catch(() => {});
  return performance.now() - t0;
}

describe('S3 store against a real S3-compatible server', () => {
  let server: S3TestServer;
  let raw: S3Client;
  const stores: BlobStore[] = [];

  const clientOpts = (extra: Partial<S3ClientOptions> = {}): S3ClientOptions => ({
    endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true,
    connectTimeoutMs: 500, requestTimeoutMs: 1000, ...extra,
  });
  const makeStore = (extra: Partial<S3StoreOptions> = {}, client: Partial<S3ClientOptions> = {}): BlobStore => {
    const store = createS3Store({ client: createS3Client(clientOpts(client)), bucket: 'results', timeoutMs: 2000, ...extra });
    stores.push(store);
    return store;
  };

  before(async () => {
    server = await startS3Server({ buckets: ['results', 'sources', 'other'] });
    raw = server.client();
  });
  after(async () => {
    for (const s of stores) await s.close();
    await server.close();
  });

  test('puts, gets, stats and deletes, under the base dir with S3 key escaping', async () => {
    const store = makeStore({ baseDir: 'cache' });
    const key = 'fit-in/1800x1800/filters:format(jpeg):quality(90)/test.jpg';
    const body = Buffer.from('result bytes');
    const before = Date.now();
    const meta = await store.put(key, body, { contentType: 'image/jpeg' });
    assert.equal(meta.size, body.length);
    assert.equal(meta.etag, md5Etag(body), 'single-part ETag is the quoted MD5 (S3)');
    assert.equal(meta.contentType, 'image/jpeg');
    // HTTP dates have one-second resolution.
    assert.ok(meta.modifiedMs >= Math.floor(before / 1000) * 1000 && meta.modifiedMs <= Date.now() + 1000, `${meta.modifiedMs}`);

    const head = await raw.send(new HeadObjectCommand({ Bucket: 'results', Key: 'cache/fit-in/1800x1800/filters%3Aformat(jpeg)%3Aquality(90)/test.jpg' }));
    assert.equal(head.ETag, meta.etag);
    assert.equal(head.LastModified?.getTime(), meta.modifiedMs);

    const got = await store.get(key);
    assert.ok(got);
    assert.ok(got.body.equals(body));
    assert.deepEqual(got.meta, meta);
    assert.deepEqual(await store.stat(key), meta);

    await store.delete(key);
    assert.equal(await store.get(key), undefined);
    assert.equal(await store.stat(key), undefined);
    await store.delete(key);
  });

  test('keeps the Last-Modified its writer gives, for every instance reading the object', async () => {
    const made = Date.now() - 5 * 60_000;
    const meta = await makeStore().put('made.jpg', Buffer.from('result'), { contentType: 'image/jpeg', modifiedMs: made });
    assert.equal(meta.modifiedMs, made);
    const other = makeStore();
    assert.equal((await other.get('made.jpg'))?.meta.modifiedMs, made);
    assert.equal((await other.stat('made.jpg'))?.modifiedMs, made);
  });

  test('a miss is undefined, also for a bucket that does not exist', async () => {
    assert.equal(await makeStore().get('nothing/here.png'), undefined);
    assert.equal(await makeStore().stat('nothing/here.png'), undefined);
    assert.equal(await makeStore({ bucket: 'no-such-bucket' }).get('x.png'), undefined);
  });

  for (const checksums of ['when-required', 'when-supported'] as const) {
    test(`streams a large body up in parts and reads it back whole (checksums ${checksums})`, async () => {
      const store = makeStore({}, { checksums });
      const parts = Array.from({ length: 12 }, (_, i) => Buffer.alloc(1024 * 1024, i + 1));
      const whole = Buffer.concat(parts);
      const meta = await store.put(`big-${checksums}.bin`, Readable.from(parts), { contentType: 'application/octet-stream' });
      assert.equal(meta.size, whole.length);
      assert.match(meta.etag, /^"[0-9a-f]{32}-3"$/, 'a multipart ETag: 12 MiB in 5 MiB parts');
      const got = await store.get(`big-${checksums}.bin`);
      assert.equal(got?.body.length, whole.length);
      assert.equal(sha256(got!.body), sha256(whole));
      // A small stream is one PutObject.
      const small = await store.put(`small-${checksums}.bin`, Readable.from([Buffer.from('ab'), Buffer.from('cd')]), {});
      assert.equal(small.etag, md5Etag(Buffer.from('abcd')));
      assert.equal((await store.get(`small-${checksums}.bin`))?.body.toString(), 'abcd');
    });
  }

  test('treats objects older than the expiration as misses, by their Last-Modified', async () => {
    let clock = Date.now();
    const store = makeStore({ expirationMs: 60_000, now: () => clock });
    await store.put('exp.png', Buffer.from('x'), {});
    assert.ok(await store.get('exp.png'));
    clock += 62_000;
    assert.equal(await store.get('exp.png'), undefined);
    assert.ok(await store.stat('exp.png'), 'stat ignores expiration, as imagor');
    assert.ok(await raw.send(new HeadObjectCommand({ Bucket: 'results', Key: 'exp.png' })), 'not deleted');
  });

  test('sends the configured ACL, tagging and storage class with each write', async () => {
    const client = createS3Client(clientOpts());
    const headers: Array<Record<string, string>> = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { method?: string; headers?: Record<string, string> };
        if (req.method === 'PUT') headers.push({ ...req.headers });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'captureHeaders' },
    );
    const store = createS3Store({ client, bucket: 'results', acl: 'public-read', tagging: 'ttl=generated', storageClass: 'STANDARD_IA' });
    stores.push(store);
    await store.put('acl.png', Buffer.from('x'), { contentType: 'image/png' });
    assert.equal(headers.length, 1);
    assert.equal(headers[0]!['x-amz-acl'], 'public-read');
    assert.equal(headers[0]!['x-amz-tagging'], 'ttl=generated');
    assert.equal(headers[0]!['x-amz-storage-class'], 'STANDARD_IA');
    assert.equal(headers[0]!['content-type'], 'image/png');
  });

  test('applies the path prefix and refuses keys that would climb out of the base dir, without a request', async () => {
    const store = makeStore({ baseDir: 'base', pathPrefix: 'results' });
    await store.put('results/a/b.png', Buffer.from('x'), {});
    assert.ok(await raw.send(new HeadObjectCommand({ Bucket: 'results', Key: 'base/a/b.png' })));
    await raw.send(new PutObjectCommand({ Bucket: 'results', Key: 'secret.png', Body: 'SECRET' }));
    for (const key of ['results/../secret.png', 'results/%2e%2e/secret.png', 'other/a/b.png', 'results/a\0.png']) {
      await rejectsWith(store.get(key), 'invalid-key');
      await rejectsWith(store.put(key, Buffer.from('x'), {}), 'invalid-key');
    }
  });

  test('with the wildcard bucket the first key segment names the bucket', async () => {
    const store = makeStore({ bucket: '*' });
    await store.put('other/w/x.png', Buffer.from('w'), {});
    const out = await raw.send(new GetObjectCommand({ Bucket: 'other', Key: 'w/x.png' }));
    assert.equal(await out.Body?.transformToString(), 'w');
    assert.equal((await store.get('other/w/x.png'))?.body.toString(), 'w');
    await rejectsWith(store.get('Bad_Bucket!/x.png'), 'invalid-key');
  });

  test('an aborted operation fails with reason aborted', async () => {
    const store = makeStore();
    await rejectsWith(store.get('x.png', AbortSignal.abort()), 'aborted');
    await rejectsWith(store.put('x.png', Buffer.from('x'), {}, AbortSignal.abort()), 'aborted');
  });

  test('outage: a stopped server fails operations fast with StorageError, then the circuit fails them at once; back up, it works again', async () => {
    const store = makeStore({ breaker: { failures: 2, cooldownMs: 300 } });
    await store.put('survives.png', Buffer.from('kept'), {});
    await server.stop();
    try {
      const first = await elapsedMs(() => rejectsWith(store.get('survives.png'), 'unavailable'));
      assert.ok(first < 1500, `first failure took ${first} ms`);
      await rejectsWith(store.put('new.png', Buffer.from('x'), {}), 'unavailable');
      const stream = new Readable({ read() {} });
      await rejectsWith(store.put('new.png', stream, {}), 'unavailable');
      assert.equal(stream.destroyed, true, 'a failed put releases its stream');
      // The circuit is open now: no connection attempt at all.
      const open = await elapsedMs(() => rejectsWith(store.stat('survives.png'), 'unavailable'));
      assert.ok(open < 100, `open circuit took ${open} ms`);
    } finally {
      await server.start();
    }
    await new Promise((r) => setTimeout(r, 350));
    assert.equal((await store.get('survives.png'))?.body.toString(), 'kept');
    await store.put('after.png', Buffer.from('y'), {});
    assert.equal((await store.get('after.png'))?.body.toString(), 'y');
  });

  test('outage: a server that stops answering times out within the operation deadline', async () => {
    const store = makeStore({ timeoutMs: 400, breaker: { failures: 100 } }, { requestTimeoutMs: 5000 });
    await store.put('hang.png', Buffer.from('x'), {});
    server.hang();
    try {
      const took = await elapsedMs(() => rejectsWith(store.get('hang.png'), 'timeout'));
      assert.ok(took >= 350 && took < 1500, `took ${took} ms`);
      await rejectsWith(store.put('hang2.png', Buffer.from('x'), {}), 'timeout');
    } finally {
      await server.start();
    }
    assert.equal((await store.get('hang.png'))?.body.toString(), 'x');
  });

  test('createStores builds S3 storages from settings that sign with their role\'s credentials', async () => {
    const stores = await createStores({
      ...defaultStorageSettings(),
      s3Endpoint: server.endpoint, s3ForcePathStyle: true, awsRegion: 'us-east-1',
      awsAccessKeyId: 'GLOBALKEY', awsSecretAccessKey: 'global-secret',
      awsResultStorageRegion: 'us-east-1', awsResultStorageAccessKeyId: 'RESULTKEY', awsResultStorageSecretAccessKey: 'result-secret',
      s3ResultStorageBucket: 'results/fleet', s3StorageBucket: 'sources', imagorResultStoragePathStyle: 'digest',
    });
    try {
      const key = resultKey(resultKeyInput(parseImagorPath('unsafe/fit-in/16x17/foobar')), stores.resultPathStyle);
      assert.equal(key, 'd5/c2/804e5d81c475bee50f731db17ee613f43262');
      const before = server.accessKeysSeen().length;
      await stores.resultStorages[0]!.put(key, Buffer.from('R'), {});
      await stores.storages[0]!.put('a.com/x.png', Buffer.from('S'), {});
      // Only the two stores' keys: a client of an earlier test may still be retrying against the restarted server.
      const seen = server.accessKeysSeen().slice(before).filter((k) => k === 'RESULTKEY' || k === 'GLOBALKEY');
      assert.ok(seen.length >= 2);
      assert.equal(seen[0], 'RESULTKEY');
      assert.equal(seen.at(-1), 'GLOBALKEY');
      const out = await raw.send(new GetObjectCommand({ Bucket: 'results', Key: `fleet/${key}` }));
      assert.equal(await out.Body?.transformToString(), 'R');
    } finally {
      await stores.close();
    }
  });
});
