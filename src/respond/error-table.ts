/**
 * The one place where error codes become HTTP. Two jobs answer differently for compatibility: camo errors
 * keep go-camo's status codes and plain-text messages, imagor errors keep imagor's codes and JSON messages.
 * A new code does not compile until it has a row here and a line in docs/errors.md (test/docs.test.ts).
 */

export interface ErrorResponse {
  readonly status: number;
  readonly message: string;
}

export interface ErrorRow {
  readonly camo: ErrorResponse;
  readonly imagor: ErrorResponse;
  /** One line for docs/errors.md. */
  readonly doc: string;
}

const row = (camo: [number, string], imagor: [number, string], doc: string): ErrorRow => ({
  camo: { status: camo[0], message: camo[1] },
  imagor: { status: imagor[0], message: imagor[1] },
  doc,
});

export const errorTable = {
  NOT_FOUND: row([404, '404 Not Found'], [404, 'not found'], 'No route matches the path.'),
  METHOD_NOT_ALLOWED: row([405, 'Method Not Allowed'], [405, 'method not allowed'], 'Only GET and HEAD are served.'),
  ROUTE_DISABLED: row([404, '404 Not Found'], [404, 'not found'], 'The job is not configured (no key or secret).'),
  BAD_SIGNATURE: row([403, 'Bad Signature'], [403, 'url signature mismatch'], 'The digest or hash does not verify with any configured key.'),
  BAD_URL: row([400, 'Bad url'], [400, 'invalid'], 'The decoded source URL cannot be parsed.'),
  BAD_URL_SCHEME: row([404, 'Bad url scheme'], [403, 'http source not allowed'], 'The source URL is not http or https.'),
  BAD_URL_HOST: row([404, 'Bad url host'], [403, 'http source not allowed'], 'The source host is empty, invalid or a local name (localhost, *.localhost, localdomain).'),
  USERINFO_REJECTED: row([404, 'Userinfo URL rejected'], [403, 'http source not allowed'], 'The source URL carries user:password credentials.'),
  FILTER_REJECTED: row([404, 'Rejected due to filter-ruleset'], [403, 'http source not allowed'], 'The filter ruleset refuses the source URL.'),
  SOURCE_NOT_ALLOWED: row([404, 'Rejected due to filter-ruleset'], [403, 'http source not allowed'], 'The source is outside HTTP_LOADER_ALLOWED_SOURCES / _REGEXP, or not https with HTTPS-only on.'),
  ADDRESS_DENIED: row([404, 'Error Fetching Resource'], [403, 'http source not allowed'], 'The source resolves to a denied network (private, loopback, link-local, special-use).'),
  REDIRECT_REJECTED: row([404, 'Error Fetching Resource'], [403, 'http source not allowed'], 'A redirect hop fails the source checks.'),
  TOO_MANY_REDIRECTS: row([404, 'Error Fetching Resource'], [404, 'too many redirects'], 'More redirects than the configured maximum, or a redirect loop.'),
  LOOP_DETECTED: row([404, 'Request loop failure'], [404, 'request loop failure'], 'The request carries our own Via header or targets this server.'),
  UPSTREAM_FAILED: row([404, 'Error Fetching Resource'], [404, 'not found'], 'The origin cannot be reached (DNS failure, refused connection, TLS error).'),
  UPSTREAM_NOT_FOUND: row([404, 'Not Found'], [404, 'not found'], 'The origin answered 404 or another client error.'),
  UPSTREAM_MULTIPLE_CHOICES: row([404, 'Multiple choices not supported'], [404, 'not found'], 'The origin answered 300.'),
  UPSTREAM_ERROR: row([502, 'Error Fetching Resource'], [502, 'bad gateway'], 'The origin answered 5xx, or its body broke off.'),
  UPSTREAM_TIMEOUT: row([504, 'Error Fetching Resource'], [408, 'timeout'], 'The origin did not answer in full within the deadline.'),
  CONTENT_LENGTH_EXCEEDED: row([404, 'Content length exceeded'], [400, 'maximum size exceeded'], 'The source is larger than the size limit.'),
  EMPTY_CONTENT_TYPE: row([400, 'Empty content-type returned'], [406, 'unsupported format'], 'The origin sent no Content-Type.'),
  UNSUPPORTED_CONTENT_TYPE: row([400, 'Unsupported content-type returned'], [406, 'unsupported format'], 'The Content-Type is malformed or not an allowed media type.'),
  UNSUPPORTED_FORMAT: row([400, 'Unsupported content-type returned'], [406, 'unsupported format'], 'The image data is not in a supported format, or cannot be decoded.'),
  TOO_MANY_PIXELS: row([400, 'Unsupported content-type returned'], [422, 'maximum resolution exceeded'], 'The image is wider, taller or larger than the limits, or has too many frames.'),
  INVALID_PARAMS: row([400, 'Bad url'], [400, 'invalid'], 'The processing path or a filter argument is malformed.'),
  EXPIRED: row([410, 'Gone'], [410, 'expired'], 'The URL carries an expire() time that has passed.'),
  BUSY: row([429, 'Too Many Requests'], [429, 'too many requests'], 'The processing queue is full.'),
  REQUEST_TIMEOUT: row([504, 'Error Fetching Resource'], [408, 'timeout'], 'The request did not finish within its deadline.'),
  CLIENT_CLOSED: row([499, 'Client Closed Request'], [499, 'client closed request'], 'The client went away; nothing is written.'),
  INTERNAL: row([500, 'Internal Server Error'], [500, 'internal error'], 'Anything unexpected; logged with its stack, never shown.'),
} as const satisfies Record<string, ErrorRow>;

export type ErrorCode = keyof typeof errorTable;
export type JobKind = 'camo' | 'imagor';

export function errorResponse(code: ErrorCode, job: JobKind): ErrorResponse {
  return errorTable[code][job];
}
