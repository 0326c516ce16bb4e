/**
 * The sdk's one argument check and message shape (after sharp's lib/is.mjs `invalidParameterError`):
 * every bad option throws INVALID_PARAMS naming the option, what was expected and what was given.
 */
import { fail } from '../respond/errors.js';

function describe(actual: unknown): string {
  if (typeof actual === 'string') return JSON.stringify(actual.length > 80 ? actual.slice(0, 77) + '...' : actual);
  if (typeof actual === 'number' || typeof actual === 'boolean' || actual === null || actual === undefined) {
    return String(actual);
  }
  return Array.isArray(actual) ? 'an array' : `a ${typeof actual}`;
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
