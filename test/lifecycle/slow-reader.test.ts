/**
 * A client that stops reading its socket while asking for many 1 MiB REGION_READs: the server
 * must not buffer replies without bound (its RSS stays bounded while the client stalls), must
 * deliver every reply once the client reads again (nothing lost), and must serve a new client
 * after a stalled one hangs up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeRegionRead, isErrorReply } from '../../src/vfio-user/protocol/index.js';
import { RawPeer } from '../support/raw-peer.js';
import { attachClient, rss, sharedChildServer, untilQuiet } from './helpers.js';

const MiB = 2 ** 20;
const READS = 256;
const BAR4 = 4;
/** 256 MiB of replies are asked for; the server may hold its high-water mark plus noise. */
const RSS_BOUND = 96 * MiB;

async function stalledClient(path: string): Promise<RawPeer> {
  const peer = await RawPeer.connect(path, { keepPayload: 0, maxInbox: READS + 8 });
  assert.ok(await peer.negotiate());
  peer.conn.pause();
  for (let i = 0; i < READS; i++) peer.send(encodeRegionRead(0x1000 + i, BAR4, i * MiB, MiB));
  return peer;
}

describe('a client that stops reading while sending many 1 MiB REGION_READs', () => {
  const server = sharedChildServer();

  it('does not make the server buffer without bound, and loses no reply', async (t) => {
    const s = server();
    await untilQuiet(s.pid, 200);
    const rss0 = rss(s.pid);
    const peer = await stalledClient(s.socketPath);
    // The server does what it can and then waits for the client: measure it then.
    await untilQuiet(s.pid, 300);
    const rssStalled = rss(s.pid);
    t.diagnostic(
      `${READS} × 1 MiB asked; server RSS ${(rss0 / MiB).toFixed(1)} → ${(rssStalled / MiB).toFixed(1)} MiB while stalled`,
    );
    assert.ok(
      rssStalled - rss0 < RSS_BOUND,
      `server grew by ${((rssStalled - rss0) / MiB).toFixed(0)} MiB`,
    );
    assert.equal(s.exit, null);
    // Reading again: every reply arrives, in order, complete.
    peer.conn.resume();
    const r = await peer.reply(0x1000 + READS - 1, 30000);
    assert.ok(typeof r === 'object', `replies did not all arrive (${r})`);
    const all = [...r.before, r.reply];
    assert.equal(all.length, READS);
    all.forEach((f, i) => {
      assert.equal(f.header.msgId, 0x1000 + i);
      assert.ok(!isErrorReply(f.header));
      assert.equal(f.header.size, 32 + MiB);
    });
    peer.close();
  });

  it('serves a new client after a stalled one hangs up', async (t) => {
    const s = server();
    await untilQuiet(s.pid, 200);
    const rss0 = rss(s.pid);
    const peer = await stalledClient(s.socketPath);
    await untilQuiet(s.pid, 300);
    const rssStalled = rss(s.pid);
    peer.close();
    const c = await attachClient(s.socketPath);
    assert.equal((await c.deviceInfo()).numIrqs, 5);
    const d = await c.regionRead(BAR4, 0, MiB);
    assert.equal(d.length, MiB);
    c.close();
    t.diagnostic(
      `server RSS ${(rss0 / MiB).toFixed(1)} → ${(rssStalled / MiB).toFixed(1)} MiB while stalled`,
    );
    assert.ok(rssStalled - rss0 < RSS_BOUND);
  });
});
