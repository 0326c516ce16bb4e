/**
 * The headers every response carries, errors included (go-camo sets them in its router): nosniff, the XSS filter
 * switch, a CSP that lets nothing run, the Server name, and any -H extras, which replace a default of the same name.
 */
import type { Settings } from '../settings/table.js';

export const DEFAULT_SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['X-Content-Type-Options', 'nosniff'],
  ['X-XSS-Protection', '1; mode=block'],
  ['Content-Security-Policy', "default-src 'none'; img-src data:; style-src 'unsafe-inline'"],
];

export function buildDefaultHeaders(
  s: Pick<Settings, 'headers' | 'serverName' | 'exposeServerVersion'>,
  version: string,
): readonly (readonly [string, string])[] {
  const byName = new Map<string, readonly [string, string]>();
  for (const h of DEFAULT_SECURITY_HEADERS) byName.set(h[0].toLowerCase(), h);
  byName.set('server', ['Server', s.exposeServerVersion ? `${s.serverName} ${version}` : s.serverName]);
  for (const h of s.headers) byName.set(h[0].toLowerCase(), h);
  return [...byName.values()];
}
