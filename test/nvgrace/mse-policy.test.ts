import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Errno } from '../../src/uapi/errno.js';
import { VfioError } from '../../src/vfio/errors.js';
import { CFG, rig } from './helpers.js';

const errno = (n: number) => (e: unknown) => e instanceof VfioError && e.errno === n;
const CMD = 0x4;

async function setCommand(dev: Awaited<ReturnType<typeof rig>>['dev'], mse: boolean) {
  const cur = (await dev.read(CFG, CMD, 2)) as Uint8Array;
  const v = ((cur[0] ?? 0) | ((cur[1] ?? 0) << 8)) & ~0x2;
  await dev.write(CFG, CMD, new Uint8Array([(v | (mse ? 2 : 0)) & 0xff, v >> 8]));
}

describe('--mse policy (review alternative: v15 honoured MSE, upstream ignores it)', () => {
  it('honour: a BAR4 read with the virtual MSE clear is EIO (band 6.14)', async () => {
    const { dev } = await rig({ kernel: '6.14', policies: { mse: 'honour' } });
    await setCommand(dev, false);
    assert.throws(() => dev.readInto(4, 0, new Uint8Array(4)), errno(Errno.EIO));
    assert.throws(() => dev.write(4, 0, new Uint8Array(4)), errno(Errno.EIO));
    // Also in the padding past memlength: the whole BAR is off while decode is off.
    assert.throws(() => dev.write(4, 2 ** 36, new Uint8Array(4)), errno(Errno.EIO));
  });

  it('ignore (upstream nvgrace_gpu_read_mem): the same read is served (band 6.14)', async () => {
    const { dev } = await rig({ kernel: '6.14' });
    await setCommand(dev, false);
    assert.equal(await dev.readInto(4, 0, new Uint8Array(4)), 4);
    assert.equal(await dev.write(4, 0, new Uint8Array(4)), 4);
  });

  it('honour: with MSE set again the read is served', async () => {
    const { dev } = await rig({ kernel: '6.14', policies: { mse: 'honour' } });
    await setCommand(dev, false);
    await setCommand(dev, true);
    assert.equal(await dev.readInto(4, 0, new Uint8Array(4)), 4);
  });

  it('honour: the fake BARs are offered without an fd while MSE is clear (no mapping, no in-place read)', async () => {
    const { dev } = await rig({ kernel: '6.14', policies: { mse: 'honour' } });
    assert.notEqual(dev.mapping(4), null);
    await setCommand(dev, false);
    assert.equal(dev.mapping(4), null);
    assert.equal(dev.mapping(2), null);
    assert.equal(dev.readView(4, 0, 4096), null);
    await setCommand(dev, true);
    assert.notEqual(dev.mapping(4), null);
  });

  it('ignore: the mapping does not depend on MSE', async () => {
    const { dev } = await rig({ kernel: '6.14' });
    await setCommand(dev, false);
    assert.notEqual(dev.mapping(4), null);
  });

  for (const mse of ['ignore', 'honour'] as const) {
    it(`nvgrace_gpu_check_device_ready (≥6.19): post-reset access with MSE clear is EIO under mse ${mse}`, async () => {
      const { dev } = await rig({ kernel: '6.19', policies: { mse } });
      await dev.reset();
      await setCommand(dev, false);
      assert.throws(() => dev.readInto(4, 0, new Uint8Array(4)), errno(Errno.EIO));
    });
  }

  it('honour does not touch the core BARs or config space', async () => {
    const { dev } = await rig({ kernel: '6.14', policies: { mse: 'honour' } });
    await setCommand(dev, false);
    assert.equal((await dev.read(CFG, 0, 4)).length, 4);
    // BAR0 is the core's: EIO there comes from vfio_pci_bar_rw's own memory check.
    assert.throws(() => dev.readInto(0, 0, new Uint8Array(4)), errno(Errno.EIO));
  });
});
