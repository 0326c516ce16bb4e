/**
 * Load-time filters for animations: max_frames(n) caps the frames decoded and page(n) picks one frame
 * (1-based). They decide what the decoder reads; no pixel step.
 */
import { badArgument, defineFilter, readInteger } from './types.js';

function positiveInteger(args: readonly string[], ctx: { name: string; lenient: boolean }): number | undefined {
  const n = readInteger(args.join(','));
  if (n !== undefined && n > 0) return n;
  // imagor ignores anything that is not a positive integer.
  return badArgument(ctx, 'expects a positive integer');
}

export const maxFramesFilter = defineFilter({
  name: 'max_frames',
  phases: ['load'],
  animation: 'all-frames',
  parse: positiveInteger,
  collect: (n, into) => {
    into.maxFrames = into.maxFrames === undefined ? n : Math.min(into.maxFrames, n);
  },
});

export const pageFilter = defineFilter({
  name: 'page',
  phases: ['load'],
  animation: 'all-frames',
  parse: positiveInteger,
  collect: (n, into) => {
    into.page = n;
  },
});

export const frameFilters = [maxFramesFilter, pageFilter];
