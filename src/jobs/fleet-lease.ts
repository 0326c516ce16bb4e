/**
 * Single flight across the workers of a cluster, for when result storage can hand a result from one worker to
 * another: before making a result, a worker asks the primary for its key's lease; the first asker makes it, the
 * others wait until the lease is given back and then read the result from storage. This module is the worker's
 * side of the protocol over the cluster's IPC channel (the primary's table is in server/cluster.ts); it never
 * reads or writes storage, and never waits on the primary for more than a moment.
 */
import { PixgateError } from '../respond/errors.js';

// The messages, told apart by `type` as cluster.ts's own. IPC keeps their order, so a worker always sees the
// reply to an acquire before the notice that frees it, and the primary sees an acquire before its release.
/** worker -> primary: `{ id, key }`, may I make this result? */
export const LEASE_ACQUIRE = 'pixgate:lease-acquire';
/** primary -> that worker: `{ id, granted }`; not granted means queued behind the worker that holds the key. */
export const LEASE_REPLY = 'pixgate:lease-reply';
/** primary -> a queued worker: `{ id }`, the holder gave the key back (or exited). */
export const LEASE_FREE = 'pixgate:lease-free';
/** worker -> primary: `{ id }`, given back by its holder, or no longer waited for by a queued worker. */
export const LEASE_RELEASE = 'pixgate:lease-release';

/** How long a worker waits for the primary's reply before going ahead without the lease. */
export const ANSWER_TIMEOUT_MS = 1000;

export interface Lease {
  /**
   * True: make the result (this worker holds the key's lease, or none could be had in time). False: another
   * worker held it and has given it back, so its result is in storage unless that worker failed.
   */
  readonly granted: boolean;
  /** Gives the lease back; does nothing when it was not granted, or the second time. */
  release(): void;
}

export interface FleetLease {
  /**
   * Resolves at once when granted; when another worker holds `key`, once it gives the lease back. Rejects with
   * REQUEST_TIMEOUT when `signal` aborts first.
   */
  acquire(key: string, signal: AbortSignal): Promise<Lease>;
}

/** The worker's end of the IPC channel: process.send and process.on('message') in a cluster worker. */
export interface LeaseChannel {
  send(message: object): void;
  onMessage(listener: (message: unknown) => void): void;
}

const GO_AHEAD: Lease = { granted: true, release: () => {} };
const WAITED: Lease = { granted: false, release: () => {} };

/** A worker's lease client over `channel`: one per process, as it listens to every message of the channel. */
export function createIpcLease(channel: LeaseChannel, opts: { answerTimeoutMs?: number } = {}): FleetLease {
  const answerTimeoutMs = opts.answerTimeoutMs ?? ANSWER_TIMEOUT_MS;
  const pending = new Map<number, { reply(granted: boolean): void; free(): void }>();
  let nextId = 0;
  channel.onMessage((msg) => {
    if (typeof msg !== 'object' || msg === null) return;
    const { type, id, granted } = msg as { type?: unknown; id?: unknown; granted?: unknown };
    if (typeof id !== 'number') return;
    if (type === LEASE_REPLY) pending.get(id)?.reply(granted === true);
    else if (type === LEASE_FREE) pending.get(id)?.free();
  });
  const release = (id: number) => channel.send({ type: LEASE_RELEASE, id });

  return {
    acquire(key, signal) {
      if (signal.aborted) return Promise.reject(waitTimeout());
      const id = nextId++;
      return new Promise<Lease>((resolve, reject) => {
        const settle = (lease: Lease | undefined) => {
          pending.delete(id);
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (lease) resolve(lease);
          else reject(waitTimeout());
        };
        // Given up (the primary is slow or gone, or the deadline passed): the release follows the acquire, so
        // the primary frees a grant it sends too late, or forgets this worker in the key's queue.
        const giveUp = (lease: Lease | undefined) => {
          release(id);
          settle(lease);
        };
        const timer = setTimeout(() => giveUp(GO_AHEAD), answerTimeoutMs);
        const onAbort = () => giveUp(undefined);
        pending.set(id, {
          reply(granted) {
            if (!granted) {
              // Queued: from now on only the deadline bounds the wait.
              clearTimeout(timer);
              return;
            }
            let held = true;
            settle({
              granted: true,
              release() {
                if (!held) return;
                held = false;
                release(id);
              },
            });
          },
          free: () => settle(WAITED),
        });
        signal.addEventListener('abort', onAbort, { once: true });
        channel.send({ type: LEASE_ACQUIRE, id, key });
      });
    },
  };
}

/**
 * Gives `lease` back once `done` settles, or after `maxMs` whatever happens: a worker queued behind it must not
 * wait on a save that hangs.
 */
export function releaseWhenDone(lease: Lease, done: Promise<unknown>, maxMs: number): void {
  if (!lease.granted) return;
  const timer = setTimeout(lease.release, maxMs);
  timer.unref();
  const release = () => {
    clearTimeout(timer);
    lease.release();
  };
  done.then(release, release);
}

function waitTimeout(): PixgateError {
  return new PixgateError('REQUEST_TIMEOUT', { detail: 'deadline while another worker made the result' });
}
