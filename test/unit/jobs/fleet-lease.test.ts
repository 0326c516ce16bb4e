// The worker's side of the result lease, against the primary's real table and message handling (server/cluster.ts)
// over an in-memory channel that delivers asynchronously and in order, as IPC does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createIpcLease,
  LEASE_ACQUIRE,
  LEASE_FREE,
  LEASE_RELEASE,
  releaseWhenDone,
  type FleetLease,
  type Lease,
  type LeaseChannel,
} from '../../../src/jobs/fleet-lease.js';
import { isPixgateError } from '../../../src/respond/errors.js';
import { answerLeaseMessage, createLeaseTable } from '../../../src/server/cluster.js';

interface Message {
  readonly type: string;
  readonly id: number;
  readonly [k: string]: unknown;
}

/** A primary and its workers. A `silent` primary keeps what it is sent until `answer()`. */
function fleet() {
  const listeners = new Map<string, (msg: unknown) => void>();
  /** What each worker received. */
  const received = new Map<string, Message[]>();
  const sent: Array<{ worker: string; msg: Message }> = [];
  const deliver = (worker: string, msg: object) =>
    setImmediate(() => {
      received.get(worker)?.push(msg as Message);
      listeners.get(worker)?.(msg);
    });
  const table = createLeaseTable<string>((worker, id) => deliver(worker, { type: LEASE_FREE, id }));
  let silent = false;
  const held: Array<() => void> = [];
  return {
    table,
    sent,
    received: (worker: string) => received.get(worker) ?? [],
    silence() {
      silent = true;
    },
    /** The silent primary catches up, in order. */
    answer() {
      silent = false;
      for (const run of held.splice(0)) run();
    },
    worker(name: string, opts: { answerTimeoutMs?: number } = {}): FleetLease {
      received.set(name, []);
      const channel: LeaseChannel = {
        send(msg) {
          sent.push({ worker: name, msg: msg as Message });
          const run = () => answerLeaseMessage(table, name, msg, (reply) => deliver(name, reply));
          if (silent) held.push(run);
          else setImmediate(run);
        },
        onMessage(listener) {
          listeners.set(name, listener);
        },
      };
      return createIpcLease(channel, opts);
    },
  };
}

/** Whether `p` has settled within a few turns of the event loop. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(20);
  return done;
}

const never = new AbortController().signal;

test('the first worker is granted the key; another worker asking for it waits until it is given back, then is told not granted', async () => {
  const f = fleet();
  const a = f.worker('a');
  const b = f.worker('b');
  const held = await a.acquire('k', never);
  assert.equal(held.granted, true);
  const waiting = b.acquire('k', never);
  assert.equal(await settled(waiting), false, 'b waits while a holds the key');
  held.release();
  const told = await waiting;
  assert.equal(told.granted, false);
  assert.equal(f.table.size, 0);
  // b was not granted: its release is nothing to give back.
  told.release();
  // The key is free again for whoever asks next.
  assert.equal((await b.acquire('k', never)).granted, true);
});

test('a holder gives its lease back once, however often release() is called', async () => {
  const f = fleet();
  const a = f.worker('a');
  const held = await a.acquire('k', never);
  held.release();
  held.release();
  await sleep(5);
  assert.equal(f.sent.filter((s) => s.msg.type === LEASE_RELEASE).length, 1);
  assert.equal(f.table.size, 0);
});

test('different keys do not wait for each other, even on one worker', async () => {
  const f = fleet();
  const a = f.worker('a');
  const b = f.worker('b');
  assert.equal((await a.acquire('k1', never)).granted, true);
  assert.equal((await b.acquire('k2', never)).granted, true);
  assert.equal((await a.acquire('k3', never)).granted, true);
  assert.equal(f.table.size, 3);
});

test('a worker waiting when its deadline passes rejects with REQUEST_TIMEOUT and leaves the queue', async () => {
  const f = fleet();
  const a = f.worker('a');
  const b = f.worker('b');
  const held = await a.acquire('k', never);
  const deadline = new AbortController();
  const waiting = b.acquire('k', deadline.signal);
  await sleep(5);
  deadline.abort();
  await assert.rejects(waiting, (err: unknown) => isPixgateError(err) && err.code === 'REQUEST_TIMEOUT');
  held.release();
  await sleep(5);
  assert.deepEqual(f.received('b').filter((m) => m.type === LEASE_FREE), [], 'the primary no longer counted b as waiting');
});

test('a deadline already passed rejects at once, without asking the primary', async () => {
  const f = fleet();
  const b = f.worker('b');
  const deadline = new AbortController();
  deadline.abort();
  await assert.rejects(b.acquire('k', deadline.signal), (err: unknown) => isPixgateError(err) && err.code === 'REQUEST_TIMEOUT');
  assert.deepEqual(f.sent, []);
});

test('a primary that does not answer in time is not waited for: the worker goes ahead, and a late grant is given back', async () => {
  const f = fleet();
  const a = f.worker('a', { answerTimeoutMs: 30 });
  f.silence();
  const started = Date.now();
  const lease = await a.acquire('k', never);
  assert.equal(lease.granted, true, 'go ahead and make the result');
  assert.ok(Date.now() - started >= 25, `${Date.now() - started} ms`);
  assert.deepEqual(
    f.sent.map((s) => s.msg.type),
    [LEASE_ACQUIRE, LEASE_RELEASE],
  );
  // The primary catches up: it grants, then reads the release that followed, so the key is not left held.
  f.answer();
  await sleep(5);
  assert.equal(f.table.size, 0);
  lease.release();
  await sleep(5);
  assert.equal(f.sent.filter((s) => s.msg.type === LEASE_RELEASE).length, 1, 'going ahead holds nothing to give back');
});

test('a waiting worker is told when the holder\'s worker exits', async () => {
  const f = fleet();
  const a = f.worker('a');
  const b = f.worker('b');
  const c = f.worker('c');
  await a.acquire('k', never);
  const waitingB = b.acquire('k', never);
  const waitingC = c.acquire('k', never);
  await sleep(5);
  f.table.drop('a');
  assert.deepEqual([(await waitingB).granted, (await waitingC).granted], [false, false]);
});

test('messages of other kinds, malformed ones and notices for ids nobody waits for are ignored', async () => {
  let listener: ((msg: unknown) => void) | undefined;
  const sent: object[] = [];
  const lease = createIpcLease({ send: (m) => sent.push(m), onMessage: (l) => (listener = l) }, { answerTimeoutMs: 50 });
  const pending = lease.acquire('k', never);
  for (const msg of [null, 'x', 42, { type: LEASE_FREE }, { type: LEASE_FREE, id: '0' }, { type: 'pixgate:metrics-collect', id: 0 }, { type: LEASE_FREE, id: 99 }]) {
    listener!(msg);
  }
  assert.equal(await settled(pending), false);
  listener!({ type: 'pixgate:lease-reply', id: 0, granted: true });
  assert.equal((await pending).granted, true);
  assert.deepEqual(sent, [{ type: LEASE_ACQUIRE, id: 0, key: 'k' }]);
});

function spyLease(granted: boolean): Lease & { calls: number } {
  const lease = {
    granted,
    calls: 0,
    release() {
      lease.calls++;
    },
  };
  return lease;
}

test('releaseWhenDone gives a granted lease back when the work settles, either way, or after the bound', async () => {
  const resolved = spyLease(true);
  releaseWhenDone(resolved, Promise.resolve(), 10_000);
  const rejected = spyLease(true);
  releaseWhenDone(rejected, Promise.reject(new Error('save failed')), 10_000);
  const hung = spyLease(true);
  releaseWhenDone(hung, new Promise(() => {}), 30);
  const refused = spyLease(false);
  releaseWhenDone(refused, Promise.resolve(), 10);
  await sleep(5);
  assert.deepEqual([resolved.calls, rejected.calls, hung.calls], [1, 1, 0]);
  await sleep(60);
  assert.deepEqual([resolved.calls, rejected.calls, hung.calls, refused.calls], [1, 1, 1, 0]);
});
