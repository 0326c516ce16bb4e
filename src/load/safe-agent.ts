/**
 * The undici dispatcher every origin fetch goes through. The address policy runs inside the socket's DNS lookup,
 * so the address checked is the address connected (no check-then-connect race, on every hop and every new
 * connection of the pool). Hosts that are IP literals skip DNS, so the connector checks them before connecting.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { AddressPolicy } from '../policy/address.js';

/** Marks a connection refused by the address policy, so the fetcher can answer "denied" rather than "failed". */
export class AddressDeniedError extends Error {
  readonly code = 'PIXGATE_ADDRESS_DENIED';
  constructor(readonly address: string, readonly range: string) {
    super(`address ${address} is in a denied range (${range})`);
    this.name = 'AddressDeniedError';
  }
}

export interface SafeAgentOptions {
  readonly policy: AddressPolicy;
  readonly keepAlive: boolean;
  readonly connectTimeoutMs: number;
  /** Resolver, replaceable in tests to simulate DNS answers (rebinding, multiple records). */
  readonly resolve?: (hostname: string, cb: (err: Error | null, addresses: LookupAddress[]) => void) => void;
}

function defaultResolve(hostname: string, cb: (err: Error | null, addresses: LookupAddress[]) => void): void {
  dnsLookup(hostname, { all: true, verbatim: true }, cb);
}

export function createCheckedLookup(policy: AddressPolicy, resolve = defaultResolve): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const family = typeof options === 'object' && options ? options.family : undefined;
      const candidates = addresses.filter((a) => !family || family === a.family || (family as unknown) === `IPv${a.family}`);
      const allowed = candidates.filter((a) => !policy.check(a.address).denied);
      if (allowed.length === 0) {
        const first = candidates[0];
        const verdict = first ? policy.check(first.address) : undefined;
        const range = verdict && verdict.denied ? verdict.range : 'no address';
        return callback(new AddressDeniedError(first?.address ?? hostname, range) as NodeJS.ErrnoException, '', 0);
      }
      if (typeof options === 'object' && options && (options as { all?: boolean }).all) {
        (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      } else {
        callback(null, allowed[0]!.address, allowed[0]!.family);
      }
    });
  };
}

export function createSafeAgent(opts: SafeAgentOptions): Dispatcher {
  const lookup = createCheckedLookup(opts.policy, opts.resolve);
  const connector = buildConnector({ timeout: opts.connectTimeoutMs, lookup } as buildConnector.BuildOptions);
  const connect: buildConnector.connector = (options, callback) => {
    const host = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname;
    if (isIP(host)) {
      const verdict = opts.policy.check(host);
      if (verdict.denied) {
        callback(new AddressDeniedError(host, verdict.range), null);
        return;
      }
    }
    connector(options, callback);
  };
  return new Agent({
    connect,
    // Keep-alive pools as go-camo's transport: idle sockets live 30 s; --no-bk closes after each response.
    // pipelining 0 is undici's switch for "no keep-alive".
    pipelining: opts.keepAlive ? 1 : 0,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
    connections: 64,
    // The fetcher enforces the total deadline itself; these only catch a stall on a connection.
    headersTimeout: 0,
    bodyTimeout: 0,
    maxResponseSize: -1,
  });
}
