/**
 * The processing stage as the server calls it: probe the header, plan, execute. Knows nothing of HTTP; the
 * caller passes the loaded bytes, the parsed URL, the limits and the request's Accept header, and gets the
 * encoded image and whether `Vary: Accept` must be sent.
 */
import type { ImagorParams } from '../parse/imagor-params.js';
import { isColorImage } from '../parse/imagor-path.js';
import { resolveLimits, type LimitSettings, type Limits } from '../policy/limits.js';
import { executePlan, type ProcessedImage } from './execute.js';
import { prepareFilters } from './filters/registry.js';
import { refuseDroppedFilterText } from './filters/types.js';
import { checkOverlays, createOverlayHooks } from './overlay.js';
import { buildPlan, type Plan, type PlanOptions } from './plan.js';
import { colourSource, probeImage } from './probe.js';

export type { ProcessedImage } from './execute.js';

export interface ProcessOptions extends Omit<PlanOptions, 'limits'> {
  /** Resolved limits, or the raw VIPS_MAX_* settings (0/absent = imagor's defaults). */
  readonly limits?: Limits | LimitSettings | undefined;
  readonly signal?: AbortSignal | undefined;
  /**
   * Loads an overlay image (watermark, image()) by its image key, through the same loaders, source policy and
   * size limits as the main image; the bytes then pass the same probe and pixel limits. Without it, a URL with
   * such an overlay fails with INVALID_PARAMS.
   */
  readonly loadImage?: ((image: string, signal: AbortSignal | undefined) => Promise<Uint8Array>) | undefined;
  /** Most overlays (watermark, image, label, text) one request may draw, nested image() paths included; default 10. */
  readonly maxOverlays?: number | undefined;
  /** Deepest nesting of image() inside image(); default 3. */
  readonly maxOverlayDepth?: number | undefined;
}

export interface ProcessResult {
  readonly image: ProcessedImage;
  /** The response depends on the Accept header: send `Vary: Accept`. */
  readonly vary: boolean;
  /** The plan as built before execution (a pending trim is completed inside the executor), for logs. */
  readonly plan: Plan;
}

function isResolved(limits: Limits | LimitSettings): limits is Limits {
  return (
    limits.maxWidth !== undefined && limits.maxHeight !== undefined && limits.maxResolution !== undefined && limits.maxFrames !== undefined
  );
}

/**
 * Checks the URL's filters without any image: INVALID_PARAMS for text imagor's parser drops (a name without
 * parentheses, text after `)`), an unknown filter, a malformed argument or more pixel filters than
 * VIPS_MAX_FILTER_OPS (unless lenient). The server may call this before loading the
 * source to fail fast; processImage does it too.
 */
export function validateFilters(
  params: ImagorParams,
  options: Pick<ProcessOptions, 'lenientFilters' | 'disabledFilters' | 'disableBlur' | 'maxFilterOps' | 'registry'> = {},
): void {
  if (options.lenientFilters !== true) refuseDroppedFilterText(params.droppedFilterText);
  prepareFilters(params.filters, {
    lenient: options.lenientFilters,
    disabled: options.disabledFilters,
    disableBlur: options.disableBlur,
    maxOps: options.maxFilterOps,
    registry: options.registry,
  });
}

/**
 * Probe -> plan -> execute. `input` is the loaded source; for a `color:` image (parse/imagor-path.ts isColorImage) it is
 * ignored and may be empty. Throws PixgateError: INVALID_PARAMS, UNSUPPORTED_FORMAT, TOO_MANY_PIXELS, or the
 * signal's reason when aborted.
 */
export async function processImage(input: Uint8Array, params: ImagorParams, options: ProcessOptions = {}): Promise<ProcessResult> {
  const limits = options.limits === undefined ? resolveLimits() : isResolved(options.limits) ? options.limits : resolveLimits(options.limits);
  validateFilters(params, options);
  checkOverlays(params, options);
  const source = isColorImage(params.image)
    ? colourSource(params.image, params.width, params.height, limits)
    : await probeImage(input, limits);
  const plan = buildPlan(params, source, { ...options, limits });
  const image = await executePlan(plan, input, options.signal, createOverlayHooks(options, limits));
  return { image, vary: plan.vary, plan };
}
