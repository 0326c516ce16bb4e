/**
 * pixgate's published library: sign camo and imagor URLs (and read them back), and rewrite the image URLs
 * of user HTML to signed proxy URLs. Runs on Node and on runtimes that only have Web Crypto (browsers, Deno,
 * Bun, edge workers): nothing here imports a node: module, undici, sharp or pino (a test walks the imports).
 *
 * @example
 * import { camoUrl, imagorUrl, f, rewriteHtml } from 'pixgate';
 *
 * await camoUrl('http://example.com/cat.png', { key: process.env.CAMO_KEY, prefix: 'https://camo.example.com' });
 * await imagorUrl(
 *   { image: 'https://example.com/cat.png', fitIn: true, width: 800, filters: [f.format('webp'), f.quality(80)] },
 *   { secret: process.env.IMAGOR_SECRET, baseUrl: 'https://img.example.com' },
 * );
 * await rewriteHtml(userHtml, { mode: 'camo', key: process.env.CAMO_KEY, baseUrl: 'https://camo.example.com', skipHttps: true });
 *
 * @module
 */
export {
  camoUrl,
  camoUrlSync,
  decodeCamoUrl,
  decodeCamoUrlSync,
  type CamoEncoding,
  type CamoUrlOptions,
  type CamoUrlAsyncOptions,
  type DecodeCamoUrlOptions,
  type DecodeCamoUrlAsyncOptions,
} from './camo.js';
export {
  buildImagorPath,
  f,
  imagorUrl,
  imagorUrlSync,
  parseImagorUrl,
  signImagorPath,
  signImagorPathSync,
  verifyImagorUrl,
  type ImageFilterOptions,
  type ImagorBlendMode,
  type ImagorColor,
  type ImagorCurve,
  type ImagorFilter,
  type ImagorFormat,
  type ImagorOptions,
  type ImagorPosition,
  type ImagorSignAsyncOptions,
  type ImagorSignerType,
  type ImagorSignOptions,
  type ImagorUrlAsyncOptions,
  type ImagorUrlOptions,
  type LabelOptions,
  type ParsedImagorUrl,
  type ParseImagorUrlOptions,
  type TextOptions,
  type TrimBy,
  type VerifyImagorUrlOptions,
  type WatermarkOptions,
} from './imagor.js';
export {
  rewriteHtml,
  type ImageUrlContext,
  type ImagorOperations,
  type RewriteHtmlCamoOptions,
  type RewriteHtmlImagorOptions,
  type RewriteHtmlOptions,
} from './rewrite-html.js';
export { createWebCryptoMac, webCryptoMac, type WebCryptoMacOptions } from './web-mac.js';
export type { AsyncMacFn, MacAlgorithm, MacFn } from '../verify/mac.js';
export { PixgateError, isPixgateError } from '../respond/errors.js';
export type { ErrorCode } from '../respond/error-table.js';
