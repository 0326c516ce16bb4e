/**
 * The one settings table: every setting pixgate reads, merged from the per-group files in table/. The Settings
 * type is derived from it, so nothing can read a setting that is not declared here.
 */
import type { SettingSpec, SettingValue } from './define.js';
import { camoSettings } from './table/camo.js';
import { fetchSettings } from './table/fetch.js';
import { observeSettings } from './table/observe.js';
import { serverSettings } from './table/server.js';

export const settingsTable = {
  ...serverSettings,
  ...camoSettings,
  ...fetchSettings,
  ...observeSettings,
} as const;

export type SettingsTable = typeof settingsTable;
export type SettingKey = keyof SettingsTable;
export type Settings = { readonly [K in SettingKey]: SettingValue<SettingsTable[K]> };

export const settingEntries = Object.entries(settingsTable) as [SettingKey, SettingSpec<unknown>][];

/** Env prefixes we own: an unknown name with one of these prefixes stops the start (a typo must not pass silently). */
export const strictEnvPrefixes = ['PIXGATE_', 'GOCAMO_', 'IMAGOR_', 'HTTP_LOADER_', 'VIPS_'] as const;

/**
 * Names that peers read but pixgate does not: accepted with a warning that says why, so a migrated config still
 * starts. Later issues move names out of here as they are implemented.
 */
export const acknowledgedEnv: Readonly<Record<string, string>> = {
  GOCAMO_QUIC: 'HTTP/3 is not supported (Node has no stable QUIC server); serve HTTP/2 over --ssl-listen.',
  GOCAMO_PROF: 'pprof endpoints do not exist in pixgate; use node --cpu-prof.',
};
