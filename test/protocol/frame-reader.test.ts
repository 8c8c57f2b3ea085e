import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  encodeDeviceGetInfo,
  encodeDmaMap,
  encodeHeader,
  encodeRegionRead,
  encodeRegionWrite,
  FrameReader,
  MAX_MSG_SIZE,
  type ReadEvent,
} from '../../src/vfio-user/protocol/index.js';
import { GOLDEN } from './golden-messages.js';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A comparable summary of events. */
function summary(evs: ReadEvent[]): unknown[] {
  return evs.map((e) =>
    e.kind === 'frame'
      ? {
          id: e.header.msgId,
          cmd: e.header.command,
          payload: Buffer.from(e.payload).toString('hex'),
          fds: e.fds,
        }
      : { error: e.error.code, fds: e.fds },
  );
}

const STREAM = concat(GOLDEN.map(([, b]) => b));

describe('FrameReader', () => {
  it('reads many frames from one chunk', () => {
    const evs = new FrameReader().push(STREAM);
    assert.equal(evs.length, GOLDEN.length);
    assert.ok(evs.every((e) => e.kind === 'frame'));
  });

  it('gives identical frames when the stream is split at every offset', () => {
    const whole = summary(new FrameReader().push(STREAM));
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const r = new FrameReader();
      const evs = [...r.push(STREAM.slice(0, cut)), ...r.push(STREAM.slice(cut))];
      assert.deepEqual(summary(evs), whole, `split at ${cut}`);
      assert.equal(r.bufferedBytes, 0);
    }
  });

  it('gives identical frames when fed one byte at a time', () => {
    const r = new FrameReader();
    const evs: ReadEvent[] = [];
    for (let i = 0; i < STREAM.length; i++) evs.push(...r.push(STREAM.slice(i, i + 1)));
    assert.deepEqual(summary(evs), summary(new FrameReader().push(STREAM)));
  });

  it('large frames assembled from chunks keep their bytes while later chunks arrive', () => {
    // Frames of 64 KiB and more that complete in the reader's store are handed out as views
    // of it: later pushes must never write into them.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 200_000 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 90_000 }), { minLength: 1, maxLength: 40 }),
        (sizes, cuts) => {
          const frames = sizes.map((n, i) => {
            const data = new Uint8Array(n);
            for (let k = 0; k < n; k++) data[k] = (k * 13 + i * 101) & 0xff;
            return encodeRegionWrite(i, 4, 0, data);
          });
          const stream = concat(frames);
          const r = new FrameReader();
          const evs: ReadEvent[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const n = cuts[i % cuts.length]!;
            evs.push(...r.push(stream.slice(at, at + n)));
            at += n;
          }
          assert.deepEqual(summary(evs), summary(new FrameReader().push(stream)));
          assert.equal(r.bufferedBytes, 0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('attributes a chunk’s fds to the frame holding the chunk’s last byte', () => {
    const a = encodeDmaMap(1, { flags: 3, address: 0n, size: 4096n });
    const b = encodeDmaMap(2, { flags: 3, address: 4096n, size: 4096n });
    const r = new FrameReader();
    // First chunk: all of a and the start of b, with b's fd (sender attaches to b's first byte).
    const evs = [...r.push(concat([a, b.subarray(0, 5)]), [7]), ...r.push(b.subarray(5))];
    assert.deepEqual(
      evs.map((e) => (e.kind === 'frame' ? [e.header.msgId, e.fds] : e.kind)),
      [
        [1, []],
        [2, [7]],
      ],
    );
    // A chunk ending exactly at a frame's end gives the fds to that frame.
    const r2 = new FrameReader();
    const evs2 = [...r2.push(a, [8]), ...r2.push(b)];
    assert.deepEqual(
      evs2.map((e) => (e.kind === 'frame' ? e.fds : null)),
      [[8], []],
    );
  });

  it('copies the incomplete tail, so a reused chunk buffer cannot corrupt it', () => {
    const msg = encodeRegionRead(3, 7, 0, 4);
    const chunk = msg.slice(0, 20);
    const r = new FrameReader();
    assert.deepEqual(r.push(chunk), []);
    chunk.fill(0xff);
    const evs = r.push(msg.slice(20));
    assert.equal(evs[0]?.kind, 'frame');
    assert.equal(evs[0]?.kind === 'frame' && evs[0].header.msgId, 3);
  });

  describe('hostile headers', () => {
    it('size below 16 is a fatal framing error carrying the header', () => {
      const r = new FrameReader();
      const evs = r.push(encodeHeader({ msgId: 5, command: 4, size: 8, flags: 0, error: 0 }), [3]);
      assert.equal(evs.length, 1);
      const e = evs[0]!;
      assert.ok(e.kind === 'error');
      assert.equal(e.error.code, 'E_FRAME_SIZE_TOO_SMALL');
      assert.equal(e.error.fatal, true);
      assert.equal(e.header?.msgId, 5);
      assert.deepEqual(e.fds, [3]);
      assert.ok(r.failed);
    });

    it('size above the cap is fatal as soon as the header is in, without buffering the body', () => {
      const r = new FrameReader();
      const head = encodeHeader({
        msgId: 6,
        command: 10,
        size: MAX_MSG_SIZE + 1,
        flags: 0,
        error: 0,
      });
      assert.deepEqual(r.push(head.subarray(0, 10)), []);
      const evs = r.push(head.subarray(10));
      assert.equal(evs.length, 1);
      assert.ok(evs[0]!.kind === 'error' && evs[0]!.error.code === 'E_FRAME_TOO_LARGE');
      assert.equal(r.bufferedBytes, 0);
      // Whatever follows is refused (and its fds handed back for closing).
      const after = r.push(new Uint8Array(4096), [9]);
      assert.ok(after[0]?.kind === 'error' && after[0].error.code === 'E_READER_FAILED');
      assert.deepEqual(after[0]?.fds, [9]);
      assert.equal(r.bufferedBytes, 0);
    });

    it('a maximal REGION_WRITE is exactly at the default cap and accepted', () => {
      const w = encodeRegionWrite(1, 0, 0, new Uint8Array(1 << 20));
      assert.equal(w.length, MAX_MSG_SIZE);
      assert.equal(new FrameReader().push(w)[0]?.kind, 'frame');
    });

    it('a configurable cap is honoured', () => {
      const r = new FrameReader({ maxMessageSize: 64 });
      assert.equal(r.push(encodeRegionRead(1, 0, 0, 4))[0]?.kind, 'frame');
      const evs = r.push(encodeRegionWrite(2, 0, 0, new Uint8Array(64)));
      assert.ok(evs[0]?.kind === 'error' && evs[0].error.fatal);
    });

    it('type bits other than command/reply reject only that frame; the stream continues', () => {
      const bad = encodeHeader({ msgId: 7, command: 4, size: 20, flags: 0x3, error: 0 });
      const stream = concat([bad, new Uint8Array(4), encodeDeviceGetInfo(8)]);
      const r = new FrameReader();
      const evs = r.push(stream);
      assert.equal(evs.length, 2);
      assert.ok(
        evs[0]!.kind === 'error' && evs[0]!.error.code === 'E_FRAME_TYPE' && !evs[0]!.error.fatal,
      );
      assert.ok(evs[1]!.kind === 'frame' && evs[1]!.header.msgId === 8);
      assert.equal(r.failed, false);
    });
  });
});

describe('FrameReader: transient chunks and store recycling', () => {
  const big = (id: number, fill: number) =>
    encodeRegionWrite(id, 4, 0n, new Uint8Array(256 * 1024).fill(fill));

  it('a transient chunk can be overwritten after push: no payload refers to it', () => {
    const r = new FrameReader();
    const chunk = Buffer.from(concat([encodeDeviceGetInfo(1), encodeRegionRead(2, 7, 0n, 4)]));
    const evs = r.push(chunk, [], true);
    const before = summary(evs);
    chunk.fill(0xee);
    assert.deepEqual(summary(evs), before);
  });

  it('a large frame completed in a transient chunk is copied out too', () => {
    const r = new FrameReader();
    const chunk = Buffer.from(big(3, 0x5a));
    const [ev] = r.push(chunk, [], true);
    assert.ok(ev?.kind === 'frame');
    chunk.fill(0);
    assert.ok(ev.payload.subarray(16).every((v) => v === 0x5a));
  });

  it('recycle() gives the store a large payload took back, so the next one is assembled in it', () => {
    const r = new FrameReader();
    const one = (id: number, fill: number) => {
      const m = big(id, fill);
      r.push(m.subarray(0, 1000));
      const [ev] = r.push(m.subarray(1000));
      assert.ok(ev?.kind === 'frame');
      assert.ok(ev.payload.subarray(16).every((v) => v === fill));
      return ev.payload;
    };
    const first = one(1, 1);
    const second = one(2, 2);
    assert.notEqual(second.buffer, first.buffer, 'without recycle: a fresh store');
    r.recycle(second);
    const third = one(3, 3);
    assert.equal(third.buffer, second.buffer, 'after recycle: the same store');
  });

  it('recycle() of a payload the reader did not hand out under its store changes nothing', () => {
    const r = new FrameReader();
    const m = big(1, 9);
    r.push(m.subarray(0, 10));
    const [ev] = r.push(m.subarray(10));
    assert.ok(ev?.kind === 'frame');
    r.recycle(new Uint8Array(ev.payload.length));
    const m2 = big(2, 8);
    r.push(m2.subarray(0, 10));
    const [ev2] = r.push(m2.subarray(10));
    assert.ok(ev2?.kind === 'frame');
    assert.notEqual(ev2.payload.buffer, ev.payload.buffer);
    assert.ok(
      ev.payload.subarray(16).every((v) => v === 9),
      'the first payload is intact',
    );
  });
});
