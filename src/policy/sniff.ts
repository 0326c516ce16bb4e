/**
 * Identifies what the first bytes of a body are, to refuse a body whose bytes contradict its declared image
 * type (HTML served as image/png). Pure; looks at most at the first 512 bytes and never decodes anything.
 */

export type Sniffed =
  | 'jpeg' | 'png' | 'gif' | 'webp' | 'avif' | 'heif' | 'bmp' | 'ico' | 'tiff' | 'jxl' | 'jp2' | 'psd'
  | 'svg' | 'pdf' | 'html' | 'xml' | 'unknown';

/** Bytes needed for a confident answer; fewer are fine at the end of a body. */
export const SNIFF_BYTES = 512;

const ascii = (b: Uint8Array, start: number, text: string) => {
  if (b.length < start + text.length) return false;
  for (let i = 0; i < text.length; i++) if (b[start + i] !== text.charCodeAt(i)) return false;
  return true;
};

export function sniffBytes(b: Uint8Array): Sniffed {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(b, 0, '\x89PNG\r\n\x1a\n')) return 'png';
  if (ascii(b, 0, 'GIF87a') || ascii(b, 0, 'GIF89a')) return 'gif';
  if (ascii(b, 0, 'RIFF') && ascii(b, 8, 'WEBP')) return 'webp';
  if (ascii(b, 4, 'ftyp')) {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (['heic', 'heix', 'hevc', 'hevx', 'mif1', 'msf1', 'heim', 'heis'].includes(brand)) return 'heif';
    return 'unknown'; // mp4 and friends: video
  }
  if (ascii(b, 0, 'BM')) return 'bmp';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && (b[2] === 1 || b[2] === 2) && b[3] === 0) return 'ico';
  if (ascii(b, 0, 'II*\0') || ascii(b, 0, 'MM\0*')) return 'tiff';
  if ((b[0] === 0xff && b[1] === 0x0a) || ascii(b, 0, '\0\0\0\x0cJXL \r\n\x87\n')) return 'jxl';
  if (ascii(b, 0, '\0\0\0\x0cjP  \r\n\x87\n')) return 'jp2';
  if (ascii(b, 0, '8BPS')) return 'psd';
  if (ascii(b, 0, '%PDF-')) return 'pdf';
  return sniffText(b);
}

const HTML_TAGS = ['!doctype html', 'html', 'head', 'body', 'script', 'iframe', 'title', 'style', 'div', 'a ', 'a>', 'p>', 'p ', 'img', 'table', 'font', 'br', 'b>', 'b ', 'h1', '!--'];

function sniffText(b: Uint8Array): Sniffed {
  let text = '';
  for (let i = 0; i < Math.min(b.length, SNIFF_BYTES); i++) text += String.fromCharCode(b[i]!);
  text = text.replace(/^\xef\xbb\xbf/, '').replace(/^[\s\0]+/, '').toLowerCase();
  if (!text.startsWith('<')) return 'unknown';
  // Skip XML declarations, comments and doctypes before the root element to see what it is.
  let rest = text;
  for (;;) {
    const m = /^(<\?[^>]*\?>|<!--[\s\S]*?-->|<!doctype\s+svg[^>]*>)\s*/.exec(rest);
    if (!m) break;
    rest = rest.slice(m[0].length);
  }
  if (rest.startsWith('<svg')) return 'svg';
  for (const tag of HTML_TAGS) if (rest.startsWith('<' + tag) || text.startsWith('<' + tag)) return 'html';
  return text.startsWith('<?xml') ? 'xml' : 'html';
}

const RASTER_SUBTYPES = new Set([
  'jpeg', 'jpg', 'pjpeg', 'png', 'apng', 'x-png', 'gif', 'webp', 'avif', 'heic', 'heif', 'bmp', 'x-bmp', 'x-ms-bmp',
  'x-icon', 'vnd.microsoft.icon', 'ico', 'tiff', 'jxl', 'jp2', 'vnd.adobe.photoshop',
]);
const RASTER: ReadonlySet<Sniffed> = new Set(['jpeg', 'png', 'gif', 'webp', 'avif', 'heif', 'bmp', 'ico', 'tiff', 'jxl', 'jp2', 'psd']);

/**
 * Does the body agree with the declared type? A known raster type must start like a raster image; SVG must be SVG
 * (or XML); any other declared type is refused only when the bytes are markup that a browser could run.
 */
export function bodyMatchesType(type: string, subtype: string, sniffed: Sniffed): boolean {
  if (type === 'image' && RASTER_SUBTYPES.has(subtype)) return RASTER.has(sniffed);
  if (type === 'image' && subtype === 'svg+xml') return sniffed === 'svg' || sniffed === 'xml';
  return sniffed !== 'html' && sniffed !== 'svg' && sniffed !== 'xml' && sniffed !== 'pdf';
}
