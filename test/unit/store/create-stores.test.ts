import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStores, defaultStorageSettings, s3ClientOptionsFor, type StorageSettings } from '../../../src/store/create-stores.js';
import { storageSettings } from '../../../src/settings/table/storage.js';

const settings = (over: Partial<StorageSettings>): StorageSettings => ({ ...defaultStorageSettings(), ...over });

test('defaults turn every loader and storage off, with imagor\'s path styles', async () => {
  const stores = await createStores(defaultStorageSettings());
  assert.deepEqual([stores.loaders.length, stores.storages.length, stores.resultStorages.length], [0, 0, 0]);
  assert.equal(stores.storagePathStyle, 'original');
  assert.equal(stores.resultPathStyle, 'original');
  assert.equal(stores.modifiedTimeCheck, false);
  assert.equal(storageSettings.fileStorageMkdirPermission.default, 0o755);
  assert.equal(storageSettings.fileResultStorageWritePermission.default, 0o666);
  assert.equal(storageSettings.s3StorageAcl.default, '', 'no ACL header by default (imagor code, not its docs)');
  await stores.close();
});

test('each role is on once its base dir or bucket is set, S3 before file as in imagor', async () => {
  const stores = await createStores(settings({
    fileLoaderBaseDir: '/srv/images', fileStorageBaseDir: '/var/pixgate/sources', fileResultStorageBaseDir: '/var/pixgate/results',
    s3LoaderBucket: 'in', s3StorageBucket: 'src/base', s3ResultStorageBucket: 'out', awsRegion: 'eu-west-1',
  }));
  assert.deepEqual(stores.loaders.map((l) => l.name), ['s3-loader:in', 'file-loader:/srv/images']);
  assert.deepEqual(stores.storages.map((l) => l.name), ['s3-source:src/base', 'file-source:/var/pixgate/sources']);
  assert.deepEqual(stores.resultStorages.map((l) => l.name), ['s3-result:out', 'file-result:/var/pixgate/results']);
  await stores.close();
});

test('per-role AWS settings replace region and credentials only when region, key id and secret are all set', () => {
  const base = settings({ awsRegion: 'us-east-2', awsAccessKeyId: 'GLOBAL', awsSecretAccessKey: 'gs', s3Endpoint: 'http://minio:9000' });
  assert.deepEqual(s3ClientOptionsFor(base, 'Loader').credentials, { accessKeyId: 'GLOBAL', secretAccessKey: 'gs' });
  assert.equal(s3ClientOptionsFor(base, 'Loader').region, 'us-east-2');
  const partial = { ...base, awsResultStorageAccessKeyId: 'RS', awsResultStorageSecretAccessKey: 'rs' };
  assert.deepEqual(s3ClientOptionsFor(partial, 'ResultStorage').credentials?.accessKeyId, 'GLOBAL', 'no role region: global config');
  const full = { ...partial, awsResultStorageRegion: 'ap-south-1', awsResultStorageSessionToken: 'tok', s3ResultStorageEndpoint: 'http://other:9000' };
  const rs = s3ClientOptionsFor(full, 'ResultStorage');
  assert.deepEqual(rs.credentials, { accessKeyId: 'RS', secretAccessKey: 'rs', sessionToken: 'tok' });
  assert.equal(rs.region, 'ap-south-1');
  assert.equal(rs.endpoint, 'http://other:9000');
  assert.equal(s3ClientOptionsFor(full, 'Storage').endpoint, 'http://minio:9000');
  assert.equal(s3ClientOptionsFor(settings({}), 'Storage').credentials, undefined, 'no keys: the SDK default chain');
});

test('a wildcard result bucket is refused at start', () => {
  return assert.rejects(createStores(settings({ s3ResultStorageBucket: '*' })), /S3_RESULT_STORAGE_BUCKET=\*/);
});

test('the bounded result cache is shared evenly between workers', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pixgate-cs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stores = await createStores(settings({ fileResultStorageBaseDir: dir, resultCacheMaxSize: 10_000 }), { workers: 4 });
  await stores.ready;
  const cache = stores.resultStorages[0]!;
  for (let i = 0; i < 10; i++) await cache.put(`r${i}.png`, Buffer.alloc(1000), {});
  const files = await readdir(dir);
  let bytes = 0;
  for (const f of files) bytes += (await stat(join(dir, f))).size;
  assert.equal(bytes, 2000, 'one worker keeps 10000 / 4 = 2500 bytes at most');
  await stores.close();
});

test('file storages get their permissions and the loader its size limit', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pixgate-cs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const stores = await createStores(settings({
    fileStorageBaseDir: join(dir, 's'), fileStorageWritePermission: 0o600, fileLoaderBaseDir: join(dir, 's'),
  }), { maxSourceBytes: 3 });
  await stores.storages[0]!.put('a/b.png', Buffer.from('1234'), {});
  assert.equal((await stat(join(dir, 's', 'a', 'b.png'))).mode & 0o777, 0o600 & ~process.umask());
  await assert.rejects(stores.loaders[0]!.get('a/b.png'), { code: 'CONTENT_LENGTH_EXCEEDED' });
  await stores.close();
});
