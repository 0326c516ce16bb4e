/**
 * Storage keys, as imagor makes them: key normalisation with safe chars (imagorpath/normalize.go), storage and
 * result path styles (imagorpath/hasher.go), and the mapping of a key under a path prefix and a base directory
 * (storage/filestorage, storage/s3storage). Pure: strings in, strings out; never touches a file or a socket.
 */
import { createHash } from 'node:crypto';
import { findLastFilter } from '../parse/imagor-filters.js';
import { generateImagorPath } from '../parse/imagor-generate.js';
import type { ImagorParams } from '../parse/imagor-params.js';
import { utf8 } from '../verify/encoding.js';

export type StoragePathStyle = 'original' | 'digest';
export type ResultPathStyle = 'original' | 'digest' | 'suffix' | 'size';
export const storagePathStyles = ['original', 'digest'] as const satisfies readonly StoragePathStyle[];
export const resultPathStyles = ['original', 'digest', 'suffix', 'size'] as const satisfies readonly ResultPathStyle[];

/** Which bytes a key keeps unescaped beyond `A-Za-z0-9/-_.~`. */
export interface SafeChars {
  /** `--`: nothing is escaped at all. */
  readonly noop: boolean;
  readonly extra: ReadonlySet<number>;
}

/**
 * imagor's NewSafeChars: `--` turns escaping off; otherwise each character is kept as is. imagor keeps the low
 * byte of any character; only ASCII is honoured here, since the low byte of a non-ASCII character would leave a
 * broken UTF-8 sequence in the key.
 */
export function createSafeChars(chars: string): SafeChars {
  if (chars === '--') return { noop: true, extra: new Set() };
  const extra = new Set<number>();
  for (const ch of chars) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) extra.add(code);
  }
  return { noop: false, extra };
}

/** FILE_SAFE_CHARS (also imagor's GCS rule). */
export function fileSafeChars(chars: string): SafeChars {
  return createSafeChars(chars);
}

/** S3_SAFE_CHARS: imagor's S3 storage always keeps `!"()*` as well (AWS's list of safe key characters). */
export function s3SafeChars(chars: string): SafeChars {
  return chars === '--' ? createSafeChars('--') : createSafeChars('!"()*' + chars);
}

const DEFAULT_SAFE = createSafeChars('');

function shouldEscape(byte: number, safe: SafeChars): boolean {
  if (safe.noop) return false;
  if ((byte >= 0x61 && byte <= 0x7a) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x30 && byte <= 0x39)) return false;
  // '/', '-', '_', '.', '~'
  if (byte === 0x2f || byte === 0x2d || byte === 0x5f || byte === 0x2e || byte === 0x7e) return false;
  return !safe.extra.has(byte);
}

const HEX = '0123456789ABCDEF';

/** imagor's escape: percent-encodes each UTF-8 byte that is not safe, upper-case hex; a space becomes `+`. */
function escapeKey(text: string, safe: SafeChars): string {
  if (safe.noop) return text;
  let out = '';
  for (const byte of utf8(text)) {
    if (!shouldEscape(byte, safe)) out += String.fromCharCode(byte);
    else if (byte === 0x20) out += '+';
    else out += '%' + HEX[byte >> 4]! + HEX[byte & 15]!;
  }
  return out;
}

/** Go's path.Clean: collapses `//`, drops `.`, resolves `..` against what precedes it; '' becomes '.'. */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const body = out.join('/');
  if (rooted) return '/' + body;
  return body === '' ? '.' : body;
}

// imagor's breaksCleaner: CRLF, CR, LF, VT, FF, NEL, LS, PS.
const LINE_BREAKS = /[\r\n\v\f\u0085\u2028\u2029]/g;

/**
 * imagor's Normalize: path.Clean, then line breaks removed, then `/` trimmed at both ends, then escaped.
 * Line breaks are removed after cleaning, as imagor does, so `a/\n../b` comes out as `a/../b`; the stores refuse
 * such keys (see resolveKey).
 * @example normalizeKey('fit-in/1800x1800/filters:format(jpeg):quality(90)/test.jpg', fileSafeChars(''))
 *   // 'fit-in/1800x1800/filters%3Aformat%28jpeg%29%3Aquality%2890%29/test.jpg'
 */
export function normalizeKey(image: string, safe: SafeChars = DEFAULT_SAFE): string {
  const cleaned = cleanPath(image).replace(LINE_BREAKS, '').replace(/^\/+|\/+$/g, '');
  return escapeKey(cleaned, safe);
}

function sha1Hex(text: string): string {
  return createHash('sha1').update(text, 'utf8').digest('hex');
}

/** `ab/cd/ef0123…`: the sha1 of the text split after 2 and 4 hex digits (imagor's hexDigestPath). */
export function digestPath(text: string): string {
  const hash = sha1Hex(text);
  return `${hash.slice(0, 2)}/${hash.slice(2, 4)}/${hash.slice(4)}`;
}

/** The key a source image is stored under in source storage (IMAGOR_STORAGE_PATH_STYLE). */
export function storageKey(image: string, style: StoragePathStyle): string {
  return style === 'digest' ? digestPath(image) : image;
}

/** What the result path styles read from a request. */
export interface ResultKeyInput {
  /** The imagor path of the effective params: as signed when unchanged, else regenerated. */
  readonly path: string;
  /** The image key (unescaped, as parsed). */
  readonly image: string;
  readonly meta: boolean;
  readonly width: number;
  readonly height: number;
  /** The argument of the last `format()` filter, if any, as written. */
  readonly format?: string;
}

/** Reads a ResultKeyInput from params; an empty `path` is regenerated, as imagor's hashers do. */
export function resultKeyInput(params: ImagorParams): ResultKeyInput {
  const format = findLastFilter(params.filters, 'format');
  return {
    path: params.path !== '' ? params.path : generateImagorPath(params),
    image: params.image,
    meta: params.meta,
    width: Math.abs(params.width),
    height: Math.abs(params.height),
    ...(format ? { format: format.args } : {}),
  };
}

/**
 * The result storage key (IMAGOR_RESULT_STORAGE_PATH_STYLE):
 * - `original`: the path itself;
 * - `digest`: digestPath(path);
 * - `suffix`: the image key with `.` + 20 hex digits of sha1(path) before its extension, the extension replaced
 *   by the format() argument, or by `.json` for meta (no extension: the suffix is appended);
 * - `size`: as suffix, plus `_WxH` after the digest when either side is set.
 */
export function resultKey(input: ResultKeyInput, style: ResultPathStyle): string {
  if (style === 'original') return input.path;
  if (style === 'digest') return digestPath(input.path);
  let suffix = '.' + sha1Hex(input.path).slice(0, 20);
  if (style === 'size' && (input.width !== 0 || input.height !== 0)) suffix += `_${input.width}x${input.height}`;
  const dot = input.image.lastIndexOf('.');
  const slash = input.image.lastIndexOf('/');
  if (dot > -1 && slash < dot) {
    let ext = input.image.slice(dot);
    if (input.meta) ext = '.json';
    else if (input.format !== undefined) ext = '.' + input.format;
    return input.image.slice(0, dot) + suffix + ext;
  }
  return input.image + suffix;
}

/** imagor's WithPathPrefix / WithBaseDir: `/` alone, or `/a/b/` with one slash at each end. */
export function normalizeDirPrefix(prefix: string): string {
  const trimmed = prefix.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '/' : `/${trimmed}/`;
}

const OVERLONG_DOT_OR_SLASH = /\xc0[\xae\xaf]|\xe0\x80[\xae\xaf]|\xc1\x9c/;

/** One round of percent-decoding, byte-wise and lenient (malformed escapes stay), as latin-1 text. */
function percentDecodeBytes(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Why a raw key looks like a traversal attempt, or undefined. Checked before normalisation, on the key and on up
 * to three rounds of percent-decoding, so that `..`, `%2e%2e`, `..%2f`, `%252e%252e`, `..\`, overlong UTF-8
 * (`%c0%ae`) and NUL bytes are all refused outright rather than merely escaped (security.md section 5).
 */
export function findTraversal(key: string): string | undefined {
  let text = key;
  for (let round = 0; round < 4; round++) {
    if (text.includes('\0')) return 'NUL byte';
    if (text.split(/[/\\]/).some((seg) => seg === '..')) return round === 0 ? 'dot-dot segment' : 'encoded dot-dot segment';
    if (OVERLONG_DOT_OR_SLASH.test(text)) return 'overlong UTF-8 dot or slash';
    const decoded = percentDecodeBytes(text);
    if (decoded === text) break;
    text = decoded;
  }
  return undefined;
}

export interface KeyRules {
  /** normalizeDirPrefix form. */
  readonly pathPrefix: string;
  readonly safeChars: SafeChars;
  /** File storage also refuses any key with `/.` (dot files and dot segments), as imagor does. */
  readonly refuseDotFiles: boolean;
}

export type KeyResolution =
  | { readonly ok: true; readonly relative: string }
  | { readonly ok: false; readonly reason: 'traversal' | 'dot-file' | 'outside-prefix' | 'empty'; readonly detail: string };

/**
 * Maps an image key to a path relative to the base directory (or bucket base dir): normalise, require the path
 * prefix, remove it (imagor's FileStorage.Path / S3Storage.Path). Refuses traversal in any spelling, which imagor
 * only partly does (its S3 storage lets `..` climb out of the base dir).
 */
export function resolveKey(key: string, rules: KeyRules): KeyResolution {
  const traversal = findTraversal(key);
  if (traversal !== undefined) return { ok: false, reason: 'traversal', detail: traversal };
  const normalized = '/' + normalizeKey(key, rules.safeChars);
  if (normalized === '/' || normalized === '/.') return { ok: false, reason: 'empty', detail: 'empty key' };
  // Re-checked after normalisation: line breaks removed after cleaning can join `.` and `.` into `..`.
  if (normalized.split('/').some((seg) => seg === '..' || seg === '.')) return { ok: false, reason: 'traversal', detail: 'dot segment after normalisation' };
  if (rules.refuseDotFiles && normalized.includes('/.')) return { ok: false, reason: 'dot-file', detail: 'key contains /.' };
  if (!normalized.startsWith(rules.pathPrefix)) return { ok: false, reason: 'outside-prefix', detail: `not under ${rules.pathPrefix}` };
  const relative = normalized.slice(rules.pathPrefix.length);
  if (relative === '') return { ok: false, reason: 'empty', detail: 'empty key' };
  return { ok: true, relative };
}

/** The S3 object key for a resolved relative key: joined under the base dir, no leading slash (imagor's Path). */
export function s3ObjectKey(baseDir: string, relative: string): string {
  const joined = cleanPath(`${baseDir}/${relative}`);
  return joined.startsWith('/') ? joined.slice(1) : joined;
}

export interface BucketSpec {
  /** `*`: the first segment of each key names the bucket (imagor's wildcard bucket). */
  readonly bucket: string;
  /** normalizeDirPrefix form. */
  readonly baseDir: string;
}

/** `S3_*_BUCKET` may carry a base dir (`bucket/dir`); a non-empty `S3_*_BASE_DIR` overrides it, as in imagor. */
export function parseBucketSpec(bucket: string, baseDir = ''): BucketSpec {
  let name = bucket;
  let dir = '/';
  const slash = bucket.indexOf('/');
  if (bucket !== '*' && slash > -1) {
    name = bucket.slice(0, slash);
    dir = normalizeDirPrefix(bucket.slice(slash));
  }
  if (baseDir !== '') dir = normalizeDirPrefix(baseDir);
  return { bucket: name, baseDir: dir };
}

/** DNS-compatible bucket names only, so a wildcard key cannot put arbitrary text into a virtual-hosted host name. */
export function isValidBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/** For a wildcard bucket: the bucket named by the key's first segment, and the rest of the key. */
export function splitWildcardKey(key: string): { bucket: string; rest: string } | undefined {
  const trimmed = key.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  if (slash <= 0) return undefined;
  return { bucket: trimmed.slice(0, slash), rest: trimmed.slice(slash) };
}
