/**
 * The filter registry: imagor filter name -> declaration, and reading a URL's filter list into prepared
 * filters for the planner. Adding a filter is a new entry in one of the group files listed here. Pure.
 */
import { fail } from '../../respond/errors.js';
import { splitFilterArgs } from '../../parse/imagor-filters.js';
import type { Filter } from '../../parse/imagor-params.js';
import { densityFilters } from './density.js';
import { encodeFilters } from './encode.js';
import { fillFilters } from './fill.js';
import { frameFilters } from './frames.js';
import { geometryFilters } from './geometry-filters.js';
import { outputFilters } from './output.js';
import { overlayFilters } from './overlay.js';
import { responseFilters } from './response.js';
import { sharpnessFilters } from './sharpness.js';
import { sizingFilters } from './sizing.js';
import { toneFilters } from './tone.js';
import { unsupportedFilters } from './unsupported.js';
import type { FilterDef, PreparedFilter } from './types.js';

export interface FilterRegistry {
  get(name: string): FilterDef | undefined;
  readonly names: readonly string[];
}

export function createFilterRegistry(defs: readonly FilterDef[]): FilterRegistry {
  const byName = new Map<string, FilterDef>();
  for (const def of defs) {
    if (byName.has(def.name)) throw new Error(`filter ${def.name} registered twice`);
    byName.set(def.name, def);
  }
  return { get: (name) => byName.get(name), names: [...byName.keys()].sort() };
}

export const defaultFilterRegistry: FilterRegistry = createFilterRegistry([
  ...outputFilters,
  ...sizingFilters,
  ...frameFilters,
  ...fillFilters,
  ...toneFilters,
  ...sharpnessFilters,
  ...geometryFilters,
  ...encodeFilters,
  ...densityFilters,
  ...unsupportedFilters,
  ...overlayFilters,
  ...responseFilters,
]);

export interface PrepareFiltersOptions {
  /** imagor's behaviour: unknown filters and malformed arguments are ignored instead of answered with 400. */
  readonly lenient?: boolean | undefined;
  /** VIPS_DISABLE_FILTERS: names skipped entirely, arguments unchecked. */
  readonly disabled?: readonly string[] | undefined;
  /** VIPS_DISABLE_BLUR: blur and sharpen are skipped as if listed in `disabled` (imagor). */
  readonly disableBlur?: boolean | undefined;
  /**
   * VIPS_MAX_FILTER_OPS: at most this many filters that work on pixels (<= 0: no limit). Beyond it
   * INVALID_PARAMS naming the limit; lenient mode accepts them and the planner skips those at or past this
   * index in the URL, as imagor does.
   */
  readonly maxOps?: number | undefined;
  readonly registry?: FilterRegistry | undefined;
  /** Policy for a name the registry does not know; the default is `unknownFilter`. */
  readonly onUnknown?: ((name: string, lenient: boolean) => void) | undefined;
}

/**
 * The default policy for a filter name nobody registered: INVALID_PARAMS naming it (imagor ignores it
 * silently, which hides typos), or nothing in lenient mode.
 */
export function unknownFilter(name: string, lenient: boolean): void {
  if (lenient) return;
  fail('INVALID_PARAMS', `unknown filter ${JSON.stringify(name)}`, `unknown filter: ${name.replace(/[^\w.-]/g, '?').slice(0, 40)}`);
}

/**
 * Reads the URL's filters in order: looks each name up, splits and checks its arguments. Throws
 * INVALID_PARAMS for the first unknown or malformed filter unless lenient. An entry with an empty name (a
 * stray `:` in the URL) is skipped, as imagor does.
 */
export function prepareFilters(filters: readonly Filter[], options: PrepareFiltersOptions = {}): PreparedFilter[] {
  const registry = options.registry ?? defaultFilterRegistry;
  const lenient = options.lenient === true;
  const disabled = new Set(options.disabled ?? []);
  if (options.disableBlur === true) for (const name of BLUR_FILTERS) disabled.add(name);
  const onUnknown = options.onUnknown ?? unknownFilter;
  const out: PreparedFilter[] = [];
  filters.forEach((filter, index) => {
    if (filter.name === '' || disabled.has(filter.name)) return;
    const def = registry.get(filter.name);
    if (def === undefined) {
      onUnknown(filter.name, lenient);
      return;
    }
    const prepared = def.prepare(splitFilterArgs(filter.args), { name: def.name, lenient }, index);
    if (prepared !== undefined) out.push(prepared);
  });
  const maxOps = options.maxOps ?? -1;
  if (!lenient && maxOps > 0) {
    const ops = out.filter((f) => f.apply !== undefined).length;
    if (ops > maxOps) {
      fail('INVALID_PARAMS', `${ops} pixel filters, VIPS_MAX_FILTER_OPS=${maxOps}`, `too many filters: at most ${maxOps} image operations`);
    }
  }
  return out;
}

/** The filters VIPS_DISABLE_BLUR turns off (fill(blur) then paints black instead, see plan.ts). */
export const BLUR_FILTERS: readonly string[] = ['blur', 'sharpen'];
