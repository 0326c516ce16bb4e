/**
 * Loaders, storages and result storages of the imagor job, on the file system and S3 (imagor's FILE_*, S3_*,
 * AWS_* and storage path style settings), plus pixgate's bounded result cache and S3 timeouts. As in imagor, an
 * empty value means "not set", and a role is on once its base dir or bucket is given.
 */
import { setting } from '../define.js';
import { bool, bytes, duration, int, oneOf, string, url, type ValueType } from '../values.js';
import { resultPathStyles, storagePathStyles } from '../../store/keys.js';

/** A Unix permission: `0755`, `0o755` or `755`, always octal (imagor reads `755` as decimal 755 = 01363). */
const fileMode: ValueType<number> = {
  name: 'mode',
  parse(raw) {
    const m = /^(?:0o?)?([0-7]{1,4})$/i.exec(raw.trim());
    if (!m) throw new Error('expected an octal file mode like 0755');
    return parseInt(m[1]!, 8);
  },
  format: (v) => '0' + v.toString(8),
};

/** A secret that may be empty (unset), as AWS credentials often are in a shared environment file. */
const secretOrEmpty: ValueType<string> = { name: 'secret', secret: true, parse: (raw) => raw, format: (v) => (v ? '***' : '') };

const urlOrEmpty: ValueType<string> = {
  name: 'url',
  parse: (raw) => (raw.trim() === '' ? '' : url.parse(raw).replace(/\/$/, '')),
  format: (v) => v,
};

export const cannedAcls = [
  'private', 'public-read', 'public-read-write', 'authenticated-read', 'aws-exec-read', 'bucket-owner-read', 'bucket-owner-full-control',
] as const;

/** An S3 canned ACL, or empty for none (imagor silently drops an unknown one; pixgate refuses to start). */
const acl: ValueType<string> = {
  name: `${cannedAcls.join('|')}`,
  parse(raw) {
    const v = raw.trim().toLowerCase();
    if (v !== '' && !(cannedAcls as readonly string[]).includes(v)) throw new Error(`expected one of ${cannedAcls.join(', ')}`);
    return v;
  },
  format: (v) => v,
};

export const storageClasses = ['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE'] as const;

const storageClass: ValueType<string> = {
  name: storageClasses.join('|'),
  parse(raw) {
    const v = raw.trim().toUpperCase();
    if (!(storageClasses as readonly string[]).includes(v)) throw new Error(`expected one of ${storageClasses.join(', ')}`);
    return v;
  },
  format: (v) => v,
};

/** An object tagging query string (`key=value&k2=v2`), or empty. */
const tagging: ValueType<string> = {
  name: 'query',
  parse(raw) {
    const v = raw.trim();
    if (v === '') return '';
    if (!/^[^=&]+(=[^&]*)?(&[^=&]+(=[^&]*)?)*$/.test(v)) throw new Error('expected a query string such as key=value&k2=v2');
    return v;
  },
  format: (v) => v,
};

const roleHelp = {
  Loader: 'S3 loader',
  Storage: 'S3 storage',
  ResultStorage: 'S3 result storage',
} as const;

/** AWS_<ROLE>_* and S3_<ROLE>_ENDPOINT: per-role overrides (imagor uses them only when region, key id and secret are all set). */
function awsRole<const R extends keyof typeof roleHelp>(role: R, envRole: string, flagRole: string) {
  const what = roleHelp[role];
  return {
    [`aws${role}Region`]: setting({
      env: [`AWS_${envRole}_REGION`], flags: [`--aws-${flagRole}-region`], type: string, default: '', group: 'storage',
      help: `AWS region for the ${what}, overriding AWS_REGION (with its own key id and secret).`,
    }),
    [`aws${role}AccessKeyId`]: setting({
      env: [`AWS_${envRole}_ACCESS_KEY_ID`], flags: [`--aws-${flagRole}-access-key-id`], type: string, default: '', group: 'storage',
      help: `AWS access key id for the ${what}.`,
    }),
    [`aws${role}SecretAccessKey`]: setting({
      env: [`AWS_${envRole}_SECRET_ACCESS_KEY`], flags: [`--aws-${flagRole}-secret-access-key`], type: secretOrEmpty, default: '', group: 'storage',
      help: `AWS secret access key for the ${what}.`,
    }),
    [`aws${role}SessionToken`]: setting({
      env: [`AWS_${envRole}_SESSION_TOKEN`], flags: [`--aws-${flagRole}-session-token`], type: secretOrEmpty, default: '', group: 'storage',
      help: `AWS session token for the ${what} (temporary credentials).`,
    }),
    [`s3${role}Endpoint`]: setting({
      env: [`S3_${envRole}_ENDPOINT`], flags: [`--s3-${flagRole}-endpoint`], type: urlOrEmpty, default: '', group: 'storage',
      help: `S3 endpoint for the ${what}, overriding S3_ENDPOINT.`,
    }),
  } as {
    [K in `aws${R}Region` | `aws${R}AccessKeyId` | `aws${R}SecretAccessKey` | `aws${R}SessionToken` | `s3${R}Endpoint`]: ReturnType<typeof setting<string>>;
  };
}

export const storageSettings = {
  // --- keys and path styles (imagor core) ---
  imagorStoragePathStyle: setting({
    env: ['IMAGOR_STORAGE_PATH_STYLE'], flags: ['--imagor-storage-path-style'], type: oneOf(storagePathStyles), default: 'original', group: 'storage',
    help: 'Key of a source image in source storage: original (the image key) or digest (sha1, split ab/cd/ef…).',
  }),
  imagorResultStoragePathStyle: setting({
    env: ['IMAGOR_RESULT_STORAGE_PATH_STYLE'], flags: ['--imagor-result-storage-path-style'], type: oneOf(resultPathStyles), default: 'original', group: 'storage',
    help: 'Key of a result: original (the processing path), digest (sha1 of it), suffix (image key + digest + format extension) or size (suffix + _WxH).',
  }),
  imagorModifiedTimeCheck: setting({
    env: ['IMAGOR_MODIFIED_TIME_CHECK'], flags: ['--imagor-modified-time-check'], type: bool, default: false, group: 'storage',
    help: 'Discard a stored result older than its source (stat through source storage, else the loader) and process again.',
  }),

  // --- file system ---
  fileSafeChars: setting({
    env: ['FILE_SAFE_CHARS'], flags: ['--file-safe-chars'], type: string, default: '', group: 'storage',
    help: 'Characters kept unescaped in file keys besides A-Za-z0-9/-_.~ (others are %XX-escaped); -- turns escaping off.',
  }),
  fileLoaderBaseDir: setting({
    env: ['FILE_LOADER_BASE_DIR'], flags: ['--file-loader-base-dir'], type: string, default: '', group: 'storage',
    help: 'Serve source images from this directory (the file loader is on when set). Keys never leave it, symlinks included.',
  }),
  fileLoaderPathPrefix: setting({
    env: ['FILE_LOADER_PATH_PREFIX'], flags: ['--file-loader-path-prefix'], type: string, default: '', group: 'storage',
    help: 'Only image keys under this prefix go to the file loader; the prefix is removed before the base dir is joined.',
  }),
  fileStorageBaseDir: setting({
    env: ['FILE_STORAGE_BASE_DIR'], flags: ['--file-storage-base-dir'], type: string, default: '', group: 'storage',
    help: 'Keep a copy of each loaded source image in this directory (file source storage is on when set).',
  }),
  fileStoragePathPrefix: setting({
    env: ['FILE_STORAGE_PATH_PREFIX'], flags: ['--file-storage-path-prefix'], type: string, default: '', group: 'storage',
    help: 'Only keys under this prefix go to file source storage; the prefix is removed from the stored path.',
  }),
  fileStorageMkdirPermission: setting({
    env: ['FILE_STORAGE_MKDIR_PERMISSION'], flags: ['--file-storage-mkdir-permission'], type: fileMode, default: 0o755, group: 'storage',
    help: 'Mode of directories created by file source storage (octal, before the umask).',
  }),
  fileStorageWritePermission: setting({
    env: ['FILE_STORAGE_WRITE_PERMISSION'], flags: ['--file-storage-write-permission'], type: fileMode, default: 0o666, group: 'storage',
    help: 'Mode of files written by file source storage (octal, before the umask).',
  }),
  fileStorageExpiration: setting({
    env: ['FILE_STORAGE_EXPIRATION'], flags: ['--file-storage-expiration'], type: duration, default: 0, group: 'storage',
    help: 'Stored sources older than this are reloaded (e.g. 24h); 0 = never.',
  }),
  fileResultStorageBaseDir: setting({
    env: ['FILE_RESULT_STORAGE_BASE_DIR'], flags: ['--file-result-storage-base-dir', '--result-cache-dir'], type: string, default: '', group: 'storage',
    help: 'Keep processed results in this directory (file result storage is on when set); bound it with PIXGATE_RESULT_CACHE_MAX_SIZE.',
  }),
  fileResultStoragePathPrefix: setting({
    env: ['FILE_RESULT_STORAGE_PATH_PREFIX'], flags: ['--file-result-storage-path-prefix'], type: string, default: '', group: 'storage',
    help: 'Only result keys under this prefix go to file result storage; the prefix is removed from the stored path.',
  }),
  fileResultStorageMkdirPermission: setting({
    env: ['FILE_RESULT_STORAGE_MKDIR_PERMISSION'], flags: ['--file-result-storage-mkdir-permission'], type: fileMode, default: 0o755, group: 'storage',
    help: 'Mode of directories created by file result storage (octal, before the umask).',
  }),
  fileResultStorageWritePermission: setting({
    env: ['FILE_RESULT_STORAGE_WRITE_PERMISSION'], flags: ['--file-result-storage-write-permission'], type: fileMode, default: 0o666, group: 'storage',
    help: 'Mode of files written by file result storage (octal, before the umask).',
  }),
  fileResultStorageExpiration: setting({
    env: ['FILE_RESULT_STORAGE_EXPIRATION'], flags: ['--file-result-storage-expiration'], type: duration, default: 0, group: 'storage',
    help: 'Stored results older than this are processed again (e.g. 24h); 0 = never.',
  }),
  resultCacheMaxSize: setting({
    env: ['PIXGATE_RESULT_CACHE_MAX_SIZE'], flags: ['--result-cache-max-size'], type: bytes, default: 0, group: 'storage',
    help: 'Bound the file result storage to this many bytes (e.g. 2GB), evicting the least recently used results; 0 = unbounded, as imagor. Shared evenly by --workers.',
  }),

  // --- S3 (and S3-compatible: MinIO, Ceph, R2, GCS interoperability) ---
  awsRegion: setting({
    env: ['AWS_REGION'], flags: ['--aws-region'], type: string, default: '', group: 'storage',
    help: 'AWS region of the S3 buckets (also from the usual AWS config chain when empty).',
  }),
  awsAccessKeyId: setting({
    env: ['AWS_ACCESS_KEY_ID'], flags: ['--aws-access-key-id'], type: string, default: '', group: 'storage',
    help: 'AWS access key id (with AWS_SECRET_ACCESS_KEY); empty: the AWS default credential chain.',
  }),
  awsSecretAccessKey: setting({
    env: ['AWS_SECRET_ACCESS_KEY'], flags: ['--aws-secret-access-key'], type: secretOrEmpty, default: '', group: 'storage',
    help: 'AWS secret access key.',
  }),
  awsSessionToken: setting({
    env: ['AWS_SESSION_TOKEN'], flags: ['--aws-session-token'], type: secretOrEmpty, default: '', group: 'storage',
    help: 'AWS session token (temporary credentials).',
  }),
  s3Endpoint: setting({
    env: ['S3_ENDPOINT'], flags: ['--s3-endpoint'], type: urlOrEmpty, default: '', group: 'storage',
    help: 'S3-compatible endpoint (e.g. http://minio:9000); empty: AWS S3 for the region.',
  }),
  s3ForcePathStyle: setting({
    env: ['S3_FORCE_PATH_STYLE'], flags: ['--s3-force-path-style'], type: bool, default: false, group: 'storage',
    help: 'Address buckets as endpoint/bucket/key instead of bucket.endpoint/key (needed by most S3-compatible servers).',
  }),
  s3SafeChars: setting({
    env: ['S3_SAFE_CHARS'], flags: ['--s3-safe-chars'], type: string, default: '', group: 'storage',
    help: 'Characters kept unescaped in S3 keys besides A-Za-z0-9/-_.~ and !"()* ; -- turns escaping off.',
  }),
  s3HttpMaxIdleConnsPerHost: setting({
    env: ['S3_HTTP_MAX_IDLE_CONNS_PER_HOST'], flags: ['--s3-http-max-idle-conns-per-host'], type: int({ min: 1, max: 10_000 }), default: 100, group: 'storage',
    help: 'Connections kept to the S3 endpoint, per role.',
  }),
  s3StorageClass: setting({
    env: ['S3_STORAGE_CLASS'], flags: ['--s3-storage-class'], type: storageClass, default: 'STANDARD', group: 'storage',
    help: 'Storage class of objects written by S3 storage and S3 result storage.',
  }),
  s3ConnectTimeout: setting({
    env: ['PIXGATE_S3_CONNECT_TIMEOUT'], flags: ['--s3-connect-timeout'], type: duration, default: 2000, group: 'storage',
    help: 'Give up connecting to S3 after this long, so an outage is noticed fast (the request goes on without storage).',
  }),
  s3Timeout: setting({
    env: ['PIXGATE_S3_TIMEOUT'], flags: ['--s3-timeout'], type: duration, default: 10_000, group: 'storage',
    help: 'Longest time any one S3 operation may take, body included.',
  }),

  s3LoaderBucket: setting({
    env: ['S3_LOADER_BUCKET'], flags: ['--s3-loader-bucket'], type: string, default: '', group: 'storage',
    help: 'Load source images from this bucket (`bucket` or `bucket/base/dir`; `*` = the first key segment names the bucket).',
  }),
  s3LoaderBaseDir: setting({
    env: ['S3_LOADER_BASE_DIR'], flags: ['--s3-loader-base-dir'], type: string, default: '', group: 'storage',
    help: 'Key prefix inside the loader bucket.',
  }),
  s3LoaderPathPrefix: setting({
    env: ['S3_LOADER_PATH_PREFIX'], flags: ['--s3-loader-path-prefix'], type: string, default: '', group: 'storage',
    help: 'Only image keys under this prefix go to the S3 loader; the prefix is removed before the base dir is joined.',
  }),
  ...awsRole('Loader', 'LOADER', 'loader'),

  s3StorageBucket: setting({
    env: ['S3_STORAGE_BUCKET'], flags: ['--s3-storage-bucket'], type: string, default: '', group: 'storage',
    help: 'Keep a copy of each loaded source image in this bucket (`bucket` or `bucket/base/dir`).',
  }),
  s3StorageBaseDir: setting({
    env: ['S3_STORAGE_BASE_DIR'], flags: ['--s3-storage-base-dir'], type: string, default: '', group: 'storage',
    help: 'Key prefix inside the source storage bucket.',
  }),
  s3StoragePathPrefix: setting({
    env: ['S3_STORAGE_PATH_PREFIX'], flags: ['--s3-storage-path-prefix'], type: string, default: '', group: 'storage',
    help: 'Only keys under this prefix go to S3 source storage.',
  }),
  s3StorageAcl: setting({
    env: ['S3_STORAGE_ACL'], flags: ['--s3-storage-acl'], type: acl, default: '', group: 'storage',
    help: 'Canned ACL of stored sources (e.g. private); empty: none sent (imagor\'s code default).',
  }),
  s3StorageTagging: setting({
    env: ['S3_STORAGE_TAGGING'], flags: ['--s3-storage-tagging'], type: tagging, default: '', group: 'storage',
    help: 'Object tags of stored sources, as a query string (key=value&k2=v2).',
  }),
  s3StorageExpiration: setting({
    env: ['S3_STORAGE_EXPIRATION'], flags: ['--s3-storage-expiration'], type: duration, default: 0, group: 'storage',
    help: 'Stored sources older than this are reloaded; 0 = never.',
  }),
  ...awsRole('Storage', 'STORAGE', 'storage'),

  s3ResultStorageBucket: setting({
    env: ['S3_RESULT_STORAGE_BUCKET'], flags: ['--s3-result-storage-bucket'], type: string, default: '', group: 'storage',
    help: 'Keep processed results in this bucket (`bucket` or `bucket/base/dir`), shared by every instance of a fleet.',
  }),
  s3ResultStorageBaseDir: setting({
    env: ['S3_RESULT_STORAGE_BASE_DIR'], flags: ['--s3-result-storage-base-dir'], type: string, default: '', group: 'storage',
    help: 'Key prefix inside the result bucket.',
  }),
  s3ResultStoragePathPrefix: setting({
    env: ['S3_RESULT_STORAGE_PATH_PREFIX'], flags: ['--s3-result-storage-path-prefix'], type: string, default: '', group: 'storage',
    help: 'Only result keys under this prefix go to S3 result storage.',
  }),
  s3ResultStorageAcl: setting({
    env: ['S3_RESULT_STORAGE_ACL'], flags: ['--s3-result-storage-acl'], type: acl, default: '', group: 'storage',
    help: 'Canned ACL of stored results; empty: none sent.',
  }),
  s3ResultStorageTagging: setting({
    env: ['S3_RESULT_STORAGE_TAGGING'], flags: ['--s3-result-storage-tagging'], type: tagging, default: '', group: 'storage',
    help: 'Object tags of stored results, as a query string (e.g. ttl=generated, for a lifecycle rule).',
  }),
  s3ResultStorageExpiration: setting({
    env: ['S3_RESULT_STORAGE_EXPIRATION'], flags: ['--s3-result-storage-expiration'], type: duration, default: 0, group: 'storage',
    help: 'Stored results older than this are processed again; 0 = never.',
  }),
  ...awsRole('ResultStorage', 'RESULT_STORAGE', 'result-storage'),
} as const;
