/**
 * Bounded processing: at most `concurrency` jobs run, at most `queueSize` wait; one more gets BUSY (429). A wait
 * ends with REQUEST_TIMEOUT (408) at the caller's deadline, or CLIENT_CLOSED when the client leaves.
 */
import { PixgateError } from '../respond/errors.js';

export interface WorkQueue {
  /**
   * A slot, or a place in the queue. `reentry` is for a job that gave its slot back for a while (to wait for an
   * overlay download): it waits at the front and is never refused as BUSY, so work already started can finish.
   */
  acquire(signal: AbortSignal, deadline: AbortSignal, reentry?: boolean): Promise<() => void>;
  readonly running: number;
  readonly waiting: number;
  /** True when one more acquire would be refused as BUSY. */
  readonly full: boolean;
}

export function createWorkQueue(concurrency: number, queueSize: number, onChange?: (running: number, waiting: number) => void): WorkQueue {
  let running = 0;
  const waiters: { grant: () => void; fail: (e: PixgateError) => void }[] = [];
  const changed = () => onChange?.(running, waiters.length);

  const release = () => {
    const next = waiters.shift();
    if (next) next.grant();
    else running--;
    changed();
  };

  const once = () => {
    let released = false;
    return () => {
      if (!released) {
        released = true;
        release();
      }
    };
  };

  return {
    get running() {
      return running;
    },
    get waiting() {
      return waiters.length;
    },
    get full() {
      return running >= concurrency && waiters.length >= queueSize;
    },
    acquire(signal, deadline, reentry = false) {
      if (signal.aborted) {
        return Promise.reject(new PixgateError(deadline.aborted ? 'REQUEST_TIMEOUT' : 'CLIENT_CLOSED', { detail: 'before queueing' }));
      }
      if (running < concurrency) {
        running++;
        changed();
        return Promise.resolve(once());
      }
      if (waiters.length >= queueSize && !reentry) {
        return Promise.reject(new PixgateError('BUSY', { detail: `${running} running, ${waiters.length} waiting` }));
      }
      return new Promise((resolve, reject) => {
        const entry = {
          grant: () => {
            signal.removeEventListener('abort', onAbort);
            resolve(once());
          },
          fail: (e: PixgateError) => reject(e),
        };
        const onAbort = () => {
          const i = waiters.indexOf(entry);
          if (i >= 0) waiters.splice(i, 1);
          changed();
          reject(new PixgateError(deadline.aborted ? 'REQUEST_TIMEOUT' : 'CLIENT_CLOSED', { detail: 'while waiting for a processing slot' }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        if (reentry) waiters.unshift(entry);
        else waiters.push(entry);
        changed();
      });
    },
  };
}
