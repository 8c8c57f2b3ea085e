/**
 * drivers/vfio/pci/vfio_pci_rdwr.c, rule by rule (vfio_pci_bar_rw, vfio_pci_core_do_io_rw).
 * Read: the v6.19-rc4+ file (max_width argument, ROM limited to 4 bytes).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CFG, core, Errno, errno, le } from './helpers.js';

const BAR0_SIZE = 16 * 2 ** 20;
const TABLE = 0xb90000;

describe('vfio_pci_bar_rw', () => {
  it('pos >= BAR length → EINVAL, also for a zero-length access', () => {
    const { dev } = core();
    assert.throws(() => dev.read(0, BAR0_SIZE, 4), errno(Errno.EINVAL));
    assert.throws(() => dev.read(0, BAR0_SIZE, 0), errno(Errno.EINVAL));
  });

  it('count is clipped to the end of the BAR (short read, no error)', () => {
    const { dev } = core();
    assert.equal((dev.read(0, BAR0_SIZE - 2, 8) as Uint8Array).length, 2);
  });

  it('a BAR without a host resource → EINVAL', () => {
    const { dev } = core();
    assert.throws(() => dev.read(1, 0, 4), errno(Errno.EINVAL));
  });

  it('the MSI-X table range reads 0xFF and drops writes (the excluded range)', () => {
    const { dev } = core();
    dev.write(0, TABLE, le(0x12345678));
    assert.deepEqual([...(dev.read(0, TABLE, 4) as Uint8Array)], [0xff, 0xff, 0xff, 0xff]);
  });
});

describe('vfio_pci_core_do_io_rw: memory enable is tested per device access', () => {
  it('memory BAR with the virtual MSE clear → EIO', () => {
    const { dev } = core();
    dev.write(CFG, 4, le(0, 2));
    assert.throws(() => dev.read(0, 0, 4), errno(Errno.EIO));
    assert.throws(() => dev.write(0, 0, le(0)), errno(Errno.EIO));
  });

  it('a zero-length access makes no device access: 0, not EIO, with MSE clear', () => {
    const { dev } = core();
    dev.write(CFG, 4, le(0, 2));
    assert.equal((dev.read(0, 0, 0) as Uint8Array).length, 0);
    assert.equal(dev.write(0, 0, new Uint8Array(0)), 0);
  });

  it('an access wholly inside the MSI-X table touches no device memory: served with MSE clear', () => {
    const { dev } = core();
    dev.write(CFG, 4, le(0, 2));
    assert.deepEqual([...(dev.read(0, TABLE, 2) as Uint8Array)], [0xff, 0xff]);
  });
});
