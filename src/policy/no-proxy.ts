/**
 * Which origins bypass the outbound proxy: the NO_PROXY convention (comma- or space-separated host names,
 * `.suffix` or `suffix` matching the name and its subdomains, optional `:port`, `*` for everything). Pure.
 */
export function createNoProxyMatcher(noProxy: string): (url: URL) => boolean {
  const entries = noProxy
    .split(/[\s,]+/)
    .map((e) => e.trim().toLowerCase())
    .filter(Boolean)
    .map((e) => {
      const m = /^(.*?)(?::(\d+))?$/.exec(e.startsWith('[') ? e.replace(/^\[([^\]]+)\](.*)$/, '$1$2') : e)!;
      return { host: m[1]!.replace(/^\*?\./, ''), port: m[2] };
    });
  return (url) => {
    const host = url.hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return entries.some((e) => {
      if (e.host === '*') return true;
      if (e.port !== undefined && e.port !== port) return false;
      return host === e.host || host.endsWith('.' + e.host);
    });
  };
}
