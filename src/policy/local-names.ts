/**
 * Pure checks on a URL's hostname before any lookup: the local names go-camo refuses (its localsFilter), and
 * whether the host is an IP literal, which the HTTP stack connects to without calling the lookup hook.
 * Nothing here resolves a name; the address policy still judges every address actually connected.
 */

const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4_DOTTED = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);

function stripTrailingDots(name: string): string {
  let end = name.length;
  while (end > 0 && name.charCodeAt(end - 1) === 0x2e) end--;
  return name.slice(0, end);
}

/**
 * True for `localhost`, `localdomain` and any name under them, in any case, with or without trailing dots.
 * go-camo's localsFilter (`|s|localhost||`, `|s|localdomain||`) misses `localhost.`, which resolves on
 * systemd-resolved hosts, so trailing dots are stripped first.
 */
export function isLocalHostName(hostname: string): boolean {
  if (typeof hostname !== 'string') return false;
  const name = stripTrailingDots(hostname.toLowerCase());
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === 'localdomain' ||
    name.endsWith('.localdomain')
  );
}

// WHATWG URL "ends in a number checker": such a host is an IPv4 address or invalid, never a domain.
function endsInNumber(hostname: string): boolean {
  const labels = hostname.split('.');
  if (labels.length > 1 && labels[labels.length - 1] === '') labels.pop();
  const last = labels[labels.length - 1] ?? '';
  return /^[0-9]+$/.test(last) || /^0[xX][0-9a-fA-F]*$/.test(last);
}

/**
 * The IP address to check when `hostname` (as in `URL#hostname`) is an IP literal, else undefined (a name, which
 * goes through the lookup hook). Bracketed or colon-bearing hosts come back without brackets; IPv4 hosts come
 * back in dotted-quad form, canonicalised by the WHATWG parser if they were not already. Anything that looks
 * like a literal but is malformed is returned as is, so that the address policy refuses it rather than it
 * reaching a resolver.
 */
export function hostIpLiteral(hostname: string): string | undefined {
  if (typeof hostname !== 'string' || hostname === '') return undefined;
  if (hostname.startsWith('[')) return hostname.endsWith(']') ? hostname.slice(1, -1) : hostname.slice(1);
  if (hostname.includes(':')) return hostname;
  if (!endsInNumber(hostname)) return undefined;
  if (IPV4_DOTTED.test(hostname)) return hostname;
  if (!/^[0-9a-fA-FxX.]+$/.test(hostname)) return hostname;
  try {
    const canonical = new URL(`http://${hostname}/`).hostname;
    if (IPV4_DOTTED.test(canonical)) return canonical;
  } catch {
    // not a valid IPv4 spelling either: hand back the raw text, which no address check accepts
  }
  return hostname;
}
