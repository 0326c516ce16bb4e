/**
 * Camo URLs for web apps: sign a source URL into `PREFIX/digest/encoded` exactly as go-camo's url-tool
 * prints it, and the inverse (check the digest, give back the URL). Reuses verify/camo-digest.ts; the MAC is
 * Web Crypto by default (edge runtimes), or any MacFn for the synchronous variants. Never fetches anything.
 */
import {
  formatCamoUrl,
  looksLikeCamoDigest,
  signCamoUrl,
  verifyCamoPath,
  verifyCamoQuery,
  type CamoEncoding,
} from '../verify/camo-digest.js';
import type { AsyncMacFn, MacFn } from '../verify/mac.js';
import { asyncMac, invalidParameter, syncMac } from './validate.js';
import { runWithAsyncMac, webCryptoMac } from './web-mac.js';

export type { CamoEncoding };

export interface CamoUrlOptions {
  /** The HMAC key the server verifies with (go-camo's `GOCAMO_HMAC`, our `PIXGATE_CAMO_KEYS`). */
  readonly key: string;
  /** `hex` (default, as go-camo's url-tool) or `base64` (URL-safe, unpadded). */
  readonly encoding?: CamoEncoding;
  /** Put in front of `/digest/encoded`, e.g. `https://camo.example.com`; a trailing slash is dropped. Default ''. */
  readonly prefix?: string;
}

export interface CamoUrlAsyncOptions extends CamoUrlOptions {
  /** The MAC to sign with; Web Crypto when left out. */
  readonly mac?: AsyncMacFn;
}

export interface DecodeCamoUrlOptions {
  /** The key, or several keys (any one verifying is enough, as on a server rotating keys). */
  readonly key: string | readonly string[];
}

export interface DecodeCamoUrlAsyncOptions extends DecodeCamoUrlOptions {
  readonly mac?: AsyncMacFn;
}

function checkSignOptions(url: unknown, options: CamoUrlOptions): CamoEncoding {
  if (typeof url !== 'string' || url === '') invalidParameter('url', 'a non-empty string', url);
  if (typeof options?.key !== 'string' || options.key === '') invalidParameter('key', 'a non-empty string', options?.key);
  const encoding = options.encoding ?? 'hex';
  if (encoding !== 'hex' && encoding !== 'base64') invalidParameter('encoding', "'hex' or 'base64'", encoding);
  if (options.prefix !== undefined && typeof options.prefix !== 'string') invalidParameter('prefix', 'a string', options.prefix);
  return encoding;
}

/**
 * Signs `url` for a camo server with Web Crypto (works in browsers, Deno, Bun, Cloudflare Workers and Node).
 * The URL is signed byte for byte as given, like go-camo's url-tool: normalise it first if you need to.
 * @example
 * await camoUrl('http://golang.org/doc/gopher/frontpage.png', { key: 'test', prefix: 'https://camo.example.com' })
 * // 'https://camo.example.com/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67'
 */
export async function camoUrl(url: string, options: CamoUrlAsyncOptions): Promise<string> {
  const encoding = checkSignOptions(url, options);
  const signed = await runWithAsyncMac((mac) => signCamoUrl(url, options.key, encoding, mac), asyncMac(options.mac) ?? webCryptoMac);
  return formatCamoUrl(options.prefix ?? '', signed);
}

/**
 * camoUrl with a synchronous MAC, for Node code that prefers no promise.
 * @example
 * import { createHmac } from 'node:crypto';
 * const mac = (alg, key, msg) => new Uint8Array(createHmac(alg, key).update(msg).digest());
 * camoUrlSync('http://golang.org/doc/gopher/frontpage.png', { key: 'test', encoding: 'base64' }, mac)
 * // '/D23vHLFHsOhPOcvdxeoQyAJTpvM/aHR0cDovL2dvbGFuZy5vcmcvZG9jL2dvcGhlci9mcm9udHBhZ2UucG5n'
 */
export function camoUrlSync(url: string, options: CamoUrlOptions, mac: MacFn): string {
  const encoding = checkSignOptions(url, options);
  const checked = syncMac(mac, 'camoUrl');
  return formatCamoUrl(options.prefix ?? '', signCamoUrl(url, options.key, encoding, checked));
}

type CamoParts = { readonly form: 'path'; readonly digest: string; readonly encoded: string } | { readonly form: 'query'; readonly digest: string; readonly url: string };

/** Where the digest and the URL sit: the last two path segments (go-camo's url-tool), or camo's `/digest?url=`. */
function splitCamoUrl(camo: unknown): CamoParts {
  if (typeof camo !== 'string' || camo === '') invalidParameter('camoUrl', 'a non-empty string', camo);
  let parsed: URL;
  try {
    parsed = new URL(camo, 'http://camo.invalid');
  } catch {
    invalidParameter('camoUrl', 'a camo URL or path', camo);
  }
  const segments = parsed.pathname.split('/').filter((s) => s !== '');
  const queryUrl = parsed.searchParams.get('url');
  const last = segments[segments.length - 1];
  if (queryUrl !== null && last !== undefined && looksLikeCamoDigest(last)) return { form: 'query', digest: last, url: queryUrl };
  if (segments.length < 2) invalidParameter('camoUrl', 'a camo URL ending in /digest/encoded-url', camo);
  return { form: 'path', digest: segments[segments.length - 2]!, encoded: segments[segments.length - 1]! };
}

function keyList(options: DecodeCamoUrlOptions): readonly string[] {
  const keys = typeof options?.key === 'string' ? [options.key] : options?.key;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
    invalidParameter('key', 'a non-empty string or a non-empty list of them', options?.key);
  }
  return keys;
}

function verifyParts(parts: CamoParts, keys: readonly string[], mac: MacFn): string {
  return parts.form === 'path'
    ? verifyCamoPath(parts.digest, parts.encoded, keys, mac)
    : verifyCamoQuery(parts.digest, parts.url, keys, mac);
}

/**
 * The inverse of camoUrl, for debugging: checks the digest with the key(s) and returns the source URL.
 * Accepts a full URL or a path, in the hex, base64 or camo `?url=` form. Throws a PixgateError with code
 * BAD_SIGNATURE when no key verifies, as the server would answer 403.
 * @example
 * await decodeCamoUrl('https://camo.example.com/0f6def1cb147b0e84f39cbddc5ea10c80253a6f3/687474703a2f2f676f6c616e672e6f72672f646f632f676f706865722f66726f6e74706167652e706e67', { key: 'test' })
 * // 'http://golang.org/doc/gopher/frontpage.png'
 */
export async function decodeCamoUrl(camo: string, options: DecodeCamoUrlAsyncOptions): Promise<string> {
  const parts = splitCamoUrl(camo);
  const keys = keyList(options);
  return runWithAsyncMac((mac) => verifyParts(parts, keys, mac), asyncMac(options.mac) ?? webCryptoMac);
}

/**
 * decodeCamoUrl with a synchronous MAC.
 * @example
 * decodeCamoUrlSync('/D23vHLFHsOhPOcvdxeoQyAJTpvM/aHR0cDovL2dvbGFuZy5vcmcvZG9jL2dvcGhlci9mcm9udHBhZ2UucG5n', { key: 'test' }, mac)
 * // 'http://golang.org/doc/gopher/frontpage.png'
 */
export function decodeCamoUrlSync(camo: string, options: DecodeCamoUrlOptions, mac: MacFn): string {
  const parts = splitCamoUrl(camo);
  const keys = keyList(options);
  return verifyParts(parts, keys, syncMac(mac, 'decodeCamoUrl'));
}
