/**
 * The bench's test images, made deterministically from a seed: "photo-like" JPEGs (smooth multi-octave value
 * noise over colour gradients, plus grain, so they compress like a photograph and not like a flat test card),
 * and the two bomb headers. Never reads a file or the network; the same sharp build gives the same bytes.
 */
import sharp from 'sharp';

/** mulberry32: a small seeded PRNG, so every run draws the same pixels. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One octave of value noise: a lattice of random values every `cell` pixels, smoothly interpolated. */
function octave(width: number, height: number, cell: number, next: () => number): (x: number, y: number) => number {
  const cols = Math.ceil(width / cell) + 2;
  const rows = Math.ceil(height / cell) + 2;
  const lattice = new Float32Array(cols * rows);
  for (let i = 0; i < lattice.length; i++) lattice[i] = next() * 2 - 1;
  return (x, y) => {
    const gx = x / cell;
    const gy = y / cell;
    const ix = gx | 0;
    const iy = gy | 0;
    const fx = gx - ix;
    const fy = gy - iy;
    const sx = fx * fx * (3 - 2 * fx);
    const sy = fy * fy * (3 - 2 * fy);
    const i = iy * cols + ix;
    const top = lattice[i]! + (lattice[i + 1]! - lattice[i]!) * sx;
    const bottom = lattice[i + cols]! + (lattice[i + cols + 1]! - lattice[i + cols]!) * sx;
    return top + (bottom - top) * sy;
  };
}

export interface PhotoOptions {
  readonly width: number;
  readonly height: number;
  readonly seed: number;
  /** Per-pixel grain amplitude (0-255 scale): the main knob for the compressed size. */
  readonly grain: number;
  readonly quality: number;
}

/** Raw RGB pixels of a photo-like scene. */
export function photoPixels(o: Omit<PhotoOptions, 'quality'>): Buffer {
  const next = rng(o.seed);
  const { width, height } = o;
  // Large shapes, mid detail and fine texture; each channel gets its own noise so colours drift as in a scene.
  const scales = [
    [Math.max(width, height) / 3, 70],
    [160, 34],
    [40, 16],
    [9, 8],
  ] as const;
  const channels = [0, 1, 2].map(() => scales.map(([cell, amp]) => ({ f: octave(width, height, cell, next), amp })));
  const shared = scales.map(([cell, amp]) => ({ f: octave(width, height, cell, next), amp }));
  const base = [
    [70, 120, 180], // sky-ish top-left
    [200, 150, 90], // warm bottom-right
  ] as const;
  // Hard-edged shapes (discs and slabs) give the edges a photograph has and value noise lacks.
  const shapes = new Int16Array(width * height * 3);
  for (let n = 0; n < 60; n++) {
    const cx = next() * width;
    const cy = next() * height;
    const r = (0.02 + next() * 0.12) * Math.min(width, height);
    const disc = next() < 0.5;
    const shift = [0, 1, 2].map(() => Math.round((next() * 2 - 1) * 60));
    const x0 = Math.max(0, Math.floor(cx - r));
    const x1 = Math.min(width - 1, Math.ceil(cx + r));
    const y0 = Math.max(0, Math.floor(cy - (disc ? r : r / 3)));
    const y1 = Math.min(height - 1, Math.ceil(cy + (disc ? r : r / 3)));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        if (disc && (x - cx) ** 2 + (y - cy) ** 2 > r * r) continue;
        const i = (y * width + x) * 3;
        for (let c = 0; c < 3; c++) shapes[i + c] = shift[c]!;
      }
    }
  }
  const px = Buffer.alloc(width * height * 3);
  let grainState = (o.seed * 2654435761) >>> 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = (x / width + y / height) / 2;
      let light = 0;
      for (const s of shared) light += s.f(x, y) * s.amp;
      for (let c = 0; c < 3; c++) {
        let v = base[0][c]! * (1 - t) + base[1][c]! * t + light + shapes[(y * width + x) * 3 + c]!;
        for (const s of channels[c]!) v += s.f(x, y) * s.amp * 0.5;
        // xorshift grain: cheaper than the float PRNG for 18 million samples.
        grainState ^= grainState << 13;
        grainState ^= grainState >>> 17;
        grainState ^= grainState << 5;
        v += (((grainState >>> 0) / 4294967296) * 2 - 1) * o.grain;
        px[(y * width + x) * 3 + c] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return px;
}

export async function makePhotoJpeg(o: PhotoOptions): Promise<Buffer> {
  return sharp(photoPixels(o), { raw: { width: o.width, height: o.height, channels: 3 } })
    .jpeg({ quality: o.quality, chromaSubsampling: '4:2:0' })
    .toBuffer();
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A PNG whose IHDR claims width x height (8-bit RGB) followed by a token of zlib data: a decompression bomb's header. */
export function pngBombHeader(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  // An empty stored zlib block stands in for the compressed scanlines: never reached when the header is refused.
  const idat = Buffer.from([0x78, 0x01, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A baseline JPEG header (SOI, DQT, SOF0, DHT, SOS) claiming width x height, with a few bytes of scan data. */
export function jpegBombHeader(width: number, height: number): Buffer {
  const seg = (marker: number, body: number[]): number[] => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body];
  const dqt = seg(0xdb, [0x00, ...new Array<number>(64).fill(1)]);
  const sof = seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  // One DC table with a single 1-bit code, one AC table likewise: enough for a decoder to start.
  const dht = seg(0xc4, [0x00, 1, ...new Array<number>(15).fill(0), 0, 0x10, 1, ...new Array<number>(15).fill(0), 0]);
  const sos = seg(0xda, [1, 1, 0x00, 0, 63, 0]);
  return Buffer.from([0xff, 0xd8, ...dqt, ...sof, ...dht, ...sos, 0x00, 0x00, 0x00, 0x00, 0xff, 0xd9]);
}
