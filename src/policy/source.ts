/**
 * Which URL an imagor image key loads from, and whether a URL may be loaded: imagor's HTTP loader rules (base
 * URL, default scheme, allowed host globs and URL regexp) plus HTTPS-only, which imagor documents but never built.
 * Pure; the same check runs on the first URL and on every redirect hop.
 */
import picomatch from 'picomatch';
import { fail } from '../respond/errors.js';

export interface SourcePolicyOptions {
  readonly baseUrl: string | undefined;
  /** `https`, `http`, or `nil` to refuse scheme-less keys. */
  readonly defaultScheme: string;
  readonly allowedSources: readonly string[];
  readonly allowedSourceRegexp: string | undefined;
  readonly httpsOnly: boolean;
}

export interface SourcePolicy {
  /** The URL an image key loads from, or a typed refusal. */
  resolve(image: string): string;
  /** Throws SOURCE_NOT_ALLOWED when `url` may not be loaded. */
  check(url: URL): void;
}

export function createSourcePolicy(opts: SourcePolicyOptions): SourcePolicy {
  // imagor matches host globs with Go's path.Match against u.Host: `*` is any run of characters without `/`,
  // dots and colons included, and a URL that names a port is matched as host:port (`*.example.com` does not
  // match `a.example.com:8080`).
  const globs = opts.allowedSources.map((g) => picomatch(g.toLowerCase(), { dot: true, nobrace: true, noextglob: true }));
  const regexp = opts.allowedSourceRegexp ? new RegExp(opts.allowedSourceRegexp) : undefined;
  const base = opts.baseUrl ? new URL(opts.baseUrl) : undefined;

  const check = (url: URL) => {
    if (opts.httpsOnly && url.protocol !== 'https:') fail('SOURCE_NOT_ALLOWED', `https only: ${url.protocol}`);
    if (base && (url.origin !== base.origin || !url.pathname.startsWith(basePath(base)))) {
      fail('SOURCE_NOT_ALLOWED', 'outside HTTP_LOADER_BASE_URL');
    }
    if (globs.length === 0 && !regexp) return;
    const name = url.hostname.toLowerCase().replace(/\.$/, '');
    const host = url.port ? `${name}:${url.port}` : name;
    if (globs.some((m) => m(host))) return;
    if (regexp && regexp.test(url.href)) return;
    fail('SOURCE_NOT_ALLOWED', `host ${host} not in allowed sources`);
  };

  const resolve = (image: string): string => {
    if (base) {
      // Joined as text, never with new URL(image, base): "//evil/x" or "@evil/x" would change the host.
      const joined = base.href.replace(/\/+$/, '') + '/' + image.replace(/^\/+/, '');
      let url: URL;
      try {
        url = new URL(joined);
      } catch {
        fail('INVALID_PARAMS', 'image does not form a URL with the base URL');
      }
      check(url);
      return url.href;
    }
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(image);
    if (scheme) {
      const s = scheme[1]!.toLowerCase();
      if (s !== 'http' && s !== 'https') fail('SOURCE_NOT_ALLOWED', `scheme ${s}`);
      return image;
    }
    if (opts.defaultScheme === 'nil') fail('INVALID_PARAMS', 'image has no scheme and HTTP_LOADER_DEFAULT_SCHEME=nil');
    // imagor refuses a scheme-less key that still holds an escape: it was meant as a storage key, not a URL.
    if (/%[0-9a-fA-F]{2}/.test(image)) fail('INVALID_PARAMS', 'scheme-less image with a percent escape');
    return `${opts.defaultScheme}://${image}`;
  };

  return { resolve, check };
}

function basePath(base: URL): string {
  return base.pathname.endsWith('/') ? base.pathname : base.pathname + '/';
}
