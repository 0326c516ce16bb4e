/**
 * Export filters: format, fallback_format, quality, lossless and the metadata strippers. They set encoder
 * options only; none of them emits a pixel step.
 */
import { isFormatName } from '../negotiate.js';
import { badArgument, defineFilter, noArguments, readInteger } from './types.js';

export const formatFilter = defineFilter({
  name: 'format',
  phases: ['export', 'load'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    // imagor looks the whole argument text up in its format table, so `format(png,x)` is not a format either.
    const name = args.join(',');
    return isFormatName(name) ? name : badArgument(ctx, 'expects jpeg, jpg, png, gif, webp, avif, heif, tiff, jp2, jxl, bmp, pdf or svg');
  },
  collect: (name, into) => {
    into.format = name;
  },
});

export const fallbackFormatFilter = defineFilter({
  name: 'fallback_format',
  phases: ['export', 'load'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    const name = args.join(',');
    return isFormatName(name) ? name : badArgument(ctx, 'expects jpeg, jpg, png, gif, webp, avif, heif, tiff, jp2, jxl, bmp, pdf or svg');
  },
  collect: (name, into) => {
    into.fallbackFormat = name;
  },
});

export const qualityFilter = defineFilter({
  name: 'quality',
  phases: ['export'],
  animation: 'not-applicable',
  parse: (args, ctx) => {
    const q = readInteger(args.join(','));
    if (q !== undefined && q >= 0 && q <= 100) return q;
    if (!ctx.lenient) return badArgument(ctx, 'expects an integer from 0 to 100');
    // imagor: Atoi failure reads as 0 (the encoder's default); libvips would refuse Q outside 1..100.
    return q === undefined ? 0 : Math.min(100, Math.max(0, q));
  },
  collect: (q, into) => {
    into.quality = q;
  },
});

type ExportFlag = 'lossless' | 'stripExif' | 'stripIcc' | 'stripMetadata';

/** A filter without arguments that switches one export option on. */
function exportFlag(name: string, option: ExportFlag) {
  return defineFilter({
    name,
    phases: ['export'],
    animation: 'not-applicable',
    parse: noArguments,
    collect: (_, into) => {
      into[option] = true;
    },
  });
}

export const losslessFilter = exportFlag('lossless', 'lossless');
export const stripExifFilter = exportFlag('strip_exif', 'stripExif');
export const stripIccFilter = exportFlag('strip_icc', 'stripIcc');
export const stripMetadataFilter = exportFlag('strip_metadata', 'stripMetadata');

export const outputFilters = [
  formatFilter,
  fallbackFormatFilter,
  qualityFilter,
  losslessFilter,
  stripExifFilter,
  stripIccFilter,
  stripMetadataFilter,
];
