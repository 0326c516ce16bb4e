/**
 * Writes an error: camo errors as go-camo's plain text, imagor errors as imagor's `{"message","status"}` JSON.
 * Anything that is not a PixgateError becomes a bare 500 and is logged with its stack; the client never sees a
 * detail, a cause, a stack or anything from upstream.
 */
import type { Logger } from '../observe/log.js';
import { abortResponse, type Res } from '../server/http-types.js';
import { errorResponse, type ErrorCode, type JobKind } from './error-table.js';
import { isPixgateError } from './errors.js';

export interface SentError {
  readonly code: ErrorCode;
  readonly status: number;
}

export function sendError(res: Res, err: unknown, job: JobKind, log: Logger, opts: { imagorBody?: boolean } = {}): SentError {
  const code: ErrorCode = isPixgateError(err) ? err.code : 'INTERNAL';
  const { status, message } = errorResponse(code, job);
  if (code === 'INTERNAL') log.error({ err }, 'unexpected error');
  else if (isPixgateError(err)) log.debug({ code, detail: err.detail }, 'request failed');

  if (code === 'CLIENT_CLOSED' || res.headersSent) {
    // Nothing useful can be written: the client left, or the status line is already out.
    abortResponse(res);
    return { code, status };
  }
  const text = isPixgateError(err) && err.publicDetail ? `${message}: ${err.publicDetail}` : message;
  const body = job === 'camo' ? `${text}\n` : opts.imagorBody === false ? '' : JSON.stringify({ message: text, status });
  res.statusCode = status;
  res.setHeader('Content-Type', job === 'camo' ? 'text/plain; charset=utf-8' : 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'private, no-cache, no-store, must-revalidate');
  res.end(body);
  return { code, status };
}
