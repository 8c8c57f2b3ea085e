/**
 * Property-based hostile input (fast-check): mutated QEMU-like messages (test/support/mutate.ts)
 * - through the codec and a session over the fake device, as arbitrary byte streams split at
 *   arbitrary points: nothing throws, every answer echoes its request's id, every error reply
 *   is header-only with a non-zero errno, No_reply and client replies are never answered;
 * - against the RUNNING server over a real socket, one mutated message at a time with random
 *   eventfds/memfds attached: the same answer rules, and the next valid request is served.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeHeader,
  encodeDeviceGetInfo,
  FrameReader,
  HeaderFlags,
  isErrorReply,
  type ReadEvent,
} from '../../src/vfio-user/protocol/index.js';
import type { Reply } from '../../src/vfio-user/server/host.js';
import { ServerSession } from '../../src/vfio-user/server/session.js';
import { type Served, serve } from '../e2e/helpers.js';
import { FakeDevice, FakeHost } from '../server/fake-device.js';
import { qemuVersion } from '../server/helpers.js';
import { corpus, mutate, Rng } from '../support/mutate.js';
import { isProperErrorReply, RawPeer } from '../support/raw-peer.js';
import { FdMaker } from './cases.js';

const SEEDS = corpus();

function checkReply(reply: Reply, sent: { msgId: number; command: number }): void {
  const h = decodeHeader(reply.bytes);
  assert.equal(h.msgId, sent.msgId, 'reply id echoes the request');
  assert.equal(h.command, sent.command, 'reply command echoes the request');
  assert.equal(h.flags & 0xf, HeaderFlags.TYPE_REPLY);
  assert.equal(h.size, reply.bytes.length);
  if (isErrorReply(h)) assert.ok(isProperErrorReply(h), 'error replies are header-only, errno ≠ 0');
}

describe('properties: hostile streams through codec and session', () => {
  it('mutated message streams split anywhere: no throw, every answer well-formed and owed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 0x7fffffff }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 4096 }), { maxLength: 8 }),
        async (seed, n, cuts) => {
          const rng = new Rng(seed);
          const device = new FakeDevice();
          const host = new FakeHost();
          const session = new ServerSession(device, host);
          const reader = new FrameReader();
          const msgs = [qemuVersion(1)];
          for (let i = 0; i < n; i++) {
            msgs.push(mutate(rng, SEEDS, { msgId: 0x100 + i, keepFraming: rng.chance(0.8) }).bytes);
          }
          const stream = Buffer.concat(msgs);
          let fdNext = 500;
          const events: ReadEvent[] = [];
          let at = 0;
          for (const c of [...cuts, stream.length]) {
            const end = Math.min(stream.length, at + c);
            events.push(
              ...reader.push(stream.subarray(at, end), rng.chance(0.3) ? [fdNext++] : []),
            );
            at = end;
            if (at >= stream.length) break;
          }
          if (at < stream.length) events.push(...reader.push(stream.subarray(at)));
          for (const ev of events) {
            const r = await session.handle(ev);
            const h = ev.header;
            if (!h) {
              assert.equal(r, null);
              continue;
            }
            const silent =
              (h.flags & HeaderFlags.NO_REPLY) !== 0 || (h.flags & 0xf) === HeaderFlags.TYPE_REPLY;
            if (silent) assert.equal(r, null, 'No_reply / client replies are never answered');
            else {
              assert.ok(r, `message id ${h.msgId} got no answer`);
              checkReply(r, h);
            }
          }
          // Every fd handed in was either closed or kept by a live sink/window.
          session.close();
          assert.ok(host.closedFds.length <= fdNext - 500);
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('properties: mutated messages against the running server', () => {
  let s: Served;
  before(async () => {
    s = await serve();
  });
  after(async () => {
    await s.stop();
  });

  it('each mutated message is answered as the protocol requires and the next request is served', async () => {
    const peer = await RawPeer.connect(s.socketPath);
    assert.ok(await peer.negotiate());
    const fds = new FdMaker();
    let answered = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 0x7fffffff }), async (seed) => {
        const rng = new Rng(seed);
        const m = mutate(rng, SEEDS, { msgId: 0x200, keepFraming: true });
        const h = decodeHeader(m.bytes);
        const attached = m.fds.map((k) => (k === 'eventfd' ? fds.eventfd() : fds.memfd()));
        peer.send(m.bytes, attached);
        fds.closeAll();
        peer.send(encodeDeviceGetInfo(0x7f01));
        const r = await peer.reply(0x7f01);
        assert.ok(typeof r === 'object', `after ${m.how.join(', ')}: the probe got ${r}`);
        assert.ok(!isErrorReply(r.reply.header), `after ${m.how.join(', ')}: the probe failed`);
        const silent =
          (h.flags & HeaderFlags.NO_REPLY) !== 0 || (h.flags & 0xf) === HeaderFlags.TYPE_REPLY;
        assert.equal(
          r.before.length,
          silent ? 0 : 1,
          `${m.how.join(', ')}: answers ${r.before.length}`,
        );
        const a = r.before[0];
        if (a) {
          answered++;
          assert.equal(a.header.msgId, 0x200);
          assert.equal(a.header.command, h.command);
          if (isErrorReply(a.header)) {
            errors++;
            assert.ok(isProperErrorReply(a.header), `${m.how.join(', ')}: malformed error reply`);
          }
        }
      }),
      { numRuns: 300 },
    );
    assert.ok(answered > 0 && errors > 0, `answered ${answered}, errors ${errors}`);
    peer.close();
  });
});
