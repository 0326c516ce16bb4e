import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWorkQueue } from '../../../src/jobs/work-queue.js';
import { isPixgateError } from '../../../src/respond/errors.js';

const never = new AbortController().signal;

describe('createWorkQueue', () => {
  it('is full once every slot runs and every queue place is taken', async () => {
    const q = createWorkQueue(1, 1);
    assert.equal(q.full, false);
    const first = await q.acquire(never, never);
    assert.equal(q.full, false, 'one queue place is still free');
    const second = q.acquire(never, never);
    assert.equal(q.full, true);
    await assert.rejects(q.acquire(never, never), (e) => isPixgateError(e) && e.code === 'BUSY');
    first();
    (await second)();
    assert.equal(q.running, 0);
  });

  it('lets a job coming back for a slot past a full queue, ahead of the jobs waiting', async () => {
    const q = createWorkQueue(1, 1);
    const held = await q.acquire(never, never);
    const order: string[] = [];
    const waiting = q.acquire(never, never).then((r) => (order.push('new'), r));
    const back = q.acquire(never, never, true).then((r) => (order.push('back'), r));
    assert.equal(q.waiting, 2);
    held();
    (await back)();
    (await waiting)();
    assert.deepEqual(order, ['back', 'new']);
  });
});
