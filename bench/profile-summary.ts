/**
 * Summarises a V8 CPU profile (node --cpu-prof) as text: self time by package or pixgate folder, the hottest
 * functions by self time, and the heaviest by inclusive time. Used to find what limits pixgate in a scenario:
 *   node --import tsx bench/profile-summary.ts [--from SECONDS] bench/results/tmp/profiles/s3-w1/*.cpuprofile
 * `--from` drops the samples of the first seconds (startup and module loading).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

/** Where a frame's code lives: a package, a Node internal module, a pixgate folder, or V8's own buckets. */
export function categoryOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return url.replace(/^node:(internal\/)?/, 'node:').split('/').slice(0, 2).join('/');
  const ours = /\/(?:dist|src)\/([^/]+)\//.exec(url);
  if (ours) return `pixgate/${ours[1]}`;
  const file = /\/(?:dist|src)\/([^/]+)\.[jt]s$/.exec(url);
  return file ? `pixgate/${file[1]}` : url.replace(/^.*\//, '');
}

export function summarise(profile: CpuProfile, top = 25, fromSeconds = 0): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let clock = 0;
  profile.samples.forEach((id, i) => {
    clock += profile.timeDeltas[i] ?? 0;
    if (clock >= fromSeconds * 1e6) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self.entries()].filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const busy = total - idle;

  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|dist|src)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;

  const cats = new Map<string, number>();
  const fnSelf = new Map<string, number>();
  const fnIncl = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id)!;
    if (n.callFrame.functionName === '(idle)') continue;
    const cat = categoryOf(n.callFrame.url, n.callFrame.functionName);
    cats.set(cat, (cats.get(cat) ?? 0) + t);
    fnSelf.set(label(n), (fnSelf.get(label(n)) ?? 0) + t);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const l = label(byId.get(cur)!);
      if (seen.has(l)) continue;
      seen.add(l);
      fnIncl.set(l, (fnIncl.get(l) ?? 0) + t);
    }
  }
  const pct = (t: number) => `${((100 * t) / busy).toFixed(1).padStart(5)}%`;
  const table = (m: Map<string, number>, n: number) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, t]) => `  ${pct(t)}  ${(t / 1000).toFixed(0).padStart(7)} ms  ${k}`).join('\n');
  return [
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s${fromSeconds ? ` (from ${fromSeconds} s)` : ''}, main thread busy ${(busy / 1000).toFixed(0)} ms (${((100 * busy) / total).toFixed(0)}%), idle ${(idle / 1000).toFixed(0)} ms`,
    'self time by package / folder (% of busy):',
    table(cats, 30),
    `top ${top} functions by self time:`,
    table(fnSelf, top),
    `top ${top} functions by inclusive time:`,
    table(
      new Map([...fnIncl.entries()].filter(([k]) => !k.startsWith('(root)'))),
      top,
    ),
  ].join('\n');
}

if (process.argv[1]?.endsWith('profile-summary.ts')) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--from');
  const from = at >= 0 ? Number(args.splice(at, 2)[1]) : 0;
  for (const file of args) {
    process.stdout.write(`== ${file}\n${summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, 25, from)}\n`);
  }
}
