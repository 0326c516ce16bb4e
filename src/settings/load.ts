/**
 * Turns env and argv into Settings, or into the full list of what is wrong. Pure: env and argv are arguments.
 * Flags override env. Unknown names in our env prefixes, unknown flags and invalid values are errors that name
 * the setting (`PIXGATE_TIMEOUT=4x: expected a duration like 4s ... (--timeout)`), with a "did you mean".
 */
import type { SettingSpec } from './define.js';
import { acknowledgedEnv, settingEntries, settingsTable, strictEnvPrefixes, unsupportedNames, type SettingKey, type Settings } from './table.js';

export class SettingsError extends Error {
  constructor(readonly errors: readonly string[]) {
    super(errors.join('\n'));
    this.name = 'SettingsError';
  }
}

export interface LoadedSettings {
  readonly settings: Settings;
  readonly warnings: readonly string[];
  /** Which settings were given explicitly (by env or flag), for rules such as "--listen beats PORT". */
  readonly explicit: ReadonlySet<SettingKey>;
}

type Env = Readonly<Record<string, string | undefined>>;

const flagIndex = new Map<string, SettingKey>();
const envIndex = new Map<string, SettingKey>();
for (const [key, spec] of settingEntries) {
  for (const f of spec.flags) flagIndex.set(f, key);
  if (spec.short) flagIndex.set(spec.short, key);
  for (const e of spec.env) envIndex.set(e, key);
}

function describe(spec: SettingSpec<unknown>): string {
  const names = [...spec.flags, ...(spec.short ? [spec.short] : [])];
  return names.length ? ` (${names.join(', ')})` : spec.env.length > 1 ? ` (also ${spec.env.slice(1).join(', ')})` : '';
}

function shown(spec: SettingSpec<unknown>, raw: string): string {
  return spec.type.secret ? '***' : JSON.stringify(raw).slice(1, -1);
}

export function loadSettings(env: Env, argv: readonly string[]): LoadedSettings {
  const errors: string[] = [];
  const warnings: string[] = [];
  const values = new Map<SettingKey, unknown>();
  const explicit = new Set<SettingKey>();

  const parseInto = (key: SettingKey, raw: string, source: string, append: boolean) => {
    const spec = settingsTable[key] as SettingSpec<unknown>;
    try {
      const v = spec.type.parse(raw);
      // go-camo stops on `-k ''` ("HMAC key required"). In env an empty key list stays "no key" (camo off), but a
      // flag given an empty key is a mistake, not a way to turn a job off.
      if (append && spec.type.secret && spec.type.isList && (v as readonly unknown[]).length === 0) {
        throw new Error('HMAC key required: the value is empty; leave the flag out to run without one');
      }
      const warning = spec.type.warn?.(v, raw);
      if (warning) warnings.push(`${source}=${shown(spec, raw)}: ${warning}${describe(spec)}`);
      if (append && spec.type.isList && values.has(key) && explicit.has(key)) {
        values.set(key, [...(values.get(key) as unknown[]), ...(v as unknown[])]);
      } else {
        values.set(key, v);
      }
      explicit.add(key);
    } catch (e) {
      errors.push(`${source}=${shown(spec, raw)}: ${(e as Error).message}${describe(spec)}`);
    }
  };

  // env
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (raw === undefined) continue;
    if (envIndex.has(name)) continue;
    if (unsupportedNames[name]) {
      errors.push(`${name} is not supported: ${unsupportedNames[name]}`);
      continue;
    }
    if (acknowledgedEnv[name]) {
      warnings.push(`${name} is not supported and has no effect: ${acknowledgedEnv[name]}`);
      continue;
    }
    if (strictEnvPrefixes.some((p) => name.startsWith(p))) {
      errors.push(`${name}: unknown setting${suggest(name, [...envIndex.keys()])}`);
    }
  }
  for (const [key, spec] of settingEntries) {
    const given = spec.env.filter((e) => env[e] !== undefined);
    if (given.length === 0) continue;
    const distinct = new Set(given.map((e) => env[e]));
    if (distinct.size > 1) {
      errors.push(`${given.join(' and ')} are both set, to different values: set only one${describe(spec)}`);
      continue;
    }
    parseInto(key, env[given[0]!]!, given[0]!, false);
  }

  // argv: flags override env; a repeated list flag accumulates, replacing the env value.
  const fromFlags = new Set<SettingKey>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('-') || arg === '-' || arg === '--') {
      errors.push(`unexpected argument "${arg}"`);
      continue;
    }
    let name = arg;
    let inline: string | undefined;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) {
      name = arg.slice(0, eq);
      inline = arg.slice(eq + 1);
    } else if (!arg.startsWith('--') && arg.length > 2) {
      name = arg.slice(0, 2); // -kVALUE
      inline = arg.slice(2);
    }
    const key = flagIndex.get(name);
    if (!key && unsupportedNames[name]) {
      errors.push(`${name} is not supported: ${unsupportedNames[name]}`);
      continue;
    }
    if (!key) {
      errors.push(`${name}: unknown flag${suggest(name, [...flagIndex.keys()])}`);
      continue;
    }
    const spec = settingsTable[key] as SettingSpec<unknown>;
    let raw: string;
    if (spec.type.isBoolean) {
      raw = inline ?? 'true';
    } else if (inline !== undefined) {
      raw = inline;
    } else {
      const next = argv[i + 1];
      if (next === undefined) {
        errors.push(`${name}: expects a value (${spec.type.name})`);
        continue;
      }
      raw = next;
      i++;
    }
    if (!fromFlags.has(key)) explicit.delete(key); // first flag replaces the env value
    fromFlags.add(key);
    parseInto(key, raw, name, true);
  }

  if (errors.length) throw new SettingsError(errors);
  const settings = Object.fromEntries(
    settingEntries.map(([key, spec]) => [key, values.has(key) ? values.get(key) : spec.default]),
  ) as Settings;
  const crossErrors = validateTogether(settings);
  if (crossErrors.length) throw new SettingsError(crossErrors);
  return { settings: Object.freeze(settings), warnings, explicit };
}

/** Rules that involve more than one setting. */
function validateTogether(s: Settings): string[] {
  const errors: string[] = [];
  if (!s.listen && !s.sslListen && !s.socketListen) {
    errors.push('--listen is empty (no plain HTTP listener) and neither --ssl-listen nor --socket-listen is set: nothing to serve on (PIXGATE_LISTEN or GOCAMO_LISTEN, PIXGATE_SSL_LISTEN, PIXGATE_SOCKET_LISTEN)');
  }
  if (s.sslListen && (!s.sslKey || !s.sslCert)) errors.push('--ssl-listen needs both --ssl-key and --ssl-cert (PIXGATE_SSL_KEY, PIXGATE_SSL_CERT)');
  if (!s.sslListen && (s.sslKey || s.sslCert)) errors.push('--ssl-key/--ssl-cert are set but --ssl-listen is not (PIXGATE_SSL_LISTEN)');
  if (s.camoPrefix && !/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(s.camoPrefix)) {
    errors.push(`--camo-prefix=${s.camoPrefix}: expected a path such as /camo (PIXGATE_CAMO_PREFIX)`);
  }
  if (s.imagorSignerTruncate > 0 && s.imagorSignerTruncate < 17) {
    errors.push(`IMAGOR_SIGNER_TRUNCATE=${s.imagorSignerTruncate}: must be 0 or at least 17, or no signature can ever be recognised (--imagor-signer-truncate)`);
  }
  for (const [name, value] of [
    ['HTTP_LOADER_BLOCK_LOOPBACK_NETWORKS', s.httpLoaderBlockLoopbackNetworks],
    ['HTTP_LOADER_BLOCK_PRIVATE_NETWORKS', s.httpLoaderBlockPrivateNetworks],
    ['HTTP_LOADER_BLOCK_LINK_LOCAL_NETWORKS', s.httpLoaderBlockLinkLocalNetworks],
  ] as const) {
    if (!value) errors.push(`${name}=false: pixgate always refuses these networks; exempt specific ranges with --allow-network (PIXGATE_ALLOW_NETWORKS)`);
  }
  // imagor reads `*` as "clone every client header", Cookie and Authorization included; refused for the reason
  // HTTP_LOADER_FORWARD_CLIENT_HEADERS is (settings/table.ts), rather than read as a header named "*".
  if (s.httpLoaderForwardHeaders.some((h) => h.trim() === '*')) {
    errors.push('HTTP_LOADER_FORWARD_HEADERS=*: forwarding every client header is refused (it would leak cookies); list the header names (--http-loader-forward-headers)');
  }
  if (s.imagorPrefix && !/^\/[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/.test(s.imagorPrefix)) {
    errors.push(`--imagor-prefix=${s.imagorPrefix}: expected a path such as /img (PIXGATE_IMAGOR_PREFIX)`);
  }
  return errors;
}

/** " (did you mean X?)" for the closest known name, when it is close. */
export function suggest(name: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = editDistance(name.toUpperCase(), k.toUpperCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = k;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
