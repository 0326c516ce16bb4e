/**
 * Number arguments as imagor reads them (Go's strconv.ParseFloat and Atoi) and the strict range checks
 * pixgate adds in front of them. Pure.
 */
import { badArgument, readInteger, type FilterContext } from './types.js';

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A finite decimal number (what Go's ParseFloat takes, minus hex floats, Inf and NaN); undefined otherwise. */
export function readNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.trim();
  if (!DECIMAL.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** A range with its description for error messages, e.g. `a number from -100 to 100`. */
export interface NumberRange {
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
}

export function describeRange(r: NumberRange): string {
  const kind = r.integer === true ? 'an integer' : 'a number';
  if (r.max === Number.POSITIVE_INFINITY) return `${kind} from ${r.min}`;
  return `${kind} from ${r.min} to ${r.max}`;
}

/**
 * One argument in a range. Strict: INVALID_PARAMS naming the filter when it is missing, not a number or out of
 * range. Lenient: imagor's reading, where a text that does not parse counts as 0 (ParseFloat/Atoi errors are
 * ignored in filter.go) and an out-of-range value is clamped.
 */
export function readRanged(text: string | undefined, range: NumberRange, ctx: FilterContext, what = describeRange(range)): number | undefined {
  const n = range.integer === true ? readInteger(text) : readNumber(text);
  if (n !== undefined && n >= range.min && n <= range.max) return n;
  if (!ctx.lenient) return badArgument(ctx, `expects ${what}`);
  return Math.min(range.max, Math.max(range.min, n ?? 0));
}

/**
 * One argument read as imagor reads it, without its range: strict mode refuses what is outside `range` as
 * readRanged does; lenient mode takes any number (imagor's ParseFloat, no clamp), a text that does not parse
 * counting as 0.
 */
export function readUnclamped(text: string | undefined, range: NumberRange, ctx: FilterContext, what = describeRange(range)): number | undefined {
  const n = range.integer === true ? readInteger(text) : readNumber(text);
  if (n !== undefined && n >= range.min && n <= range.max) return n;
  if (!ctx.lenient) return badArgument(ctx, `expects ${what}`);
  return n ?? 0;
}

/** Strict mode refuses a call with a different number of arguments than `counts` allows. */
export function argumentCount(args: readonly string[], counts: readonly number[], ctx: FilterContext, expected: string): boolean {
  if (counts.includes(args.length) || ctx.lenient) return true;
  badArgument(ctx, expected);
  return false;
}
