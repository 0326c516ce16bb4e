/**
 * Operations applied on top of parsed params, as imagor's imagorpath.Apply: every segment present in the fragment
 * overrides the params, filters are appended. Used for IMAGOR_BASE_PARAMS (applied over each URL) and for presets
 * (a URL's own segments applied over its presets). Also the `preset:NAME[,NAME]/` segment that names presets,
 * which pixgate accepts first in the path, directly after the hash, so it is covered by the signature.
 */
import { fail } from '../respond/errors.js';
import { createImagorParams, type ImagorParams } from './imagor-params.js';
import { parseImagorParamsPath } from './imagor-path.js';

/** Parses a path fragment of operations only (no image); a missing trailing slash is added. */
export function parseOperations(fragment: string): ImagorParams {
  const text = fragment.replace(/^\/+/, '');
  if (text === '') return createImagorParams();
  const parsed = parseImagorParamsPath(text.endsWith('/') ? text : text + '/');
  if (parsed.image !== '') fail('INVALID_PARAMS', `operations "${fragment}" leave "${parsed.image}" unparsed`, 'unrecognised operations');
  return parsed;
}

/** `over` applied on top of `base`: set segments of `over` win, filters of `over` come after those of `base`. */
export function applyOperations(base: ImagorParams, over: ImagorParams): ImagorParams {
  const out: Record<string, unknown> = { ...base };
  const zero = createImagorParams() as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(over)) {
    if (key === 'filters' || key === 'trimBy') continue;
    if (value !== zero[key]) out[key] = value;
  }
  if (over.trim) out.trimBy = over.trimBy;
  out.filters = [...base.filters, ...over.filters];
  return out as unknown as ImagorParams;
}

export type Presets = ReadonlyMap<string, ImagorParams>;

/** `name=operations;name=operations` (PIXGATE_PRESETS). Throws a plain Error naming the bad entry. */
export function parsePresets(text: string): Map<string, ImagorParams> {
  const presets = new Map<string, ImagorParams>();
  for (const entry of text.split(/[;\n]/).map((e) => e.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`preset "${entry}": expected name=operations with a name of letters, digits, - or _`);
    if (presets.has(name)) throw new Error(`preset "${name}" is defined twice`);
    try {
      presets.set(name, parseOperations(entry.slice(eq + 1).trim()));
    } catch {
      throw new Error(`preset "${name}": "${entry.slice(eq + 1)}" is not a list of imagor operations`);
    }
  }
  return presets;
}

const PRESET_SEGMENT = /^preset:([A-Za-z0-9_,-]+)\//;

/** Splits a leading `preset:a,b/` segment off a signed path: the preset names and the rest of the path. */
export function splitPresetSegment(path: string): { names: string[]; rest: string } | undefined {
  const m = PRESET_SEGMENT.exec(path);
  if (!m) return undefined;
  return { names: m[1]!.split(',').filter(Boolean), rest: path.slice(m[0].length) };
}

/** The params a presets-prefixed path stands for: presets in order, then the path's own segments on top. */
export function expandPresets(names: readonly string[], own: ImagorParams, presets: Presets): ImagorParams {
  let params = createImagorParams();
  for (const name of names) {
    const preset = presets.get(name);
    if (!preset) fail('INVALID_PARAMS', `unknown preset ${name}`, `unknown preset ${name}`);
    params = applyOperations(params, preset);
  }
  return applyOperations(params, own);
}
