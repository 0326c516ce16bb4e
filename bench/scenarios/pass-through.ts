/**
 * Scenario 3: camo pass-through of a 53 KB JPEG, 16 connections, against nginx proxy_pass with upstream
 * keep-alive to the same origin (the ceiling for a proxy). One signed camo URL, as a page would embed it;
 * camo has no cache or single-flight, so every request goes to the origin.
 */
import { originUrl, ratio, systemName, type BenchContext, type Entry, type Ratio, type ScenarioResult } from '../context.js';
import { CAMO_KEY } from '../pixgate.js';
import { formatCamoUrl, signCamoUrl } from '../../src/verify/camo-digest.js';
import { nodeMac } from '../../src/verify/node-mac.js';
import { warmThenMeasure, wrkEntry } from './processing.js';

const CONNECTIONS = 16;
export const HIGH_RATE_THREADS = 2;

export async function runPassThrough(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.seconds(15);
  const entries: Entry[] = [];
  const source = originUrl(ctx, ctx.images.small);
  const camoPath = formatCamoUrl('', signCamoUrl(source, CAMO_KEY, 'hex', nodeMac));
  const rps: Record<string, number> = {};

  for (const workers of ctx.workerCounts) {
    const { child, port } = await ctx.pixgate({ name: `s3-w${workers}`, workers });
    try {
      ctx.log(`  ${systemName(workers)}: ${CONNECTIONS} connections, ${seconds} s`);
      const m = await warmThenMeasure(ctx, { origin: `http://127.0.0.1:${port}`, path: camoPath, connections: CONNECTIONS, threads: HIGH_RATE_THREADS }, seconds, child.pid);
      rps[systemName(workers)] = m.rps;
      entries.push(wrkEntry('3', systemName(workers), `${CONNECTIONS} connections, camo URL (hex digest)`, m, { bytesPerResponse: m.bytesPerResponse }));
    } finally {
      await child.stop();
    }
  }
  ctx.log(`  nginx proxy_pass: ${CONNECTIONS} connections, ${seconds} s`);
  const n = await warmThenMeasure(
    ctx,
    { origin: `http://127.0.0.1:${ctx.ports.proxy}`, path: `/${ctx.images.small.replace(/^.*\//, '')}`, connections: CONNECTIONS, threads: HIGH_RATE_THREADS },
    seconds,
    ctx.nginxCeilingsPid,
  );
  entries.push(wrkEntry('3', 'nginx proxy_pass', `${CONNECTIONS} connections, upstream keepalive 64, worker_processes auto`, n, { bytesPerResponse: n.bytesPerResponse }));

  const ratios: Ratio[] = Object.entries(rps).map(([system, v]) =>
    ratio({ scenario: '3', name: `${system} / nginx proxy_pass`, value: v / n.rps, target: 0.6, kind: 'ceiling' }),
  );
  return { id: '3', title: 'Pass-through: camo proxying of a 53 KB JPEG, 16 connections', entries, ratios, notes: [] };
}
