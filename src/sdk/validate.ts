/**
 * The sdk's one argument check and message shape (after sharp's lib/is.mjs `invalidParameterError`):
 * every bad option throws INVALID_PARAMS naming the option, what was expected and what was given.
 */
import { fail } from '../respond/errors.js';
import type { AsyncMacFn, MacFn } from '../verify/mac.js';

function describe(actual: unknown): string {
  if (typeof actual === 'string') return JSON.stringify(actual.length > 80 ? actual.slice(0, 77) + '...' : actual);
  if (typeof actual === 'number' || typeof actual === 'boolean' || actual === null || actual === undefined) {
    return String(actual);
  }
  if (Array.isArray(actual)) return 'an array';
  return typeof actual === 'object' ? 'an object' : `a ${typeof actual}`;
}

/** Throws INVALID_PARAMS: `Expected <expected> for <name> but received <actual>`. */
export function invalidParameter(name: string, expected: string, actual: unknown): never {
  fail('INVALID_PARAMS', `Expected ${expected} for ${name} but received ${describe(actual)}`, name);
}

export function isSafeInteger(value: unknown, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
}

export function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * The MAC of a *Sync function: a function returning the MAC's bytes. Wrapped so that an asynchronous MAC (a
 * Promise back) is refused with a message naming the async variant, instead of signing with garbage.
 */
export function syncMac(value: unknown, asyncVariant: string): MacFn {
  if (typeof value !== 'function') {
    invalidParameter('mac', `a MacFn, (algorithm, key, message) => Uint8Array, as the last argument (or call ${asyncVariant}, which signs with Web Crypto)`, value);
  }
  const mac = value as (...args: Parameters<MacFn>) => unknown;
  return (algorithm, key, message) => {
    const out = mac(algorithm, key, message);
    // ArrayBuffer.isView also knows typed arrays made in another realm (a vm context, an iframe).
    if (!ArrayBuffer.isView(out) || out instanceof DataView) {
      const promise = typeof (out as { then?: unknown } | null)?.then === 'function';
      if (promise) (out as Promise<unknown>).then(undefined, () => undefined); // its outcome no longer matters
      invalidParameter('mac', promise ? `a synchronous MacFn (this one returns a Promise: call ${asyncVariant} with { mac } instead)` : 'a MacFn returning a Uint8Array', out);
    }
    return out as Uint8Array;
  };
}

/** The optional MAC of an async function: a function when given. */
export function asyncMac(value: unknown): AsyncMacFn | undefined {
  if (value !== undefined && typeof value !== 'function') invalidParameter('mac', 'an AsyncMacFn, (algorithm, key, message) => Promise<Uint8Array>', value);
  return value as AsyncMacFn | undefined;
}
