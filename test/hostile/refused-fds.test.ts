/**
 * Regression: an fd the client sends that is not what the message needs (a memfd where an
 * eventfd belongs, a memfd shorter than its DMA window) is the client's fault — EINVAL — and
 * not reported as a server failure (EIO, "handler bug" in the log). The fd is closed.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  DmaMapFlags,
  encodeDmaMap,
  encodeSetIrqs,
  IrqSetFlags,
  PciIrq,
} from '../../src/vfio-user/protocol/index.js';
import { type Served, serve } from '../e2e/helpers.js';
import { isProperErrorReply, RawPeer } from '../support/raw-peer.js';
import { FdMaker } from './cases.js';

const openFds = () => readdirSync('/proc/self/fd').length;

describe('fds of the wrong kind are refused with EINVAL', () => {
  let s: Served;
  let peer: RawPeer;
  before(async () => {
    s = await serve();
    peer = await RawPeer.connect(s.socketPath);
    assert.ok(await peer.negotiate());
  });
  after(async () => {
    peer.close();
    await s.stop();
  });

  it('a SET_IRQS eventfd that is a memfd is refused with EINVAL and closed', async () => {
    const fds = new FdMaker();
    const before = openFds();
    const msg = encodeSetIrqs(5, {
      flags: IrqSetFlags.DATA_EVENTFD | IrqSetFlags.ACTION_TRIGGER,
      index: PciIrq.INTX,
      start: 0,
      count: 1,
    });
    peer.send(msg, [fds.memfd()]);
    const r = await peer.reply(5);
    assert.ok(typeof r === 'object');
    assert.ok(isProperErrorReply(r.reply.header));
    assert.equal(r.reply.header.error, 22);
    fds.closeAll();
    assert.ok(await peer.probe());
    assert.equal(openFds(), before, 'the server kept the refused fd');
  });

  it('a DMA_MAP fd shorter than its window is refused with EINVAL and closed', async () => {
    const fds = new FdMaker();
    const before = openFds();
    const msg = encodeDmaMap(6, {
      flags: DmaMapFlags.READ | DmaMapFlags.WRITE,
      address: 0x100000n,
      size: 1n << 24n,
    });
    peer.send(msg, [fds.memfd(4096)]);
    const r = await peer.reply(6);
    assert.ok(typeof r === 'object');
    assert.ok(isProperErrorReply(r.reply.header));
    assert.equal(r.reply.header.error, 22);
    fds.closeAll();
    assert.ok(await peer.probe());
    assert.equal(openFds(), before, 'the server kept the refused fd');
  });
});
