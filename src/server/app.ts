/**
 * Everything a request needs, built once at start from the settings: keys, policies, the safe fetcher, metrics,
 * the logger and the precomputed default headers. Building it may fail with a message naming the setting (a bad
 * filter ruleset file, say); serving never reads the environment or a file again.
 */
import { readFileSync } from 'node:fs';
import type { Dispatcher } from 'undici';
import { createSafeFetcher, type SafeFetcher } from '../load/http-fetch.js';
import { createSafeAgent } from '../load/safe-agent.js';
import { createOutbound, parseProxyUri } from '../load/outbound.js';
import { hostIpLiteral } from '../policy/local-names.js';
import type { Logger } from '../observe/log.js';
import type { Metrics } from '../observe/metrics.js';
import { createAddressPolicy, type AddressPolicy } from '../policy/address.js';
import { parseRuleset, type Ruleset } from '../policy/ruleset.js';
import { fail } from '../respond/errors.js';
import type { RouteOptions } from '../route/route.js';
import type { Settings } from '../settings/table.js';
import { buildDefaultHeaders } from './security-headers.js';
import { createImagorContext, type ImagorContext } from '../jobs/imagor-context.js';

export interface App {
  readonly settings: Settings;
  readonly version: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly camoKeys: readonly string[];
  readonly addressPolicy: AddressPolicy;
  readonly dispatcher: Dispatcher;
  readonly fetcher: SafeFetcher;
  readonly ruleset: Ruleset | undefined;
  /** Per-hop source check for camo fetches (the filter ruleset). */
  readonly checkCamoSource: ((url: URL) => void) | undefined;
  readonly defaultHeaders: readonly (readonly [string, string])[];
  readonly routeOptions: RouteOptions;
  readonly imagor: ImagorContext;
  /** Dev mode: the loopback URL of the bundled sample image, offered by the playground. */
  readonly devSampleUrl?: string | undefined;
  /** Releases pools and storage clients (after the listeners are closed). */
  close(): Promise<void>;
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export interface AppDeps {
  readonly settings: Settings;
  readonly version: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly devSampleUrl?: string | undefined;
  /** Processes of a --workers cluster (each bounds the shared file result cache to its share). Default 1. */
  readonly workers?: number;
}

export async function createApp({ settings, version, log, metrics, devSampleUrl, workers }: AppDeps): Promise<App> {
  const addressPolicy = createAddressPolicy({ allowNetworks: [...settings.allowNetworks], denyNetworks: [...settings.denyNetworks] });
  const direct = createSafeAgent({ policy: addressPolicy, keepAlive: !settings.noBackendKeepAlive, connectTimeoutMs: 3000 });
  for (const [name, value] of [['HTTP_PROXY', settings.httpProxy], ['HTTPS_PROXY', settings.httpsProxy]] as const) {
    // The value is left out of the message: it may hold the proxy's password.
    if (value && !parseProxyUri(value)) throw new StartupError(`${name}: not a URL or host:port`);
  }
  const outbound = createOutbound({
    direct,
    httpProxy: settings.httpProxy,
    httpsProxy: settings.httpsProxy,
    noProxy: settings.noProxy,
    keepAlive: !settings.noBackendKeepAlive,
  });
  if (outbound.proxies.length > 0) {
    log.warn(
      { proxies: outbound.proxies },
      'outbound proxy in use: the proxy resolves source host names, so pixgate cannot check the addresses they lead to; the proxy itself must refuse private, loopback and link-local destinations (or list the hosts to reach directly, with the address check, in NO_PROXY)',
    );
  }
  const dispatcher = outbound.dispatcher;
  const fetcher = createSafeFetcher({
    dispatcher,
    checkProxied: (url) => {
      if (outbound.isProxy(url)) fail('FILTER_REJECTED', 'source URL is the outbound proxy');
      if (!outbound.isProxied(url)) return;
      const literal = hostIpLiteral(url.hostname);
      if (literal) {
        const verdict = addressPolicy.check(literal);
        if (verdict.denied) fail('ADDRESS_DENIED', `proxied literal ${literal} in ${verdict.range}`);
      }
    },
    maxRedirects: settings.maxRedirects,
    allowCredentialUrls: settings.allowCredentialUrls,
    userAgent: settings.userAgent,
    via: settings.serverName,
    onDenied: (reason) => metrics.pixgate.fetchDenied.inc({ reason }),
  });

  let ruleset: Ruleset | undefined;
  if (settings.filterRuleset) {
    let text: string;
    try {
      text = readFileSync(settings.filterRuleset, 'utf8');
    } catch (e) {
      throw new StartupError(`--filter-ruleset=${settings.filterRuleset}: cannot read the file (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    try {
      ruleset = parseRuleset(text);
    } catch (e) {
      throw new StartupError(`--filter-ruleset=${settings.filterRuleset}: ${(e as Error).message}`);
    }
    if (ruleset.hasBothKinds) {
      log.warn('filter ruleset has allow and deny rules: anything not matching an allow rule is denied, THEN deny rules are evaluated');
    }
  }
  const rules = ruleset;
  const checkCamoSource = rules
    ? (url: URL) => {
        if (!rules.allows(url)) fail('FILTER_REJECTED', `ruleset refuses ${url.host}`);
      }
    : undefined;

  const imagor = await createImagorContext({ settings, fetcher, metrics, log, workers });

  return {
    async close() {
      await imagor.stores.close();
      await dispatcher.close();
    },
    imagor,
    devSampleUrl,
    settings,
    version,
    log,
    metrics,
    camoKeys: settings.camoKeys,
    addressPolicy,
    dispatcher,
    fetcher,
    ruleset,
    checkCamoSource,
    defaultHeaders: buildDefaultHeaders(settings, version),
    routeOptions: {
      camoEnabled: settings.camoKeys.length > 0,
      camoPrefix: settings.camoPrefix,
      imagorEnabled: imagor.enabled,
      imagorPrefix: settings.imagorPrefix,
      metricsEnabled: settings.metrics,
      playgroundEnabled: settings.dev,
    },
  };
}
