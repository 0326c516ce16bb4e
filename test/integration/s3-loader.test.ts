import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/store/s3-store.js';
import { createS3Loader, type S3LoaderOptions } from '../../src/store/s3-loader.js';
import type { SourceLoader } from '../../src/store/result-store.js';
import { isPixgateError } from '../../src/respond/errors.js';
import { startS3Server, type S3TestServer } from '../helpers/s3-server.js';

/** The loader's answer: the body, 'miss', or the error code. */
async function outcome(p: Promise<{ body: Buffer } | undefined>): Promise<string> {
  try {
    const r = await p;
    return r === undefined ? 'miss' : r.body.toString();
  } catch (err) {
    assert.ok(isPixgateError(err), `unexpected error ${String(err)}`);
    return err.code;
  }
}

describe('S3 loader against a real S3-compatible server', () => {
  let server: S3TestServer;
  let raw: S3Client;
  const loaders: SourceLoader[] = [];
  const makeLoader = (extra: Partial<S3LoaderOptions> = {}): SourceLoader => {
    const client = createS3Client({
      endpoint: server.endpoint, region: server.region, credentials: server.credentials, forcePathStyle: true,
      connectTimeoutMs: 500, requestTimeoutMs: 5000,
    });
    const loader = createS3Loader({ client, bucket: 'sources/images', timeoutMs: 2000, ...extra });
    loaders.push(loader);
    return loader;
  };

  before(async () => {
    server = await startS3Server({ buckets: ['sources'] });
    raw = server.client();
    await raw.send(new PutObjectCommand({ Bucket: 'sources', Key: 'images/cats/a+b.png', Body: 'CAT', ContentType: 'image/png' }));
    await raw.send(new PutObjectCommand({ Bucket: 'sources', Key: 'images/big.png', Body: Buffer.alloc(4096) }));
    await raw.send(new PutObjectCommand({ Bucket: 'sources', Key: 'secret.txt', Body: 'OUTSIDE-BASE-CANARY' }));
  });
  after(async () => {
    for (const l of loaders) await l.close();
    await server.close();
  });

  // The image key holds a space (imagor's parser reads `+` as one); Normalize writes it back as `+` (imagor).
  test('loads by image key from the bucket base dir, with the object\'s ETag, Last-Modified and type', async () => {
    const loader = makeLoader({ pathPrefix: 'local' });
    const got = await loader.get('local/cats/a b.png');
    assert.equal(got?.body.toString(), 'CAT');
    assert.equal(got?.meta.etag, `"${createHash('md5').update('CAT').digest('hex')}"`);
    assert.equal(got?.meta.contentType, 'image/png');
    const st = await loader.stat('local/cats/a b.png');
    assert.equal(st?.modifiedMs, got?.meta.modifiedMs);
    assert.equal(await outcome(loader.get('local/cats/missing.png')), 'miss');
    assert.equal(await loader.stat('local/cats/missing.png'), undefined);
    assert.equal(await outcome(loader.get('https://example.com/a.png')), 'miss', 'outside the prefix: the next loader\'s');
  });

  test('refuses keys that would climb out of the base dir', async () => {
    const loader = makeLoader();
    for (const key of ['../secret.txt', 'cats/../../secret.txt', '%2e%2e/secret.txt', '..%2fsecret.txt', 'x\0.png']) {
      assert.equal(await outcome(loader.get(key)), 'INVALID_PARAMS', key);
    }
  });

  test('refuses sources over the size limit', async () => {
    const loader = makeLoader({ maxBytes: 1024 });
    assert.equal(await outcome(loader.get('big.png')), 'CONTENT_LENGTH_EXCEEDED');
    assert.equal((await loader.get('big.png', { maxBytes: 8192 }))?.body.length, 4096);
  });

  test('an outage is UPSTREAM_FAILED, fast; a server that stops answering is UPSTREAM_TIMEOUT', async () => {
    const loader = makeLoader({ breaker: { failures: 100 }, timeoutMs: 400 });
    await server.stop();
    try {
      const t0 = performance.now();
      assert.equal(await outcome(loader.get('cats/a b.png')), 'UPSTREAM_FAILED');
      assert.ok(performance.now() - t0 < 1500);
    } finally {
      await server.start();
    }
    server.hang();
    try {
      assert.equal(await outcome(loader.get('cats/a b.png')), 'UPSTREAM_TIMEOUT');
    } finally {
      await server.start();
    }
    assert.equal(await outcome(loader.get('cats/a b.png')), 'CAT');
  });
});
