/**
 * Running as several processes on one machine (--workers): the primary forks workers (node:cluster) that share
 * the listening ports, replaces one that dies (waiting longer each time workers die young, so a worker that dies
 * at start cannot fork-bomb), drains them all on SIGTERM or SIGINT, sums their metrics for /metrics, and keeps
 * the table of result leases (jobs/fleet-lease.ts) so one worker at a time makes a result. The primary never
 * serves a request and never exits the process (main.ts does); a worker is an ordinary `pixgate serve` with its
 * own processing queue.
 */
import cluster, { type Worker } from 'node:cluster';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { AggregatorRegistry, Registry } from 'prom-client';
import { LEASE_ACQUIRE, LEASE_FREE, LEASE_RELEASE, LEASE_REPLY, type LeaseChannel } from '../jobs/fleet-lease.js';
import type { Logger } from '../observe/log.js';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

// The messages between the primary and its workers, told apart by `type` (node:cluster's own use other names).
/** worker -> primary: listening. */
const READY = 'pixgate:ready';
/** worker -> primary: every worker's metrics, summed, please (a scrape of /metrics). */
const METRICS_REQUEST = 'pixgate:metrics-request';
/** primary -> that worker: `{ text }` or `{ error }`. */
const METRICS_REPLY = 'pixgate:metrics-reply';
/** primary -> every ready worker: your own metrics. */
const METRICS_COLLECT = 'pixgate:metrics-collect';
/** worker -> primary: `{ metrics }` (getMetricsAsJSON) or `{ error }`. */
const METRICS_PART = 'pixgate:metrics-part';

/** A worker that ran at least this long after becoming ready did not die of its start. */
export const STABLE_MS = 10_000;
/** Workers dying before any of them ever became ready this many times in a row: stop trying. */
export const MAX_START_FAILURES = 5;
/** How long the primary waits for every worker's metrics, and a worker for the primary's answer. */
const COLLECT_TIMEOUT_MS = 3000;
const ASK_TIMEOUT_MS = 5000;
/** Beyond the drain time, what a worker gets to release its pools before the primary kills it. */
const KILL_MARGIN_MS = 5000;
/** A worker not listening this long after its fork is stuck: it is killed, and counts as dying at start. */
export const START_TIMEOUT_MS = 60_000;

/** The number of processes a `workers` setting asks for: `auto` is one per core. */
export function resolveWorkerCount(value: number | 'auto', cores: number = availableParallelism()): number {
  return value === 'auto' ? Math.max(1, cores) : Math.max(1, value);
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * The wait before replacing a dead worker, given how many workers in a row died young (before becoming ready,
 * or within STABLE_MS of it): none after a worker that ran for a while, then 250 ms doubling up to 30 s.
 */
export function restartDelayMs(youngDeaths: number): number {
  if (youngDeaths <= 0) return 0;
  return Math.min(30_000, 250 * 2 ** Math.min(youngDeaths - 1, 16));
}

/** In a worker, every log record names the worker's pid (`worker=1234`), so a line tells which process wrote it. */
export function forWorker(log: Logger): Logger {
  return cluster.isWorker ? log.child({ worker: process.pid }) : log;
}

/** In a worker: tells the primary this worker is listening. Nothing outside a cluster. */
export function notifyReady(): void {
  if (cluster.isWorker) sendToPrimary({ type: READY });
}

function sendToPrimary(message: object): void {
  // A callback turns "the primary is gone" into an ignored error instead of an exception.
  process.send?.(message, undefined, {}, () => {});
}

/** In a worker: the IPC channel to the primary, for the result leases. Undefined outside a cluster. */
export function primaryChannel(): LeaseChannel | undefined {
  if (!cluster.isWorker) return undefined;
  return {
    send: sendToPrimary,
    onMessage: (listener) => process.on('message', listener),
  };
}

/**
 * Resolves on SIGTERM or SIGINT, or in a worker when the primary is gone (its IPC channel closed). A single
 * process keeps the shell's convention that a second signal ends it at once; a worker ignores further signals
 * (Ctrl-C reaches the whole process group, then the primary forwards SIGTERM) and is killed by the primary if
 * its drain overruns.
 */
export function waitForShutdown(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const stop = (reason: string) => {
      if (done) return;
      done = true;
      if (!cluster.isWorker) {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
      }
      process.off('disconnect', onDisconnect);
      log.info({ signal: reason }, 'shutting down');
      resolve();
    };
    const onTerm = () => stop('SIGTERM');
    const onInt = () => stop('SIGINT');
    const onDisconnect = () => stop('primary gone');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    if (cluster.isWorker) process.on('disconnect', onDisconnect);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Metrics

/** Gauges that describe the build, not the load: one worker's value stands for all (a sum would count builds). */
const FIRST_VALUE = new Set(['camo_build_info']);

/** One text exposition of several workers' metrics: counters and histograms summed, as prom-client's cluster mode. */
export async function aggregateMetrics(parts: readonly MetricsJson[]): Promise<string> {
  const marked = parts.map((metrics) => metrics.map((m) => (FIRST_VALUE.has(m.name) ? { ...m, aggregator: 'first' as const } : m)));
  return AggregatorRegistry.aggregate(marked).metrics();
}

/** Answers `metrics()` with what the primary collected from every worker; registers nothing itself. */
class FleetRegistry extends Registry {
  constructor(private readonly ask: () => Promise<string>) {
    super();
  }

  override metrics(): Promise<string> {
    return this.ask();
  }
}

/**
 * In a worker: the same metrics, but `registry.metrics()` (what /metrics serves) returns the sum over every
 * worker, so a scrape through the shared port sees every worker, not just the one that answered. The worker
 * also answers the primary's requests for its own metrics. Outside a cluster, `metrics` is returned as it is.
 */
export function withFleetMetrics<M extends { readonly registry: Registry }>(metrics: M): M {
  if (!cluster.isWorker) return metrics;
  const local = metrics.registry;
  const waiting = new Map<number, { resolve(text: string): void; reject(err: Error): void; timer: NodeJS.Timeout }>();
  let nextId = 0;
  process.on('message', (msg: unknown) => {
    if (isMessage(msg, METRICS_COLLECT)) {
      local.getMetricsAsJSON().then(
        (json) => sendToPrimary({ type: METRICS_PART, id: msg.id, metrics: json }),
        (err: unknown) => sendToPrimary({ type: METRICS_PART, id: msg.id, error: String((err as Error)?.message ?? err) }),
      );
    } else if (isMessage(msg, METRICS_REPLY)) {
      const w = waiting.get(Number(msg.id));
      if (!w) return;
      waiting.delete(Number(msg.id));
      clearTimeout(w.timer);
      if (typeof msg.text === 'string') w.resolve(msg.text);
      else w.reject(new Error(`fleet metrics: ${String(msg.error)}`));
    }
  });
  const ask = () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('fleet metrics: the primary did not answer'));
      }, ASK_TIMEOUT_MS);
      waiting.set(id, { resolve, reject, timer });
      process.send?.({ type: METRICS_REQUEST, id }, undefined, {}, (err) => {
        if (!err) return;
        waiting.delete(id);
        clearTimeout(timer);
        reject(new Error(`fleet metrics: ${err.message}`));
      });
    });
  return { ...metrics, registry: new FleetRegistry(ask) };
}

function isMessage(msg: unknown, type: string): msg is { type: string; id: unknown; [k: string]: unknown } {
  return typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === type;
}

// ---------------------------------------------------------------------------------------------------------
// Result leases

/**
 * The primary's record of which worker is making which result: the first to ask for a key holds it, later askers
 * queue behind it, and when the holder gives it back or exits every queued asker is told at once (`notify`), to
 * read the result from storage. An asker is a worker and the id it chose. Keeps no timers: a holder is bounded by
 * its own deadline, and a queued worker by its own.
 */
export interface LeaseTable<W> {
  /** True when `owner` now holds `key`; false when it is queued behind the holder. */
  acquire(owner: W, id: number, key: string): boolean;
  /** The holder gives the key back (its queue is told), or a queued asker stops waiting. Unknown ids are ignored. */
  release(owner: W, id: number): void;
  /** A worker exited: what it held is given back, and it leaves every queue. */
  drop(owner: W): void;
  /** Keys held now. */
  readonly size: number;
}

export function createLeaseTable<W>(notify: (owner: W, id: number) => void): LeaseTable<W> {
  interface Held {
    readonly owner: W;
    readonly id: number;
    readonly queue: Array<{ readonly owner: W; readonly id: number }>;
  }
  const held = new Map<string, Held>();
  /** Every id a worker holds or waits with, and its key. */
  const ids = new Map<W, Map<number, string>>();
  const track = (owner: W, id: number, key: string) => {
    let mine = ids.get(owner);
    if (!mine) ids.set(owner, (mine = new Map()));
    mine.set(id, key);
  };
  const untrack = (owner: W, id: number) => {
    const mine = ids.get(owner);
    mine?.delete(id);
    if (mine?.size === 0) ids.delete(owner);
  };
  const release = (owner: W, id: number) => {
    const key = ids.get(owner)?.get(id);
    if (key === undefined) return;
    untrack(owner, id);
    const entry = held.get(key);
    if (!entry) return;
    if (entry.owner === owner && entry.id === id) {
      held.delete(key);
      for (const w of entry.queue) {
        untrack(w.owner, w.id);
        notify(w.owner, w.id);
      }
    } else {
      const at = entry.queue.findIndex((w) => w.owner === owner && w.id === id);
      if (at >= 0) entry.queue.splice(at, 1);
    }
  };
  return {
    get size() {
      return held.size;
    },
    acquire(owner, id, key) {
      track(owner, id, key);
      const entry = held.get(key);
      if (!entry) {
        held.set(key, { owner, id, queue: [] });
        return true;
      }
      entry.queue.push({ owner, id });
      return false;
    },
    release,
    drop(owner) {
      const mine = [...(ids.get(owner) ?? [])];
      const holds = ([id, key]: [number, string]) => held.get(key)?.owner === owner && held.get(key)?.id === id;
      // Leave the queues first, so the exited worker is not among those told.
      for (const [id] of mine.filter((m) => !holds(m))) release(owner, id);
      for (const [id] of mine.filter(holds)) release(owner, id);
    },
  };
}

/** The primary's side of jobs/fleet-lease.ts: false when `msg` is not a lease message. */
export function answerLeaseMessage<W>(leases: LeaseTable<W>, owner: W, msg: unknown, reply: (message: object) => void): boolean {
  if (isMessage(msg, LEASE_ACQUIRE)) {
    if (typeof msg.id === 'number' && typeof msg.key === 'string') {
      reply({ type: LEASE_REPLY, id: msg.id, granted: leases.acquire(owner, msg.id, msg.key) });
    }
    return true;
  }
  if (isMessage(msg, LEASE_RELEASE)) {
    if (typeof msg.id === 'number') leases.release(owner, msg.id);
    return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------
// The primary

export interface PrimaryOptions {
  readonly workers: number;
  readonly log: Logger;
  /** How long a worker may take to finish its requests after SIGTERM (main.ts's grace); then it is killed. */
  readonly drainMs: number;
  /**
   * --socket-listen. Workers share the primary's socket, so only the primary can tell a path that existed before
   * (refused, as in a single process) from the one it created.
   */
  readonly socketPath?: string;
}

/**
 * Forks one worker, then the others once it is listening (a bad configuration then fails once, not N times);
 * replaces workers that die; on SIGTERM or SIGINT sends SIGTERM to every worker and waits for them. Resolves
 * with the exit code: 0 after a drain; 2 when a worker of the start exits with 2, main.ts's code for a start
 * failure (its message is already on stderr); 1 when workers keep dying before any of them listened, or when a
 * worker had to be killed during the drain.
 */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  const { log, workers } = opts;
  if (opts.socketPath && existsSync(opts.socketPath)) {
    const message = `--socket-listen=${opts.socketPath}: the path already exists`;
    log.fatal(message);
    process.stderr.write(`pixgate: ${message}\n`);
    return Promise.resolve(2);
  }
  log.info({ workers }, 'starting workers');

  return new Promise<number>((resolve) => {
    const alive = new Set<Worker>();
    /** Workers of the start; a replacement for a worker that died later is retried instead of stopping the others. */
    const initial = new Set<Worker>();
    const readySince = new Map<Worker, number>();
    const timers = new Set<NodeJS.Timeout>();
    const collections = new Map<number, { parts: MetricsJson[]; waiting: Set<Worker>; finish(err?: Error): void }>();
    let nextCollection = 0;
    const leases = createLeaseTable<Worker>((worker, id) => {
      if (worker.isConnected()) worker.send({ type: LEASE_FREE, id }, undefined, () => {});
    });
    let everReady = false;
    let youngDeaths = 0;
    let stopping: number | undefined;
    let killedDuringDrain = false;
    let killTimer: NodeJS.Timeout | undefined;

    const startTimers = new Map<Worker, NodeJS.Timeout>();
    const fork = (first = false) => {
      if (stopping !== undefined) return;
      const worker = cluster.fork();
      alive.add(worker);
      if (first) initial.add(worker);
      const timer = setTimeout(() => {
        log.error({ worker: worker.process.pid }, `worker not listening after ${START_TIMEOUT_MS / 1000} s; killing it`);
        worker.process.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      startTimers.set(worker, timer);
    };
    const clearStartTimer = (worker: Worker) => {
      clearTimeout(startTimers.get(worker));
      startTimers.delete(worker);
    };

    const later = (ms: number, fn: () => void) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };

    const finishIfDone = () => {
      if (stopping === undefined || alive.size > 0) return;
      if (killTimer) clearTimeout(killTimer);
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      log.info('all workers stopped');
      resolve(stopping === 0 && killedDuringDrain ? 1 : stopping);
    };

    const stop = (code: number) => {
      if (stopping !== undefined) return;
      stopping = code;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const w of alive) w.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const w of alive) {
          log.error({ worker: w.process.pid }, 'worker did not finish draining in time; killing it');
          killedDuringDrain = true;
          w.process.kill('SIGKILL');
        }
      }, opts.drainMs + KILL_MARGIN_MS);
      finishIfDone();
    };

    const collect = (): Promise<string> =>
      new Promise((resolveText, reject) => {
        const targets = [...readySince.keys()];
        const id = nextCollection++;
        const timer = setTimeout(() => entry.finish(new Error('a worker did not send its metrics in time')), COLLECT_TIMEOUT_MS);
        const entry = {
          parts: [] as MetricsJson[],
          waiting: new Set(targets),
          finish(err?: Error) {
            if (!collections.delete(id)) return;
            clearTimeout(timer);
            if (err) reject(err);
            else aggregateMetrics(entry.parts).then(resolveText, reject);
          },
        };
        collections.set(id, entry);
        if (targets.length === 0) entry.finish();
        for (const w of targets) {
          w.send({ type: METRICS_COLLECT, id }, undefined, (err) => {
            if (err) entry.finish(new Error(`worker ${w.process.pid} is unreachable`));
          });
        }
      });

    const onMessage = (worker: Worker, msg: unknown) => {
      if (answerLeaseMessage(leases, worker, msg, (reply) => worker.isConnected() && worker.send(reply, undefined, () => {}))) return;
      if (isMessage(msg, READY)) {
        clearStartTimer(worker);
        readySince.set(worker, Date.now());
        log.info({ worker: worker.process.pid }, 'worker started');
        if (!everReady) {
          everReady = true;
          for (let i = 1; i < workers; i++) fork(true);
        }
      } else if (isMessage(msg, METRICS_PART)) {
        const entry = collections.get(Number(msg.id));
        if (!entry || !entry.waiting.delete(worker)) return;
        if (msg.metrics === undefined) return entry.finish(new Error(`worker ${worker.process.pid}: ${String(msg.error)}`));
        entry.parts.push(msg.metrics as MetricsJson);
        if (entry.waiting.size === 0) entry.finish();
      } else if (isMessage(msg, METRICS_REQUEST)) {
        const reply = (body: object) => {
          if (worker.isConnected()) worker.send({ type: METRICS_REPLY, id: msg.id, ...body }, undefined, () => {});
        };
        collect().then(
          (text) => reply({ text }),
          (err: Error) => reply({ error: err.message }),
        );
      }
    };

    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      alive.delete(worker);
      clearStartTimer(worker);
      const starting = initial.delete(worker);
      const readyAt = readySince.get(worker);
      readySince.delete(worker);
      leases.drop(worker);
      for (const entry of collections.values()) {
        if (entry.waiting.has(worker)) entry.finish(new Error(`worker ${worker.process.pid} exited`));
      }
      if (stopping !== undefined) return finishIfDone();
      const pid = worker.process.pid;
      if (readyAt === undefined && code === 2 && starting) {
        log.fatal({ worker: pid }, 'a worker could not start; stopping');
        return stop(2);
      }
      youngDeaths = readyAt === undefined || Date.now() - readyAt < STABLE_MS ? youngDeaths + 1 : 0;
      if (!everReady && youngDeaths >= MAX_START_FAILURES) {
        const message = `workers died ${youngDeaths} times in a row before listening (last: ${signal ?? `exit ${code}`}); giving up`;
        log.fatal(message);
        process.stderr.write(`pixgate: ${message}\n`);
        return stop(1);
      }
      const delayMs = restartDelayMs(youngDeaths);
      log.warn({ worker: pid, code, signal, restartInMs: delayMs }, 'worker exited; starting another');
      later(delayMs, () => fork(!everReady));
    };

    // A second signal does not wait for the drain: the workers are killed, and the exit code says so.
    const onSignal = (signal: string) => {
      if (stopping === undefined) {
        log.info({ signal }, 'shutting down');
        return stop(0);
      }
      log.warn({ signal }, 'second signal: killing the workers');
      for (const w of alive) {
        killedDuringDrain = true;
        w.process.kill('SIGKILL');
      }
    };
    const onTerm = () => onSignal('SIGTERM');
    const onInt = () => onSignal('SIGINT');

    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    fork(true);
  });
}
