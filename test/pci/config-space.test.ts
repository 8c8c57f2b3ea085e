import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigSpace, checkConfigAccess } from '../../src/pci/config-space.js';

describe('ConfigSpace', () => {
  it('stores multi-byte values little-endian', () => {
    const cs = new ConfigSpace();
    cs.setU32(0x10, 0x12345678);
    assert.equal(cs.u8(0x10), 0x78);
    assert.equal(cs.u16(0x12), 0x1234);
    assert.equal(cs.u32(0x10), 0x12345678);
  });

  it('reads a dword with the top bit set as an unsigned number', () => {
    const cs = new ConfigSpace();
    cs.setU32(0, 0xfffffff0);
    assert.equal(cs.u32(0), 0xfffffff0);
  });

  it('a bus write changes only writable bits', () => {
    const cs = new ConfigSpace();
    cs.setU16(4, 0x0100);
    cs.setWritable(4, 2, 0x0006);
    cs.write(4, 2, 0xffff);
    assert.equal(cs.u16(4), 0x0106);
    cs.write(4, 2, 0x0000);
    assert.equal(cs.u16(4), 0x0100);
  });

  it('a bus write of 1 clears a write-1-to-clear bit and a 0 leaves it', () => {
    const cs = new ConfigSpace();
    cs.setU16(6, 0x8010);
    cs.setW1c(6, 2, 0x8000);
    cs.write(6, 2, 0x0000);
    assert.equal(cs.u16(6), 0x8010);
    cs.write(6, 2, 0xffff);
    assert.equal(cs.u16(6), 0x0010);
  });

  it('refuses unaligned, oversized and out-of-range accesses with a RangeError', () => {
    const cs = new ConfigSpace();
    assert.throws(() => cs.read(2, 4), /aligned/);
    assert.throws(() => cs.read(4096, 1), /outside/);
    assert.throws(() => cs.read(4094, 4), RangeError);
    assert.throws(() => checkConfigAccess(0, 3, 4096), /size 3/);
    assert.throws(() => cs.write(-1, 1, 0), RangeError);
  });

  it('clone is independent of the original', () => {
    const cs = new ConfigSpace();
    cs.setU8(0x40, 1);
    const c = cs.clone();
    cs.setU8(0x40, 2);
    assert.equal(c.u8(0x40), 1);
  });
});
