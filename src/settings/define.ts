/**
 * The shape of one row of the settings table. Every setting is declared once, with its env names, flags, type,
 * default, group and help; parsing, validation, --help and docs/settings.md all read the same rows.
 */
import type { ValueType } from './values.js';

export type SettingGroup =
  | 'server'
  | 'camo'
  | 'fetch'
  | 'imagor'
  | 'loader'
  | 'limits'
  | 'storage'
  | 'observe'
  | 'integration';

export interface SettingSpec<T> {
  /** Env names, in the order they are read. Setting two of them to different values is an error. */
  readonly env: readonly string[];
  /** Long flags (first is the canonical one) and an optional short flag. */
  readonly flags: readonly string[];
  readonly short?: string;
  readonly type: ValueType<NonNullable<T>>;
  readonly default: T;
  /** How the default is described when it is computed (e.g. "number of cores"). */
  readonly defaultText?: string;
  readonly group: SettingGroup;
  readonly help: string;
}

type SpecInput<T> = Omit<SettingSpec<T>, 'env' | 'flags'> & { env?: readonly string[]; flags?: readonly string[] };

/** A setting with a default value. */
export function setting<T>(spec: Omit<SpecInput<T>, 'default' | 'type'> & { type: ValueType<T>; default: NoInfer<T> }): SettingSpec<T> {
  return { env: [], flags: [], ...spec, type: spec.type as ValueType<NonNullable<T>> };
}

/** A setting that is undefined unless given. */
export function optional<T>(spec: Omit<SpecInput<T>, 'default'>): SettingSpec<T | undefined> {
  return { env: [], flags: [], ...spec, default: undefined };
}

export type SettingValue<S> = S extends SettingSpec<infer T> ? T : never;
