/**
 * Pure routing: method + raw request target -> which job, and the rest of the path. It never verifies anything;
 * a path that could be either a camo URL or an imagor URL carries both candidates, and the dispatcher serves it as
 * whichever signature verifies.
 */
import { looksLikeCamoDigest } from '../verify/camo-digest.js';

export type CamoCandidate =
  | { readonly form: 'path'; readonly digest: string; readonly encodedUrl: string }
  | { readonly form: 'query'; readonly digest: string; readonly url: string };

export interface ImagorCandidate {
  /** The escaped path after the mount prefix and its leading slash (what imagor signs, plus the hash). */
  readonly path: string;
  readonly endpoint: 'image' | 'params';
}

export type Route =
  | { readonly kind: 'health' }
  | { readonly kind: 'favicon' }
  | { readonly kind: 'metrics' }
  | { readonly kind: 'landing' }
  | { readonly kind: 'playground'; readonly method: string; readonly path: string }
  | { readonly kind: 'method-not-allowed' }
  | { readonly kind: 'signed'; readonly camo?: CamoCandidate; readonly imagor?: ImagorCandidate }
  | { readonly kind: 'not-found' };

export interface RouteOptions {
  readonly camoEnabled: boolean;
  readonly camoPrefix: string;
  readonly imagorEnabled: boolean;
  readonly imagorPrefix: string;
  readonly metricsEnabled: boolean;
  /** Development mode only: the playground signs any URL it is given, so anywhere else it would be an open proxy. */
  readonly playgroundEnabled?: boolean;
}

/** The playground's path; reserved in every mode (no camo digest or imagor hash can look like it). */
export const PLAYGROUND_PATH = '/__playground';

export function routeRequest(method: string, target: string, opts: RouteOptions): Route {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  // Before the method check: the playground takes a POST, and answers 404 to everything when it is off.
  if (path === PLAYGROUND_PATH || path.startsWith(PLAYGROUND_PATH + '/')) {
    return opts.playgroundEnabled === true ? { kind: 'playground', method, path } : { kind: 'not-found' };
  }
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'method-not-allowed' };
  if (!path.startsWith('/')) return { kind: 'not-found' }; // absolute-form or asterisk targets: we are not a forward proxy

  if (path === '/healthcheck') return { kind: 'health' };
  if (path === '/favicon.ico') return { kind: 'favicon' };
  if (path === '/metrics' && opts.metricsEnabled) return { kind: 'metrics' };
  if (path === '/') return { kind: 'landing' };

  const camo = opts.camoEnabled ? camoCandidate(path, query, opts.camoPrefix, !opts.imagorEnabled) : undefined;
  const imagor = opts.imagorEnabled ? imagorCandidate(path, opts.imagorPrefix) : undefined;
  if (camo || imagor) return { kind: 'signed', ...(camo && { camo }), ...(imagor && { imagor }) };
  return { kind: 'not-found' };
}

function stripPrefix(path: string, prefix: string): string | undefined {
  if (!prefix) return path;
  if (path === prefix || !path.startsWith(prefix + '/')) return undefined;
  return path.slice(prefix.length);
}

/**
 * `anyShape`: camo alone takes every `/<digest>/<url>` path, whatever the digest looks like and even with an empty
 * URL, as go-camo's router does, so a malformed digest is 403 Bad Signature rather than 404. (`//x` is not one:
 * Go's ServeMux redirects it to `/x` before go-camo's router sees it.) Beside imagor, whose paths have two or more
 * segments too, only a digest of a camo digest's shape makes a camo candidate.
 */
function camoCandidate(fullPath: string, query: string, prefix: string, anyShape: boolean): CamoCandidate | undefined {
  const path = stripPrefix(fullPath, prefix);
  if (path === undefined) return undefined;
  const parts = path.split('/');
  // go-camo dispatches only on exactly ["", digest, encoded]; camo's query form has ["", digest] and ?url=
  if (parts.length === 3 && (anyShape ? parts[1] !== '' : looksLikeCamoDigest(parts[1]!) && parts[2] !== '')) {
    return { form: 'path', digest: parts[1]!, encodedUrl: parts[2]! };
  }
  if (parts.length === 2 && /^[0-9a-fA-F]{40}$/.test(parts[1]!)) {
    const urls = new URLSearchParams(query).getAll('url');
    // camo crashes into a 404 on a duplicated url=; one value only.
    if (urls.length === 1) return { form: 'query', digest: parts[1]!, url: urls[0]! };
  }
  return undefined;
}

function imagorCandidate(fullPath: string, prefix: string): ImagorCandidate | undefined {
  const path = stripPrefix(fullPath, prefix);
  if (path === undefined || path.length <= 1) return undefined;
  const rest = path.replace(/^\/+/, '');
  if (rest.startsWith('params/')) return { path: rest.slice('params/'.length), endpoint: 'params' };
  return { path: rest, endpoint: 'image' };
}
