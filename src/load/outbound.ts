/**
 * The dispatcher origin fetches go through: direct connections use the safe agent (address checked at connect
 * time); when HTTP_PROXY / HTTPS_PROXY are set, other requests go through the proxy, except NO_PROXY hosts.
 * Behind a proxy the address check cannot see the final destination (the proxy resolves the name); pixgate still
 * checks scheme, host names, IP literals, the ruleset and every redirect hop itself, as go-camo documents.
 */
import { Dispatcher, ProxyAgent } from 'undici';
import { createNoProxyMatcher } from '../policy/no-proxy.js';

export interface OutboundOptions {
  readonly direct: Dispatcher;
  readonly httpProxy: string | undefined;
  readonly httpsProxy: string | undefined;
  readonly noProxy: string;
  readonly keepAlive: boolean;
}

export interface Outbound {
  readonly dispatcher: Dispatcher;
  /** True when requests to this URL go through a proxy (so the connect-time address check does not apply). */
  isProxied(url: URL): boolean;
}

class RoutingDispatcher extends Dispatcher {
  constructor(
    private readonly pick: (origin: URL) => Dispatcher,
    private readonly all: readonly Dispatcher[],
  ) {
    super();
  }

  override dispatch(opts: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return this.pick(new URL(String(opts.origin))).dispatch(opts, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const p = Promise.all(this.all.map((d) => d.close())).then(() => undefined);
    if (callback) void p.then(callback);
    else return p;
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const err = typeof a === 'function' ? null : (a ?? null);
    const callback = typeof a === 'function' ? a : b;
    const p = Promise.all(this.all.map((d) => d.destroy(err))).then(() => undefined);
    if (callback) void p.then(callback);
    else return p;
  }
}

export function createOutbound(opts: OutboundOptions): Outbound {
  if (!opts.httpProxy && !opts.httpsProxy) return { dispatcher: opts.direct, isProxied: () => false };
  const bypass = createNoProxyMatcher(opts.noProxy);
  const proxyFor = (uri: string | undefined) =>
    uri ? new ProxyAgent({ uri: /^[a-z][a-z0-9+.-]*:\/\//i.test(uri) ? uri : `http://${uri}`, ...(opts.keepAlive ? {} : { pipelining: 0 }) }) : undefined;
  const http = proxyFor(opts.httpProxy);
  const https = proxyFor(opts.httpsProxy);
  const route = (url: URL): Dispatcher | undefined => {
    if (bypass(url)) return undefined;
    return url.protocol === 'https:' ? https : http;
  };
  const dispatcher = new RoutingDispatcher((url) => route(url) ?? opts.direct, [opts.direct, ...[http, https].filter((d): d is ProxyAgent => !!d)]);
  return { dispatcher, isProxied: (url) => route(url) !== undefined };
}
