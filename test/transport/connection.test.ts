import assert from 'node:assert/strict';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { native } from '../../src/native/addon.js';
import { REPLY_SETTLED } from '../../src/vfio-user/transport/types.js';
import { collect, connectedPair, tempDir, until } from './helpers.js';

test('bytes sent either way arrive intact and in order', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    const atClient = collect(p.client);
    p.client.send(Buffer.from('hello '));
    p.client.send([Buffer.from('wor'), Buffer.from('ld')]);
    p.server.send(Buffer.from('pong'));
    await until(() => atServer.bytes().length === 11 && atClient.bytes().length === 4, 'echo');
    assert.equal(atServer.bytes().toString(), 'hello world');
    assert.equal(atClient.bytes().toString(), 'pong');
  } finally {
    p.close();
  }
});

test('fds passed either way refer to the same file', async () => {
  const t = tempDir();
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    const atClient = collect(p.client);
    const a = openSync(join(t.dir, 'a'), 'w+');
    const b = openSync(join(t.dir, 'b'), 'w+');
    p.client.send(Buffer.from('x'), [a]);
    p.server.send(Buffer.from('y'), [b]);
    await until(() => atServer.chunks.length > 0 && atClient.chunks.length > 0, 'fds');
    const gotA = atServer.chunks[0]!.fds;
    const gotB = atClient.chunks[0]!.fds;
    assert.equal(gotA.length, 1);
    assert.equal(gotB.length, 1);
    assert.notEqual(gotA[0], a);
    // Write through the received fd, read through the original.
    writeSync(gotA[0]!, Buffer.from('via server'), 0, 10, 0);
    const buf = Buffer.alloc(10);
    readSync(a, buf, 0, 10, 0);
    assert.equal(buf.toString(), 'via server');
    assert.equal(fstatSync(gotB[0]!).ino, fstatSync(b).ino);
    for (const fd of [a, b, gotA[0]!, gotB[0]!]) closeSync(fd);
  } finally {
    p.close();
    t.cleanup();
  }
});

test('fds belong to the message holding the last byte of their chunk (only the second message carries fds)', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    const fd = native().eventfdCreate(0, false);
    p.client.pause(); // irrelevant to sending; keeps the client quiet
    p.server.pause(); // let both messages sit in the socket together
    p.client.send(Buffer.alloc(16, 1));
    p.client.send(Buffer.alloc(24, 2), [fd]);
    await new Promise((r) => setImmediate(r));
    p.server.resume();
    await until(() => atServer.bytes().length === 40, 'both messages');
    let end = 0;
    for (const c of atServer.chunks) {
      end += c.chunk.length;
      if (c.fds.length > 0) {
        // The chunk's last byte lies in the second message (bytes 16..39).
        assert.ok(end > 16 && end <= 40, `fds arrived with a chunk ending at ${end}`);
        for (const f of c.fds) native().closeFd(f);
      }
    }
    assert.equal(atServer.chunks.filter((c) => c.fds.length > 0).length, 1);
    native().closeFd(fd);
  } finally {
    p.close();
  }
});

test('fds sent with the first of two back-to-back messages arrive with a chunk ending inside it', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    const fd = native().eventfdCreate(0, false);
    p.server.pause();
    p.client.send(Buffer.alloc(16, 1), [fd]);
    p.client.send(Buffer.alloc(24, 2));
    await new Promise((r) => setImmediate(r));
    p.server.resume();
    await until(() => atServer.bytes().length === 40, 'both messages');
    const first = atServer.chunks[0]!;
    assert.equal(first.fds.length, 1);
    assert.equal(first.chunk.length, 16); // the kernel stops right after the fd-carrying segment
    native().closeFd(first.fds[0]!);
    native().closeFd(fd);
  } finally {
    p.close();
  }
});

test('a 4 MiB message goes out in partial writes and arrives intact, then onDrain fires', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    const big = Buffer.alloc(4 << 20);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE(i, i);
    let drained = 0;
    p.client.onDrain(() => drained++);
    p.client.send(big);
    assert.ok(p.client.pendingBytes > 0, 'the kernel cannot take 4 MiB at once');
    await until(() => atServer.bytes().length === big.length, '4 MiB');
    assert.ok(atServer.bytes().equals(big));
    assert.equal(p.client.pendingBytes, 0);
    assert.equal(drained, 1);
  } finally {
    p.close();
  }
});

test('with copyUnsent, what the kernel did not take is sent as it was when send() was called', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    const head = Buffer.from('head');
    const big = Buffer.alloc(6 << 20, 0x11);
    const expected = Buffer.concat([head, big]);
    p.client.send([head, big], [], { copyUnsent: true });
    assert.ok(p.client.pendingBytes > 0, 'the kernel cannot take 6 MiB at once');
    big.fill(0x22); // the memory changes right after, as device memory may
    await until(() => atServer.bytes().length === expected.length, '6 MiB');
    assert.ok(atServer.bytes().equals(expected));
  } finally {
    p.close();
  }
});

test('fds of a queued message are sent with it even if the caller closes its own copy', async () => {
  const t = tempDir();
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    p.client.send(Buffer.alloc(4 << 20, 7)); // fills the socket; the next send is queued
    const f = openSync(join(t.dir, 'q'), 'w+');
    writeSync(f, 'queued');
    p.client.send(Buffer.from('tail'), [f]);
    closeSync(f);
    await until(() => atServer.bytes().length === (4 << 20) + 4, 'all bytes');
    const withFds = atServer.chunks.filter((c) => c.fds.length > 0);
    assert.equal(withFds.length, 1);
    const got = withFds[0]!;
    assert.equal(got.chunk.subarray(-4).toString(), 'tail');
    const buf = Buffer.alloc(6);
    readSync(got.fds[0]!, buf, 0, 6, 0);
    assert.equal(buf.toString(), 'queued');
    closeSync(got.fds[0]!);
  } finally {
    p.close();
    t.cleanup();
  }
});

test('pause stops delivery and resume continues it', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    p.server.pause();
    p.client.send(Buffer.from('abc'));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(atServer.chunks.length, 0);
    p.server.resume();
    await until(() => atServer.bytes().length === 3, 'resumed data');
    assert.equal(atServer.bytes().toString(), 'abc');
  } finally {
    p.close();
  }
});

test('peer close fires onClose exactly once, without an error', async () => {
  const p = await connectedPair();
  try {
    const calls: (Error | undefined)[] = [];
    p.server.onClose((e) => calls.push(e));
    p.client.close();
    p.client.close();
    await until(() => calls.length > 0, 'onClose');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual(calls, [undefined]);
    assert.equal(p.server.closed, true);
  } finally {
    p.close();
  }
});

test('local close fires onClose once and discards pending output', async () => {
  const p = await connectedPair();
  try {
    const calls: (Error | undefined)[] = [];
    p.client.onClose((e) => calls.push(e));
    p.client.send(Buffer.alloc(4 << 20));
    p.client.close();
    assert.equal(p.client.pendingBytes, 0);
    p.client.send(Buffer.from('ignored after close'));
    await until(() => calls.length > 0, 'onClose');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(calls.length, 1);
  } finally {
    p.close();
  }
});

test('sending to a peer that is gone closes with an E_SOCKET error instead of throwing', async () => {
  const p = await connectedPair();
  try {
    const calls: (Error | undefined)[] = [];
    p.client.onClose((e) => calls.push(e));
    p.server.close();
    await new Promise((r) => setImmediate(r));
    p.client.send(Buffer.from('anyone?'));
    p.client.send(Buffer.from('anyone?'));
    await until(() => calls.length > 0, 'onClose');
    // Either the hangup was read first (no error) or the write failed (EPIPE/ECONNRESET).
    const e = calls[0];
    if (e) assert.equal((e as { code?: string }).code, 'E_SOCKET');
    assert.equal(calls.length, 1);
  } finally {
    p.close();
  }
});

test('a transient handler gets every read as a view of the read buffer, reused by the next read', async () => {
  const p = await connectedPair();
  try {
    const got: { chunk: Uint8Array; copy: Buffer; transient: boolean }[] = [];
    p.server.onData(
      (chunk, _fds, transient) => {
        got.push({ chunk, copy: Buffer.from(chunk), transient });
      },
      { transient: true },
    );
    p.client.send(Buffer.alloc(100, 1));
    await until(() => got.length === 1, 'small read');
    assert.equal(got[0]!.transient, true, 'a small read is a view too');
    assert.ok(!Buffer.isBuffer(got[0]!.chunk), 'a plain Uint8Array, not a Buffer');
    p.client.send(Buffer.alloc(100, 3));
    await until(() => got.length === 2, 'second small read');
    assert.ok(got[1]!.copy.every((v) => v === 3));
    assert.ok(
      got[0]!.chunk.every((v) => v === 3),
      'the first view now shows the second read: the memory was reused',
    );
  } finally {
    p.close();
  }
});

test('retainChunk keeps a transient chunk: later reads land elsewhere', async () => {
  const p = await connectedPair();
  try {
    const got: Uint8Array[] = [];
    p.server.onData(
      (chunk) => {
        got.push(chunk);
        if (got.length === 1) p.server.retainChunk?.();
      },
      { transient: true },
    );
    p.client.send(Buffer.alloc(100, 1));
    await until(() => got.length === 1, 'first read');
    p.client.send(Buffer.alloc(100, 2));
    await until(() => got.length === 2, 'second read');
    assert.ok(
      got[0]!.every((v) => v === 1),
      'the retained chunk kept its bytes',
    );
    assert.ok(got[1]!.every((v) => v === 2));
  } finally {
    p.close();
  }
});

test('a replyInPlace handler answers by returning the length of what it wrote into replyArea', async () => {
  const p = await connectedPair();
  try {
    const area = p.server.replyArea!;
    p.server.onData(
      (chunk) => {
        for (let i = 0; i < chunk.length; i++) area[i] = chunk[i]! + 1;
        return chunk.length;
      },
      { transient: true, replyInPlace: true },
    );
    const atClient = collect(p.client);
    p.client.send(Buffer.from([1, 2, 3]));
    await until(() => atClient.bytes().length === 3, 'in-place reply');
    assert.deepEqual([...atClient.bytes()], [2, 3, 4]);
  } finally {
    p.close();
  }
});

test('an in-place reply goes out after what the handler sent itself, and behind queued output', async () => {
  const p = await connectedPair();
  const BIG = 8 * 2 ** 20;
  try {
    const area = p.server.replyArea!;
    p.server.onData(
      (chunk) => {
        // 9: more than the socket takes at once, so the rest stays queued in the connection.
        p.server.send(chunk[0] === 9 ? Buffer.alloc(BIG, 7) : Buffer.from([0xaa]));
        area[0] = 0xbb;
        return 1;
      },
      { transient: true, replyInPlace: true },
    );
    const atClient = collect(p.client);
    p.client.send(Buffer.from([1]));
    await until(() => atClient.bytes().length === 2, 'first pair');
    assert.deepEqual([...atClient.bytes()], [0xaa, 0xbb]);
    p.client.send(Buffer.from([9]));
    await until(() => atClient.bytes().length === 2 + BIG + 1, 'the large send, then the reply');
    const all = atClient.bytes();
    assert.equal(all[2 + BIG], 0xbb, 'the in-place reply came last');
    assert.ok(all.subarray(2, 2 + BIG).every((v) => v === 7));
  } finally {
    p.close();
  }
});

test('a replyInPlace handler must be the only data handler', async () => {
  const p = await connectedPair();
  try {
    p.server.onData(() => {});
    assert.throws(
      () => p.server.onData(() => 0, { transient: true, replyInPlace: true }),
      /the only one/,
    );
  } finally {
    p.close();
  }
});

test('a connection with a plain handler never hands out views of its read buffer', async () => {
  const p = await connectedPair();
  try {
    const got: Buffer[] = [];
    p.server.onData((chunk) => {
      got.push(chunk);
    });
    p.client.send(Buffer.alloc(64 * 1024, 4));
    await until(() => got.reduce((n, g) => n + g.length, 0) === 64 * 1024, 'large read');
    p.client.send(Buffer.alloc(64 * 1024, 5));
    await until(() => got.reduce((n, g) => n + g.length, 0) === 128 * 1024, 'second');
    let seen = 0;
    for (const g of got) {
      const want = seen < 64 * 1024 ? 4 : 5;
      assert.ok(
        g.every((v) => v === want),
        'each chunk kept its own bytes',
      );
      seen += g.length;
    }
  } finally {
    p.close();
  }
});

test('promise reactions a data handler schedules run as it returns, before the next socket callback', async () => {
  // Two sockets readable in the same poll of the event loop: whichever handler runs
  // second must see the first one's reaction done (the addon runs Node's callback
  // bookkeeping right after a handler that does not report REPLY_SETTLED).
  const a = await connectedPair();
  const b = await connectedPair();
  try {
    const reacted = new Set<string>();
    const sawOther: Record<string, boolean> = {};
    const handler = (me: string, other: string) => () => {
      sawOther[me] = reacted.has(other);
      Promise.resolve().then(() => reacted.add(me));
      return 0;
    };
    a.server.onData(handler('a', 'b'), { transient: true, replyInPlace: true });
    b.server.onData(handler('b', 'a'), { transient: true, replyInPlace: true });
    a.client.send(Buffer.from([1]));
    b.client.send(Buffer.from([1]));
    await until(() => reacted.size === 2, 'both reactions');
    assert.equal(
      [sawOther.a, sawOther.b].filter(Boolean).length,
      1,
      'the second handler saw the reaction of the first',
    );
  } finally {
    a.close();
    b.close();
  }
});

test('a reply flagged REPLY_SETTLED is sent like any other', async () => {
  const p = await connectedPair();
  try {
    const area = p.server.replyArea!;
    p.server.onData(
      (chunk) => {
        area[0] = chunk[0]! * 2;
        return 1 | REPLY_SETTLED;
      },
      { transient: true, replyInPlace: true },
    );
    const atClient = collect(p.client);
    p.client.send(Buffer.from([21]));
    await until(() => atClient.bytes().length === 1, 'settled reply');
    assert.equal(atClient.bytes()[0], 42);
  } finally {
    p.close();
  }
});
