/** `pixgate --help` and docs/settings.md, both rendered from the settings table. */
import type { SettingGroup, SettingSpec } from './define.js';
import { settingEntries } from './table.js';

export const groupTitles: Record<SettingGroup, string> = {
  server: 'Server and listeners',
  camo: 'Camo proxy (go-camo compatible)',
  fetch: 'Fetching origins safely',
  imagor: 'Image processing (imagor compatible)',
  loader: 'Loaders (HTTP and file)',
  limits: 'Limits and load',
  storage: 'Storage and result cache',
  observe: 'Metrics and logs',
  integration: 'Integration',
};

function defaultText(spec: SettingSpec<unknown>): string {
  if (spec.defaultText) return spec.defaultText;
  if (spec.default === undefined) return '';
  if (Array.isArray(spec.default) && spec.default.length === 0) return '';
  return spec.type.format(spec.default as never);
}

function byGroup(): Map<SettingGroup, [string, SettingSpec<unknown>][]> {
  const groups = new Map<SettingGroup, [string, SettingSpec<unknown>][]>();
  for (const [key, spec] of settingEntries) {
    const list = groups.get(spec.group) ?? [];
    list.push([key, spec]);
    groups.set(spec.group, list);
  }
  return groups;
}

export function renderHelp(): string {
  const lines = [
    'Usage: pixgate [serve] [flags]      start the server (default command)',
    '       pixgate dev [flags]          start with throwaway keys, a sample image and a playground',
    '       pixgate camo encode [-k KEY] [-b hex|base64] [-p PREFIX] URL',
    '       pixgate camo decode -k KEY URL',
    '       pixgate sign [--secret S] [--signer-type T] [--signer-truncate N] PATH',
    '       pixgate --version | -V',
    '',
    'Every setting can be given as a flag or in the environment; flags win. Lists repeat the flag or use commas.',
  ];
  for (const [group, entries] of byGroup()) {
    lines.push('', `${groupTitles[group]}:`);
    for (const [, spec] of entries) {
      const flag = [spec.short, ...spec.flags].filter(Boolean).join(', ');
      const value = spec.type.isBoolean ? '' : ` ${spec.type.name}`;
      const def = defaultText(spec);
      lines.push(`  ${flag ? flag + value : `${spec.env[0]}=${spec.type.name}`}`);
      lines.push(`      ${spec.help}${def ? ` [default: ${def}]` : ''}`);
      if (spec.env.length && flag) lines.push(`      env: ${spec.env.join(', ')}`);
      else if (spec.env.length > 1) lines.push(`      env: ${spec.env.slice(1).join(', ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function renderSettingsMarkdown(): string {
  const out = [
    '# Settings',
    '',
    '<!-- Generated from src/settings/table by `npm run docs`; test/docs.test.ts fails when this file is stale. -->',
    '',
    'Every setting is read from the environment and, where it has one, from a command-line flag; flags override',
    'the environment. Lists take repeated flags or comma-separated values. Durations are Go-style (`4s`, `500ms`,',
    '`1m30s`, `168h`; a bare number is seconds). Sizes take `KB`, `MB`, `GB` (binary). An unknown name with the',
    'prefix `PIXGATE_`, `GOCAMO_`, `IMAGOR_`, `HTTP_LOADER_` or `VIPS_`, an unknown flag, or an invalid value stops',
    'the server at start with a message naming the setting.',
  ];
  for (const [group, entries] of byGroup()) {
    out.push('', `## ${groupTitles[group]}`, '', '| flag | env | type | default | description |', '| --- | --- | --- | --- | --- |');
    for (const [, spec] of entries) {
      const flag = [...spec.flags, ...(spec.short ? [spec.short] : [])].map((f) => `\`${f}\``).join(' ');
      const env = spec.env.map((e) => `\`${e}\``).join(' ');
      const def = defaultText(spec);
      out.push(`| ${flag} | ${env} | ${cell(spec.type.name)} | ${def ? `\`${cell(def)}\`` : ''} | ${cell(spec.help)} |`);
    }
  }
  return out.join('\n') + '\n';
}
