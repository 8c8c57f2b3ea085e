import assert from 'node:assert/strict';
import { test } from 'node:test';
import { native } from '../../src/native/addon.js';
import { collect, connectedPair, until } from './helpers.js';

function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

test('a queued message larger than the read buffer arrives intact, and the fds of the message after it stay with that message', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    p.server.pause(); // let the big message pile up in the socket: the bulk read path
    const big = pattern(600 * 1024, 1);
    const small = pattern(16, 2);
    const efd = native().eventfdCreate(0, false);
    p.client.send(big);
    p.client.send(small, [efd]);
    p.server.resume();
    await until(() => atServer.bytes().length === big.length + small.length, 'both messages');
    assert.ok(atServer.bytes().equals(Buffer.concat([big, small])));
    let end = 0;
    const withFds = atServer.chunks.filter((c) => {
      end += c.chunk.length;
      return c.fds.length > 0 && end > big.length;
    });
    assert.equal(
      withFds.length,
      1,
      'the fd arrives once, on a chunk ending inside the second message',
    );
    assert.ok(atServer.chunks.every((c) => c.fds.length === 0 || c === withFds[0]));
    native().closeFd(withFds[0]!.fds[0]!);
    native().closeFd(efd);
  } finally {
    p.close();
  }
});

test('bytes sent right before the peer hangs up are all delivered before onClose', async () => {
  const p = await connectedPair();
  try {
    const atServer = collect(p.server);
    let bytesAtClose = -1;
    p.server.onClose(() => {
      bytesAtClose = atServer.bytes().length;
    });
    p.server.pause();
    const big = pattern(700 * 1024, 3);
    p.client.send(big);
    p.server.resume();
    await until(() => p.client.pendingBytes === 0, 'client drained');
    p.client.close();
    await until(() => bytesAtClose >= 0, 'server sees the hangup');
    assert.equal(bytesAtClose, big.length);
    assert.ok(atServer.bytes().equals(big));
  } finally {
    p.close();
  }
});
