/**
 * The mapped fast path of an anonymous FileMemory (host/memory-windows.ts): the same bytes as
 * pread/pwrite in every case, reads of never-written memory allocate nothing, windows are
 * crossed correctly, and no one holding the fd can change its size under the mapping.
 */
import assert from 'node:assert/strict';
import { fstatSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { preadFull } from '../../src/host/fd-io.js';
import { FileMemory } from '../../src/host/file-memory.js';
import { SparseMemory } from '../../src/hw/memory.js';
import { native } from '../../src/native/addon.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Bytes the file really holds, read with pread (never through the mapping). */
function fileBytes(m: FileMemory, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  preadFull(m.fd, out, offset);
  return out;
}

describe('FileMemory through its mapping', () => {
  it('reads and writes agree with a plain model, across 1 GiB windows and page edges', () => {
    const size = 3 * GiB;
    const m = FileMemory.anonymous(size);
    const model = new SparseMemory(size);
    // Offsets cluster around the window edges, where a range splits.
    const offset = fc.oneof(
      fc.integer({ min: 0, max: size - 1 }),
      fc.integer({ min: GiB - 3 * MiB, max: GiB + MiB }),
      fc.integer({ min: 2 * GiB - 9000, max: 2 * GiB + 9000 }),
    );
    const op = fc.record({
      write: fc.boolean(),
      offset,
      length: fc.integer({ min: 1, max: 3 * MiB }),
      seed: fc.integer({ min: 0, max: 255 }),
    });
    try {
      fc.assert(
        fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), (ops) => {
          for (const o of ops) {
            const length = Math.min(o.length, size - o.offset);
            if (o.write) {
              const data = new Uint8Array(length);
              for (let i = 0; i < length; i += 509) data[i] = (o.seed + i) & 0xff || 1;
              m.write(o.offset, data);
              model.write(o.offset, data);
            } else {
              const got = new Uint8Array(length);
              const want = new Uint8Array(length);
              m.readInto(o.offset, got);
              model.readInto(o.offset, want);
              assert.ok(Buffer.from(got).equals(want), `read ${o.offset}+${length}`);
              assert.ok(Buffer.from(fileBytes(m, o.offset, length)).equals(want), 'file');
            }
          }
        }),
        { numRuns: 40 },
      );
    } finally {
      m.close();
    }
  });

  it('reading never-written memory allocates nothing, around written pages too', () => {
    const m = FileMemory.anonymous(8 * GiB);
    try {
      m.write(5 * GiB + 100, Uint8Array.of(1, 2, 3));
      const blocks = fstatSync(m.fd).blocks;
      const out = new Uint8Array(MiB);
      for (const at of [0, 5 * GiB - MiB / 2, 5 * GiB + 4096, 8 * GiB - MiB]) {
        m.readInto(at, out);
      }
      m.readInto(5 * GiB, out);
      assert.deepEqual([...out.subarray(100, 103)], [1, 2, 3]);
      assert.ok(out.subarray(103).every((v) => v === 0));
      assert.equal(fstatSync(m.fd).blocks, blocks, 'reads allocated pages');
    } finally {
      m.close();
    }
  });

  it('a peer holding the fd cannot shrink or grow it (a mapped access could then SIGBUS)', () => {
    const m = FileMemory.anonymous(GiB);
    try {
      m.write(GiB - 4, Uint8Array.of(9, 9, 9, 9));
      assert.throws(() => native().ftruncateFd(m.fd, 4096), /EPERM|Operation not permitted/);
      assert.throws(() => native().ftruncateFd(m.fd, 2 * GiB), /EPERM|Operation not permitted/);
      const out = new Uint8Array(4);
      m.readInto(GiB - 4, out);
      assert.deepEqual([...out], [9, 9, 9, 9]);
    } finally {
      m.close();
    }
  });

  it('use after close throws instead of touching unmapped memory', () => {
    const m = FileMemory.anonymous(GiB);
    m.write(0, Uint8Array.of(1));
    m.close();
    assert.throws(() => m.write(0, Uint8Array.of(2)));
    assert.throws(() => m.readInto(0, new Uint8Array(1)));
  });
});
