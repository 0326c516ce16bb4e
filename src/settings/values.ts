/**
 * Value types for the settings table: pure string -> value parsers. Each throws a plain Error with a short
 * explanation ("expected a duration like 4s"); settings/load.ts adds the setting's names to it.
 */
import { parseNetwork } from '../policy/address.js';

export interface ValueType<T> {
  /** Shown in --help and docs, e.g. `duration`, `sha1|sha256|sha512`. */
  readonly name: string;
  parse(raw: string): T;
  /** How a default or a current value is shown; secrets print as ***. */
  format(value: T): string;
  readonly secret?: boolean;
  /** A boolean flag takes no argument on the command line. */
  readonly isBoolean?: boolean;
  /** A list: the flag may repeat, env values are comma-separated. */
  readonly isList?: boolean;
  /**
   * A start-up warning for a value that is accepted but read differently than a peer would (imagor's "no limit"
   * taken as a bound, say); settings/load.ts adds the setting's names to it.
   */
  warn?(value: T, raw: string): string | undefined;
}

const TRUE = new Set(['1', 'true', 't', 'yes', 'y', 'on']);
const FALSE = new Set(['0', 'false', 'f', 'no', 'n', 'off', '']);

export const bool: ValueType<boolean> = {
  name: 'bool',
  isBoolean: true,
  parse(raw) {
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new Error('expected true or false');
  },
  format: (v) => String(v),
};

export function int(opts: { min?: number; max?: number } = {}): ValueType<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  return {
    name: 'int',
    parse(raw) {
      const v = raw.trim();
      if (!/^[-+]?\d+$/.test(v)) throw new Error('expected an integer');
      const n = Number(v);
      if (n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}`);
      return n;
    },
    format: (v) => String(v),
  };
}

export function number(opts: { min?: number; max?: number } = {}): ValueType<number> {
  const { min = -Infinity, max = Infinity } = opts;
  return {
    name: 'number',
    parse(raw) {
      const v = raw.trim();
      if (!/^[-+]?(\d+\.?\d*|\.\d+)$/.test(v)) throw new Error('expected a number');
      const n = Number(v);
      if (n < min || n > max) throw new Error(`expected a number from ${min} to ${max}`);
      return n;
    },
    format: (v) => String(v),
  };
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses Go-style durations (`4s`, `1m30s`, `500ms`, `168h`) into milliseconds. A bare number means seconds. */
export function parseDurationMs(raw: string): number {
  const v = raw.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(v)) throw new Error('expected a duration like 4s, 500ms, 1m30s or 168h');
  let total = 0;
  for (const m of v.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return total;
}

export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export const duration: ValueType<number> = { name: 'duration', parse: parseDurationMs, format: formatDurationMs };

const BYTE_UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3,
  gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4,
};

/** Parses sizes such as `2GB`, `512 KiB` or `1048576` (binary units: 1 KB = 1024 bytes). */
export function parseBytes(raw: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(raw);
  const unit = m ? BYTE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new Error('expected a size like 2GB, 512KB or a number of bytes');
  return Math.floor(Number(m[1]) * unit);
}

export function formatBytes(n: number): string {
  for (const [unit, size] of [['GB', 1024 ** 3], ['MB', 1024 ** 2], ['KB', 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

export const bytes: ValueType<number> = { name: 'size', parse: parseBytes, format: formatBytes };

export const string: ValueType<string> = { name: 'string', parse: (raw) => raw, format: (v) => v };

export const secret: ValueType<string> = {
  name: 'secret',
  secret: true,
  parse(raw) {
    if (raw.length === 0) throw new Error('must not be empty');
    return raw;
  },
  format: () => '***',
};

export function oneOf<const T extends string>(choices: readonly T[]): ValueType<T> {
  return {
    name: choices.join('|'),
    parse(raw) {
      const v = raw.trim().toLowerCase();
      if (!(choices as readonly string[]).includes(v)) throw new Error(`expected ${choices.join('|')}`);
      return v as T;
    },
    format: (v) => v,
  };
}

/** A comma-separated list (env) or a repeated flag; each item parsed by `item`. Empty items are dropped. */
export function list<T>(item: ValueType<T>, opts: { separator?: string } = {}): ValueType<readonly T[]> {
  const sep = opts.separator ?? ',';
  return {
    name: `${item.name}[${sep}...]`,
    isList: true,
    secret: item.secret,
    parse(raw) {
      return raw
        .split(sep)
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .map((s) => item.parse(s));
    },
    format: (v) => (item.secret ? (v.length ? '***' : '') : v.map((x) => item.format(x)).join(sep)),
  };
}

export const url: ValueType<string> = {
  name: 'url',
  parse(raw) {
    let u: URL;
    try {
      u = new URL(raw.trim());
    } catch {
      throw new Error('expected an absolute URL');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('expected an http or https URL');
    return u.href;
  },
  format: (v) => v,
};

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `:port`, `[::1]:port`. */
export const hostPort: ValueType<HostPort> = {
  name: 'host:port',
  parse(raw) {
    const v = raw.trim();
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(v);
    const port = m ? Number(m[3]) : NaN;
    if (!m || port > 65535) throw new Error('expected host:port, e.g. 0.0.0.0:8080');
    return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
  },
  format: (v) => (v.host.includes(':') ? `[${v.host}]:${v.port}` : `${v.host}:${v.port}`),
};

export const cidr: ValueType<string> = {
  name: 'cidr',
  parse(raw) {
    const v = raw.trim();
    const m = /^([0-9a-fA-F:.]+)(?:\/(\d{1,3}))?$/.exec(v);
    if (!m) throw new Error('expected an address or CIDR range, e.g. 127.0.0.0/8 or ::1/128');
    const isV6 = m[1]!.includes(':');
    const bits = m[2] === undefined ? (isV6 ? 128 : 32) : Number(m[2]);
    if (bits > (isV6 ? 128 : 32)) throw new Error('CIDR prefix too long');
    if (!isV6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]!)) throw new Error('expected a dotted IPv4 address');
    // The address policy is the judge of what an address is (octets up to 255, no leading zeros, valid IPv6):
    // anything it would refuse later must stop here, with the setting's name, not crash the start.
    if (!parseNetwork(`${m[1]}/${bits}`)) throw new Error('expected an address or CIDR range, e.g. 127.0.0.0/8 or ::1/128');
    return `${m[1]}/${bits}`;
  },
  format: (v) => v,
};

// node:http's own rules (lib/_http_common.js, behind validateHeaderName and validateHeaderValue): a name is an
// RFC 9110 token; a value holds tab, printable ASCII and Latin-1 bytes 0x80-0xFF, nothing else. A value outside
// them passes the start and then throws ERR_INVALID_CHAR on the first response, so it is refused here.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const INVALID_HEADER_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/u;

/** Throws when node:http would refuse `value` as a header value, naming the first offending character. */
export function checkHeaderValue(value: string): void {
  const m = INVALID_HEADER_VALUE_CHAR.exec(value);
  if (!m) return;
  const cp = m[0].codePointAt(0)!;
  const at = `U+${cp.toString(16).toUpperCase().padStart(4, '0')} at position ${m.index + 1}`;
  throw new Error(
    cp > 0xff
      ? `a header value cannot hold ${at}: only Latin-1 characters fit in an HTTP header`
      : `a header value cannot hold the control character ${at}: only tab and printable characters are allowed`,
  );
}

/** Text sent as a header value (Server, Via, User-Agent): refused at start when node:http would refuse it. */
export const headerValue: ValueType<string> = {
  name: 'string',
  parse(raw) {
    checkHeaderValue(raw);
    return raw;
  },
  format: (v) => v,
};

/** `Name: value` response header, as go-camo's -H. */
export const header: ValueType<readonly [string, string]> = {
  name: 'Name: value',
  parse(raw) {
    const i = raw.indexOf(':');
    const name = i > 0 ? raw.slice(0, i).trim() : '';
    const value = i > 0 ? raw.slice(i + 1).trim() : '';
    if (!HEADER_NAME.test(name)) throw new Error('expected "Name: value" with a valid header name (letters, digits and !#$%&\'*+-.^_`|~)');
    checkHeaderValue(value);
    return [name, value] as const;
  },
  format: (v) => `${v[0]}: ${v[1]}`,
};
