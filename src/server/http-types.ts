/** The request and response shapes the handlers accept: node:http's and node:http2's compatibility API. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

export type Req = IncomingMessage | Http2ServerRequest;
export type Res = ServerResponse | Http2ServerResponse;

/** Ends a response abruptly, so that a client or CDN cannot mistake a cut body for a complete one. */
export function abortResponse(res: Res): void {
  if ('stream' in res && res.stream) {
    res.stream.close(2 /* INTERNAL_ERROR */);
  } else {
    (res as ServerResponse).destroy();
  }
}

export function isHttp2(res: Res): boolean {
  return 'stream' in res && !!res.stream;
}

export function headerString(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** The host[:port] the client used to reach us: a source URL pointing there is a request loop. */
export function requestSelfHosts(req: Req): string[] {
  const host = headerString(req.headers.host) ?? headerString(req.headers[':authority'] as string | string[] | undefined);
  return host ? [host.toLowerCase()] : [];
}

export interface ClientWatch {
  /**
   * Calls `fn` once if the client goes away before the response is finished (at once if it already has); returns
   * the cancel function. Plain callbacks, not an AbortSignal: a signal per request is measurable CPU when proxying.
   */
  onGone(fn: () => void): () => void;
}

export function watchClient(res: Res): ClientWatch {
  let listeners: (() => void)[] | undefined;
  let gone = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    gone = true;
    const called = listeners;
    listeners = undefined;
    if (called) for (const fn of called) fn();
  });
  return {
    onGone(fn) {
      if (gone) {
        fn();
        return noop;
      }
      (listeners ??= []).push(fn);
      return () => {
        const i = listeners ? listeners.indexOf(fn) : -1;
        if (i >= 0) listeners!.splice(i, 1);
      };
    },
  };
}

function noop(): void {}
