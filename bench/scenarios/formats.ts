/**
 * Scenario 2, imgproxy's published harness shape: fit-in 512x512 of a 2040-pixel-wide image to JPEG q80, PNG,
 * WebP q75 and AVIF q65, 2 connections, each request distinct; against the same sharp operation in process
 * (pixgate's encoder settings: baseline 4:2:0 JPEG, WebP effort 4, AVIF effort 1 from VIPS_AVIF_SPEED=8, 4:2:0),
 * the better of 4 and 2 operations in flight.
 */
import type { CeilingOp } from '../ceiling.js';
import { originUrl, ratio, type BenchContext, type Entry, type Ratio, type ScenarioResult } from '../context.js';
import { runCeilingProcess } from '../run-ceiling.js';
import { ceilingEntry, warmThenMeasure, wrkEntry } from './processing.js';

const CONNECTIONS = 2;
const FORMATS: readonly { name: string; filters: string; op: CeilingOp }[] = [
  { name: 'JPEG q80', filters: 'format(jpeg):quality(80)', op: 'fitin512-jpeg' },
  { name: 'PNG', filters: 'format(png)', op: 'fitin512-png' },
  { name: 'WebP q75', filters: 'format(webp):quality(75)', op: 'fitin512-webp' },
  { name: 'AVIF q65', filters: 'format(avif):quality(65)', op: 'fitin512-avif' },
];

export async function runFormats(ctx: BenchContext, vipsConcurrency: number | undefined): Promise<ScenarioResult> {
  const seconds = ctx.seconds(12);
  const entries: Entry[] = [];
  const ratios: Ratio[] = [];
  const { child, port } = await ctx.pixgate({ name: 's2' });
  const measured: Record<string, Entry> = {};
  try {
    for (const f of FORMATS) {
      ctx.log(`  pixgate ${f.name}: ${CONNECTIONS} connections, ${seconds} s`);
      const m = await warmThenMeasure(
        ctx,
        {
          origin: `http://127.0.0.1:${port}`,
          path: `/unsafe/fit-in/512x512/filters:${f.filters}/${originUrl(ctx, ctx.images.wide)}%3Fv%3D`,
          vary: true,
          connections: CONNECTIONS,
          expectStatus: (s) => s === 200,
        },
        seconds,
        child.pid,
      );
      measured[f.name] = wrkEntry('2', `pixgate ${f.name}`, `${CONNECTIONS} connections, default settings`, m, { bytesPerResponse: m.bytesPerResponse });
    }
  } finally {
    await child.stop();
  }
  for (const f of FORMATS) {
    // The ceiling is the better of 4 in flight (scenario 1's) and 2 (this scenario's connection count).
    let best: { rps: number } | undefined;
    const p = measured[f.name]!;
    entries.push(p);
    for (const inFlight of [4, 2]) {
      ctx.log(`  in-process sharp ${f.name}: ${inFlight} in flight, ${seconds} s`);
      const r = await runCeilingProcess(ctx.root, {
        input: ctx.images.wide, op: f.op, inFlight, durationMs: seconds * 1000, warmupMs: 1500,
        ...(vipsConcurrency ? { vipsConcurrency } : {}),
      });
      entries.push(ceilingEntry('2', `${inFlight} in flight, sharp.concurrency(${vipsConcurrency ?? 'default'})`, r, `in-process sharp ${f.name}, ${inFlight} in flight`));
      if (!best || r.rps > best.rps) best = r;
    }
    ratios.push(ratio({ scenario: '2', name: `pixgate / in-process sharp, ${f.name}`, value: p.rps / best!.rps, target: 0.9, kind: 'ceiling' }));
  }
  return {
    id: '2',
    title: "imgproxy's harness shape: fit-in 512x512 of a 2040x1360 JPEG to JPEG, PNG, WebP, AVIF, 2 connections",
    entries,
    ratios,
    notes: [],
  };
}
