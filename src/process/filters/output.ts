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

export const losslessFilter = defineFilter({
  name: 'lossless',
  phases: ['export'],
  animation: 'not-applicable',
  parse: noArguments,
  collect: (_, into) => {
    into.lossless = true;
  },
});

export const stripExifFilter = defineFilter({
  name: 'strip_exif',
  phases: ['export'],
  animation: 'not-applicable',
  parse: noArguments,
  collect: (_, into) => {
    into.stripExif = true;
  },
});

export const stripIccFilter = defineFilter({
  name: 'strip_icc',
  phases: ['export'],
  animation: 'not-applicable',
  parse: noArguments,
  collect: (_, into) => {
    into.stripIcc = true;
  },
});

export const stripMetadataFilter = defineFilter({
  name: 'strip_metadata',
  phases: ['export'],
  animation: 'not-applicable',
  parse: noArguments,
  collect: (_, into) => {
    into.stripMetadata = true;
  },
});

export const outputFilters = [
  formatFilter,
  fallbackFormatFilter,
  qualityFilter,
  losslessFilter,
  stripExifFilter,
  stripIccFilter,
  stripMetadataFilter,
];
