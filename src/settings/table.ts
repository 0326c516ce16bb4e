/**
 * The one settings table: every setting pixgate reads, merged from the per-group files in table/. The Settings
 * type is derived from it, so nothing can read a setting that is not declared here.
 */
import type { SettingSpec, SettingValue } from './define.js';
import { camoSettings } from './table/camo.js';
import { fetchSettings } from './table/fetch.js';
import { imagorSettings } from './table/imagor.js';
import { limitsSettings } from './table/limits.js';
import { loaderSettings } from './table/loader.js';
import { observeSettings } from './table/observe.js';
import { serverSettings } from './table/server.js';
import { storageSettings } from './table/storage.js';

export const settingsTable = {
  ...serverSettings,
  ...camoSettings,
  ...fetchSettings,
  ...imagorSettings,
  ...loaderSettings,
  ...limitsSettings,
  ...storageSettings,
  ...observeSettings,
} as const;

export type SettingsTable = typeof settingsTable;
export type SettingKey = keyof SettingsTable;
export type Settings = { readonly [K in SettingKey]: SettingValue<SettingsTable[K]> };

export const settingEntries = Object.entries(settingsTable) as [SettingKey, SettingSpec<unknown>][];

/** Env prefixes we own: an unknown name with one of these prefixes stops the start (a typo must not pass silently). */
export const strictEnvPrefixes = ['PIXGATE_', 'GOCAMO_', 'IMAGOR_', 'HTTP_LOADER_', 'VIPS_'] as const;

/**
 * go-camo flags and env names whose feature pixgate does not have: asking for one stops the start with the reason,
 * since the user expects a behaviour that would silently be missing.
 */
export const unsupportedNames: Readonly<Record<string, string>> = {
  '--quic': 'HTTP/3 is not supported (Node has no stable QUIC server); --ssl-listen serves HTTP/2 and HTTP/1.1.',
  GOCAMO_QUIC: 'HTTP/3 is not supported (Node has no stable QUIC server); --ssl-listen serves HTTP/2 and HTTP/1.1.',
  '--prof': 'pprof endpoints do not exist in pixgate (they would be public); profile with node --cpu-prof.',
  GOCAMO_PROF: 'pprof endpoints do not exist in pixgate (they would be public); profile with node --cpu-prof.',
};

/**
 * Names that peers read but pixgate does not: accepted with a warning that says why, so a migrated config still
 * starts. Later issues move names out of here as they are implemented.
 */
export const acknowledgedEnv: Readonly<Record<string, string>> = {
  VIPS_UNLIMITED: 'limits cannot be switched off in pixgate; raise VIPS_MAX_* instead.',
  HTTP_LOADER_INSECURE_SKIP_VERIFY_TRANSPORT: 'TLS verification cannot be switched off in pixgate.',
  HTTP_LOADER_PROXY_URLS: 'per-loader proxies are not supported; use HTTPS_PROXY/HTTP_PROXY.',
  HTTP_LOADER_PROXY_ALLOWED_SOURCES: 'per-loader proxies are not supported; use HTTPS_PROXY/HTTP_PROXY.',
  HTTP_LOADER_FORWARD_CLIENT_HEADERS: 'forwarding every client header is refused (it would leak cookies); list names in HTTP_LOADER_FORWARD_HEADERS.',
  HTTP_LOADER_FORWARD_ALL_HEADERS: 'forwarding every client header is refused (it would leak cookies); list names in HTTP_LOADER_FORWARD_HEADERS.',
  HTTP_LOADER_OVERRIDE_RESPONSE_HEADERS: 'not supported: response headers come from pixgate\'s cache rules.',
  IMAGOR_BASE_PATH_REDIRECT: 'not supported: / serves the landing page.',
  IMAGOR_RESPONSE_RAW_ON_ERROR: 'not supported: errors never echo the source bytes.',
  S3_LOADER_BUCKET_ROUTER_CONFIG: 'bucket routing is not supported; use one S3_LOADER_BUCKET.',
  VIPS_CACHE_SIZE: 'imagor\'s in-memory image cache is not used; results are cached in result storage.',
  VIPS_CACHE_MAX_WIDTH: 'imagor\'s in-memory image cache is not used; results are cached in result storage.',
  VIPS_CACHE_MAX_HEIGHT: 'imagor\'s in-memory image cache is not used; results are cached in result storage.',
  VIPS_CACHE_TTL: 'imagor\'s in-memory image cache is not used; results are cached in result storage.',
  VIPS_CACHE_FORMAT: 'imagor\'s in-memory image cache is not used; results are cached in result storage.',
  VIPS_VECTOR: 'not used by sharp\'s libvips build.',
  VIPS_DETECTOR_PROBE_SIZE: 'no face detector in pixgate.',
};
