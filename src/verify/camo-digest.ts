/**
 * Camo URL signing and verification, compatible with go-camo and camo: digest = HMAC-SHA1(key, exact URL bytes),
 * as hex (40 characters, either case) with the URL hex-encoded, or as URL-safe base64 (padding optional) with the
 * URL base64-encoded. The decoder is chosen by the digest's length, as go-camo does. Several keys verify (rotation);
 * comparisons are constant-time on fixed-size digests. Pure: the MAC is passed in.
 */
import { fail } from '../respond/errors.js';
import { decodeBase64Url, decodeHex, encodeBase64Url, encodeHex, equalBytesConstantTime, utf8 } from './encoding.js';
import type { MacFn } from './mac.js';

export type CamoEncoding = 'hex' | 'base64';

export interface SignedCamoPath {
  readonly digest: string;
  readonly encodedUrl: string;
}

export function signCamoUrl(url: string, key: string, encoding: CamoEncoding, mac: MacFn): SignedCamoPath {
  const bytes = utf8(url);
  const digest = mac('sha1', utf8(key), bytes);
  return encoding === 'hex'
    ? { digest: encodeHex(digest), encodedUrl: encodeHex(bytes) }
    : { digest: encodeBase64Url(digest, false), encodedUrl: encodeBase64Url(bytes, false) };
}

/** `PREFIX/digest/encoded`, as go-camo's url-tool prints it (a trailing slash on the prefix is dropped). */
export function formatCamoUrl(prefix: string, signed: SignedCamoPath): string {
  return `${prefix.replace(/\/+$/, '')}/${signed.digest}/${signed.encodedUrl}`;
}

function verifyBytes(digest: Uint8Array, message: Uint8Array, keys: readonly string[], mac: MacFn): boolean {
  let ok = false;
  // Every key is tried, so the time taken does not tell which key (if any) matched.
  for (const key of keys) ok = equalBytesConstantTime(mac('sha1', utf8(key), message), digest) || ok;
  return ok;
}

// Fatal, so that invalid bytes are refused while a URL that really contains U+FFFD still decodes; a BOM is kept,
// so the text is exactly what was signed.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeUrlBytes(bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    fail('BAD_URL', 'source URL is not valid UTF-8');
  }
}

/** Verifies `/<digest>/<encoded-url>` and returns the signed URL text, or throws BAD_SIGNATURE. */
export function verifyCamoPath(digestText: string, encodedUrl: string, keys: readonly string[], mac: MacFn): string {
  const hex = digestText.length === 40;
  const digest = hex ? decodeHex(digestText) : decodeBase64Url(digestText);
  const message = hex ? decodeHex(encodedUrl) : decodeBase64Url(encodedUrl);
  if (!digest || digest.length !== 20 || !message || message.length === 0) fail('BAD_SIGNATURE', 'undecodable digest or URL');
  if (!verifyBytes(digest, message, keys, mac)) fail('BAD_SIGNATURE', 'digest mismatch');
  return decodeUrlBytes(message);
}

/** Verifies camo's query form `/<hexdigest>?url=<url>`: the digest covers the unescaped URL. */
export function verifyCamoQuery(digestText: string, url: string, keys: readonly string[], mac: MacFn): string {
  const digest = digestText.length === 40 ? decodeHex(digestText) : undefined;
  if (!digest || url.length === 0) fail('BAD_SIGNATURE', 'undecodable digest or empty url');
  if (!verifyBytes(digest, utf8(url), keys, mac)) fail('BAD_SIGNATURE', 'digest mismatch');
  return url;
}

/** Is this segment shaped like a camo digest (hex SHA1, or base64url SHA1 with optional padding)? */
export function looksLikeCamoDigest(segment: string): boolean {
  return /^[0-9a-fA-F]{40}$/.test(segment) || /^[A-Za-z0-9_-]{27}=?$/.test(segment);
}
