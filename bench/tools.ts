/**
 * What the bench needs from the machine: wrk and nginx (installed with apt-get when absent), free loopback
 * ports, child processes that are always stopped, HTTP readiness checks and the machine's description. Sends
 * nothing anywhere but 127.0.0.1.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';

export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin', '/usr/local/sbin'])) {
    if (dir && existsSync(`${dir}/${cmd}`)) return `${dir}/${cmd}`;
  }
  return undefined;
}

/** wrk and nginx from the distribution's packages, installed once if missing (root or sudo needed). */
export function ensureTools(log: (line: string) => void): { wrk: string; nginx: string } {
  const missing = ['wrk', 'nginx'].filter((c) => !which(c));
  if (missing.length > 0) {
    log(`installing ${missing.join(' and ')} with apt-get`);
    const asRoot = process.getuid?.() === 0;
    const run = (args: string[]) => {
      const [cmd, ...rest] = asRoot ? args : ['sudo', '-n', ...args];
      execFileSync(cmd!, rest, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    };
    run(['apt-get', 'update']);
    run(['apt-get', 'install', '-y', 'wrk', 'nginx']);
  }
  const wrk = which('wrk');
  const nginx = which('nginx');
  if (!wrk || !nginx) throw new Error('wrk and nginx are needed: apt-get install -y wrk nginx');
  return { wrk, nginx };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Child {
  readonly proc: ChildProcess;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  readonly exited: Promise<number | null>;
}

const running = new Set<Child>();

/**
 * Starts a child whose output goes straight to `logFile` (a file descriptor, not a pipe through this process,
 * so logging costs the child what it would cost in production and nothing here); stopped by `stopAll`.
 */
export function startChild(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; logFile: string; cwd?: string }): Child {
  const fd = openSync(opts.logFile, 'a');
  const proc = spawn(cmd, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const child: Child = {
    proc,
    pid: proc.pid!,
    exited,
    async stop(graceMs = 5000) {
      running.delete(child);
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  running.add(child);
  return child;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((c) => c.stop(2000)));
}

export function httpStatus(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls `url` until it answers (any status), or fails after `timeoutMs` or when `child` exits first. */
export async function waitForHttp(url: string, timeoutMs: number, child?: Child): Promise<void> {
  const end = Date.now() + timeoutMs;
  let dead = false;
  void child?.exited.then(() => (dead = true));
  for (;;) {
    if (dead) throw new Error(`process for ${url} exited during startup`);
    try {
      await httpStatus(url, 1000);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** VmHWM (peak resident set) and VmRSS of a process in bytes, from /proc; undefined once it is gone. */
export function memoryOf(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat; 0 once gone. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces), counted from field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** A process and its descendants (a cluster primary and its workers; nginx's master and workers). */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...childPids(out[i]!));
  return out;
}

/** Starts counting CPU time over a process tree; the returned function gives the milliseconds used since. */
export function cpuMeter(pid: number): () => number {
  const at = new Map(processTree(pid).map((p) => [p, cpuMsOf(p)]));
  return () => processTree(pid).reduce((sum, p) => sum + cpuMsOf(p) - (at.get(p) ?? 0), 0);
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Direct children of a process (the workers of a cluster primary). */
export function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface LoadSnapshot {
  readonly loadavg1: number;
  /** Other test runs seen in `ps` (node --test): the signal that the numbers are noisy. */
  readonly testRuns: number;
}

export function loadSnapshot(): LoadSnapshot {
  let testRuns = 0;
  try {
    const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
    testRuns = ps.split('\n').filter((l) => /node\b.*--test\b/.test(l)).length;
  } catch {
    // no ps: unknown
  }
  return { loadavg1: Number(os.loadavg()[0]!.toFixed(2)), testRuns };
}

export function commandVersion(cmd: string, args: readonly string[]): string {
  try {
    // nginx -v writes to stderr, so both streams are read.
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  } catch {
    return 'unknown';
  }
}
