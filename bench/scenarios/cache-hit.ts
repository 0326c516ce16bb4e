/**
 * Scenario 4: a result-cache hit. pixgate with file result storage, warmed with one request, then the same URL
 * over and over; against nginx serving the very bytes pixgate stored as a static file. 16 connections.
 */
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { originUrl, ratio, systemName, type BenchContext, type Entry, type Ratio, type ScenarioResult } from '../context.js';
import { httpStatus, sleep } from '../tools.js';
import { HIGH_RATE_THREADS } from './pass-through.js';
import { warmThenMeasure, wrkEntry } from './processing.js';

const CONNECTIONS = 16;

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

export async function runCacheHit(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.seconds(15);
  const entries: Entry[] = [];
  const notes: string[] = [];
  const path = `/unsafe/720x588/filters:quality(80):format(jpeg)/${originUrl(ctx, ctx.images.photo)}`;
  const rps: Record<string, number> = {};
  let staticFile: string | undefined;

  for (const workers of ctx.workerCounts) {
    const resultDir = join(ctx.workDir, `results-w${workers}`);
    mkdirSync(resultDir, { recursive: true });
    const { child, port } = await ctx.pixgate({ name: `s4-w${workers}`, workers, env: { FILE_RESULT_STORAGE_BASE_DIR: resultDir } });
    try {
      const status = await httpStatus(`http://127.0.0.1:${port}${path}`, 30_000);
      if (status !== 200) throw new Error(`warming request answered ${status}`);
      // The result is written after the response; wait for it to land.
      for (let i = 0; i < 100 && filesUnder(resultDir).length === 0; i++) await sleep(50);
      const stored = filesUnder(resultDir);
      if (stored.length !== 1) throw new Error(`expected one stored result, found ${stored.length}`);
      if (!staticFile) {
        staticFile = join(ctx.staticRoot, 'hit.jpg');
        copyFileSync(stored[0]!, staticFile);
      }
      ctx.log(`  ${systemName(workers)} (result storage hit): ${CONNECTIONS} connections, ${seconds} s`);
      const m = await warmThenMeasure(ctx, { origin: `http://127.0.0.1:${port}`, path, connections: CONNECTIONS, threads: HIGH_RATE_THREADS }, seconds, child.pid);
      rps[systemName(workers)] = m.rps;
      entries.push(wrkEntry('4', systemName(workers), `${CONNECTIONS} connections, FILE_RESULT_STORAGE_BASE_DIR set, same URL`, m, { bytesPerResponse: m.bytesPerResponse }));
    } finally {
      await child.stop();
    }
  }
  ctx.log(`  nginx static: ${CONNECTIONS} connections, ${seconds} s`);
  const n = await warmThenMeasure(ctx, { origin: `http://127.0.0.1:${ctx.ports.static}`, path: '/hit.jpg', connections: CONNECTIONS, threads: HIGH_RATE_THREADS }, seconds, ctx.nginxCeilingsPid);
  entries.push(wrkEntry('4', 'nginx static', `${CONNECTIONS} connections, sendfile, worker_processes auto`, n, { bytesPerResponse: n.bytesPerResponse }));
  const ratios: Ratio[] = Object.entries(rps).map(([system, v]) =>
    ratio({ scenario: '4', name: `${system} / nginx static`, value: v / n.rps, target: 0.4, kind: 'ceiling' }),
  );
  return { id: '4', title: 'Result-cache hit (file result storage) of the 720x588 result, 16 connections', entries, ratios, notes };
}
