/** The safe fetcher shared by both jobs: network policy, redirects, timeouts and keep-alive. */
import { optional, setting } from '../define.js';
import { bool, cidr, duration, headerValue, int, list, string } from '../values.js';

export const fetchSettings = {
  allowNetworks: setting({
    env: ['PIXGATE_ALLOW_NETWORKS'], flags: ['--allow-network'], type: list(cidr), default: [], group: 'fetch',
    help: 'Exempt these CIDR ranges from the special-use address block (repeatable), e.g. 10.1.2.0/24 for an internal origin.',
  }),
  denyNetworks: setting({
    env: ['PIXGATE_DENY_NETWORKS', 'HTTP_LOADER_BLOCK_NETWORKS'], flags: ['--deny-network'], type: list(cidr), default: [], group: 'fetch',
    help: 'Also refuse these CIDR ranges (repeatable), on top of the special-use ranges that are always refused.',
  }),
  maxRedirects: setting({
    env: ['PIXGATE_MAX_REDIRECTS', 'GOCAMO_MAX_REDIRECTS'], flags: ['--max-redirects'], type: int({ min: 0, max: 20 }), default: 3, group: 'fetch',
    help: 'Redirects followed per fetch; each hop is re-validated. 0 refuses the first redirect.',
  }),
  timeout: setting({
    env: ['PIXGATE_TIMEOUT', 'GOCAMO_TIMEOUT'], flags: ['--timeout'], type: duration, default: 4000, group: 'fetch',
    help: 'Total deadline for a camo fetch, body included.',
  }),
  noBackendKeepAlive: setting({
    env: ['PIXGATE_NO_BK', 'GOCAMO_NO_BK'], flags: ['--no-bk'], type: bool, default: false, group: 'fetch',
    help: 'Disable keep-alive connection pools to origins.',
  }),
  allowCredentialUrls: setting({
    env: ['PIXGATE_ALLOW_CREDENTIAL_URLS', 'GOCAMO_ALLOW_CREDENTIAL_URLS'], flags: ['--allow-credential-urls'], type: bool, default: false, group: 'fetch',
    help: 'Allow user:password@ in source URLs (sent as Basic auth).',
  }),
  userAgent: setting({
    env: ['PIXGATE_USER_AGENT', 'GOCAMO_USER_AGENT'], flags: ['--user-agent'], type: headerValue, default: 'pixgate', group: 'fetch',
    help: 'User-Agent sent to origins.',
  }),
  httpProxy: optional({
    env: ['HTTP_PROXY', 'http_proxy'], type: string, group: 'fetch',
    help: 'Outbound proxy for http:// origins (URL or host:port). Behind a proxy the connect-time address check cannot see the destination; IP literals, names, rules and redirects are still checked.',
  }),
  httpsProxy: optional({
    env: ['HTTPS_PROXY', 'https_proxy'], type: string, group: 'fetch',
    help: 'Outbound proxy for https:// origins (CONNECT tunnel).',
  }),
  noProxy: setting({
    env: ['NO_PROXY', 'no_proxy'], type: string, default: '', group: 'fetch',
    help: 'Hosts reached directly, not through the proxy (comma-separated; .suffix; * for all).',
  }),
} as const;
