/**
 * Every named malformed case (cases.ts) against the RUNNING server over a real socket: each gets
 * the answer the protocol requires (header-only error with a non-zero errno, silence, or a clean
 * disconnect), and the server then serves the next valid request. No fd is leaked on the way.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { encodeDeviceGetInfo, isErrorReply } from '../../src/vfio-user/protocol/index.js';
import { type Served, serve } from '../e2e/helpers.js';
import { isProperErrorReply, RawPeer } from '../support/raw-peer.js';
import { CASES, distinctCaseCount, FdMaker, type MalformedCase } from './cases.js';

const PROBE_ID = 0x7f01;
const openFds = () => readdirSync('/proc/self/fd').length;

function needsFreshConnection(c: MalformedCase): boolean {
  return (
    c.beforeVersion === true || c.expect.kind === 'disconnect' || c.expect.kind === 'incomplete'
  );
}

function describeFrames(frames: { header: { msgId: number; flags: number; error: number } }[]) {
  return frames
    .map(
      (f) => `id ${f.header.msgId} flags 0x${f.header.flags.toString(16)} errno ${f.header.error}`,
    )
    .join('; ');
}

/** Send a case on `peer` and check the answer; returns whether the connection is still usable. */
async function judge(peer: RawPeer, c: MalformedCase, id: number, fds: FdMaker): Promise<boolean> {
  const wires = c.send(id, fds);
  for (const w of wires) peer.send(w.bytes, w.fds);
  const setupIds = new Set(wires.slice(0, -1).map((w) => w.bytes[0]! | (w.bytes[1]! << 8)));
  const checkSetup = (frames: { header: { msgId: number; flags: number } }[]) => {
    for (const f of frames) {
      assert.ok(setupIds.has(f.header.msgId), `${c.name}: unexpected frame id ${f.header.msgId}`);
      assert.ok(!isErrorReply(f.header as never), `${c.name}: setup message failed`);
    }
  };
  switch (c.expect.kind) {
    case 'error':
    case 'ok': {
      const r = await peer.reply(id);
      assert.ok(typeof r === 'object', `${c.name}: no reply (${r})`);
      checkSetup(r.before);
      if (c.expect.kind === 'ok') {
        assert.ok(
          !isErrorReply(r.reply.header),
          `${c.name}: expected success, got errno ${r.reply.header.error}`,
        );
      } else {
        assert.ok(
          isProperErrorReply(r.reply.header),
          `${c.name}: expected a header-only error reply, got ${describeFrames([r.reply])}`,
        );
        if (c.expect.errno !== undefined)
          assert.equal(r.reply.header.error, c.expect.errno, c.name);
      }
      return true;
    }
    case 'silent':
      return true; // the probe that follows orders the check
    case 'disconnect': {
      const frames = await peer.hangup();
      assert.ok(frames !== 'timeout', `${c.name}: the server did not close the connection`);
      const mine = frames.filter((f) => !setupIds.has(f.header.msgId));
      checkSetup(frames.filter((f) => setupIds.has(f.header.msgId)));
      assert.ok(mine.length <= 1, `${c.name}: more than one answer: ${describeFrames(mine)}`);
      if (mine[0]) {
        assert.equal(mine[0].header.msgId, id, c.name);
        assert.ok(isProperErrorReply(mine[0].header), `${c.name}: ${describeFrames(mine)}`);
      }
      return false;
    }
    case 'incomplete': {
      assert.equal(peer.inbox.length, 0, `${c.name}: answered an incomplete message`);
      assert.ok(!peer.closed, `${c.name}: an incomplete message is not a reason to disconnect`);
      peer.close();
      return false;
    }
  }
}

describe('malformed and hostile input against the running server', () => {
  let s: Served;
  before(async () => {
    s = await serve();
  });
  after(async () => {
    await s.stop();
  });

  it(`the case table has ${CASES.length} distinct named cases`, () => {
    assert.equal(distinctCaseCount(), CASES.length);
    assert.ok(CASES.length >= 100, `only ${CASES.length} cases`);
  });

  it('each case gets the required answer and the next valid request is served', async () => {
    const fdsBefore = openFds();
    const fds = new FdMaker();
    const served = { shared: 0, fresh: 0 };
    // Cases that keep the connection run on one negotiated connection, one after the other.
    let shared = await RawPeer.connect(s.socketPath);
    assert.ok(await shared.negotiate());
    for (const [i, c] of CASES.entries()) {
      if (needsFreshConnection(c)) continue;
      const id = 0x100 + i;
      await judge(shared, c, id, fds);
      fds.closeAll();
      // The probe comes after the case: in-order processing means every answer to the case
      // has arrived once the probe's reply is in.
      shared.send(encodeDeviceGetInfo(PROBE_ID));
      const r = await shared.reply(PROBE_ID);
      assert.ok(typeof r === 'object', `${c.name}: the next valid request was not served (${r})`);
      assert.ok(!isErrorReply(r.reply.header), `${c.name}: the next valid request failed`);
      assert.equal(describeFrames(r.before), '', `${c.name}: unexpected extra answers`);
      served.shared++;
    }
    shared.close();
    await s.server.endpoint.idle();
    // Cases that end the connection or must come first: one fresh connection each.
    for (const [i, c] of CASES.entries()) {
      if (!needsFreshConnection(c)) continue;
      const id = 0x100 + i;
      await s.server.endpoint.idle();
      const peer = await RawPeer.connect(s.socketPath);
      if (!c.beforeVersion) assert.ok(await peer.negotiate(), `${c.name}: could not negotiate`);
      const alive = await judge(peer, c, id, fds);
      fds.closeAll();
      if (alive) {
        if (c.beforeVersion && c.expect.kind !== 'ok') {
          assert.ok(await peer.negotiate(), `${c.name}: VERSION refused afterwards`);
        }
        assert.ok(await peer.probe(PROBE_ID), `${c.name}: the next valid request was not served`);
        peer.close();
      } else {
        await s.server.endpoint.idle();
        const next = await RawPeer.connect(s.socketPath);
        assert.ok(await next.negotiate(), `${c.name}: the next client could not negotiate`);
        assert.ok(await next.probe(PROBE_ID), `${c.name}: the next client was not served`);
        next.close();
      }
      served.fresh++;
    }
    await s.server.endpoint.idle();
    shared = await RawPeer.connect(s.socketPath);
    assert.ok(await shared.negotiate());
    assert.ok(await shared.probe(PROBE_ID));
    shared.close();
    await s.server.endpoint.idle();
    assert.equal(served.shared + served.fresh, CASES.length);
    assert.equal(openFds(), fdsBefore, 'fds leaked across the malformed cases');
  });
});
