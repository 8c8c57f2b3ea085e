import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FdDmaRegion } from '../../src/host/dma-region.js';
import { FileMemory } from '../../src/host/file-memory.js';
import { native } from '../../src/native/addon.js';

test('a DMA window reads and writes the client memory at its file offset', () => {
  const guest = FileMemory.anonymous(1 << 20);
  const region = new FdDmaRegion(native().dupFd(guest.fd), 0x1000n, 0x2000n, 3);
  try {
    guest.write(0x1000 + 5, Buffer.from('guest'));
    assert.equal(Buffer.from(region.read(5, 5)).toString(), 'guest');
    region.write(0x100, Buffer.from('device'));
    const out = Buffer.alloc(6);
    guest.readInto(0x1100, out);
    assert.equal(out.toString(), 'device');
  } finally {
    region.close();
    guest.close();
  }
});

test('a DMA window refuses accesses outside it or against its protection', () => {
  const guest = FileMemory.anonymous(1 << 16);
  const ro = new FdDmaRegion(native().dupFd(guest.fd), 0n, 0x1000n, 1);
  try {
    assert.throws(() => ro.read(0xfff, 2), RangeError);
    assert.throws(() => ro.write(0, Uint8Array.of(1)), RangeError);
  } finally {
    ro.close();
    guest.close();
  }
});

test('a DMA window larger than the client file is refused at creation', () => {
  const guest = FileMemory.anonymous(0x1000);
  const fd = native().dupFd(guest.fd);
  try {
    assert.throws(() => new FdDmaRegion(fd, 0n, 0x2000n, 3), { code: 'E_BAD_FD' });
  } finally {
    native().closeFd(fd);
    guest.close();
  }
});
