/**
 * Scenario 5: refusing a bomb. The origin serves a PNG whose header claims 16000x16000 and a JPEG whose header
 * claims 65535x65535; one connection sends sequential requests (each distinct) and the time to the refusal is
 * read from wrk's latency distribution (median and p99). Target: under 50 ms each.
 */
import { originUrl, ratio, type BenchContext, type Entry, type Ratio, type ScenarioResult } from '../context.js';
import { runWrk } from '../wrk.js';
import { wrkEntry } from './processing.js';

const LIMIT_MS = 50;

export async function runBombs(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.seconds(5);
  const entries: Entry[] = [];
  const ratios: Ratio[] = [];
  const { child, port } = await ctx.pixgate({ name: 's5' });
  try {
    for (const [name, file] of [
      ['16000x16000 PNG header', ctx.images.bombPng],
      ['65535x65535 JPEG header', ctx.images.bombJpeg],
    ] as const) {
      const run = {
        wrk: ctx.wrk, workDir: ctx.workDir, origin: `http://127.0.0.1:${port}`,
        path: `/unsafe/720x588/${originUrl(ctx, file)}%3Fv%3D`, vary: true, connections: 1,
        // Refused as too many pixels: imagor's 422 (400 would be a parse failure, so it is not accepted).
        expectStatus: (s: number) => s === 422,
      };
      await runWrk({ ...run, seconds: 1 });
      ctx.log(`  pixgate ${name}: 1 connection, sequential, ${seconds} s`);
      const m = await runWrk({ ...run, seconds });
      entries.push(wrkEntry('5', `pixgate: ${name}`, `1 connection, sequential requests, answered ${Object.keys(m.statuses).join('/')}`, m, { statuses: JSON.stringify(m.statuses) }));
      ratios.push(ratio({ scenario: '5', name: `refusal of a ${name} (50 ms / median)`, value: LIMIT_MS / m.p50Ms, target: 1, kind: 'limit', measured: `${m.p50Ms.toFixed(2)} ms median, ${m.p99Ms.toFixed(2)} ms p99` }));
    }
  } finally {
    await child.stop();
  }
  return { id: '5', title: 'Refusing a bomb: time to reject an over-sized header', entries, ratios, notes: [] };
}
