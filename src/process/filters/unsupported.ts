/**
 * Filters pixgate knows by name but does not implement, each with its reason. Strict mode answers them with
 * INVALID_PARAMS saying why (a silently skipped redact() would leak what it was meant to hide); lenient mode
 * ignores them, as imagor does without a detector and for thumbor-only filters.
 */
import { badArgument, defineFilter, type FilterDef } from './types.js';

function unsupported(name: string, reason: string): FilterDef {
  return defineFilter({
    name,
    phases: ['pixel'],
    animation: 'not-applicable',
    parse: (_args, ctx) => badArgument(ctx, `not supported: ${reason}`),
  });
}

const DETECTOR = 'needs an object or face detector, which pixgate does not ship';

export const unsupportedFilters: readonly FilterDef[] = [
  // imagor (imagorface detectors).
  unsupported('draw_detections', DETECTOR),
  unsupported('redact', DETECTOR),
  unsupported('redact_oval', DETECTOR),
  // thumbor.
  unsupported('red_eye', 'needs an eye detector (thumbor uses an OpenCV Haar cascade)'),
  unsupported('extract_focal', 'needs the inner thumbor URL re-resolved to its original image'),
  unsupported('frame', 'nine-patch frames from a second image are not implemented'),
  unsupported('distributed_collage', 'collages of several source images are not implemented'),
];

export const unsupportedFilterNames: ReadonlySet<string> = new Set(unsupportedFilters.map((f) => f.name));
