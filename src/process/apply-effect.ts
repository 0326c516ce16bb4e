/**
 * Runs one pixel effect (process/effects.ts) on decoded frames: the executor hands over raw pixels, frames
 * stacked vertically, and gets raw pixels of the same size back. Point operations run on all frames at once;
 * neighbourhood operations (blur, sharpen) and per-image statistics (equalize, pixelate, round corners) run
 * frame by frame, so animations keep every frame and no frame bleeds into the next. Never encodes or decodes
 * an image file; called only from process/execute.ts.
 */
import type { Sharp } from 'sharp';
import { vips } from './vips.js';
import type { Effect, Triple } from './effects.js';
import type { Rgba } from './steps.js';

/** Decoded pixels: 8 bits per channel, frames stacked vertically (libvips' "toilet roll"). */
export interface Pixels {
  readonly data: Buffer;
  readonly width: number;
  /** Height of one frame. */
  readonly height: number;
  readonly frames: number;
  readonly channels: 1 | 2 | 3 | 4;
}

const clampByte = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Grey (1) and grey + alpha (2) become RGB (3) and RGBA (4), as imagor converts to sRGB before colour work. */
function toColour(p: Pixels): Pixels {
  if (p.channels >= 3) return p;
  const alpha = p.channels === 2;
  const n = p.width * p.height * p.frames;
  const out = Buffer.alloc(n * (alpha ? 4 : 3));
  for (let i = 0, o = 0; i < n; i++) {
    const g = p.data[i * p.channels]!;
    out[o++] = g;
    out[o++] = g;
    out[o++] = g;
    if (alpha) out[o++] = p.data[i * 2 + 1]!;
  }
  return { ...p, data: out, channels: alpha ? 4 : 3 };
}

function frameOf(p: Pixels, i: number): Pixels {
  const bytes = p.width * p.height * p.channels;
  return { ...p, frames: 1, data: p.data.subarray(i * bytes, (i + 1) * bytes) };
}

async function eachFrame(p: Pixels, fn: (frame: Pixels) => Promise<Pixels> | Pixels): Promise<Pixels> {
  if (p.frames === 1) return fn(p);
  const parts: Pixels[] = [];
  for (let i = 0; i < p.frames; i++) parts.push(await fn(frameOf(p, i)));
  const first = parts[0]!;
  return { ...first, frames: p.frames, data: Buffer.concat(parts.map((f) => f.data)) };
}

/** Runs sharp operations on raw pixels (all frames as one tall image) and reads raw pixels back. */
async function viaSharp(p: Pixels, op: (s: Sharp) => Sharp): Promise<Pixels> {
  const input = vips(p.data, {
    raw: { width: p.width, height: p.height * p.frames, channels: p.channels, ...(p.frames > 1 ? { pageHeight: p.height } : {}) },
    limitInputPixels: false,
  });
  const { data, info } = await op(input).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { ...p, data, channels: info.channels as 1 | 2 | 3 | 4 };
}

function linear(p: Pixels, a: Triple, b: Triple): Pixels {
  const out = Buffer.from(p.data);
  const ch = p.channels;
  for (let i = 0; i < out.length; i += ch) {
    out[i] = clampByte(a[0] * out[i]! + b[0]);
    out[i + 1] = clampByte(a[1] * out[i + 1]! + b[1]);
    out[i + 2] = clampByte(a[2] * out[i + 2]! + b[2]);
  }
  return { ...p, data: out };
}

function recomb(p: Pixels, m: readonly [Triple, Triple, Triple]): Pixels {
  const out = Buffer.from(p.data);
  const ch = p.channels;
  for (let i = 0; i < out.length; i += ch) {
    const r = p.data[i]!;
    const g = p.data[i + 1]!;
    const b = p.data[i + 2]!;
    out[i] = clampByte(m[0][0] * r + m[0][1] * g + m[0][2] * b);
    out[i + 1] = clampByte(m[1][0] * r + m[1][1] * g + m[1][2] * b);
    out[i + 2] = clampByte(m[2][0] * r + m[2][1] * g + m[2][2] * b);
  }
  return { ...p, data: out };
}

function lut(p: Pixels, tables: readonly [readonly number[], readonly number[], readonly number[]]): Pixels {
  const out = Buffer.from(p.data);
  const ch = p.channels;
  for (let i = 0; i < out.length; i += ch) {
    out[i] = tables[0][out[i]!]!;
    out[i + 1] = tables[1][out[i + 1]!]!;
    out[i + 2] = tables[2][out[i + 2]!]!;
  }
  return { ...p, data: out };
}

/** sharp (libvips) takes kernels of at least 3 x 3: a smaller odd kernel is padded with zeros around it. */
function padKernel(width: number, height: number, kernel: readonly number[]): { width: number; height: number; kernel: number[] } {
  const w = Math.max(3, width);
  const h = Math.max(3, height);
  const dx = (w - width) / 2;
  const dy = (h - height) / 2;
  const out = new Array<number>(w * h).fill(0);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[(y + dy) * w + x + dx] = kernel[y * width + x]!;
  return { width: w, height: h, kernel: out };
}

/**
 * Histogram equalisation of each colour channel of one frame, by the formula thumbor's _equalize.c follows
 * (cdf(v) - cdf_min) / (pixels - cdf_min) x 255, truncated. thumbor finds cdf_min for the three channels in one
 * loop that stops early; here each channel gets its own. A channel with a single value is left as it is
 * (thumbor divides by zero there).
 */
function equalizeFrame(p: Pixels): Pixels {
  const out = Buffer.from(p.data);
  const ch = p.channels;
  const area = p.width * p.height;
  for (let c = 0; c < 3; c++) {
    const hist = new Array<number>(256).fill(0);
    for (let i = c; i < out.length; i += ch) hist[p.data[i]!]!++;
    const cdf = new Array<number>(256).fill(0);
    let sum = 0;
    let min = 0;
    for (let v = 0; v < 256; v++) {
      sum += hist[v]!;
      cdf[v] = sum;
      if (min === 0 && hist[v]! > 0) min = sum;
    }
    if (area === min) continue;
    const lut = cdf.map((k) => Math.max(0, Math.min(255, Math.trunc(((k - min) / (area - min)) * 255))));
    for (let i = c; i < out.length; i += ch) out[i] = lut[p.data[i]!]!;
  }
  return { ...p, data: out };
}

/** mulberry32: a small, fast, well-distributed 32-bit PRNG; the same seed always gives the same noise. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seed used by noise() without a seed: fixed, so a URL always renders the same bytes (and caches well). */
export const DEFAULT_NOISE_SEED = 0x5eed;

/** thumbor's noise: one value in [-(amount >> 1), amount - (amount >> 1)) per pixel, added to R, G and B. */
function noise(p: Pixels, amount: number, seed: number): Pixels {
  if (amount <= 0) return p;
  const random = mulberry32(seed === 0 ? DEFAULT_NOISE_SEED : seed);
  const out = Buffer.from(p.data);
  const ch = p.channels;
  const half = amount >> 1;
  for (let i = 0; i < out.length; i += ch) {
    const delta = Math.floor(random() * amount) - half;
    out[i] = clampByte(out[i]! + delta);
    out[i + 1] = clampByte(out[i + 1]! + delta);
    out[i + 2] = clampByte(out[i + 2]! + delta);
  }
  return { ...p, data: out };
}

/**
 * Each block x block cell (cut at the right and bottom edges) takes the mean of its pixels. With alpha the
 * colours are weighted by it (premultiplied), so transparent pixels do not darken the cell; imagor's libvips
 * shrink averages them unweighted.
 */
function pixelateFrame(p: Pixels, block: number): Pixels {
  const out = Buffer.alloc(p.data.length);
  const { width, height, channels: ch } = p;
  const alpha = ch === 4;
  const sums = new Float64Array(ch);
  for (let y0 = 0; y0 < height; y0 += block) {
    const y1 = Math.min(height, y0 + block);
    for (let x0 = 0; x0 < width; x0 += block) {
      const x1 = Math.min(width, x0 + block);
      sums.fill(0);
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const i = (y * width + x) * ch;
          const w = alpha ? p.data[i + 3]! : 1;
          for (let c = 0; c < 3; c++) sums[c]! += p.data[i + c]! * w;
          if (alpha) sums[3]! += w;
        }
      }
      const n = (y1 - y0) * (x1 - x0);
      const weight = alpha ? sums[3]! : n;
      const cell = [0, 1, 2].map((c) => (weight > 0 ? Math.round(sums[c]! / weight) : 0));
      if (alpha) cell.push(Math.round(sums[3]! / n));
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) out.set(cell, (y * width + x) * ch);
      }
    }
  }
  return { ...p, data: out };
}

/** libvips' B_W conversion of the colour channels; alpha is set aside and put back (sharp would drop it). */
async function grayscale(p: Pixels): Promise<Pixels> {
  if (p.channels === 3) return toColour(await viaSharp(p, (s) => s.grayscale()));
  const n = p.width * p.height * p.frames;
  const rgb = Buffer.alloc(n * 3);
  for (let i = 0; i < n; i++) p.data.copy(rgb, i * 3, i * 4, i * 4 + 3);
  const grey = await viaSharp({ ...p, data: rgb, channels: 3 }, (s) => s.grayscale());
  const out = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    const g = grey.data[i * grey.channels]!;
    out[i * 4] = g;
    out[i * 4 + 1] = g;
    out[i * 4 + 2] = g;
    out[i * 4 + 3] = p.data[i * 4 + 3]!;
  }
  return { ...p, data: out };
}

/** Mean colour of the first frame with transparency over white (imagor's avgColorRGB). */
export function averageColour(p: Pixels): Rgba {
  const c = toColour(frameOf(p, 0));
  const sums = [0, 0, 0];
  const n = c.width * c.height;
  for (let i = 0; i < n; i++) {
    const o = i * c.channels;
    const a = c.channels === 4 ? c.data[o + 3]! / 255 : 1;
    for (let k = 0; k < 3; k++) sums[k]! += c.data[o + k]! * a + 255 * (1 - a);
  }
  return { r: Math.round(sums[0]! / n), g: Math.round(sums[1]! / n), b: Math.round(sums[2]! / n), alpha: 1 };
}

const SUPERSAMPLE = 4;

/**
 * Coverage (0..1) of each pixel of the top-left rx x ry corner by an ellipse of radii rx, ry centred at
 * (rx, ry), sampled 4 x 4 per pixel like an anti-aliased SVG `<rect rx ry>` (imagor's round_corner mask).
 */
function cornerCoverage(rx: number, ry: number): { readonly w: number; readonly h: number; readonly cov: Float64Array } {
  const w = Math.ceil(rx);
  const h = Math.ceil(ry);
  const cov = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let inside = 0;
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const px = x + (sx + 0.5) / SUPERSAMPLE;
          const py = y + (sy + 0.5) / SUPERSAMPLE;
          const dx = (px - rx) / rx;
          const dy = (py - ry) / ry;
          if (px >= rx || py >= ry || dx * dx + dy * dy <= 1) inside++;
        }
      }
      cov[y * w + x] = inside / (SUPERSAMPLE * SUPERSAMPLE);
    }
  }
  return { w, h, cov };
}

function roundCornerFrame(p: Pixels, rxIn: number, ryIn: number, background: Rgba | undefined): Pixels {
  // SVG clamps the radii to half the rectangle.
  const rx = Math.min(rxIn, p.width / 2);
  const ry = Math.min(ryIn, p.height / 2);
  const src = toColour(p);
  const hadAlpha = src.channels === 4;
  const n = p.width * p.height;
  const out = Buffer.alloc(n * (background ? 3 : 4));
  const alpha = new Float64Array(n);
  for (let i = 0; i < n; i++) alpha[i] = hadAlpha ? src.data[i * 4 + 3]! / 255 : 1;
  if (rx > 0 && ry > 0) {
    const { w, h, cov } = cornerCoverage(rx, ry);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const c = cov[y * w + x]!;
        if (c >= 1) continue;
        const right = p.width - 1 - x;
        const bottom = p.height - 1 - y;
        for (const [cx, cy] of [[x, y], [right, y], [x, bottom], [right, bottom]] as const) {
          alpha[cy * p.width + cx]! *= c;
        }
      }
    }
  }
  for (let i = 0; i < n; i++) {
    const s = i * src.channels;
    const a = alpha[i]!;
    if (background) {
      out[i * 3] = clampByte(src.data[s]! * a + background.r * (1 - a));
      out[i * 3 + 1] = clampByte(src.data[s + 1]! * a + background.g * (1 - a));
      out[i * 3 + 2] = clampByte(src.data[s + 2]! * a + background.b * (1 - a));
    } else {
      out[i * 4] = src.data[s]!;
      out[i * 4 + 1] = src.data[s + 1]!;
      out[i * 4 + 2] = src.data[s + 2]!;
      out[i * 4 + 3] = clampByte(a * 255);
    }
  }
  return { ...p, data: out, channels: background ? 3 : 4 };
}

/** Applies the effect to every frame; the size never changes, the channel count may (see effects.ts). */
export async function applyEffect(input: Pixels, effect: Effect): Promise<Pixels> {
  const p = toColour(input);
  switch (effect.kind) {
    case 'linear':
      return linear(p, effect.a, effect.b);
    case 'recomb':
      return recomb(p, effect.matrix);
    case 'lut':
      return lut(p, effect.tables);
    case 'convolve': {
      const k = padKernel(effect.width, effect.height, effect.kernel);
      // The kernel is normalised already: scale 1.
      return eachFrame(p, (f) => viaSharp(f, (s) => s.convolve({ ...k, scale: 1, offset: 0 })));
    }
    case 'modulate':
      return viaSharp(p, (s) =>
        // sharp takes whole degrees of hue.
        s.modulate({ brightness: effect.brightness, saturation: effect.saturation, hue: Math.round(effect.hue) }),
      );
    case 'grayscale':
      return grayscale(p);
    case 'equalize':
      return eachFrame(p, equalizeFrame);
    case 'noise':
      return noise(p, effect.amount, effect.seed);
    case 'blur':
      return eachFrame(p, (f) => viaSharp(f, (s) => s.blur(effect.sigma)));
    case 'sharpen':
      // imagor passes sigma, x1 = 1 and m2 = 2 and leaves libvips' defaults m1 = 0, y2 = 10, y3 = 20.
      return eachFrame(p, (f) => viaSharp(f, (s) => s.sharpen({ sigma: effect.sigma, m1: 0, m2: 2, x1: 1, y2: 10, y3: 20 })));
    case 'pixelate':
      return effect.block <= 1 ? p : eachFrame(p, (f) => pixelateFrame(f, effect.block));
    case 'round-corner': {
      const bg = effect.background;
      const colour = bg === undefined ? undefined : bg.kind === 'colour' ? bg.colour : averageColour(p);
      return eachFrame(p, (f) => roundCornerFrame(f, effect.rx, effect.ry, colour));
    }
  }
}
