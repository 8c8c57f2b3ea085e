import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeDmaMap,
  decodeDmaUnmap,
  decodeGetRegionInfo,
  decodeHeader,
  decodeRegionAccess,
  decodeRegionWriteMulti,
  decodeSetIrqs,
  decodeVersion,
  encodeHeader,
  FrameReader,
  ProtocolError,
  parseCapabilities,
  type ReadEvent,
  validateRequest,
} from '../../src/vfio-user/protocol/index.js';
import { GOLDEN } from './golden-messages.js';

const DECODERS = [
  decodeDmaMap,
  decodeDmaUnmap,
  decodeGetRegionInfo,
  decodeRegionAccess,
  decodeRegionWriteMulti,
  decodeSetIrqs,
  (p: Uint8Array) => parseCapabilities(decodeVersion(p).json),
];

function summary(evs: ReadEvent[]): unknown[] {
  return evs.map((e) =>
    e.kind === 'frame'
      ? [e.header, Buffer.from(e.payload).toString('hex'), e.fds]
      : [e.error.code, e.header, e.fds],
  );
}

describe('properties', () => {
  it('random bytes pushed in random pieces never make the reader throw', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const r = new FrameReader({ maxMessageSize: 256 });
        for (const c of chunks) {
          for (const e of r.push(c, [1])) {
            if (e.kind === 'error') assert.ok(e.error instanceof ProtocolError);
          }
        }
      }),
    );
  });

  it('random streams give the same events however they are split', () => {
    // Streams of well-sized frames (random contents) and random cut points.
    const frame = fc
      .tuple(fc.nat(0xffff), fc.nat(20), fc.uint8Array({ maxLength: 40 }), fc.nat(3))
      .map(([id, cmd, body, type]) => {
        const b = new Uint8Array(16 + body.length);
        encodeHeader({ msgId: id, command: cmd, size: b.length, flags: type, error: 0 }, b);
        b.set(body, 16);
        return b;
      });
    fc.assert(
      fc.property(
        fc.array(frame, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (frames, cuts) => {
          const stream = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
          let o = 0;
          for (const f of frames) {
            stream.set(f, o);
            o += f.length;
          }
          const whole = summary(new FrameReader().push(stream));
          const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort(
            (a, b) => a - b,
          );
          const r = new FrameReader();
          const evs: ReadEvent[] = [];
          let prev = 0;
          for (const p of [...points, stream.length]) {
            evs.push(...r.push(stream.slice(prev, p)));
            prev = p;
          }
          assert.deepEqual(summary(evs), whole);
          assert.equal(whole.length, frames.length);
        },
      ),
    );
  });

  it('decoders and validators meet random payloads with ProtocolError or a value, never anything else', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 80 }),
        fc.nat(20),
        fc.array(fc.nat(100), { maxLength: 3 }),
        (payload, cmd, fds) => {
          for (const d of DECODERS) {
            try {
              d(payload);
            } catch (e) {
              assert.ok(e instanceof ProtocolError, `${d.name} threw ${(e as Error).name}`);
            }
          }
          const header = { msgId: 1, command: cmd, size: 16 + payload.length, flags: 0, error: 0 };
          const v = validateRequest(
            { header, payload, fds },
            { maxDataXfer: 1 << 20, maxMsgFds: 16 },
          );
          if (v) assert.ok(v.errno > 0 && v.message.length > 0);
        },
      ),
    );
  });

  it('every golden message survives decodeHeader/encodeHeader unchanged', () => {
    for (const [, b] of GOLDEN) {
      assert.deepEqual(encodeHeader(decodeHeader(b)), b.subarray(0, 16));
    }
  });
});
