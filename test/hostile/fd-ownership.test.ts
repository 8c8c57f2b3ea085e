/**
 * Regression (found by the fuzzer: server fds 21 → 4894 in 15 s): fds that ride on bytes the
 * server never turns into a handled message are still closed —
 * - fds of an incomplete message when the client hangs up mid-message.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { RawPeer } from '../../fuzz/peer.js';
import {
  Command,
  encodeDmaMap,
  encodeVersion,
  encodeVersionPayload,
} from '../../src/vfio-user/protocol/index.js';
import { type Served, serve } from '../e2e/helpers.js';
import { FdMaker } from './cases.js';

const openFds = () => readdirSync('/proc/self/fd').length;

describe('fds the server never hands to a handler are closed', () => {
  let s: Served;
  before(async () => {
    s = await serve();
  });
  after(async () => {
    await s.stop();
  });

  it('fds of an incomplete message are closed when the client hangs up', async () => {
    const before = openFds();
    const fds = new FdMaker();
    const peer = await RawPeer.connect(s.socketPath);
    assert.ok(await peer.negotiate());
    const map = encodeDmaMap(3, { flags: 3, address: 0n, size: 0x10000n });
    peer.send(map.subarray(0, 20), [fds.memfd()]);
    peer.send(encodeVersion(4, 0, 0, null).subarray(0, 10), fds.eventfds(3));
    fds.closeAll();
    peer.close();
    await s.server.endpoint.idle();
    assert.equal(openFds(), before, 'the server kept fds of an incomplete message');
  });
});
