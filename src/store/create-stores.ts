/**
 * Builds the configured loaders, source storages and result storages from the storage settings, in imagor's
 * order (S3 before file; the HTTP loader, built elsewhere, goes last). A role is on once its base dir or bucket
 * is set. Builds clients only; no request is sent until a store is used. The AWS SDK (about 300 ms to import) is
 * loaded only when a bucket is configured.
 */
import cluster from 'node:cluster';
import type { SettingValue } from '../settings/define.js';
import { SettingsError } from '../settings/load.js';
import { storageSettings } from '../settings/table/storage.js';
import { createFileLoader } from './file-loader.js';
import { createFileStore, type FileStore } from './file-store.js';
import type { ResultPathStyle, StoragePathStyle } from './keys.js';
import type { BlobStore, SourceLoader } from './result-store.js';
import type { S3ClientOptions } from './s3-store.js';

export type StorageSettings = { readonly [K in keyof typeof storageSettings]: SettingValue<(typeof storageSettings)[K]> };

export interface CreateStoresOptions {
  /** Largest source image a loader reads; 0 = no limit. */
  readonly maxSourceBytes?: number;
  /** Processes sharing the file result cache directory: each bounds itself to PIXGATE_RESULT_CACHE_MAX_SIZE / workers. */
  readonly workers?: number;
  readonly now?: () => number;
}

export interface Stores {
  /** S3, then file. */
  readonly loaders: readonly SourceLoader[];
  readonly storages: readonly BlobStore[];
  readonly resultStorages: readonly BlobStore[];
  readonly storagePathStyle: StoragePathStyle;
  readonly resultPathStyle: ResultPathStyle;
  readonly modifiedTimeCheck: boolean;
  /** Resolves once bounded caches have rebuilt their index from disk. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

type Role = 'Loader' | 'Storage' | 'ResultStorage';

/**
 * imagor's awsconfig: global static credentials when key id and secret are set (else the SDK's default chain);
 * a role's own region + key id + secret replace region and credentials only when all three are set; the role's
 * endpoint beats S3_ENDPOINT.
 */
export function s3ClientOptionsFor(s: StorageSettings, role: Role): S3ClientOptions {
  const roleRegion = s[`aws${role}Region`];
  const roleKey = s[`aws${role}AccessKeyId`];
  const roleSecret = s[`aws${role}SecretAccessKey`];
  let region = s.awsRegion;
  let credentials: S3ClientOptions['credentials'];
  if (s.awsAccessKeyId !== '' && s.awsSecretAccessKey !== '') {
    credentials = { accessKeyId: s.awsAccessKeyId, secretAccessKey: s.awsSecretAccessKey, ...(s.awsSessionToken ? { sessionToken: s.awsSessionToken } : {}) };
  }
  if (roleRegion !== '' && roleKey !== '' && roleSecret !== '') {
    region = roleRegion;
    const token = s[`aws${role}SessionToken`];
    credentials = { accessKeyId: roleKey, secretAccessKey: roleSecret, ...(token ? { sessionToken: token } : {}) };
  }
  const endpoint = s[`s3${role}Endpoint`] || s.s3Endpoint;
  return {
    ...(region ? { region } : {}),
    ...(credentials ? { credentials } : {}),
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: s.s3ForcePathStyle,
    connectTimeoutMs: s.s3ConnectTimeout,
    requestTimeoutMs: s.s3Timeout,
    maxSockets: s.s3HttpMaxIdleConnsPerHost,
  };
}

export async function createStores(s: StorageSettings, opts: CreateStoresOptions = {}): Promise<Stores> {
  const errors: string[] = [];
  if (s.s3ResultStorageBucket === '*') {
    errors.push('S3_RESULT_STORAGE_BUCKET=*: a wildcard bucket is supported for the S3 loader and S3 storage only (--s3-result-storage-bucket)');
  }
  if (errors.length > 0) throw new SettingsError(errors);

  const now = opts.now ?? Date.now;
  const loaders: SourceLoader[] = [];
  const storages: BlobStore[] = [];
  const resultStorages: BlobStore[] = [];
  const bounded: FileStore[] = [];
  // Store names are `<kind>-<role>:<where>`: the part before the colon is the store label of the storage-error
  // metric (jobs/imagor.ts), so source and result storage of one kind are told apart; loaders are `<kind>-loader:`.

  // S3 first, as imagor applies its AWS options before the file system ones.
  if (s.s3StorageBucket !== '' || s.s3LoaderBucket !== '' || s.s3ResultStorageBucket !== '') {
    const { createS3Client, createS3KeyMapper, createS3Store } = await import('./s3-store.js');
    const { createS3Loader } = await import('./s3-loader.js');
    if (s.s3StorageBucket !== '') {
      storages.push(createS3Store({
        name: `s3-source:${createS3KeyMapper({ bucket: s.s3StorageBucket, baseDir: s.s3StorageBaseDir }).describe}`,
        client: createS3Client(s3ClientOptionsFor(s, 'Storage')),
        bucket: s.s3StorageBucket, baseDir: s.s3StorageBaseDir, pathPrefix: s.s3StoragePathPrefix, safeChars: s.s3SafeChars,
        acl: s.s3StorageAcl, tagging: s.s3StorageTagging, storageClass: s.s3StorageClass, expirationMs: s.s3StorageExpiration,
        timeoutMs: s.s3Timeout, now,
      }));
    }
    if (s.s3LoaderBucket !== '') {
      loaders.push(createS3Loader({
        client: createS3Client(s3ClientOptionsFor(s, 'Loader')),
        bucket: s.s3LoaderBucket, baseDir: s.s3LoaderBaseDir, pathPrefix: s.s3LoaderPathPrefix, safeChars: s.s3SafeChars,
        maxBytes: opts.maxSourceBytes ?? 0, timeoutMs: s.s3Timeout, now,
      }));
    }
    if (s.s3ResultStorageBucket !== '') {
      resultStorages.push(createS3Store({
        name: `s3-result:${createS3KeyMapper({ bucket: s.s3ResultStorageBucket, baseDir: s.s3ResultStorageBaseDir }).describe}`,
        client: createS3Client(s3ClientOptionsFor(s, 'ResultStorage')),
        bucket: s.s3ResultStorageBucket, baseDir: s.s3ResultStorageBaseDir, pathPrefix: s.s3ResultStoragePathPrefix,
        safeChars: s.s3SafeChars, acl: s.s3ResultStorageAcl, tagging: s.s3ResultStorageTagging, storageClass: s.s3StorageClass,
        expirationMs: s.s3ResultStorageExpiration, timeoutMs: s.s3Timeout, now,
      }));
    }
  }

  if (s.fileStorageBaseDir !== '') {
    storages.push(createFileStore({
      name: `file-source:${s.fileStorageBaseDir}`,
      baseDir: s.fileStorageBaseDir, pathPrefix: s.fileStoragePathPrefix, safeChars: s.fileSafeChars,
      mkdirMode: s.fileStorageMkdirPermission, writeMode: s.fileStorageWritePermission, expirationMs: s.fileStorageExpiration, now,
    }));
  }
  if (s.fileLoaderBaseDir !== '') {
    loaders.push(createFileLoader({
      baseDir: s.fileLoaderBaseDir, pathPrefix: s.fileLoaderPathPrefix, safeChars: s.fileSafeChars, maxBytes: opts.maxSourceBytes ?? 0,
    }));
  }
  if (s.fileResultStorageBaseDir !== '') {
    const workers = Math.max(1, opts.workers ?? 1);
    // server/cluster.ts forks the first `workers` workers at start (cluster ids 1..workers): they find the same
    // files and each counts them at 1/workers, which adds up to the directory. A replacement for a dead worker
    // (a later id) counts what it finds whole: it over-counts, so it evicts more than its share needs, but the
    // files the dead worker wrote are then counted again and the directory never outgrows the bound.
    const startedTogether = workers > 1 && cluster.isWorker && (cluster.worker?.id ?? Infinity) <= workers;
    const store = createFileStore({
      name: `file-result:${s.fileResultStorageBaseDir}`,
      baseDir: s.fileResultStorageBaseDir, pathPrefix: s.fileResultStoragePathPrefix, safeChars: s.fileSafeChars,
      mkdirMode: s.fileResultStorageMkdirPermission, writeMode: s.fileResultStorageWritePermission,
      expirationMs: s.fileResultStorageExpiration,
      // Each worker evicts within its share: every file counts in the index of the worker that wrote it (and, when
      // found at start, in all of them), so the shares add up to the bound. Integer division keeps the sum under it.
      maxBytes: s.resultCacheMaxSize > 0 ? Math.max(1, Math.floor(s.resultCacheMaxSize / workers)) : 0,
      adoptedShare: startedTogether ? 1 / workers : 1,
      now,
    });
    if (s.resultCacheMaxSize > 0) bounded.push(store);
    resultStorages.push(store);
  }

  return {
    loaders,
    storages,
    resultStorages,
    storagePathStyle: s.imagorStoragePathStyle,
    resultPathStyle: s.imagorResultStoragePathStyle,
    modifiedTimeCheck: s.imagorModifiedTimeCheck,
    ready: Promise.all(bounded.map((b) => b.ready)).then(() => {}),
    async close() {
      await Promise.all([...loaders, ...storages, ...resultStorages].map((x) => x.close().catch(() => {})));
    },
  };
}

/** The defaults of every storage setting: a base for tests and for callers that build settings by hand. */
export function defaultStorageSettings(): StorageSettings {
  return Object.fromEntries(Object.entries(storageSettings).map(([k, spec]) => [k, spec.default])) as StorageSettings;
}
