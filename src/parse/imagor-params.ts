/**
 * The parsed form of an imagor URL (imagor's imagorpath.Params, camelCase) and its /params JSON rendering.
 * Data only: parsing lives in imagor-path.ts, generation in imagor-generate.ts.
 */

export type TrimBy = 'top-left' | 'bottom-right';
/** '' when the URL names no alignment; `center` and `middle` are kept when named, as imagor does. */
export type HAlign = '' | 'left' | 'right' | 'center';
export type VAlign = '' | 'top' | 'bottom' | 'middle';

/** One `name(args)` entry of a `filters:` segment; `args` is the raw text, split it with `filterArgs`. */
export interface Filter {
  readonly name: string;
  readonly args: string;
}

/**
 * Text of a `filters:` segment that imagor's parser drops without a word: `bare`, a name with no `(...)`
 * (`filters:blurr/`); `trailing`, text between a filter's `)` and the next `:` or `/` (`blur(5)junk:`);
 * `unnamed`, a `(...)` with no name before it (`filters:(5)/`).
 */
export interface DroppedFilterText {
  readonly kind: 'bare' | 'trailing' | 'unnamed';
  /** The dropped text as written. */
  readonly text: string;
  /** For `trailing`: the name of the filter whose `)` the text follows. */
  readonly after?: string;
}

export interface ImagorParams {
  /** The signed substring: everything after `HASH/` or `unsafe/`, as received (escaped). '' when generated. */
  readonly path: string;
  /** The image key after QueryUnescape and `b64:` decoding; a URL, a storage key or `color:…`. */
  readonly image: string;
  readonly base64Image: boolean;
  readonly unsafe: boolean;
  /** '' when the URL carries no hash. */
  readonly hash: string;
  /** The URL started with `params/` (imagor's `json:"-"` Params flag): answer with the JSON, not the image. */
  readonly paramsEndpoint: boolean;
  readonly meta: boolean;
  readonly trim: boolean;
  /** Meaningful only when `trim`; defaults to `top-left`. */
  readonly trimBy: TrimBy;
  readonly trimTolerance: number;
  /** Pixels, or fractions when all four are below 1 (see the planner); 0 = not set. */
  readonly cropLeft: number;
  readonly cropTop: number;
  readonly cropRight: number;
  readonly cropBottom: number;
  readonly fitIn: boolean;
  readonly adaptiveFitIn: boolean;
  readonly fullFitIn: boolean;
  readonly stretch: boolean;
  /** Never negative after parsing (a `-` sets the flip flag); 0 = derive from the other side or the source. */
  readonly width: number;
  readonly height: number;
  readonly paddingLeft: number;
  readonly paddingTop: number;
  readonly paddingRight: number;
  readonly paddingBottom: number;
  readonly hFlip: boolean;
  readonly vFlip: boolean;
  readonly hAlign: HAlign;
  readonly vAlign: VAlign;
  readonly smart: boolean;
  readonly filters: readonly Filter[];
  /**
   * What the `filters:` segment held beyond `filters`, which imagor drops and so do the /params JSON, the signed
   * path and the result key; strict filter validation refuses it. Shared empty array when nothing was dropped.
   */
  readonly droppedFilterText: readonly DroppedFilterText[];
}

/**
 * The one empty list of dropped text: imagor-apply.ts copies a field over the params it applies to only when it
 * differs from the zero params' value, so an operations fragment with nothing dropped keeps the URL's list.
 */
export const NOTHING_DROPPED: readonly DroppedFilterText[] = Object.freeze([]);

const EMPTY: ImagorParams = Object.freeze({
  path: '',
  image: '',
  base64Image: false,
  unsafe: false,
  hash: '',
  paramsEndpoint: false,
  meta: false,
  trim: false,
  trimBy: 'top-left',
  trimTolerance: 0,
  cropLeft: 0,
  cropTop: 0,
  cropRight: 0,
  cropBottom: 0,
  fitIn: false,
  adaptiveFitIn: false,
  fullFitIn: false,
  stretch: false,
  width: 0,
  height: 0,
  paddingLeft: 0,
  paddingTop: 0,
  paddingRight: 0,
  paddingBottom: 0,
  hFlip: false,
  vFlip: false,
  hAlign: '',
  vAlign: '',
  smart: false,
  filters: Object.freeze([]) as readonly Filter[],
  droppedFilterText: NOTHING_DROPPED,
});

/** A complete ImagorParams with every field at its zero value, overridden by the defined entries of `fields`. */
export function createImagorParams(fields: Partial<ImagorParams> = {}): ImagorParams {
  const out: Record<string, unknown> = { ...EMPTY };
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined && key in EMPTY) out[key] = value;
  }
  return out as unknown as ImagorParams;
}

/** imagor's /params JSON object: snake_case names, imagor's field order, zero values left out (Go `omitempty`). */
export type ImagorJson = Record<string, string | number | boolean | Array<{ name?: string; args?: string }>>;

/**
 * Renders params as imagor's `/params` endpoint does (json.Marshal of imagorpath.Params). Key order matches
 * imagor's struct, so JSON.stringify(…, null, 2) gives imagor's layout; note that Go additionally escapes
 * `<`, `>`, `&`, U+2028 and U+2029 as \uXXXX, which the serialiser must do for byte-identical output.
 */
export function toImagorJson(params: ImagorParams): ImagorJson {
  const out: ImagorJson = {};
  const put = (key: string, value: string | number | boolean): void => {
    if (value !== '' && value !== 0 && value !== false) out[key] = value;
  };
  put('path', params.path);
  put('image', params.image);
  put('base64_image', params.base64Image);
  put('unsafe', params.unsafe);
  put('hash', params.hash);
  put('meta', params.meta);
  put('trim', params.trim);
  // imagor leaves trim_by empty unless trim/ was given.
  if (params.trim) put('trim_by', params.trimBy);
  put('trim_tolerance', params.trimTolerance);
  put('crop_left', params.cropLeft);
  put('crop_top', params.cropTop);
  put('crop_right', params.cropRight);
  put('crop_bottom', params.cropBottom);
  put('fit_in', params.fitIn);
  put('adaptive_fit_in', params.adaptiveFitIn);
  put('full_fit_in', params.fullFitIn);
  put('stretch', params.stretch);
  put('width', params.width);
  put('height', params.height);
  put('padding_left', params.paddingLeft);
  put('padding_top', params.paddingTop);
  put('padding_right', params.paddingRight);
  put('padding_bottom', params.paddingBottom);
  put('h_flip', params.hFlip);
  put('v_flip', params.vFlip);
  put('h_align', params.hAlign);
  put('v_align', params.vAlign);
  put('smart', params.smart);
  if (params.filters.length > 0) {
    out['filters'] = params.filters.map((f) => {
      const entry: { name?: string; args?: string } = {};
      if (f.name !== '') entry.name = f.name;
      if (f.args !== '') entry.args = f.args;
      return entry;
    });
  }
  return out;
}
