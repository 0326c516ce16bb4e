/**
 * Pure classifier for the IP address a socket is about to connect to: denies every IANA special-purpose range
 * that is not globally reachable (the anycast ones, such as AS112, stay allowed) and unwraps IPv4 carried inside
 * IPv6 (mapped, compatible, NAT64, 6to4, Teredo, ISATAP) to judge it too.
 * It never resolves names and never throws: anything that is not a strictly written address is denied.
 */
import ipaddr from 'ipaddr.js';

export type AddressVerdict =
  | { readonly denied: false }
  | {
      readonly denied: true;
      /** The CIDR that denied the address (for an embedded IPv4, the IPv4 range), or `invalid`. */
      readonly range: string;
      readonly reason: string;
      /** Set when the verdict comes from an IPv4 address embedded in the IPv6 one. */
      readonly embeddedIpv4?: string;
    };

export interface AddressPolicyOptions {
  /** CIDRs (or single addresses) exempted from the default deny list, e.g. `127.0.0.0/8` in tests. */
  readonly allowNetworks?: readonly string[];
  /** Extra CIDRs (or single addresses) to deny; they win over `allowNetworks`. */
  readonly denyNetworks?: readonly string[];
}

export interface AddressPolicy {
  check(ip: string): AddressVerdict;
}

interface SpecialRange {
  readonly cidr: string;
  readonly rfc: string;
  readonly what: string;
}

/** How an IPv6 range carries an IPv4 address, and whether a public one may pass. */
interface Embedding {
  readonly name: string;
  readonly extract: (bytes: readonly number[]) => number[];
  /** `allow`: the address is fine when the IPv4 inside is. `deny`: the range is refused whatever it carries. */
  readonly publicIpv4: 'allow' | 'deny';
}

interface SpecialRange6 extends SpecialRange {
  readonly embedding?: Embedding;
}

// IANA IPv4 Special-Purpose Address Registry entries that are not globally reachable, plus multicast.
const IPV4_RANGES: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/8', rfc: 'RFC 1122 §3.2.1.3', what: '"this network" (0.0.0.0 reaches the local host on Linux)' },
  { cidr: '10.0.0.0/8', rfc: 'RFC 1918', what: 'private network' },
  { cidr: '100.64.0.0/10', rfc: 'RFC 6598', what: 'shared address space (carrier-grade NAT)' },
  { cidr: '127.0.0.0/8', rfc: 'RFC 1122 §3.2.1.3', what: 'loopback' },
  { cidr: '169.254.0.0/16', rfc: 'RFC 3927', what: 'link-local (cloud metadata lives at 169.254.169.254)' },
  { cidr: '172.16.0.0/12', rfc: 'RFC 1918', what: 'private network' },
  { cidr: '192.0.0.0/24', rfc: 'RFC 6890', what: 'IETF protocol assignments' },
  { cidr: '192.0.2.0/24', rfc: 'RFC 5737', what: 'documentation (TEST-NET-1)' },
  { cidr: '192.88.99.0/24', rfc: 'RFC 7526', what: 'deprecated 6to4 relay anycast' },
  { cidr: '192.168.0.0/16', rfc: 'RFC 1918', what: 'private network' },
  { cidr: '198.18.0.0/15', rfc: 'RFC 2544', what: 'benchmarking' },
  { cidr: '198.51.100.0/24', rfc: 'RFC 5737', what: 'documentation (TEST-NET-2)' },
  { cidr: '203.0.113.0/24', rfc: 'RFC 5737', what: 'documentation (TEST-NET-3)' },
  { cidr: '224.0.0.0/4', rfc: 'RFC 5771', what: 'multicast' },
  { cidr: '255.255.255.255/32', rfc: 'RFC 919, RFC 8190', what: 'limited broadcast' },
  { cidr: '240.0.0.0/4', rfc: 'RFC 1112 §4', what: 'reserved for future use' },
];

const last32 = (b: readonly number[]): number[] => b.slice(12, 16);

const MAPPED: Embedding = { name: 'IPv4-mapped', extract: last32, publicIpv4: 'allow' };
// Deprecated by RFC 4291 §2.5.5.1; no host should be reached this way even with a public IPv4 inside.
const COMPATIBLE: Embedding = { name: 'IPv4-compatible', extract: last32, publicIpv4: 'deny' };
// Decision: the well-known NAT64 prefix with a public IPv4 is allowed. It is what DNS64 hands out on IPv6-only
// hosts, and RFC 6052 §3.1 forbids it for non-global IPv4, which we deny after unwrapping.
const NAT64_WELL_KNOWN: Embedding = { name: 'NAT64 well-known prefix', extract: last32, publicIpv4: 'allow' };
// RFC 8215 local-use prefix: not globally reachable (IANA), and its IPv4 position depends on the operator's
// prefix length, so it is denied outright; the RFC 6052 /48 layout (bits 48-63 and 72-87) is read for the reason.
const NAT64_LOCAL_USE: Embedding = {
  name: 'NAT64 local-use prefix',
  extract: (b) => [b[6] ?? 0, b[7] ?? 0, b[9] ?? 0, b[10] ?? 0],
  publicIpv4: 'deny',
};
const SIX_TO_FOUR: Embedding = { name: '6to4', extract: (b) => b.slice(2, 6), publicIpv4: 'allow' };
// Teredo sits in 2001::/23, which is denied as a whole; the client address (RFC 4380 §4: last 32 bits, inverted)
// is still unwrapped so an allowNetworks exemption and the log see the real target.
const TEREDO: Embedding = { name: 'Teredo', extract: (b) => last32(b).map((x) => x ^ 0xff), publicIpv4: 'deny' };
// RFC 5214 §6.1: interface identifier [00-00-5E-FE or 02-00-5E-FE][IPv4], under any /64 prefix.
const ISATAP = { name: 'ISATAP interface identifier', cidr: '<any /64>:0:5efe:a.b.c.d', rfc: 'RFC 5214' };

// First match wins, so the specific entries come before the ranges that contain them.
const IPV6_RANGES: readonly SpecialRange6[] = [
  { cidr: '::/128', rfc: 'RFC 4291 §2.5.2', what: 'unspecified' },
  { cidr: '::1/128', rfc: 'RFC 4291 §2.5.3', what: 'loopback' },
  { cidr: '::ffff:0:0/96', rfc: 'RFC 4291 §2.5.5.2', what: 'IPv4-mapped', embedding: MAPPED },
  { cidr: '::/96', rfc: 'RFC 4291 §2.5.5.1', what: 'IPv4-compatible (deprecated)', embedding: COMPATIBLE },
  { cidr: '64:ff9b::/96', rfc: 'RFC 6052', what: 'NAT64 well-known prefix', embedding: NAT64_WELL_KNOWN },
  { cidr: '64:ff9b:1::/48', rfc: 'RFC 8215', what: 'NAT64 local-use prefix', embedding: NAT64_LOCAL_USE },
  { cidr: '100::/64', rfc: 'RFC 6666', what: 'discard-only' },
  { cidr: '2001::/32', rfc: 'RFC 4380', what: 'Teredo', embedding: TEREDO },
  { cidr: '2001::/23', rfc: 'RFC 2928, RFC 6890', what: 'IETF protocol assignments' },
  { cidr: '2001:db8::/32', rfc: 'RFC 3849', what: 'documentation' },
  { cidr: '2002::/16', rfc: 'RFC 3056', what: '6to4', embedding: SIX_TO_FOUR },
  { cidr: '3fff::/20', rfc: 'RFC 9637', what: 'documentation' },
  { cidr: 'fc00::/7', rfc: 'RFC 4193', what: 'unique local (fd00:ec2::254 is the AWS metadata service)' },
  { cidr: 'fe80::/10', rfc: 'RFC 4291 §2.5.6', what: 'link-local' },
  { cidr: 'fec0::/10', rfc: 'RFC 3879', what: 'site-local (deprecated)' },
  { cidr: 'ff00::/8', rfc: 'RFC 4291 §2.7', what: 'multicast' },
  // IANA hands out global unicast only from 2000::/3; the rest is reserved by the IETF (RFC 4291 §2.4).
  // These three cover everything outside it, e.g. 5f00::/16 (RFC 9602) and ::ffff:0:0:0/96 (RFC 6145).
  { cidr: '::/3', rfc: 'RFC 4291 §2.4', what: 'outside global unicast 2000::/3' },
  { cidr: '4000::/2', rfc: 'RFC 4291 §2.4', what: 'outside global unicast 2000::/3' },
  { cidr: '8000::/1', rfc: 'RFC 4291 §2.4', what: 'outside global unicast 2000::/3' },
];

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed CIDR; `text` is what the operator wrote, for logs. */
export interface IpNetwork {
  readonly text: string;
  readonly address: Address;
  readonly bits: number;
}

interface Compiled<T> {
  readonly entry: T;
  readonly net: IpNetwork;
}

const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])';
const IPV4_STRICT = new RegExp(`^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`);
const IPV6_SHAPE = /^[0-9a-fA-F:]+$/;
const IPV6_DOTTED_TAIL = /^(.*:)([0-9.]*\.[0-9.]*)$/;
const MAX_ADDRESS_LENGTH = 45; // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"

/**
 * Parses the textual forms `net.isIP` accepts (no zone id): dotted-quad IPv4 without leading zeros, and IPv6
 * with an optional dotted-quad tail. ipaddr.js alone is too lenient for this job: it reads `0177.0.0.1` as
 * octal and `::127.0.0.1` as IPv4-mapped, so the text is checked first and a dotted tail is rewritten as hex.
 */
export function parseIpAddress(text: unknown): Address | undefined {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_ADDRESS_LENGTH) return undefined;
  try {
    if (IPV4_STRICT.test(text)) return ipaddr.IPv4.parse(text);
    let v6 = text;
    const tail = IPV6_DOTTED_TAIL.exec(text);
    if (tail) {
      const dotted = tail[2] ?? '';
      if (!IPV4_STRICT.test(dotted)) return undefined;
      const o = dotted.split('.').map(Number);
      const hi = (((o[0] ?? 0) << 8) | (o[1] ?? 0)).toString(16);
      const lo = (((o[2] ?? 0) << 8) | (o[3] ?? 0)).toString(16);
      v6 = `${tail[1] ?? ''}${hi}:${lo}`;
    }
    if (!v6.includes(':') || !IPV6_SHAPE.test(v6) || !ipaddr.IPv6.isValid(v6)) return undefined;
    return ipaddr.IPv6.parse(v6);
  } catch {
    return undefined;
  }
}

/** Parses `a.b.c.d/n`, `x::y/n` or a single address (a host route). Undefined if anything is off. */
export function parseNetwork(text: string): IpNetwork | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  const address = parseIpAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) return undefined;
  const max = address.kind() === 'ipv4' ? 32 : 128;
  if (slash < 0) return { text, address, bits: max };
  const bitsText = text.slice(slash + 1);
  if (!/^(?:0|[1-9][0-9]{0,2})$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  return bits <= max ? { text, address, bits } : undefined;
}

function mustParseNetwork(text: string): IpNetwork {
  const net = parseNetwork(text);
  if (!net) throw new Error(`address policy table has a bad CIDR: ${text}`);
  return net;
}

function contains(net: IpNetwork, address: Address): boolean {
  if (net.address.kind() !== address.kind()) return false;
  return address.match(net.address, net.bits);
}

const COMPILED_V4: readonly Compiled<SpecialRange>[] = IPV4_RANGES.map((entry) => ({
  entry,
  net: mustParseNetwork(entry.cidr),
}));
const COMPILED_V6: readonly Compiled<SpecialRange6>[] = IPV6_RANGES.map((entry) => ({
  entry,
  net: mustParseNetwork(entry.cidr),
}));

const ALLOWED: AddressVerdict = Object.freeze({ denied: false });

function deniedBy(range: SpecialRange): AddressVerdict {
  return { denied: true, range: range.cidr, reason: `${range.what} (${range.rfc})` };
}

function isatapIpv4(b: readonly number[]): number[] | undefined {
  const u = b[8] ?? 0;
  // The u and g bits (RFC 4291 appendix A) may be set; the rest of the identifier prefix is fixed.
  if ((u & 0xfc) === 0 && b[9] === 0 && b[10] === 0x5e && b[11] === 0xfe) return last32(b);
  return undefined;
}

interface Embedded {
  readonly ipv4: ipaddr.IPv4;
  readonly name: string;
  readonly cidr: string;
  readonly rfc: string;
  readonly fromRange: boolean;
}

function embeddedIpv4s(address: ipaddr.IPv6, range: SpecialRange6 | undefined): Embedded[] {
  const bytes = address.toByteArray();
  const out: Embedded[] = [];
  if (range?.embedding) {
    const ipv4 = new ipaddr.IPv4(range.embedding.extract(bytes));
    out.push({ ipv4, name: range.embedding.name, cidr: range.cidr, rfc: range.rfc, fromRange: true });
  }
  const isatap = isatapIpv4(bytes);
  if (isatap) out.push({ ipv4: new ipaddr.IPv4(isatap), ...ISATAP, fromRange: false });
  return out;
}

function findRange<T>(table: readonly Compiled<T>[], address: Address): T | undefined {
  return table.find((c) => contains(c.net, address))?.entry;
}

function inAny(nets: readonly IpNetwork[], address: Address): IpNetwork | undefined {
  return nets.find((n) => contains(n, address));
}

const INVALID: AddressVerdict = Object.freeze({
  denied: true,
  range: 'invalid',
  reason: 'not a plain IPv4 or IPv6 address (zone ids and non-canonical IPv4 spellings are refused)',
});

function judge(ip: string, allow: readonly IpNetwork[], deny: readonly IpNetwork[]): AddressVerdict {
  const address = parseIpAddress(ip);
  if (!address) return INVALID;

  const range6 = address.kind() === 'ipv6' ? findRange(COMPILED_V6, address) : undefined;
  const embedded = address.kind() === 'ipv6' ? embeddedIpv4s(address as ipaddr.IPv6, range6) : [];

  for (const candidate of [address, ...embedded.map((e) => e.ipv4)]) {
    const hit = inAny(deny, candidate);
    if (hit) {
      return {
        denied: true,
        range: hit.text,
        reason: 'listed in denyNetworks',
        ...(candidate === address ? {} : { embeddedIpv4: candidate.toString() }),
      };
    }
  }
  if (inAny(allow, address)) return ALLOWED;

  if (address.kind() === 'ipv4') {
    const range = findRange(COMPILED_V4, address);
    return range ? deniedBy(range) : ALLOWED;
  }

  if (range6 && !range6.embedding) return deniedBy(range6);
  let rangeExempt = false;
  for (const e of embedded) {
    if (inAny(allow, e.ipv4)) {
      if (e.fromRange) rangeExempt = true;
      continue;
    }
    const range4 = findRange(COMPILED_V4, e.ipv4);
    if (range4) {
      return {
        denied: true,
        range: range4.cidr,
        reason: `${range4.what} (${range4.rfc}) inside ${e.name} ${e.cidr} (${e.rfc})`,
        embeddedIpv4: e.ipv4.toString(),
      };
    }
  }
  if (range6?.embedding?.publicIpv4 === 'deny' && !rangeExempt) return deniedBy(range6);
  return ALLOWED;
}

/** The default policy: every special-purpose range denied, nothing exempted. */
export function classifyAddress(ip: string): AddressVerdict {
  return judge(ip, [], []);
}

/**
 * An allowNetworks CIDR exempts an address it contains, or whose embedded IPv4 it contains (so `127.0.0.0/8`
 * also lets `::ffff:127.0.0.1`, `64:ff9b::7f00:1` and a Teredo address for 127.0.0.1 through). It never lifts a
 * denial from an IPv6 range that carries no IPv4, such as fe80::/10, even around an ISATAP identifier.
 * denyNetworks entries are checked against the address and its embedded IPv4 and win over allows.
 * Throws a RangeError at construction for a CIDR that does not parse.
 */
export function createAddressPolicy(options: AddressPolicyOptions = {}): AddressPolicy {
  const compile = (list: readonly string[] | undefined, name: string): IpNetwork[] =>
    (list ?? []).map((text) => {
      const net = parseNetwork(text.trim());
      if (!net) throw new RangeError(`${name}: not a CIDR or IP address: ${JSON.stringify(text)}`);
      return net;
    });
  const allow = compile(options.allowNetworks, 'allowNetworks');
  const deny = compile(options.denyNetworks, 'denyNetworks');
  return { check: (ip) => judge(ip, allow, deny) };
}
