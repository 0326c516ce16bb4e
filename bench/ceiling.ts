/**
 * The in-process ceiling: the same sharp operation pixgate performs, buffer to buffer, with a fixed number in
 * flight for a fixed time, in a process of its own (no HTTP, no loader, no queue). Run as
 * `node --import tsx bench/ceiling.ts '<json CeilingJob>'`; prints one JSON line (CeilingResult) on stdout.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type sharpModule from 'sharp';
import type { Sharp } from 'sharp';

/** The operations the scenarios compare with, written as pixgate's executor writes them (process/execute.ts). */
export const CEILING_OPS = {
  // Scenario 1: imagor 720x588 (fit cover), JPEG q80 baseline 4:2:0.
  'jpeg-720x588': (s: Sharp) => s.resize(720, 588).jpeg({ quality: 80, chromaSubsampling: '4:2:0' }),
  // Scenario 2: imagor fit-in/512x512 with imgproxy's harness qualities and pixgate's encoder defaults.
  'fitin512-jpeg': (s: Sharp) => s.resize(512, 512, { fit: 'inside' }).jpeg({ quality: 80, chromaSubsampling: '4:2:0' }),
  'fitin512-png': (s: Sharp) => s.resize(512, 512, { fit: 'inside' }).png(),
  'fitin512-webp': (s: Sharp) => s.resize(512, 512, { fit: 'inside' }).webp({ quality: 75, effort: 4 }),
  'fitin512-avif': (s: Sharp) => s.resize(512, 512, { fit: 'inside' }).avif({ quality: 65, effort: 1, chromaSubsampling: '4:2:0' }),
} as const;

export type CeilingOp = keyof typeof CEILING_OPS;

export interface CeilingJob {
  readonly input: string;
  readonly op: CeilingOp;
  readonly inFlight: number;
  readonly durationMs: number;
  readonly warmupMs: number;
  /** sharp.concurrency(n): libvips threads per operation; undefined keeps sharp's default (the number of cores). */
  readonly vipsConcurrency?: number;
  /** Path of another sharp install to measure with (ipx's own copy), for calibration. */
  readonly sharpModule?: string;
}

export interface CeilingResult {
  readonly ops: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly outputBytes: number;
  /** CPU time of the whole process (every libvips and libuv thread) per operation. */
  readonly cpuMsPerOp: number;
  readonly sharp: string;
  readonly vips: string;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function runCeiling(job: CeilingJob): Promise<CeilingResult> {
  const require = createRequire(import.meta.url);
  const sharp = require(job.sharpModule ?? 'sharp') as typeof sharpModule;
  if (job.vipsConcurrency !== undefined) sharp.concurrency(job.vipsConcurrency);
  // As pixgate (VIPS_MAX_CACHE_MEM=0): no libvips operation cache, so no run is served from a cached result.
  sharp.cache(false);
  const input = readFileSync(job.input);
  const op = CEILING_OPS[job.op];
  let outputBytes = 0;
  const once = async () => {
    const out = await op(sharp(input)).toBuffer();
    outputBytes = out.length;
  };

  const loop = async (until: number, latencies: number[] | undefined) => {
    while (performance.now() < until) {
      const t = performance.now();
      await once();
      latencies?.push(performance.now() - t);
    }
  };
  const warmEnd = performance.now() + job.warmupMs;
  await Promise.all(Array.from({ length: job.inFlight }, () => loop(warmEnd, undefined)));

  const latencies: number[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  const end = start + job.durationMs;
  await Promise.all(Array.from({ length: job.inFlight }, () => loop(end, latencies)));
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  return {
    ops: latencies.length,
    seconds,
    rps: latencies.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    outputBytes,
    cpuMsPerOp: (used.user + used.system) / 1000 / Math.max(1, latencies.length),
    sharp: sharp.versions.sharp ?? '',
    vips: sharp.versions.vips,
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  const job = JSON.parse(process.argv[2] ?? '{}') as CeilingJob;
  runCeiling(job).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (err: unknown) => {
      process.stderr.write(`ceiling: ${(err as Error)?.stack ?? err}\n`);
      process.exit(1);
    },
  );
}
