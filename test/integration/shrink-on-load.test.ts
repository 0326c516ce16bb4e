// Shrink-on-load (issue 3, imagor.md §3): an 8000x8000 JPEG fitted into 100x100 through processImage must be
// decoded at reduced scale, never at full size. pixgate has no switch for it: sharp shrinks JPEG (and WebP)
// on load by itself when the pipeline's first operation is the resize, and this test holds it to that.
//
// Each measurement runs in a fresh child process (node --import tsx), so the peak resident memory is that of
// one request: baseline after a warm-up, then the peak after processing. Two limits:
// - peak RSS growth well under a full decode (8000 * 8000 * 3 = 192 MB), which catches any path that decodes
//   the whole image into memory;
// - libvips' own tracked high-water mark (sharp.cache().memory.high). With shrink-on-load the JPEG decoder
//   hands over 1000x1000 pixels (DCT scaling by 8): about 3 MB. Without it, libvips still streams the full-size
//   rows through its shrink (about 26 MB measured), which RSS alone cannot tell from noise.
// A control request with a crop before the resize (sharp then cannot shrink on load) shows that the second
// limit does tell the two apart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SIDE = 8000;
const FULL_DECODE_BYTES = SIDE * SIDE * 3;
const RSS_LIMIT_BYTES = 100e6;
/** libvips MB high-water: ~3 measured with shrink-on-load, ~26 without. */
const VIPS_LIMIT_MB = 12;

const moduleUrl = (path: string): string => pathToFileURL(join(ROOT, path)).href;

// The child: warm up (libvips, the JPEG codec, JIT) on a small image, take the baseline, process once, report.
const CHILD = `
const [file, path] = process.argv.slice(1);
const { readFileSync } = await import('node:fs');
const sharp = (await import('sharp')).default;
const { parseImagorPath } = await import(${JSON.stringify(moduleUrl('src/parse/imagor-path.ts'))});
const { processImage } = await import(${JSON.stringify(moduleUrl('src/process/process-image.ts'))});
const input = readFileSync(file);
const small = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).jpeg().toBuffer();
await processImage(small, parseImagorPath('fit-in/10x10/warm-up.jpg'));
const baseline = process.resourceUsage().maxRSS * 1024;
const { image } = await processImage(input, parseImagorPath(path));
const peak = process.resourceUsage().maxRSS * 1024;
process.stdout.write(JSON.stringify({
  format: image.format, width: image.width, height: image.height,
  rssGrowthBytes: peak - baseline, vipsHighMb: sharp.cache().memory.high,
}));
`;

interface Measured {
  readonly format: string;
  readonly width: number;
  readonly height: number;
  readonly rssGrowthBytes: number;
  readonly vipsHighMb: number;
}

function measure(file: string, path: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, file, path], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`child exited ${code}: ${err.slice(0, 2000)}`));
      try {
        resolve(JSON.parse(out) as Measured);
      } catch (e) {
        reject(new Error(`child output not JSON: ${out.slice(0, 500)} ${err.slice(0, 500)}`, { cause: e }));
      }
    });
  });
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

describe('shrink-on-load for a large JPEG', { timeout: 180_000 }, () => {
  let dir: string;
  let file: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pixgate-shrink-'));
    file = join(dir, 'big.jpg');
    // Noise, so the JPEG is not trivially small: 64x64 random pixels blown up to 8000x8000 (a few MB).
    const noise = Buffer.alloc(64 * 64 * 3);
    let seed = 12345;
    for (let i = 0; i < noise.length; i++) {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      noise[i] = seed >>> 24;
    }
    await sharp(noise, { raw: { width: 64, height: 64, channels: 3 } })
      .resize(SIDE, SIDE, { kernel: 'nearest' })
      .jpeg({ quality: 80 })
      .toFile(file);
    const meta = await sharp(file).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', SIDE, SIDE]);
  });

  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const path of ['fit-in/100x100/big.jpg', '100x100/big.jpg']) {
    test(`${path} stays far below a full decode`, async () => {
      const m = await measure(file, path);
      assert.deepEqual([m.format, m.width, m.height], ['jpeg', 100, 100]);
      assert.ok(
        m.rssGrowthBytes < RSS_LIMIT_BYTES,
        `peak RSS grew by ${mb(m.rssGrowthBytes)} (a full decode needs ${mb(FULL_DECODE_BYTES)})`,
      );
      assert.ok(m.vipsHighMb < VIPS_LIMIT_MB, `libvips held ${m.vipsHighMb} MB at its peak: the JPEG was not shrunk on load`);
    });
  }

  test('control: a crop before the resize (no shrink-on-load in sharp) goes over the libvips limit', async () => {
    const m = await measure(file, '1x1:7999x7999/fit-in/100x100/big.jpg');
    assert.deepEqual([m.width, m.height], [100, 100]);
    assert.ok(m.vipsHighMb >= VIPS_LIMIT_MB, `libvips held only ${m.vipsHighMb} MB: the limit no longer tells the paths apart`);
  });
});
