/**
 * The limits are constants (protocol/limits.ts), advertised in the VERSION reply, enforced
 * (exceeding each one is refused over a real socket), and documented by `serve --help`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { QEMU_CAPABILITIES } from '../../src/vfio-user/client/client.js';
import {
  Command,
  DmaMapFlags,
  DmaUnmapFlags,
  decodeVersionReply,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeHeader,
  encodeRegionRead,
  encodeSetIrqs,
  encodeVersion,
  IrqSetFlags,
  isErrorReply,
  MAX_DATA_XFER,
  MAX_DMA_MAPS,
  MAX_MSG_FDS,
  MAX_MSG_SIZE,
  PciIrq,
} from '../../src/vfio-user/protocol/index.js';
import { type Served, serve } from '../e2e/helpers.js';
import { isProperErrorReply, RawPeer } from '../support/raw-peer.js';
import { FdMaker } from './cases.js';

const BIN = fileURLToPath(new URL('../../../bin/nvgrace-user', import.meta.url));

describe('limits', () => {
  let s: Served;
  let peer: RawPeer;
  before(async () => {
    s = await serve();
  });
  after(async () => {
    peer?.close();
    await s.stop();
  });

  it('are advertised in the VERSION reply', async () => {
    peer = await RawPeer.connect(s.socketPath);
    peer.send(encodeVersion(1, 0, 0, QEMU_CAPABILITIES));
    const r = await peer.reply(1);
    assert.ok(typeof r === 'object');
    const caps = decodeVersionReply(r.reply).capabilities;
    assert.equal(caps.maxMsgFds, MAX_MSG_FDS);
    assert.equal(caps.maxDataXferSize, MAX_DATA_XFER);
    // The protocol maximum, or fewer when the fd limit cannot hold one fd per window.
    assert.equal(caps.maxDmaMaps, s.server.limits.maxDmaMaps);
    assert.ok(caps.maxDmaMaps! <= MAX_DMA_MAPS);
    assert.equal(MAX_MSG_SIZE, MAX_DATA_XFER + 32, 'room for a maximal REGION_WRITE');
  });

  it(`more than max_msg_fds (${MAX_MSG_FDS}) fds on one message is refused`, async () => {
    const fds = new FdMaker();
    const at = (n: number, id: number) => {
      peer.send(
        encodeSetIrqs(id, {
          flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER,
          index: PciIrq.MSI, // 16 vectors on this device
          start: 0,
          count: n,
        }),
        fds.eventfds(n),
      );
      return peer.reply(id);
    };
    const over = await at(MAX_MSG_FDS + 1, 2);
    assert.ok(typeof over === 'object' && isProperErrorReply(over.reply.header));
    assert.equal(over.reply.header.error, 22);
    const max = await at(MAX_MSG_FDS, 3);
    assert.ok(
      typeof max === 'object' && !isErrorReply(max.reply.header),
      'exactly max is accepted',
    );
    fds.closeAll();
  });

  it(`a transfer above max_data_xfer_size (${MAX_DATA_XFER}) is refused, exactly it is served`, async () => {
    peer.send(encodeRegionRead(4, 4, 0, MAX_DATA_XFER + 1));
    const over = await peer.reply(4);
    assert.ok(typeof over === 'object' && isProperErrorReply(over.reply.header));
    peer.send(encodeRegionRead(5, 4, 0, MAX_DATA_XFER));
    const max = await peer.reply(5);
    assert.ok(typeof max === 'object' && !isErrorReply(max.reply.header));
    assert.equal(max.reply.header.size, 32 + MAX_DATA_XFER);
  });

  it(`more than max_dma_maps (${MAX_DMA_MAPS} or what the fd limit allows) DMA windows is refused with ENOSPC`, async () => {
    const MAX = s.server.limits.maxDmaMaps;
    const batch = 4096;
    const flags = DmaMapFlags.READ | DmaMapFlags.WRITE;
    for (let base = 0; base < MAX; base += batch) {
      const n = Math.min(batch, MAX - base);
      const msgs = Buffer.concat(
        Array.from({ length: n }, (_, i) =>
          encodeDmaMap((base + i) & 0xffff, {
            flags,
            address: BigInt(base + i) << 12n,
            size: 4096n,
          }),
        ),
      );
      peer.send(msgs);
      const last = await peer.reply((base + n - 1) & 0xffff, 30000);
      assert.ok(typeof last === 'object', `batch at ${base}: ${last}`);
      for (const f of [...last.before, last.reply])
        assert.ok(!isErrorReply(f.header), `map ${f.header.msgId}`);
    }
    peer.send(encodeDmaMap(7, { flags, address: 1n << 40n, size: 4096n }));
    const over = await peer.reply(7);
    assert.ok(typeof over === 'object' && isProperErrorReply(over.reply.header));
    assert.equal(over.reply.header.error, 28, 'ENOSPC');
    peer.send(encodeDmaUnmap(8, { flags: DmaUnmapFlags.ALL, address: 0n, size: 0n }));
    const all = await peer.reply(8);
    assert.ok(typeof all === 'object' && !isErrorReply(all.reply.header));
    assert.ok(await peer.probe());
  });

  it(`a message above the maximum size (${MAX_MSG_SIZE}) gets an error reply and a disconnect`, async () => {
    const h = encodeHeader({
      msgId: 9,
      command: Command.REGION_WRITE,
      size: MAX_MSG_SIZE + 1,
      flags: 0,
      error: 0,
    });
    peer.send(h);
    const frames = await peer.hangup();
    assert.ok(frames !== 'timeout', 'no disconnect');
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.header.msgId, 9);
    assert.ok(isProperErrorReply(frames[0]!.header));
    await s.server.endpoint.idle();
    const next = await RawPeer.connect(s.socketPath);
    assert.ok(await next.negotiate());
    assert.ok(await next.probe());
    next.close();
  });

  it('are documented by serve --help', () => {
    const r = spawnSync(process.execPath, [BIN, 'serve', '--help'], {
      encoding: 'utf8',
      timeout: 30000,
    });
    assert.equal(r.status, 0);
    assert.match(r.stdout, new RegExp(`maximum message size\\s+${MAX_MSG_SIZE} bytes`));
    assert.match(r.stdout, new RegExp(`maximum fds per message\\s+${MAX_MSG_FDS}`));
    assert.match(r.stdout, new RegExp(`maximum DMA mappings\\s+${MAX_DMA_MAPS}`));
    assert.match(r.stdout, new RegExp(`maximum data per transfer\\s+${MAX_DATA_XFER} bytes`));
  });
});
