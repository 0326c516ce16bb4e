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
  /** Aborts when the client goes away before the response is finished; made on first use (most requests never ask). */
  readonly signal: AbortSignal;
}

export function watchClient(res: Res): ClientWatch {
  let controller: AbortController | undefined;
  let gone = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    gone = true;
    controller?.abort();
  });
  return {
    get signal() {
      if (!controller) {
        controller = new AbortController();
        if (gone) controller.abort();
      }
      return controller.signal;
    },
  };
}
