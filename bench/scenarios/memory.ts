/**
 * Scenario 6: memory. A fresh pixgate under scenario 1's load at 32 connections; peak RSS is the larger of the
 * highest sampled resident set (all pixgate processes together, every 100 ms) and VmHWM (the kernel's own peak,
 * per process, summed over a cluster). Target: under 400 MB.
 */
import { ratio, PLAIN_NAME, systemName, type BenchContext, type Entry, type Ratio, type ScenarioResult } from '../context.js';
import { childPids, memoryOf } from '../tools.js';
import { imagorResizePath, warmThenMeasure, wrkEntry } from './processing.js';

const CONNECTIONS = 32;
const LIMIT_BYTES = 400 * 1024 * 1024;
const MB = 1024 * 1024;

export async function runMemory(ctx: BenchContext): Promise<ScenarioResult> {
  const seconds = ctx.seconds(20);
  const entries: Entry[] = [];
  const ratios: Ratio[] = [];
  const configs = [
    ...ctx.workerCounts.map((workers) => ({ name: systemName(workers), workers, plainNode: false })),
    { name: PLAIN_NAME, workers: 1, plainNode: true },
  ];
  for (const { name, workers, plainNode } of configs) {
    const { child, port } = await ctx.pixgate({ name: `s6-${name.replace(/\W+/g, '-')}`, workers, plainNode });
    const pids = () => [child.pid, ...childPids(child.pid)];
    let peakSampled = 0;
    const timer = setInterval(() => {
      const total = pids().reduce((sum, pid) => sum + (memoryOf(pid)?.rss ?? 0), 0);
      peakSampled = Math.max(peakSampled, total);
    }, 100);
    try {
      const idle = pids().reduce((sum, pid) => sum + (memoryOf(pid)?.rss ?? 0), 0);
      ctx.log(`  ${name}: ${CONNECTIONS} connections, ${seconds} s, sampling RSS`);
      const m = await warmThenMeasure(ctx, { origin: `http://127.0.0.1:${port}`, path: imagorResizePath(ctx), vary: true, connections: CONNECTIONS, expectStatus: (s) => s === 200 }, seconds, child.pid);
      const hwm = pids().reduce((sum, pid) => sum + (memoryOf(pid)?.hwm ?? 0), 0);
      const peak = Math.max(hwm, peakSampled);
      entries.push(
        wrkEntry('6', name, `${CONNECTIONS} connections, scenario 1 load`, m, {
          peakRssMB: Math.round(peak / MB),
          vmHwmMB: Math.round(hwm / MB),
          sampledPeakMB: Math.round(peakSampled / MB),
          idleRssMB: Math.round(idle / MB),
          processes: pids().length,
        }),
      );
      ratios.push(ratio({ scenario: '6', name: `peak RSS of ${name} (400 MB / peak)`, value: LIMIT_BYTES / peak, target: 1, kind: 'limit', measured: `${Math.round(peak / MB)} MB` }));
    } finally {
      clearInterval(timer);
      await child.stop();
    }
  }
  return { id: '6', title: 'Memory: peak RSS during scenario 1 at 32 connections', entries, ratios, notes: [] };
}
