// The server-level property: no request makes pixgate answer 500 or log an unexpected error. Three generators
// against one running pixgate with both jobs on: random request targets and headers (unsigned, so they stop at
// routing and verification), validly signed imagor URLs with random geometry and random filter chains over real
// images (so they run the whole processing pipeline), and validly signed camo URLs with random sources and
// request headers. Sources are confined to the loopback origin by HTTP_LOADER_ALLOWED_SOURCE_REGEXP and a filter
// ruleset, which refuse any other host before a DNS lookup: fuzzing never sends a packet off loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { generateImagorPath } from '../../src/parse/imagor-generate.js';
import { sniffBytes } from '../../src/policy/sniff.js';
import { defaultFilterRegistry } from '../../src/process/filters/registry.js';
import { makeAlphaPng, makeAnimated, makeExifRotatedJpeg, makeQuadrant, BLUE, LIME, RED } from '../helpers/images.js';
import { serve, startOrigin, type Origin } from '../helpers/origin.js';
import type { Pixgate } from '../helpers/pixgate.js';
import { camoPath, imagorPath, rawGet, startSecure } from '../security/harness.js';

const RUNS = Number(process.env.PIXGATE_FUZZ_RUNS ?? 600);

let origin: Origin;
let px: Pixgate;
let dir: string;
const sources: string[] = [];

before(async () => {
  origin = await startOrigin({ host: '127.0.0.3' });
  const images: [string, Buffer, string][] = [
    ['/q.png', await makeQuadrant(48, 32, 'png'), 'image/png'],
    ['/q.jpg', await makeQuadrant(40, 40, 'jpeg'), 'image/jpeg'],
    ['/q.webp', await makeQuadrant(30, 50, 'webp'), 'image/webp'],
    ['/exif.jpg', await makeExifRotatedJpeg(32, 24), 'image/jpeg'],
    ['/alpha.png', await makeAlphaPng(40, 40), 'image/png'],
    ['/anim.gif', await makeAnimated('gif', 24, 16, [RED, LIME, BLUE]), 'image/gif'],
    ['/anim.webp', await makeAnimated('webp', 16, 24, [RED, BLUE]), 'image/webp'],
  ];
  for (const [path, body, type] of images) {
    origin.route(path, serve(body, { type }));
    sources.push(origin.url(path));
  }
  dir = mkdtempSync(join(tmpdir(), 'pixgate-fuzz-'));
  const rules = join(dir, 'rules.txt');
  writeFileSync(rules, 'allow||127.0.0.3||\n');
  px = await startSecure([
    '--allow-network', '127.0.0.3/32',
    '--http-loader-allowed-source-regexp', '^https?://127\\.0\\.0\\.3(:\\d+)?/',
    '--filter-ruleset', rules,
    '--imagor-auto-webp', '--imagor-auto-avif',
    '--timeout', '3s', '--imagor-load-timeout', '3s', '--imagor-process-timeout', '10s',
  ]);
});

after(async () => {
  await px?.close();
  await origin?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Request targets cannot carry bytes outside 0x21-0x7e: anything else is sent percent-encoded. */
function asTarget(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) out += b >= 0x21 && b <= 0x7e ? String.fromCharCode(b) : `%${b.toString(16).padStart(2, '0').toUpperCase()}`;
  return out.startsWith('/') ? out : `/${out}`;
}

async function expectNo500(path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: Buffer; type: string }> {
  const before = px.errorCodes().length;
  const res = await rawGet(px.url, path, { ...opts, timeoutMs: 30_000 });
  await new Promise((r) => setImmediate(r));
  const codes = px.errorCodes().slice(before);
  assert.ok(res.status !== 500 && !codes.includes('INTERNAL'), `${opts.method ?? 'GET'} ${path.slice(0, 300)} -> ${res.status} (${codes.join(',')}) ${res.text.slice(0, 100)}`);
  assert.ok(res.status > 0);
  return { status: res.status, body: res.body, type: String(res.headers['content-type'] ?? '') };
}

const headerValue = fc.oneof(
  fc.constantFrom('', '*/*', 'image/webp,image/avif,*/*;q=0.8', 'image/avif;q=2', 'bytes=0-10', 'bytes=-5', 'bytes=99999-', 'bytes=5-1,0-0',
    '"etag"', 'W/"x"', '*', 'no-cache', 'private', 'pixgate', '1.1 pixgate', 'gzip, br', 'Thu, 01 Jan 1970 00:00:00 GMT', 'garbage date'),
  fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
);
const headers = fc.dictionary(
  fc.constantFrom('Accept', 'Range', 'If-None-Match', 'If-Modified-Since', 'If-Range', 'Via', 'Cache-Control', 'Accept-Encoding', 'Cookie', 'X-Forwarded-For', 'Accept-Language'),
  headerValue,
  { maxKeys: 5 },
);

describe('no request makes pixgate answer 500', () => {
  test('random request targets, methods and headers (unsigned)', { timeout: 600_000 }, async () => {
    const tokens = [
      '/', '//', 'unsafe/', 'params/', 'meta/', 'fit-in/', 'full-fit-in/', '10x10/', '-0x-0/', '99999x99999/', '1x1:2x2/', 'trim:5/', 'smart/', 'left/',
      'filters:', 'blur(3)', 'format(webp)', 'fill(red)', 'quality(999)', '(', ')', ':', ',', '%', '%2F', '%2e%2e', '..', '%00', 'b64:', 'aGk',
      'color:red', 'http://127.0.0.3/q.png', '127.0.0.3/q.png', 'healthcheck', 'favicon.ico', 'metrics', 'preset:a/',
      '0123456789abcdef0123456789abcdef01234567/', 'AbCdEfGhIjKlMnOpQrStUvWxYz0=/', '68747470', '?', '?url=http://127.0.0.3/q.png', '#', '\u00e9', '\u{1F600}',
    ];
    const target = fc.oneof(fc.array(fc.constantFrom(...tokens), { maxLength: 14 }).map((t) => t.join('')), fc.string({ maxLength: 120 }));
    await fc.assert(
      fc.asyncProperty(target, fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'DELETE'), headers, async (t, method, h) => {
        await expectNo500(asTarget(t), { method, headers: h });
      }),
      { numRuns: RUNS },
    );
  });

  test('signed imagor URLs with random geometry and filter chains over real images', { timeout: 900_000 }, async (t) => {
    const statuses = new Map<number, number>();
    const names = defaultFilterRegistry.names;
    const argTokens = [
      '0', '1', '-1', '3', '10', '50', '100', '255', '360', '9999', '0.5', '', 'red', '#00ff0080', 'ff00ff', 'auto', 'none', 'blur', 'transparent',
      'jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'true', 'false', 'center', 'top', 'left', 'sRGB', 'p3', '90', '180', '270',
    ];
    const args = fc.array(fc.constantFrom(...argTokens), { maxLength: 3 }).map((a) => a.join(','));
    const small = fc.integer({ min: 0, max: 64 });
    const params = fc.record({
      meta: fc.constantFrom(false, false, false, false, false, false, false, false, false, true),
      trim: fc.boolean(),
      fitIn: fc.boolean(),
      stretch: fc.boolean(),
      smart: fc.boolean(),
      width: small,
      height: small,
      hFlip: fc.boolean(),
      vFlip: fc.boolean(),
      cropLeft: fc.constantFrom(0, 0, 2, 0.1),
      cropTop: fc.constantFrom(0, 0, 3, 0.2),
      cropRight: fc.constantFrom(0, 0, 20, 0.9),
      cropBottom: fc.constantFrom(0, 0, 20, 0.8),
      paddingLeft: fc.constantFrom(0, 0, 4),
      paddingTop: fc.constantFrom(0, 0, 2),
      hAlign: fc.constantFrom('' as const, 'left' as const, 'right' as const),
      vAlign: fc.constantFrom('' as const, 'top' as const, 'bottom' as const),
      filters: fc.array(fc.record({ name: fc.constantFrom(...names), args }).map((f) => ({ ...f })), { maxLength: 2 }),
      image: fc.constantFrom(...sources.map((s) => s), 'color:red', 'color:00ff0080'),
    });
    await fc.assert(
      fc.asyncProperty(params, headers, async (p, h) => {
        const path = generateImagorPath(p);
        const res = await expectNo500(imagorPath(path), { headers: h });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (res.status === 200 && !res.type.startsWith('application/json') && !res.type.startsWith('text/')) {
          assert.match(res.type, /^image\//, path);
          assert.notEqual(sniffBytes(res.body), 'html');
        }
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
    t.diagnostic(`statuses: ${[...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s} x${n}`).join(', ')}`);
    // The property is only worth something if most of the generated URLs really went through processing.
    const served = statuses.get(200) ?? 0;
    assert.ok(served >= Math.ceil(RUNS / 2) / 4, `only ${served} of the generated URLs were processed`);
  });

  test('signed camo URLs with random sources and request headers', { timeout: 600_000 }, async () => {
    const source = fc.oneof(
      fc.constantFrom(...sources),
      fc.constantFrom(...sources).map((s) => `${s}?x=1#f`),
      fc.constantFrom('http://127.0.0.3/', 'http://127.0.0.3:1/x', 'https://127.0.0.3/q.png', 'HTTP://127.0.0.3/q.png', 'ftp://127.0.0.3/', 'http://[::1]/', 'http://127.0.0.3%2f@x/', 'http:/127.0.0.3/q.png'),
      fc.string({ maxLength: 60 }),
    );
    await fc.assert(
      fc.asyncProperty(source, fc.constantFrom('hex' as const, 'base64' as const), headers, fc.constantFrom('GET', 'HEAD'), async (s, enc, h, method) => {
        fc.pre(s.length > 0);
        await expectNo500(camoPath(s, enc), { method, headers: h });
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });
});
