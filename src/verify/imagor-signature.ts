/**
 * imagor URL signatures: HMAC-SHA1/256/512 of the path after the hash, base64url with padding, optionally
 * truncated (imagorpath/signer.go), checked in constant time against one or more secrets. Also decides
 * whether a request path may be served (signed, or `unsafe/` in unsafe mode) with imagor's unescape retry.
 * Pure: the MAC comes in as an argument; never reads settings, never looks at the image source.
 */
import { PixgateError } from '../respond/errors.js';
import type { ImagorParams } from '../parse/imagor-params.js';
import { parseImagorUrlPath, queryUnescape } from '../parse/imagor-path.js';
import { encodeBase64Url, equalBytesConstantTime, utf8 } from './encoding.js';
import type { AsyncMacFn, MacAlgorithm, MacFn } from './mac.js';

export type ImagorSignerType = MacAlgorithm;

export interface ImagorSigner {
  readonly secret: string | Uint8Array;
  readonly type: ImagorSignerType;
  /** Characters of the base64url hash kept; 0 keeps all. Below 17 the hash is never recognised in a URL. */
  readonly truncate: number;
}

function keyBytes(secret: string | Uint8Array): Uint8Array {
  return typeof secret === 'string' ? utf8(secret) : secret;
}

function hashText(digest: Uint8Array, truncate: number): string {
  const text = encodeBase64Url(digest, true);
  return truncate > 0 && text.length > truncate ? text.slice(0, truncate) : text;
}

/** The hash imagor expects in front of `path` (the path without a leading slash, as it appears in the URL). */
export function signImagorPath(path: string, signer: ImagorSigner, mac: MacFn): string {
  return hashText(mac(signer.type, keyBytes(signer.secret), utf8(path)), signer.truncate);
}

/** signImagorPath with an asynchronous MAC (Web Crypto in the sdk). */
export async function signImagorPathAsync(path: string, signer: ImagorSigner, mac: AsyncMacFn): Promise<string> {
  return hashText(await mac(signer.type, keyBytes(signer.secret), utf8(path)), signer.truncate);
}

/** A path signer for parse/imagor-generate.ts `generateImagorUrl`. */
export function createImagorPathSigner(signer: ImagorSigner, mac: MacFn): (path: string) => string {
  return (path) => signImagorPath(path, signer, mac);
}

/** Compares over the expected length whatever the given length, so timing shows neither content nor a prefix match. */
function equalHash(given: string, expected: string): boolean {
  const want = utf8(expected);
  const got = utf8(given);
  const padded = new Uint8Array(want.length);
  padded.set(got.subarray(0, want.length));
  const same = equalBytesConstantTime(padded, want);
  return same && got.length === want.length;
}

/**
 * True when `hash` is the signature of `path` under any of the signers (several allow secret rotation).
 * Every signer is tried, so the time does not tell which one matched. Never throws on a malformed hash.
 */
export function verifyImagorHash(hash: string, path: string, signers: readonly ImagorSigner[], mac: MacFn): boolean {
  let ok = false;
  for (const signer of signers) {
    if (equalHash(hash, signImagorPath(path, signer, mac))) ok = true;
  }
  return ok;
}

export interface ResolvedImagorRequest {
  readonly kind: 'signed' | 'unsafe';
  /** The path the hash covers (everything after `HASH/` or `unsafe/`). */
  readonly path: string;
  readonly params: ImagorParams;
  /**
   * The reading of the QueryUnescape'd request path, present when it differs and is itself acceptable. imagor
   * also retries with it when loading the first reading's image fails as invalid (imagor.go ServeHTTP), which
   * is how `unsafe/filters%3Afill%28red%29/a.png` ends up with a fill filter.
   */
  readonly unescaped?: ResolvedImagorRequest;
}

/**
 * Decides whether an imagor request path may be served and parses it. `rawEscapedPath` is the request path as
 * received, still percent-encoded, without the query string. Signed paths verify against `signers`; `unsafe/`
 * paths pass only when `unsafeEnabled`; a path with neither is BAD_SIGNATURE (imagor answers 403 too). An empty
 * path or image is INVALID_PARAMS. As imagor does, when the escaped path fails, the whole path is
 * QueryUnescape'd and tried again, so clients may sign the unescaped form of `:()` that crawlers escape.
 * No signers means no hash verifies (imagor would fall back to SHA1 with an empty secret).
 */
export function resolveImagorRequest(
  rawEscapedPath: string,
  signers: readonly ImagorSigner[],
  unsafeEnabled: boolean,
  mac: MacFn,
): ResolvedImagorRequest {
  const first = attempt(rawEscapedPath, signers, unsafeEnabled, mac);
  const unescapedPath = queryUnescape(rawEscapedPath);
  const retry =
    unescapedPath !== undefined && unescapedPath !== rawEscapedPath
      ? attempt(unescapedPath, signers, unsafeEnabled, mac)
      : undefined;
  if (!(first instanceof PixgateError)) {
    return retry === undefined || retry instanceof PixgateError ? first : { ...first, unescaped: retry };
  }
  if (retry === undefined) throw first;
  // Like imagor, a failed retry reports its own error.
  if (retry instanceof PixgateError) throw retry;
  return retry;
}

function attempt(
  urlPath: string,
  signers: readonly ImagorSigner[],
  unsafeEnabled: boolean,
  mac: MacFn,
): ResolvedImagorRequest | PixgateError {
  const url = parseImagorUrlPath(urlPath);
  // imagor skips the signature check for an empty path and then fails to load nothing: 400, not 403.
  if (url.path === '') return new PixgateError('INVALID_PARAMS', { detail: 'imagor path has nothing after the hash' });
  if (url.kind === 'unsafe') {
    if (!unsafeEnabled) return new PixgateError('BAD_SIGNATURE', { detail: 'unsafe/ path while unsafe mode is off' });
  } else if (url.kind === 'none') {
    return new PixgateError('BAD_SIGNATURE', { detail: 'imagor path carries no hash' });
  } else if (!verifyImagorHash(url.hash, url.path, signers, mac)) {
    return new PixgateError('BAD_SIGNATURE', { detail: 'imagor hash does not match the path' });
  }
  if (url.params.image === '') return new PixgateError('INVALID_PARAMS', { detail: 'imagor path names no image' });
  return { kind: url.kind === 'unsafe' ? 'unsafe' : 'signed', path: url.path, params: url.params };
}
