/**
 * Regression (found by the fuzzer: server fds 21 → 4894 in 15 s): fds that ride on bytes the
 * server never turns into a handled message are still closed —
 * - fds of an incomplete message when the client hangs up mid-message;
 * - fds of messages queued behind one that ends the session (a bad VERSION).
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  Command,
  encodeDeviceGetInfo,
  encodeDmaMap,
  encodeVersion,
  encodeVersionPayload,
} from '../../src/vfio-user/protocol/index.js';
import { type Served, serve } from '../e2e/helpers.js';
import { RawPeer } from '../support/raw-peer.js';
import { FdMaker, raw } from './cases.js';

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

  it('fds queued behind a message that ends the session are closed', async () => {
    const before = openFds();
    const fds = new FdMaker();
    const peer = await RawPeer.connect(s.socketPath);
    // A bad VERSION (JSON is an array) ends the session; the messages behind it carry fds.
    const bad = raw(1, Command.VERSION, encodeVersionPayload(0, 0, '[]'));
    peer.send(bad);
    for (let i = 0; i < 8; i++) peer.send(encodeDeviceGetInfo(10 + i), fds.eventfds(2));
    fds.closeAll();
    const frames = await peer.hangup();
    assert.notEqual(frames, 'timeout');
    peer.close();
    await s.server.endpoint.idle();
    assert.equal(openFds(), before, 'the server kept fds queued behind the fatal message');
  });
});
