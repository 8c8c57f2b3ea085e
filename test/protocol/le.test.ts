/**
 * Little-endian field helpers and message memory (protocol/le.ts): exact u64 numbers up to
 * 2^53 − 1 and +Infinity above (never a wrong finite value), bigint u64 writes, and message
 * buffers that are zeroed and never share bytes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  allocBytes,
  getU32,
  getU64,
  setU32,
  setU64,
  setU64Any,
} from '../../src/vfio-user/protocol/index.js';

describe('little-endian fields', () => {
  it('u64 reads agree with DataView wherever the value is a safe integer, +Infinity elsewhere', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, v, true);
        const got = getU64(b, 0);
        if (v <= BigInt(Number.MAX_SAFE_INTEGER)) assert.equal(got, Number(v));
        else assert.equal(got, Number.POSITIVE_INFINITY);
      }),
    );
    const edge = new Uint8Array(8);
    setU64(edge, 0, Number.MAX_SAFE_INTEGER);
    assert.equal(getU64(edge, 0), Number.MAX_SAFE_INTEGER);
    setU64Any(edge, 0, 2n ** 53n);
    assert.equal(getU64(edge, 0), Number.POSITIVE_INFINITY);
  });

  it('u32 and u64 writes round-trip, bigints included, and bad values are refused', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.nat(0xffffffff), (v, w) => {
        const b = new Uint8Array(12);
        setU64Any(b, 0, v);
        setU32(b, 8, w);
        assert.equal(new DataView(b.buffer).getBigUint64(0, true), v);
        assert.equal(getU32(b, 8), w);
      }),
    );
    assert.throws(() => setU64(new Uint8Array(8), 0, -1), RangeError);
    assert.throws(() => setU64(new Uint8Array(8), 0, 2 ** 53), RangeError);
    assert.throws(() => setU64Any(new Uint8Array(8), 0, 2n ** 64n), RangeError);
  });
});

describe('message memory', () => {
  it('is zeroed and no two buffers overlap, small (slab slices) or large', () => {
    const bufs = [3, 16, 36, 4096, 1, 4097, 70000, 36, 36].flatMap((n) => [
      allocBytes(n),
      allocBytes(n),
    ]);
    for (const b of bufs) assert.ok(b.every((v) => v === 0));
    for (const [i, b] of bufs.entries()) b.fill(i + 1);
    for (const [i, b] of bufs.entries()) {
      assert.ok(
        b.every((v) => v === i + 1),
        `buffer ${i} (${b.length} bytes) shares bytes with another`,
      );
    }
  });

  it('spans slab boundaries without handing out a short buffer', () => {
    for (let i = 0; i < 40; i++) assert.equal(allocBytes(4000).length, 4000);
  });
});
