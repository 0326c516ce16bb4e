/**
 * HMAC on Web Crypto (`crypto.subtle`) for the sdk, so URLs can be signed in browsers and edge runtimes that
 * have no node:crypto; and an adapter that lets the synchronous signers in verify/ run on an asynchronous MAC.
 * Never imports node:crypto.
 */
import { fail } from '../respond/errors.js';
import type { AsyncMacFn, MacAlgorithm, MacFn } from '../verify/mac.js';
import { encodeHex } from '../verify/encoding.js';

const HASH_NAME: Record<MacAlgorithm, string> = { sha1: 'SHA-1', sha256: 'SHA-256', sha512: 'SHA-512' };
const BLOCK_BYTES: Record<MacAlgorithm, number> = { sha1: 64, sha256: 64, sha512: 128 };
const DIGEST_BYTES: Record<MacAlgorithm, number> = { sha1: 20, sha256: 32, sha512: 64 };

export interface WebCryptoMacOptions {
  /** Defaults to `globalThis.crypto.subtle`, looked up on first use. */
  readonly subtle?: SubtleCrypto;
  /** Imported keys kept for reuse, least recently used dropped first. Default 16. */
  readonly maxCachedKeys?: number;
}

/**
 * An AsyncMacFn on Web Crypto HMAC (SHA-1, SHA-256, SHA-512). Imported CryptoKeys are cached per
 * (algorithm, key) in a small LRU map, so signing many URLs with one secret imports it once.
 * @example
 * const mac = createWebCryptoMac();
 * const digest = await mac('sha1', new TextEncoder().encode('key'), new TextEncoder().encode('message'));
 */
export function createWebCryptoMac(options: WebCryptoMacOptions = {}): AsyncMacFn {
  const maxKeys = options.maxCachedKeys ?? 16;
  const keys = new Map<string, Promise<CryptoKey>>();

  // Keyed by the key's bytes: the caller holds the secret in memory anyway, and the CryptoKey is not extractable.
  const importKey = (subtle: SubtleCrypto, algorithm: MacAlgorithm, key: Uint8Array): Promise<CryptoKey> => {
    const id = `${algorithm}:${encodeHex(key)}`;
    const cached = keys.get(id);
    if (cached) {
      keys.delete(id);
      keys.set(id, cached);
      return cached;
    }
    // Web Crypto refuses an empty HMAC key. HMAC pads every key shorter than the hash's block with zero bytes
    // (RFC 2104 section 2), so a block of zeros gives the same MAC as the empty key (imagor's default secret).
    const raw = key.length === 0 ? new Uint8Array(BLOCK_BYTES[algorithm]) : new Uint8Array(key);
    const pending = subtle.importKey('raw', raw, { name: 'HMAC', hash: HASH_NAME[algorithm] }, false, ['sign']);
    keys.set(id, pending);
    pending.catch(() => keys.delete(id));
    while (keys.size > maxKeys) {
      const oldest = keys.keys().next().value;
      if (oldest === undefined) break;
      keys.delete(oldest);
    }
    return pending;
  };

  return async (algorithm, key, message) => {
    if (!Object.hasOwn(HASH_NAME, algorithm)) fail('INVALID_PARAMS', `unknown MAC algorithm ${String(algorithm)}`, 'algorithm');
    const subtle = options.subtle ?? globalThis.crypto?.subtle;
    if (!subtle) {
      fail('INTERNAL', 'Web Crypto (crypto.subtle) is not available here; pass a MacFn (e.g. on node:crypto) instead');
    }
    const cryptoKey = await importKey(subtle, algorithm, key);
    return new Uint8Array(await subtle.sign('HMAC', cryptoKey, new Uint8Array(message)));
  };
}

/**
 * The shared Web Crypto MAC the sdk uses when no MAC is given.
 * @example
 * await camoUrl('http://example.com/a.png', { key: 'k', mac: webCryptoMac }) // the same as leaving mac out
 */
export const webCryptoMac: AsyncMacFn = createWebCryptoMac();

interface MacCall {
  readonly algorithm: MacAlgorithm;
  readonly key: Uint8Array;
  readonly message: Uint8Array;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Runs a synchronous signer or verifier from verify/ on an asynchronous MAC, so the sdk reuses their exact
 * rules instead of restating them. `run` is called twice: once with a MAC that records what is asked and
 * answers zeros (its result or error is discarded), then, once every recorded MAC has been computed, again
 * with a MAC that replays the results in order. This needs `run` to ask for the same MACs in the same order
 * whatever the MACs are, which holds for the signers and the all-keys verifiers in verify/.
 */
export async function runWithAsyncMac<T>(run: (mac: MacFn) => T, mac: AsyncMacFn): Promise<T> {
  const calls: MacCall[] = [];
  try {
    run((algorithm, key, message) => {
      calls.push({ algorithm, key: new Uint8Array(key), message: new Uint8Array(message) });
      return new Uint8Array(DIGEST_BYTES[algorithm] ?? 0);
    });
  } catch {
    // The recording pass only collects MAC requests; the replay pass reports the real outcome.
  }
  const results = await Promise.all(calls.map((c) => mac(c.algorithm, c.key, c.message)));
  let next = 0;
  return run((algorithm, key, message) => {
    const call = calls[next];
    const result = results[next];
    next++;
    if (!call || !result || call.algorithm !== algorithm || !sameBytes(call.key, key) || !sameBytes(call.message, message)) {
      fail('INTERNAL', 'signer asked for a different MAC on replay');
    }
    return result;
  });
}
