/** The HTTP loader of the imagor job (imagor's HTTP_LOADER_* settings), on top of the safe fetcher. */
import { optional, setting } from '../define.js';
import { bool, bytes, list, string, url } from '../values.js';
import { compileGoRegexp } from '../../policy/source.js';

/** imagor's users write Go (RE2) expressions: translated to JavaScript, refused at start where that cannot be exact. */
const regex = {
  name: 'regexp',
  parse(raw: string): string {
    try {
      compileGoRegexp(raw);
    } catch (e) {
      throw new Error(`invalid regular expression: ${(e as Error).message}`);
    }
    return raw;
  },
  format: (v: string) => v,
};

export const loaderSettings = {
  httpLoaderAllowedSources: setting({
    env: ['HTTP_LOADER_ALLOWED_SOURCES'], flags: ['--http-loader-allowed-sources'], type: list(string), default: [], group: 'loader',
    help: 'Host globs the HTTP loader may fetch from (e.g. *.example.com,cdn.example.org); `*.a.com` does not match a.com. Empty: any public host.',
  }),
  httpLoaderAllowedSourceRegexp: optional({
    env: ['HTTP_LOADER_ALLOWED_SOURCE_REGEXP'], flags: ['--http-loader-allowed-source-regexp'], type: regex, group: 'loader',
    help: 'Regular expression the full source URL (https://host/path) must match; combined with the globs by OR, as imagor.',
  }),
  httpLoaderBaseUrl: optional({
    env: ['HTTP_LOADER_BASE_URL'], flags: ['--http-loader-base-url'], type: url, group: 'loader',
    help: 'Load every image relative to this URL (the image part of the path is appended); nothing else is fetched.',
  }),
  httpLoaderDefaultScheme: setting({
    env: ['HTTP_LOADER_DEFAULT_SCHEME'], flags: ['--http-loader-default-scheme'], type: string, default: 'https', group: 'loader',
    help: 'Scheme for image paths that have none (example.com/a.jpg); `nil` refuses scheme-less paths.',
  }),
  httpLoaderForwardHeaders: setting({
    env: ['HTTP_LOADER_FORWARD_HEADERS'], flags: ['--http-loader-forward-headers'], type: list(string), default: [], group: 'loader',
    help: 'Client request headers forwarded to the origin (comma-separated names). Cookie and Authorization are never forwarded.',
  }),
  httpLoaderAccept: setting({
    env: ['HTTP_LOADER_ACCEPT'], flags: ['--http-loader-accept'], type: string, default: '*/*', group: 'loader',
    help: 'Accept header sent to origins; response Content-Types outside it are refused with 406.',
  }),
  httpLoaderMaxAllowedSize: setting({
    env: ['HTTP_LOADER_MAX_ALLOWED_SIZE'], flags: ['--http-loader-max-allowed-size'], type: bytes, default: 20 * 1024 * 1024, group: 'loader',
    help: 'Largest source body, counted on the bytes read (imagor checks only a HEAD Content-Length; default unlimited there).',
  }),
  httpLoaderHttpsOnly: setting({
    env: ['HTTP_LOADER_HTTPS_ONLY'], flags: ['--http-loader-https-only'], type: bool, default: false, group: 'loader',
    help: 'Refuse http:// sources, on the first URL and every redirect (documented by imagor, implemented here).',
  }),
  httpLoaderDisable: setting({
    env: ['HTTP_LOADER_DISABLE'], flags: ['--http-loader-disable'], type: bool, default: false, group: 'loader',
    help: 'Turn the HTTP loader off (images then come only from the file or S3 loaders).',
  }),
  httpLoaderBlockLoopbackNetworks: setting({
    env: ['HTTP_LOADER_BLOCK_LOOPBACK_NETWORKS'], type: bool, default: true, group: 'loader',
    help: 'Always on in pixgate: loopback is refused unless exempted with --allow-network. Setting false is refused.',
  }),
  httpLoaderBlockPrivateNetworks: setting({
    env: ['HTTP_LOADER_BLOCK_PRIVATE_NETWORKS'], type: bool, default: true, group: 'loader',
    help: 'Always on in pixgate: private ranges are refused unless exempted with --allow-network. Setting false is refused.',
  }),
  httpLoaderBlockLinkLocalNetworks: setting({
    env: ['HTTP_LOADER_BLOCK_LINK_LOCAL_NETWORKS'], type: bool, default: true, group: 'loader',
    help: 'Always on in pixgate: link-local ranges are refused unless exempted with --allow-network. Setting false is refused.',
  }),
} as const;
