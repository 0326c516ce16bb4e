/**
 * Scenario 1: a 2725x2225 photo-like JPEG (about 1.2 MB) from the nginx origin resized to 720x588 JPEG q80,
 * 8 connections, every request distinct (a query varied inside the source URL, which the origin ignores) so
 * neither single-flight nor any cache can serve one; no result storage. Against the same sharp operation in
 * process (the ceiling) and against ipx, the peer, fetching from the same origin.
 */
import { originUrl, ratio, PLAIN_NAME, systemName, type BenchContext, type Entry, type ScenarioResult } from '../context.js';
import type { CeilingResult } from '../ceiling.js';
import { startIpx, ipxSharpModule } from '../ipx.js';
import { runCeilingProcess } from '../run-ceiling.js';
import { cpuMeter } from '../tools.js';
import { runWrk, type Measurement } from '../wrk.js';

const CONNECTIONS = 8;

export const imagorResizePath = (ctx: BenchContext): string =>
  `/unsafe/720x588/filters:quality(80):format(jpeg)/${originUrl(ctx, ctx.images.photo)}%3Fv%3D`;

export function wrkEntry(scenario: string, system: string, detail: string, m: Measurement & { cpuMs?: number }, extra?: Entry['extra']): Entry {
  return {
    scenario, system, detail, rps: m.rps, p50Ms: m.p50Ms, p99Ms: m.p99Ms, requests: m.requests, errors: m.errors, seconds: m.seconds,
    ...(m.cpuMs !== undefined && m.requests > 0 && { cpuMsPerRequest: m.cpuMs / m.requests }),
    ...(extra && { extra }),
  };
}

export function ceilingEntry(scenario: string, detail: string, r: CeilingResult, system = 'in-process sharp'): Entry {
  return {
    scenario,
    system,
    detail,
    rps: r.rps,
    p50Ms: r.p50Ms,
    p99Ms: r.p99Ms,
    requests: r.ops,
    errors: 0,
    seconds: r.seconds,
    cpuMsPerRequest: r.cpuMsPerOp,
    extra: { sharp: r.sharp, vips: r.vips, outputBytes: r.outputBytes },
  };
}

/**
 * A short unmeasured run first, so JIT, pools and libvips are warm; then the measured one, with the CPU time the
 * server's processes (`meterPid` and its children) used during it.
 */
export async function warmThenMeasure(
  ctx: BenchContext,
  run: Omit<Parameters<typeof runWrk>[0], 'wrk' | 'workDir' | 'seconds'>,
  seconds: number,
  meterPid?: number,
): Promise<Measurement & { cpuMs?: number }> {
  await runWrk({ ...run, wrk: ctx.wrk, workDir: ctx.workDir, seconds: Math.max(2, Math.round(seconds / 5)) });
  const meter = meterPid !== undefined ? cpuMeter(meterPid) : undefined;
  const m = await runWrk({ ...run, wrk: ctx.wrk, workDir: ctx.workDir, seconds });
  return meter ? { ...m, cpuMs: meter() } : m;
}

export async function runProcessing(ctx: BenchContext): Promise<ScenarioResult & { bestVipsConcurrency: number | undefined }> {
  const seconds = ctx.seconds(20);
  const entries: Entry[] = [];
  const notes: string[] = [];
  const ok = (s: number) => s === 200;

  const pixgate: Record<number, Measurement> = {};
  for (const workers of ctx.workerCounts) {
    const { child, port } = await ctx.pixgate({ name: `s1-w${workers}`, workers });
    try {
      ctx.log(`  ${systemName(workers)}: ${CONNECTIONS} connections, ${seconds} s`);
      const m = await warmThenMeasure(ctx, { origin: `http://127.0.0.1:${port}`, path: imagorResizePath(ctx), vary: true, connections: CONNECTIONS, expectStatus: ok }, seconds, child.pid);
      pixgate[workers] = m;
      entries.push(wrkEntry('1', systemName(workers), `${CONNECTIONS} connections, default settings${workers > 1 ? `, --workers ${workers}` : ''}`, m, { bytesPerResponse: m.bytesPerResponse }));
    } finally {
      await child.stop();
    }
  }

  let plain: Measurement | undefined;
  {
    const { child, port } = await ctx.pixgate({ name: 's1-plain', plainNode: true });
    try {
      ctx.log(`  ${PLAIN_NAME}: ${CONNECTIONS} connections, ${seconds} s`);
      plain = await warmThenMeasure(ctx, { origin: `http://127.0.0.1:${port}`, path: imagorResizePath(ctx), vary: true, connections: CONNECTIONS, expectStatus: ok }, seconds, child.pid);
      entries.push(wrkEntry('1', PLAIN_NAME, `${CONNECTIONS} connections, default settings, node without ${ctx.shippedNodeArgs.join(' ')}`, plain, { bytesPerResponse: plain.bytesPerResponse }));
    } finally {
      await child.stop();
    }
  }

  const ipxPort = await ctx.port();
  const ipx = await startIpx(ctx, ipxPort);
  let ipxM: Measurement;
  try {
    ctx.log(`  ipx: ${CONNECTIONS} connections, ${seconds} s`);
    ipxM = await warmThenMeasure(
      ctx,
      { origin: `http://127.0.0.1:${ipxPort}`, path: `/s_720x588,q_80,f_jpeg/${originUrl(ctx, ctx.images.photo)}%3Fv%3D`, vary: true, connections: CONNECTIONS, expectStatus: ok },
      seconds,
      ipx.pid,
    );
    entries.push(wrkEntry('1', 'ipx', `${CONNECTIONS} connections, ipx serve defaults (progressive JPEG, HEAD + GET to the origin)`, ipxM, { bytesPerResponse: ipxM.bytesPerResponse }));
  } finally {
    await ipx.stop();
  }

  // The ceiling is the best of libvips' thread settings: one thread per operation (pixgate's VIPS_CONCURRENCY
  // default) and sharp's default (one per core).
  const ceilings: { threads: number | undefined; r: CeilingResult }[] = [];
  for (const threads of [1, undefined]) {
    ctx.log(`  in-process sharp: 4 in flight, sharp.concurrency(${threads ?? 'default'}), ${seconds} s`);
    const r = await runCeilingProcess(ctx.root, { input: ctx.images.photo, op: 'jpeg-720x588', inFlight: 4, durationMs: seconds * 1000, warmupMs: 2000, ...(threads ? { vipsConcurrency: threads } : {}) });
    ceilings.push({ threads, r });
    entries.push(ceilingEntry('1', `4 in flight, buffer to buffer, sharp.concurrency(${threads ?? 'default = cores'})`, r, `in-process sharp${threads ? ' (1 thread/op)' : ''}`));
  }
  const best = ceilings.reduce((a, b) => (b.r.rps > a.r.rps ? b : a));

  // Calibration: the same ceiling with ipx's own sharp, so the peer ratio can be read apart from libvips versions.
  const ipxSharp = ipxSharpModule(ctx.root);
  if (ipxSharp) {
    const r = await runCeilingProcess(ctx.root, {
      input: ctx.images.photo, op: 'jpeg-720x588', inFlight: 4, durationMs: Math.max(2, Math.round(seconds / 2)) * 1000, warmupMs: 1000,
      sharpModule: ipxSharp, ...(best.threads ? { vipsConcurrency: best.threads } : {}),
    });
    entries.push(ceilingEntry('1', `calibration: the ceiling run with ipx's own sharp ${r.sharp} / libvips ${r.vips}`, r, "in-process sharp (ipx's copy)"));
    notes.push(`ipx runs its own sharp ${r.sharp} (libvips ${r.vips}); with it the in-process ceiling is ${r.rps.toFixed(1)} req/s against ${best.r.rps.toFixed(1)} with pixgate's.`);
  }

  const ratios = [];
  const headline = pixgate[1]!;
  ratios.push(ratio({ scenario: '1', name: 'pixgate / in-process sharp', value: headline.rps / best.r.rps, target: 0.9, kind: 'ceiling' }));
  ratios.push(ratio({ scenario: '1', name: 'pixgate / ipx', value: headline.rps / ipxM.rps, target: 1.4, kind: 'peer' }));
  ratios.push(ratio({ scenario: '1', name: `${PLAIN_NAME} / in-process sharp`, value: plain.rps / best.r.rps, target: 0.9, kind: 'ceiling' }));
  for (const w of ctx.workerCounts.filter((w) => w > 1)) {
    ratios.push(ratio({ scenario: '1', name: `pixgate --workers ${w} / in-process sharp`, value: pixgate[w]!.rps / best.r.rps, target: 0.9, kind: 'ceiling' }));
  }
  return {
    id: '1',
    title: 'Processing: 2725x2225 JPEG (1.2 MB) to 720x588 JPEG q80 from an HTTP origin, 8 connections',
    entries,
    ratios,
    notes,
    bestVipsConcurrency: best.threads,
  };
}
