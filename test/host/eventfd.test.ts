import assert from 'node:assert/strict';
import { closeSync, openSync } from 'node:fs';
import { test } from 'node:test';
import { EventFd, eventfdSink, isEventFd } from '../../src/host/eventfd.js';
import { native } from '../../src/native/addon.js';

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 10000; i++) {
    if (predicate()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`gave up waiting for ${what}`);
}

test('a signal on an eventfd is observed by a watcher, with the accumulated count', async () => {
  const e = EventFd.create();
  try {
    const seen: bigint[] = [];
    e.watch((n) => seen.push(n));
    e.signal();
    e.signal(2);
    await until(() => seen.length > 0, 'watcher');
    assert.equal(
      seen.reduce((a, b) => a + b, 0n),
      3n,
    );
    assert.equal(e.read(), null, 'the watcher drained the counter');
  } finally {
    e.close();
  }
});

test('an eventfd sink writes 1 per signal to the fd', () => {
  const e = EventFd.create();
  const sink = eventfdSink(native().dupFd(e.fd));
  try {
    sink.signal();
    sink.signal();
    assert.equal(e.read(), 2n);
    assert.equal(sink.dropped, 0);
  } finally {
    sink.close();
    sink.close();
    e.close();
  }
});

test('an eventfd sink with a full counter drops the signal instead of blocking or throwing', () => {
  const e = EventFd.create();
  const sink = eventfdSink(native().dupFd(e.fd));
  try {
    assert.equal(e.signal(0xfffffffffffffffen), true);
    sink.signal();
    assert.equal(sink.dropped, 1);
  } finally {
    sink.close();
    e.close();
  }
});

test('a sink refuses an fd that is not an eventfd', () => {
  const fd = openSync('/dev/null', 'r');
  try {
    assert.equal(isEventFd(fd), false);
    assert.throws(() => eventfdSink(fd), { code: 'E_BAD_FD' });
  } finally {
    closeSync(fd);
  }
});
