/**
 * Typed errors. Every stage throws a PixgateError with a stable code; respond/error-table.ts turns the code
 * into a status and a public message per job. `detail` and `cause` are for the log only and never reach a client.
 */
import type { ErrorCode } from './error-table.js';

export class PixgateError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /** Extra public text appended to the table's message, e.g. the name of a bad filter. Never upstream data. */
  readonly publicDetail: string | undefined;

  constructor(code: ErrorCode, opts: { detail?: string; publicDetail?: string; cause?: unknown } = {}) {
    super(opts.detail ? `${code}: ${opts.detail}` : code, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'PixgateError';
    this.code = code;
    this.detail = opts.detail;
    this.publicDetail = opts.publicDetail;
  }
}

export function isPixgateError(err: unknown): err is PixgateError {
  return err instanceof PixgateError;
}

/** Shorthand for the common throw site. */
export function fail(code: ErrorCode, detail?: string, publicDetail?: string): never {
  throw new PixgateError(code, { detail, publicDetail });
}
