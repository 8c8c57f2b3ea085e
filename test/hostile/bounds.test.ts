/**
 * Every resource a client can make the running server hold is bounded (issue: a client that
 * pipelines fd-carrying replies it never reads crashed the server with dup EMFILE; posted
 * writes behind a waiting request grew it to 3 GiB; a mute client held the device forever;
 * DMA maps with fds ran into the fd limit). Each case runs against the real server process:
 * it stays alive, its fd count comes back to the baseline, and the next client is served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { QEMU_CAPABILITIES } from '../../src/vfio-user/client/client.js';
import {
  DmaMapFlags,
  DmaUnmapFlags,
  Errno,
  encodeDeviceReset,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeGetRegionInfo,
  encodeRegionWrite,
  encodeVersion,
  isErrorReply,
} from '../../src/vfio-user/protocol/index.js';
import {
  type ChildServer,
  cleanup,
  fdCount,
  rss,
  sleep,
  startChildServer,
  stopChildServer,
  tempDir,
  until,
  untilQuiet,
} from '../lifecycle/helpers.js';
import { attachWithRetry, isProperErrorReply, RawPeer } from '../support/raw-peer.js';
import { FdMaker } from './cases.js';

const MiB = 2 ** 20;

/** Wait until the server is idle, then check it is alive and back at `fd0` fds. */
async function settled(s: ChildServer, fd0: number, what: string): Promise<void> {
  await untilQuiet(s.pid, 200);
  assert.equal(s.exit, null, `${what}: the server exited`);
  await until(() => fdCount(s.pid) === fd0, `${what}: fds back to ${fd0} (now ${fdCount(s.pid)})`);
}

async function nextServed(s: ChildServer): Promise<void> {
  const { peer } = await attachWithRetry(s.socketPath, 100);
  assert.ok(await peer.probe(), 'the next client is served');
  peer.close();
}

describe('bounds against the running server', () => {
  let dir: string;
  let s: ChildServer;
  let fd0: number;
  before(async () => {
    dir = tempDir();
    s = await startChildServer(dir, ['--reset-duration', '3000', '--handshake-timeout', '1500']);
    await nextServed(s);
    await untilQuiet(s.pid, 200);
    fd0 = fdCount(s.pid);
  });
  after(async () => {
    await stopChildServer(s);
    cleanup(dir);
  });

  it('30,000 pipelined GET_REGION_INFO (each reply carries an fd) whose replies are never read leave the server alive', async (t) => {
    const { peer } = await attachWithRetry(s.socketPath);
    peer.conn.pause(); // never read a reply
    const one = encodeGetRegionInfo(1, 4);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => one));
    for (let i = 0; i < 30; i++) peer.send(batch);
    await sleep(1000);
    const held = fdCount(s.pid);
    t.diagnostic(`server fds while the replies wait: ${fd0} → ${held}`);
    assert.equal(s.exit, null, 'the server exited');
    assert.ok(held < fd0 + 64 + 16 + 8, `server holds ${held - fd0} extra fds`);
    peer.close();
    await settled(s, fd0, 'after the pipelining client left');
    await nextServed(s);
  });

  it('posted writes queued behind a waiting request (a 3 s reset) do not grow the server past its bounds', async (t) => {
    const { peer } = await attachWithRetry(s.socketPath);
    await untilQuiet(s.pid, 200);
    const rss0 = rss(s.pid);
    peer.send(encodeDeviceReset(2));
    // 300 × 1 MiB posted writes: unbounded, the server would hold 300 MiB of them.
    const write = encodeRegionWrite(3, 4, 0x100000, new Uint8Array(MiB).fill(0x5a), true);
    for (let i = 0; i < 300; i++) peer.send(write);
    let peak = rss0;
    const end = Date.now() + 2500;
    while (Date.now() < end) {
      peak = Math.max(peak, rss(s.pid));
      await sleep(50);
    }
    t.diagnostic(
      `server RSS while the reset waits: ${(rss0 / MiB).toFixed(0)} → peak ${(peak / MiB).toFixed(0)} MiB`,
    );
    assert.ok(peak - rss0 < 64 * MiB, `server grew by ${((peak - rss0) / MiB).toFixed(0)} MiB`);
    const r = await peer.reply(2, 15000);
    assert.ok(typeof r === 'object' && !isErrorReply(r.reply.header), `reset reply: ${r}`);
    assert.ok(await peer.probe(0x7f01, 30000), 'the writes behind it were all processed');
    peer.close();
    await settled(s, fd0, 'after the writer left');
    await nextServed(s);
  });

  it('a client that never sends VERSION is dropped at the deadline and the waiting VMM is served', async () => {
    const mute = await RawPeer.connect(s.socketPath);
    const start = Date.now();
    await sleep(100);
    // A VMM arriving meanwhile waits for the mute one to go, then is served.
    const vmm = attachWithRetry(s.socketPath, 1);
    assert.notEqual(await mute.hangup(5000), 'timeout', 'the mute client was not dropped');
    const waited = Date.now() - start;
    assert.ok(waited >= 1400, `dropped after ${waited} ms, before the 1500 ms deadline`);
    const { peer } = await vmm;
    assert.ok(await peer.probe());
    peer.close();
    await settled(s, fd0, 'after the mute client');
  });

  it('a VERSION sent one byte every 200 ms is dropped at the deadline', async () => {
    const slow = await RawPeer.connect(s.socketPath);
    const v = encodeVersion(1, 0, 0, QEMU_CAPABILITIES);
    const start = Date.now();
    for (let i = 0; i < v.length && !slow.closed; i++) {
      slow.send(v.subarray(i, i + 1));
      await sleep(200);
    }
    assert.ok(slow.closed, 'the byte-a-time client was served to the end');
    assert.ok(Date.now() - start < 4000);
    await settled(s, fd0, 'after the slow client');
    await nextServed(s);
  });
});

describe('DMA maps with fds are bounded by the fd limit (server under ulimit -n 400)', () => {
  let dir: string;
  let s: ChildServer;
  before(async () => {
    dir = tempDir();
    s = await startChildServer(dir, [], 'gpu.sock', { nofile: 400 });
  });
  after(async () => {
    await stopChildServer(s);
    cleanup(dir);
  });

  it('max_dma_maps is advertised from what the limit leaves, and one past it is ENOSPC, not a dropped connection', async () => {
    const peer = await RawPeer.connect(s.socketPath);
    peer.send(encodeVersion(1, 0, 0, QEMU_CAPABILITIES));
    const v = await peer.reply(1);
    assert.ok(typeof v === 'object');
    const json = JSON.parse(new TextDecoder().decode(v.reply.payload.subarray(4, -1)));
    const max = json.capabilities.max_dma_maps as number;
    assert.equal(max, 400 - 256);
    const fds = new FdMaker();
    const flags = DmaMapFlags.READ | DmaMapFlags.WRITE;
    for (let i = 0; i <= max; i++) {
      const fd = fds.memfd(4096);
      peer.send(encodeDmaMap(0x100 + i, { flags, address: BigInt(i) << 12n, size: 4096n }), [fd]);
      fds.closeAll();
      const r = await peer.reply(0x100 + i);
      assert.ok(typeof r === 'object', `map ${i}: ${r}`);
      if (i < max) assert.ok(!isErrorReply(r.reply.header), `map ${i} refused`);
      else {
        assert.ok(isProperErrorReply(r.reply.header));
        assert.equal(r.reply.header.error, Errno.ENOSPC);
      }
    }
    peer.send(encodeDmaUnmap(9, { flags: DmaUnmapFlags.ALL, address: 0n, size: 0n }));
    const all = await peer.reply(9);
    assert.ok(typeof all === 'object' && !isErrorReply(all.reply.header));
    assert.ok(await peer.probe());
    peer.close();
    assert.equal(s.exit, null);
    await nextServed(s);
  });
});
