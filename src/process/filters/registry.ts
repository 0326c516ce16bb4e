/**
 * The filter registry: imagor filter name -> declaration, and reading a URL's filter list into prepared
 * filters for the planner. Adding a filter is a new entry in one of the group files listed here. Pure.
 */
import { fail } from '../../respond/errors.js';
import { splitFilterArgs } from '../../parse/imagor-filters.js';
import type { Filter } from '../../parse/imagor-params.js';
import { elsewhereFilters } from './elsewhere.js';
import { fillFilters } from './fill.js';
import { frameFilters } from './frames.js';
import { outputFilters } from './output.js';
import { sizingFilters } from './sizing.js';
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
  ...elsewhereFilters,
]);

export interface PrepareFiltersOptions {
  /** imagor's behaviour: unknown filters and malformed arguments are ignored instead of answered with 400. */
  readonly lenient?: boolean | undefined;
  /** VIPS_DISABLE_FILTERS: names skipped entirely, arguments unchecked. */
  readonly disabled?: readonly string[] | undefined;
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
  return out;
}
