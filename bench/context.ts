/**
 * What every scenario is handed (tools, ports, images, the pixgate build, time budget) and what it hands back:
 * measured entries, the ratios the issue sets targets for, and notes. Shared shapes only; no I/O.
 */
import type { PixgateBuild } from './pixgate.js';
import type { Child } from './tools.js';
import type { NginxPorts } from './nginx.js';

/** One measured system in one scenario. Latencies in milliseconds. */
export interface Entry {
  readonly scenario: string;
  /** 'pixgate', 'pixgate --workers 2', 'in-process sharp', 'ipx', 'nginx proxy_pass', ... */
  readonly system: string;
  /** What exactly ran, for the reader: connections, settings, encoder options. */
  readonly detail: string;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  /** CPU time (user + system, all threads and processes of the measured server) per request. */
  readonly cpuMsPerRequest?: number;
  readonly extra?: Readonly<Record<string, number | string>>;
}

/** A comparison the issue sets a target for; `value` is always "higher is better" against `target`. */
export interface Ratio {
  readonly scenario: string;
  readonly name: string;
  readonly value: number;
  readonly target: number;
  readonly met: boolean;
  /** How the value reads: a throughput ratio, or headroom under a limit (limit / measured). */
  readonly kind: 'ceiling' | 'peer' | 'limit';
  /** Measured value behind a 'limit' ratio, e.g. "3.1 ms" or "212 MB". */
  readonly measured?: string;
}

export interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly entries: readonly Entry[];
  readonly ratios: readonly Ratio[];
  readonly notes: readonly string[];
}

export interface BenchImages {
  /** 2725x2225 photo-like JPEG, about 1.2 MB (scenarios 1 and 6). */
  readonly photo: string;
  /** 2040-pixel-wide photo-like JPEG (scenario 2). */
  readonly wide: string;
  /** About 53 KB JPEG (scenario 3). */
  readonly small: string;
  readonly bombPng: string;
  readonly bombJpeg: string;
  readonly sizes: Readonly<Record<string, number>>;
}

export interface BenchContext {
  readonly root: string;
  readonly workDir: string;
  readonly wrk: string;
  readonly ports: NginxPorts;
  /** The nginx that serves the proxy_pass and static ceilings (not the origin), to meter its CPU time. */
  readonly nginxCeilingsPid: number;
  readonly build: PixgateBuild;
  /** Node flags from bin/pixgate.js's shebang, given to every pixgate row except the plain-node one. */
  readonly shippedNodeArgs: readonly string[];
  /** Absolute paths of the origin's files; the origin serves them by base name. */
  readonly images: BenchImages;
  readonly originRoot: string;
  readonly staticRoot: string;
  /** Seconds for a measured run of nominal length `s` (shortened by --quick). */
  seconds(s: number): number;
  log(line: string): void;
  /** A fresh loopback port. */
  port(): Promise<number>;
  /** The pixgate configurations to compare: always workers 1; workers 2 when the build has --workers. */
  readonly workerCounts: readonly number[];
  /** Starts pixgate on a fresh port (log file and profiling by the run's options); stop it with child.stop(). */
  pixgate(run: { name: string; workers?: number; env?: Readonly<Record<string, string>>; plainNode?: boolean }): Promise<{ child: Child; port: number; origin: string }>;
}

export const originUrl = (ctx: BenchContext, file: string): string => `http://127.0.0.1:${ctx.ports.origin}/${file.replace(/^.*\//, '')}`;

export const ratio = (r: Omit<Ratio, 'met'>): Ratio => ({ ...r, met: r.value >= r.target });

export const systemName = (workers: number): string => (workers === 1 ? 'pixgate' : `pixgate --workers ${workers}`);

/**
 * Every pixgate row runs node with the flags of the shipped command line (bin/pixgate.js's shebang, also the
 * Dockerfile's and the systemd unit's). Scenarios 1 and 6 add one row without them, so the effect of
 * --initial-old-space-size (docs/performance.md, finding 1) stays visible in every run.
 */
export const PLAIN_NAME = 'pixgate, plain node (no shipped flags)';
