/**
 * The development playground under /__playground: a page where one pastes an image URL, picks operations and sees
 * the processed image beside the original, with their sizes and the signed URLs; its script and style at their own
 * paths (the page's CSP allows no inline code); and `POST /__playground/sign`, which signs {url, operations} with
 * the sdk's builders. It signs any URL, so the router serves it only in dev mode: never in production.
 */
import { camoUrlSync } from '../sdk/camo.js';
import { f, imagorUrlSync, type ImagorFilter, type ImagorFormat, type ImagorOptions } from '../sdk/imagor.js';
import { defaultFilterRegistry } from '../process/filters/registry.js';
import { fail, isPixgateError } from '../respond/errors.js';
import { PLAYGROUND_PATH } from '../route/route.js';
import { nodeMac } from '../verify/node-mac.js';
import type { App } from './app.js';
import { headerString, type Req, type Res } from './http-types.js';

/** Everything the page needs and nothing more: its own script, style and fetches, and the images as blobs. */
export const PLAYGROUND_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src blob:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const MAX_BODY_BYTES = 16 * 1024;

interface MenuFilter {
  readonly id: string;
  /** The registry name the server must know for the entry to be offered. */
  readonly name: string;
  readonly make: () => ImagorFilter;
  /** The sdk call, for the code snippet. */
  readonly code: string;
}

/** A few filters with fixed arguments; only those the server's filter registry knows are offered. */
const FILTER_MENU: readonly MenuFilter[] = [
  { id: 'grayscale', name: 'grayscale', make: () => f.grayscale(), code: 'f.grayscale()' },
  { id: 'blur', name: 'blur', make: () => f.blur(3), code: 'f.blur(3)' },
  { id: 'sharpen', name: 'sharpen', make: () => f.sharpen(1), code: 'f.sharpen(1)' },
  { id: 'brightness', name: 'brightness', make: () => f.brightness(20), code: 'f.brightness(20)' },
  { id: 'contrast', name: 'contrast', make: () => f.contrast(20), code: 'f.contrast(20)' },
  { id: 'rotate', name: 'rotate', make: () => f.rotate(90), code: 'f.rotate(90)' },
  { id: 'round_corner', name: 'round_corner', make: () => f.roundCorner(24), code: 'f.roundCorner(24)' },
  { id: 'fill', name: 'fill', make: () => f.fill('white'), code: "f.fill('white')" },
  { id: 'upscale', name: 'upscale', make: () => f.upscale(), code: 'f.upscale()' },
  { id: 'no_upscale', name: 'no_upscale', make: () => f.noUpscale(), code: 'f.noUpscale()' },
  { id: 'strip_metadata', name: 'strip_metadata', make: () => f.stripMetadata(), code: 'f.stripMetadata()' },
];

const FORMATS: readonly ImagorFormat[] = ['jpeg', 'png', 'webp', 'avif', 'gif'];

export interface PlaygroundOperations {
  readonly width?: number;
  readonly height?: number;
  readonly fitIn?: boolean;
  readonly smart?: boolean;
  readonly format?: string;
  readonly quality?: number;
  /** Ids from the filter menu. */
  readonly filters?: readonly string[];
  readonly presets?: readonly string[];
}

export interface SignedPlaygroundUrls {
  /** The imagor URL, relative to the server's origin. */
  readonly imagor: string;
  /** The camo URL of the untouched source, relative to the server's origin. */
  readonly camo: string;
  /** The sdk calls that build the same URLs, for copying into an app. */
  readonly code: string;
}

function offeredFilters(app: App): MenuFilter[] {
  const registry = app.imagor.processOptions.registry ?? defaultFilterRegistry;
  const disabled = app.imagor.processOptions.disabledFilters ?? [];
  return FILTER_MENU.filter((m) => registry.get(m.name) !== undefined && !disabled.includes(m.name));
}

export async function servePlayground(app: App, req: Req, res: Res, path: string, method: string): Promise<number> {
  checkHost(headerString(req.headers.host) ?? headerString(req.headers[':authority'] as string | string[] | undefined));
  const sub = path.slice(PLAYGROUND_PATH.length);
  if (sub === '/sign') {
    if (method !== 'POST') fail('METHOD_NOT_ALLOWED', method);
    const body = JSON.stringify(signPlaygroundRequest(app, await readJson(req)));
    return send(res, 200, 'application/json', body, method);
  }
  if (method !== 'GET' && method !== 'HEAD') fail('METHOD_NOT_ALLOWED', method);
  switch (sub) {
    case '':
    case '/': {
      res.setHeader('Content-Security-Policy', PLAYGROUND_CSP);
      return send(res, 200, 'text/html; charset=utf-8', renderPlaygroundPage(app), method);
    }
    case '/app.js':
      return send(res, 200, 'text/javascript; charset=utf-8', PLAYGROUND_SCRIPT, method);
    case '/app.css':
      return send(res, 200, 'text/css; charset=utf-8', PLAYGROUND_STYLE, method);
    default:
      fail('NOT_FOUND', `no playground resource ${sub}`);
  }
}

function send(res: Res, status: number, type: string, body: string, method: string): number {
  const bytes = Buffer.byteLength(body);
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Content-Length', bytes);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (method === 'HEAD') res.end();
  else res.end(body);
  return method === 'HEAD' ? 0 : bytes;
}

/**
 * A page on a loopback dev server can be reached from any web site through DNS rebinding (evil.example first
 * resolving to the attacker, then to 127.0.0.1); the Host header then names the attacker's domain. Answering only
 * to IP literals and localhost names takes that away.
 */
function checkHost(host: string | undefined): void {
  const name = (host ?? '').toLowerCase().replace(/:\d+$/, '');
  const ok = /^\[[0-9a-f:.]+\]$/.test(name) || /^\d{1,3}(?:\.\d{1,3}){3}$/.test(name) || name === 'localhost' || name.endsWith('.localhost');
  if (!ok) fail('NOT_FOUND', `playground refused Host ${name.slice(0, 80)}`, 'the playground answers only on an IP address or localhost');
}

async function readJson(req: Req): Promise<unknown> {
  const type = (headerString(req.headers['content-type']) ?? '').split(';')[0]!.trim().toLowerCase();
  // Requiring JSON also makes a cross-site POST need a CORS preflight, which nothing here answers.
  if (type !== 'application/json') fail('INVALID_PARAMS', `content-type ${type}`, 'expected Content-Type: application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) fail('INVALID_PARAMS', 'playground body too large', `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    fail('INVALID_PARAMS', 'playground body is not JSON', 'the body is not JSON');
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Signs a playground request: `{url, operations, origin?}` -> the imagor and camo URLs and the sdk code. */
export function signPlaygroundRequest(app: App, body: unknown): SignedPlaygroundUrls {
  if (!isRecord(body)) fail('INVALID_PARAMS', 'playground body is not an object', 'expected {"url": ..., "operations": {...}}');
  const url = body.url;
  let parsed: URL | undefined;
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined;
  } catch {
    parsed = undefined;
  }
  if (typeof url !== 'string' || !parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    fail('INVALID_PARAMS', 'playground url is not an http(s) URL', 'url: expected an absolute http:// or https:// URL');
  }
  const ops = body.operations === undefined ? {} : body.operations;
  if (!isRecord(ops)) fail('INVALID_PARAMS', 'playground operations is not an object', 'operations: expected an object');
  const origin = typeof body.origin === 'string' && /^https?:\/\/[^\s'"\\]+$/.test(body.origin) ? body.origin : 'http://127.0.0.1:8080';

  const signer = app.imagor.signers[0];
  const camoKey = app.camoKeys[0];
  if (!signer || !camoKey) fail('ROUTE_DISABLED', 'the playground needs a camo key and an imagor secret');

  const menu = new Map(offeredFilters(app).map((m) => [m.id, m]));
  const chosen = list(ops.filters, 'filters').map((id) => {
    const entry = menu.get(id);
    if (!entry) fail('INVALID_PARAMS', `filter ${id}`, `filters: ${id.slice(0, 40)} is not offered here`);
    return entry;
  });
  const presets = list(ops.presets, 'presets');
  for (const name of presets) {
    if (!app.imagor.presets.has(name)) fail('INVALID_PARAMS', `preset ${name}`, `presets: no preset named ${name.slice(0, 40)}`);
  }
  const format = ops.format === undefined || ops.format === '' ? undefined : ops.format;
  const quality = ops.quality === undefined || ops.quality === null || ops.quality === '' ? undefined : ops.quality;

  return withSdkErrorsShown(() => {
    const filters = chosen.map((m) => m.make());
    const filterCode = chosen.map((m) => m.code);
    if (format !== undefined) {
      filters.push(f.format(format as ImagorFormat));
      filterCode.push(`f.format(${js(String(format))})`);
    }
    if (quality !== undefined) {
      filters.push(f.quality(quality as number));
      filterCode.push(`f.quality(${String(quality)})`);
    }
    const width = dimension(ops.width);
    const height = dimension(ops.height);
    const options: ImagorOptions = {
      image: url,
      ...(presets.length > 0 && { presets }),
      ...(ops.fitIn === true && { fitIn: true }),
      ...(width !== undefined && { width }),
      ...(height !== undefined && { height }),
      ...(ops.smart === true && { smart: true }),
      ...(filters.length > 0 && { filters }),
    };
    const prefix = app.settings.imagorPrefix;
    const imagor = imagorUrlSync(options, { ...signer, ...(prefix !== '' && { baseUrl: prefix }) }, nodeMac);
    const camo = camoUrlSync(url, { key: camoKey, prefix: app.settings.camoPrefix }, nodeMac);
    return { imagor, camo, code: sdkCode(options, filterCode, origin, app) };
  });
}

/** The sdk's argument errors name the option, what was expected and what was given: the user's own input, so shown. */
function withSdkErrorsShown<T>(build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (isPixgateError(err) && err.code === 'INVALID_PARAMS' && err.detail) fail('INVALID_PARAMS', err.detail, err.detail);
    throw err;
  }
}

function list(v: unknown, name: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail('INVALID_PARAMS', `playground ${name}`, `${name}: expected a list of names`);
  return v as string[];
}

function dimension(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '' || v === 0) return undefined;
  return v as number; // the sdk checks it
}

/** A JavaScript string literal in single quotes. */
function js(text: string): string {
  return `'${text.replace(/[\\']/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}'`;
}

function sdkCode(options: ImagorOptions, filterCode: readonly string[], origin: string, app: App): string {
  const parts = [`image: ${js(options.image)}`];
  if (options.presets) parts.push(`presets: [${options.presets.map(js).join(', ')}]`);
  if (options.fitIn) parts.push('fitIn: true');
  if (options.width !== undefined) parts.push(`width: ${options.width}`);
  if (options.height !== undefined) parts.push(`height: ${options.height}`);
  if (options.smart) parts.push('smart: true');
  if (filterCode.length > 0) parts.push(`filters: [${filterCode.join(', ')}]`);
  const s = app.settings;
  const signing = [
    'secret: process.env.IMAGOR_SECRET',
    ...(s.imagorSignerType !== 'sha1' ? [`type: '${s.imagorSignerType}'`] : []),
    ...(s.imagorSignerTruncate > 0 ? [`truncate: ${s.imagorSignerTruncate}`] : []),
    `baseUrl: ${js(origin + s.imagorPrefix)}`,
  ];
  return (
    "import { camoUrl, f, imagorUrl } from 'pixgate';\n\n" +
    `const processed = await imagorUrl(\n  { ${parts.join(', ')} },\n  { ${signing.join(', ')} },\n);\n` +
    `const original = await camoUrl(${js(options.image)}, { key: process.env.CAMO_KEY, prefix: ${js(origin + s.camoPrefix)} });\n`
  );
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderPlaygroundPage(app: App): string {
  const filters = offeredFilters(app)
    .map((m) => {
      const filter = m.make();
      return `<label><input type="checkbox" name="filter" value="${m.id}"> <code>${escapeHtml(`${filter.name}(${filter.args})`)}</code></label>`;
    })
    .join('\n        ');
  const formats = FORMATS.map((x) => `<option value="${x}">${x}</option>`).join('');
  const presets = [...app.imagor.presets.keys()]
    .map((name) => `<label><input type="checkbox" name="preset" value="${escapeHtml(name)}"> <code>${escapeHtml(name)}</code></label>`)
    .join('\n        ');
  const sample = app.devSampleUrl ?? '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pixgate playground</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${PLAYGROUND_PATH}/app.css">
<script src="${PLAYGROUND_PATH}/app.js" defer></script></head>
<body>
<h1>pixgate playground</h1>
<p class="warning">Development mode only: this page signs any URL with the server's throwaway keys.</p>
<form id="ops">
  <p><label>Image URL <input id="url" name="url" type="url" required size="60" value="${escapeHtml(sample)}" placeholder="https://example.com/photo.jpg"></label></p>
  <fieldset><legend>Size</legend>
    <label>Width <input id="width" name="width" type="number" min="0" step="1" value="400"></label>
    <label>Height <input id="height" name="height" type="number" min="0" step="1" value="300"></label>
    <label><input id="fit-in" name="fitIn" type="checkbox" checked> fit-in</label>
    <label><input id="smart" name="smart" type="checkbox"> smart</label>
  </fieldset>
  <fieldset><legend>Output</legend>
    <label>Format <select id="format" name="format"><option value="">as the source</option>${formats}</select></label>
    <label>Quality <input id="quality" name="quality" type="number" min="1" max="100" step="1" placeholder="default"></label>
  </fieldset>
  <fieldset><legend>Filters</legend>
        ${filters || '<p>No filters are available on this server.</p>'}
  </fieldset>
  ${presets ? `<fieldset><legend>Presets</legend>\n        ${presets}\n  </fieldset>` : ''}
  <p><button id="go" type="submit">Sign and load</button></p>
</form>
<section id="result" data-state="idle" aria-live="polite">
  <p id="error" role="alert"></p>
  <h2>Signed URLs</h2>
  <p>imagor: <a id="imagor-link" href="#"><code id="imagor-url"></code></a></p>
  <p>camo: <a id="camo-link" href="#"><code id="camo-url"></code></a></p>
  <details><summary>The same URLs with the sdk</summary><pre><code id="code"></code></pre></details>
  <div class="images">
    <figure><figcaption>Processed: <span id="processed-info"></span></figcaption><img id="processed" alt="processed image"></figure>
    <figure><figcaption>Original (through camo): <span id="original-info"></span></figcaption><img id="original" alt="original image"></figure>
  </div>
</section>
</body></html>
`;
}

export const PLAYGROUND_STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
.warning{background:#fff4d6;border:1px solid #e0c060;padding:.4em .8em}
fieldset{margin:.6em 0;border:1px solid #ccc}
fieldset label{margin-right:1.2em;white-space:nowrap}
code{font:13px/1.4 ui-monospace,monospace;word-break:break-all}
pre{background:#f4f4f4;padding:.8em;overflow:auto}
#error{color:#a00;font-weight:600}
#error:empty{display:none}
.images{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
figure{margin:0}
figure img{display:block;max-width:none;background:repeating-conic-gradient(#eee 0 25%,#fff 0 50%) 0 0/16px 16px}
`;

/** Plain browser script, no build step: reads the form, asks /sign, fetches both images as blobs and shows them. */
export const PLAYGROUND_SCRIPT = `'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var objectUrls = [];

  function bytes(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
    return (n / 1024 / 1024).toFixed(2) + ' MB';
  }

  function operations() {
    var ops = { fitIn: $('fit-in').checked, smart: $('smart').checked, filters: [], presets: [] };
    var w = $('width').value, h = $('height').value, q = $('quality').value;
    if (w !== '') ops.width = Number(w);
    if (h !== '') ops.height = Number(h);
    if ($('format').value !== '') ops.format = $('format').value;
    if (q !== '') ops.quality = Number(q);
    document.querySelectorAll('input[name=filter]:checked').forEach(function (el) { ops.filters.push(el.value); });
    document.querySelectorAll('input[name=preset]:checked').forEach(function (el) { ops.presets.push(el.value); });
    return ops;
  }

  async function load(url, img, info) {
    var response = await fetch(url, { cache: 'no-store' });
    var blob = await response.blob();
    if (!response.ok) {
      img.removeAttribute('src');
      info.textContent = 'HTTP ' + response.status + ': ' + (await blob.text()).slice(0, 300);
      img.dataset.bytes = '';
      return false;
    }
    var objectUrl = URL.createObjectURL(blob);
    objectUrls.push(objectUrl);
    img.src = objectUrl;
    await img.decode();
    img.dataset.bytes = String(blob.size);
    info.textContent = img.naturalWidth + ' \\u00d7 ' + img.naturalHeight + ' px, ' + bytes(blob.size) +
      ', ' + (response.headers.get('content-type') || 'no type');
    return true;
  }

  async function run(event) {
    event.preventDefault();
    var result = $('result');
    result.dataset.state = 'loading';
    $('error').textContent = '';
    objectUrls.splice(0).forEach(function (u) { URL.revokeObjectURL(u); });
    try {
      var response = await fetch('${PLAYGROUND_PATH}/sign', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ url: $('url').value, operations: operations(), origin: location.origin }),
      });
      var signed = await response.json();
      if (!response.ok) throw new Error(signed.message || ('HTTP ' + response.status));
      var imagorAbsolute = new URL(signed.imagor, location.href).href;
      var camoAbsolute = new URL(signed.camo, location.href).href;
      $('imagor-url').textContent = imagorAbsolute;
      $('imagor-link').href = imagorAbsolute;
      $('camo-url').textContent = camoAbsolute;
      $('camo-link').href = camoAbsolute;
      $('code').textContent = signed.code;
      var done = await Promise.all([
        load(signed.imagor, $('processed'), $('processed-info')),
        load(signed.camo, $('original'), $('original-info')),
      ]);
      result.dataset.state = done[0] && done[1] ? 'done' : 'failed';
    } catch (err) {
      $('error').textContent = String(err && err.message ? err.message : err);
      result.dataset.state = 'failed';
    }
  }

  $('ops').addEventListener('submit', run);
})();
`;
