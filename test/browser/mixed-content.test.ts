/**
 * A secure page whose user content holds http:// images, rewritten with the sdk's rewriteHtml to pixgate over
 * HTTPS, in a real Chromium: every image loads, nothing on the page is fetched over http, the console and the
 * DevTools issues show no mixed content, and in imagor mode each image has the size the rewrite asked for.
 * Control pages with one image, or one legacy table background, left as it was prove that mixed content would be
 * seen here.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { rewriteHtml, type RewriteHtmlOptions } from '../../src/sdk/index.js';
import { makeQuadrant, makeSolid, RED, BLUE } from '../helpers/images.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import { startPixgate, TEST_KEY, type Pixgate } from '../helpers/pixgate.js';
import { launchBrowser, makeCertificates, skipReason, watchPage, type Browser, type TestCertificates } from './browser.js';

const SECRET = 'browser-test-imagor-secret';
const MAX_WIDTH = 320;

/** Source images: [path, width, height, content type]. */
const IMAGES: readonly (readonly [string, number, number, 'jpeg' | 'png' | 'webp'])[] = [
  ['/wide.jpg', 800, 600, 'jpeg'],
  ['/tall.png', 300, 500, 'png'],
  ['/small.webp', 200, 100, 'webp'],
  ['/one.jpg', 400, 300, 'jpeg'],
  ['/two.jpg', 800, 600, 'jpeg'],
  ['/pic.png', 640, 480, 'png'],
  ['/bg.png', 100, 100, 'png'],
  ['/poster.jpg', 160, 120, 'jpeg'],
  ['/inline-svg.png', 60, 60, 'png'],
  ['/table-bg.png', 40, 40, 'png'],
  ['/cell-bg.png', 20, 20, 'png'],
];

function userContent(o: string): string {
  return `<article>
<p>Hello <img id="wide" src="${o}/wide.jpg" alt="wide"> world</p>
<img id="tall" src="${o}/tall.png" alt="">
<img id="small" src='${o}/small.webp' alt="">
<img id="set" src="${o}/one.jpg" srcset="${o}/one.jpg 1x, ${o}/two.jpg 2x" alt="">
<picture><source srcset="${o}/pic.png" type="image/png"><img id="pic" src="${o}/one.jpg" alt=""></picture>
<div id="bg" style="width:50px;height:50px;background-image:url('${o}/bg.png')"></div>
<svg width="60" height="60"><image href="${o}/inline-svg.png" width="60" height="60"/></svg>
<video poster="${o}/poster.jpg" width="80" height="60"></video>
<table id="tbl" background="${o}/table-bg.png" width="40" height="40"><tr><td background="${o}/cell-bg.png" width="20" height="20">x</td></tr></table>
</article>`;
}

/** imagor's fit-in with only a width: shrink to fit, never enlarge, keep the aspect ratio. */
function fitInWidth(w: number, h: number, max: number): [number, number] {
  if (w <= max) return [w, h];
  return [max, Math.round((h * max) / w)];
}

const skip = skipReason({ openssl: true });

describe('a secure page with rewritten http images', { skip }, () => {
  let certs: TestCertificates;
  let origin: Origin;
  let pixgate: Pixgate;
  let pixgateHttps: string;
  let pageServer: Server;
  let pageBase: string;
  let browser: Browser;
  const pages = new Map<string, string>();

  before(async () => {
    certs = makeCertificates(['page', 'pixgate', 'stranger']);
    origin = await startOrigin();
    for (const [path, w, h, format] of IMAGES) {
      origin.route(path, serve(path === '/pic.png' ? await makeQuadrant(w, h, 'png') : await makeSolid(w, h, path.endsWith('.png') ? BLUE : RED, format), { type: `image/${format}` }));
    }
    const pg = certs.files('pixgate');
    pixgate = await startPixgate({
      argv: ['-k', TEST_KEY, '--imagor-secret', SECRET, '--allow-network', '127.0.0.1/32',
        '--ssl-listen', '127.0.0.1:0', '--ssl-key', pg.key, '--ssl-cert', pg.cert],
    });
    const https = pixgate.listeners.find((l) => l.kind === 'https');
    assert.ok(https, 'pixgate has an HTTPS listener');
    pixgateHttps = https.address;

    const content = userContent(origin.base);
    const rewrite = (options: RewriteHtmlOptions) => rewriteHtml(content, options);
    pages.set('/imagor', await rewrite({ mode: 'imagor', secret: SECRET, baseUrl: pixgateHttps, imagor: { fitIn: true, width: MAX_WIDTH } }));
    pages.set('/camo', await rewrite({ mode: 'camo', key: TEST_KEY, baseUrl: pixgateHttps }));
    // The controls: the same content, one image (or the table's legacy background) left as http://.
    pages.set('/control', (pages.get('/camo') ?? '').replace(/<img id="small" src='[^']*'/, `<img id="small" src='${origin.base}/small.webp'`));
    pages.set('/control-background', (pages.get('/camo') ?? '').replace(/<table id="tbl" background="[^"]*"/, `<table id="tbl" background="${origin.base}/table-bg.png"`));

    const pc = certs.files('page');
    pageServer = createServer({ key: readFileSync(pc.key), cert: readFileSync(pc.cert) }, (req, res) => {
      const body = pages.get(req.url ?? '');
      res.writeHead(body === undefined ? 404 : 200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(body === undefined ? 'no such page' : `<!doctype html><html><head><meta charset="utf-8"><title>user content</title></head><body>${body}</body></html>`);
    });
    await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
    pageBase = `https://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
    browser = await launchBrowser({ trustedSpki: [certs.spki('page'), certs.spki('pixgate')] });
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
    await pixgate?.close();
    await origin?.close();
    certs?.remove();
  });

  /** Opens a page and waits until every image and background has settled. */
  async function open(path: string) {
    const page = await browser.newPage();
    const watch = await watchPage(page);
    const requests: string[] = [];
    const responses: { url: string; status: number; type: string }[] = [];
    const failed: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('response', (r) => responses.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] ?? '' }));
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText}`));
    const response = await page.goto(pageBase + path, { waitUntil: 'networkidle' });
    await page.waitForFunction(() => Array.from(document.images).every((img) => img.complete));
    const images = await page.evaluate(() =>
      Object.fromEntries(Array.from(document.images).map((img) => [img.id, { w: img.naturalWidth, h: img.naturalHeight, src: img.currentSrc }])),
    );
    const secure = await page.evaluate(() => window.isSecureContext);
    await page.close();
    return { status: response?.status(), watch, requests, responses, failed, images, secure };
  }

  for (const mode of ['imagor', 'camo'] as const) {
    test(`every image loads over HTTPS with no mixed content (${mode} mode)`, async () => {
      const r = await open(`/${mode}`);
      assert.equal(r.status, 200);
      assert.equal(r.secure, true, 'the page is a secure context');
      assert.deepEqual(r.failed, []);
      assert.deepEqual(r.requests.filter((u) => !u.startsWith('https://')), [], 'nothing is fetched over http');
      const fromPixgate = r.responses.filter((x) => x.url.startsWith(pixgateHttps + '/'));
      // Every source but two.jpg (srcset 2x, not chosen at a device pixel ratio of 1), each once, through pixgate:
      // img src and srcset, picture source, style url(), inline svg image, video poster, table and td background.
      assert.equal(new Set(fromPixgate.map((x) => x.url)).size, IMAGES.length - 1);
      for (const x of fromPixgate) {
        assert.equal(x.status, 200, x.url);
        assert.match(x.type, /^image\//, x.url);
      }
      for (const [id, img] of Object.entries(r.images)) {
        assert.ok(img.w > 0, `${id} has naturalWidth 0`);
        assert.ok(img.src.startsWith(pixgateHttps + '/'), `${id} comes from pixgate: ${img.src}`);
      }
      assert.deepEqual(r.watch.messages.filter((m) => /mixed content/i.test(m)), []);
      assert.deepEqual(r.watch.issues.filter((i) => /mixed/i.test(i)), []);
    });
  }

  test('imagor mode serves each image at the width the rewrite asked for', async () => {
    const r = await open('/imagor');
    const source = (path: string) => IMAGES.find((i) => i[0] === path)!;
    const expected: Record<string, string> = { wide: '/wide.jpg', tall: '/tall.png', small: '/small.webp', set: '/one.jpg', pic: '/pic.png' };
    for (const [id, path] of Object.entries(expected)) {
      const [, w, h] = source(path);
      const [ew, eh] = fitInWidth(w, h, MAX_WIDTH);
      assert.deepEqual([r.images[id]?.w, r.images[id]?.h], [ew, eh], `${id} (${w}x${h} source)`);
    }
  });

  test('camo mode serves each image as it is', async () => {
    const r = await open('/camo');
    assert.deepEqual([r.images.wide?.w, r.images.wide?.h], [800, 600]);
    assert.deepEqual([r.images.small?.w, r.images.small?.h], [200, 100]);
  });

  test('control: an http image left on the page is reported as mixed content', async () => {
    const r = await open('/control');
    assert.ok(r.watch.messages.some((m) => /mixed content/i.test(m) && m.includes(`${origin.base}/small.webp`)), r.watch.messages.join('\n'));
    assert.ok(r.watch.issues.includes('MixedContentIssue'), r.watch.issues.join(', '));
  });

  test('control: Chromium loads a legacy background attribute left as http, and reports it as mixed content', async () => {
    const r = await open('/control-background');
    const url = `${origin.base}/table-bg.png`;
    assert.ok(r.requests.includes(url) || r.watch.messages.some((m) => /mixed content/i.test(m) && m.includes(url)), [...r.requests, ...r.watch.messages].join('\n'));
    assert.ok(r.watch.issues.includes('MixedContentIssue'), r.watch.issues.join(', '));
  });

  test('control: a certificate outside the trusted list is still refused', async () => {
    const sc = certs.files('stranger');
    const stranger = createServer({ key: readFileSync(sc.key), cert: readFileSync(sc.cert) }, (_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => stranger.listen(0, '127.0.0.1', resolve));
    const page = await browser.newPage();
    try {
      await assert.rejects(page.goto(`https://127.0.0.1:${(stranger.address() as AddressInfo).port}/`), /ERR_CERT_AUTHORITY_INVALID/);
    } finally {
      await page.close();
      await new Promise<void>((resolve) => stranger.close(() => resolve()));
    }
  });
});
