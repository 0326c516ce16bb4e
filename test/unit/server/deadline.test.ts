import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { createDeadline } from '../../../src/server/deadline.js';
import { watchClient, type Res } from '../../../src/server/http-types.js';

/** The two things watchClient reads from a response: its 'close' event and whether it finished. */
function fakeResponse(): EventEmitter & { writableFinished: boolean } {
  return Object.assign(new EventEmitter(), { writableFinished: false });
}

describe('createDeadline', () => {
  it('aborts at the deadline and says it was the deadline', async () => {
    const d = createDeadline(20);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(d.signal.aborted, true);
    assert.equal(d.deadline.aborted, true);
    assert.equal((d.signal.reason as DOMException).name, 'TimeoutError');
  });

  it('aborts when the client goes away, without claiming a timeout', () => {
    const res = fakeResponse();
    const d = createDeadline(10_000, watchClient(res as unknown as Res));
    res.emit('close');
    assert.equal(d.signal.aborted, true);
    assert.equal(d.deadline.aborted, false);
    d.dispose();
  });

  it('is aborted from the start when the client has already gone', () => {
    const res = fakeResponse();
    const client = watchClient(res as unknown as Res);
    res.emit('close');
    let told = 0;
    client.onGone(() => told++);
    assert.equal(told, 1, 'a listener added after the client left is called at once');
    const d = createDeadline(10_000, client);
    assert.equal(d.signal.aborted, true);
    d.dispose();
  });

  it('after dispose, neither the timer nor the client aborts it', async () => {
    const res = fakeResponse();
    const d = createDeadline(20, watchClient(res as unknown as Res));
    d.dispose();
    res.emit('close');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(d.signal.aborted, false);
  });
});

describe('watchClient', () => {
  it('does not count a close after a finished response as the client leaving', () => {
    const res = fakeResponse();
    const client = watchClient(res as unknown as Res);
    let called = 0;
    client.onGone(() => called++);
    res.writableFinished = true;
    res.emit('close');
    assert.equal(called, 0);
  });

  it('calls each listener once, and not the ones cancelled', () => {
    const res = fakeResponse();
    const client = watchClient(res as unknown as Res);
    const calls: string[] = [];
    client.onGone(() => calls.push('a'));
    const cancel = client.onGone(() => calls.push('b'));
    client.onGone(() => calls.push('c'));
    cancel();
    res.emit('close');
    res.emit('close');
    assert.deepEqual(calls, ['a', 'c']);
  });
});
