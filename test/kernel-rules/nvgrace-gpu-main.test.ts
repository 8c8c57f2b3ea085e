/**
 * drivers/vfio/pci/nvgrace-gpu/main.c, rule by rule, at each band. Read: v6.9 (701ab935859f),
 * v6.18 (407aa63018d1, Blackwell DVSEC + probe wait), the v6.19 readiness series (v9:
 * nvgrace_gpu_check_device_ready under memory_lock in the read/write/fault paths).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CFG, rig, variant } from '../nvgrace/helpers.js';
import { Errno, errno, le } from './helpers.js';

const GiB = 2 ** 30;

describe('nvgrace_gpu_read_mem / nvgrace_gpu_write_mem (≥ 6.19): the readiness check and zero-length accesses', () => {
  it('a zero-length read with the check pending and MSE clear → EIO (the check runs before the copy)', async () => {
    const { dev } = await rig({ kernel: '6.19' });
    await dev.write(CFG, 4, le(0, 2));
    await dev.reset();
    assert.throws(() => dev.read(4, 0, 0), errno(Errno.EIO));
    assert.equal(variant(dev).readinessCheckPending, true);
  });

  it('a zero-length read with MSE set passes the check and disarms it', async () => {
    const { dev } = await rig({ kernel: '6.19' });
    await dev.reset();
    assert.equal((await dev.read(4, 0, 0)).length, 0);
    assert.equal(variant(dev).readinessCheckPending, false);
  });

  it('a zero-length write below memlength reaches the check (EIO with MSE clear)', async () => {
    const { dev } = await rig({ kernel: '6.19' });
    await dev.write(CFG, 4, le(0, 2));
    await dev.reset();
    assert.throws(() => dev.write(4, 0, new Uint8Array(0)), errno(Errno.EIO));
  });

  it('a write starting at or past memlength returns before the check ("if (offset >= memregion->memlength) return count")', async () => {
    const { dev } = await rig({ kernel: '6.19' });
    await dev.write(CFG, 4, le(0, 2));
    await dev.reset();
    assert.equal(await dev.write(4, 95 * GiB, new Uint8Array(0)), 0);
    assert.equal(await dev.write(4, 95 * GiB, new Uint8Array(4)), 4);
    assert.equal(variant(dev).readinessCheckPending, true);
  });

  it('offset >= bar_size → EINVAL before the check, zero length included', async () => {
    const { dev } = await rig({ kernel: '6.19' });
    await dev.write(CFG, 4, le(0, 2));
    assert.throws(() => dev.read(4, 128 * GiB, 0), errno(Errno.EINVAL));
  });
});

describe('nvgrace_gpu_read_mem (≤ 6.18): no readiness check', () => {
  for (const kernel of ['6.9', '6.14'] as const) {
    it(`${kernel}: a zero-length read after reset with MSE clear is 0`, async () => {
      const { dev } = await rig({ kernel });
      await dev.write(CFG, 4, le(0, 2));
      await dev.reset();
      assert.equal((await dev.read(4, 0, 0)).length, 0);
    });
  }
});
