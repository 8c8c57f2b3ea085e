// The fake BARs' config emulation: docs/driver-rules.md §2.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CFG, cfgRead32, GiB, le32, rig, u32, variant } from './helpers.js';

/** Write all-ones to both dwords of a fake BAR, as firmware sizing does, and read back. */
async function sizeBar(memSize: number, lo: number, profile: 'gh200' | 'gb200' = 'gh200') {
  const { dev } = await rig({ profile, memSize });
  assert.equal(await dev.write(CFG, lo, le32(0xffffffff)), 4);
  assert.equal(await dev.write(CFG, lo + 4, le32(0xffffffff)), 4);
  return [await cfgRead32(dev, lo), await cfgRead32(dev, lo + 4)];
}

describe('fake BAR config emulation (§2)', () => {
  it('reads 0x0000000C / 0 before any write (bar_val zeroed at open)', async () => {
    const { dev } = await rig();
    for (const at of [0x18, 0x20]) {
      assert.equal(await cfgRead32(dev, at), 0xc);
      assert.equal(await cfgRead32(dev, at + 4), 0);
    }
  });

  const cases: [string, number, number, number, number, number][] = [
    // memSize, BAR, low dword, high dword after all-ones
    ['resmem 1 GiB (96 GiB card)', 96 * GiB, 0x18, 0xc000000c, 0xffffffff, 0],
    ['resmem 2 GiB (96 GB card)', 96e9, 0x18, 0x8000000c, 0xffffffff, 0],
    ['usemem 128 GiB', 96 * GiB, 0x20, 0x0000000c, 0xffffffe0, 0],
    ['usemem 256 GiB', 144 * GiB, 0x20, 0x0000000c, 0xffffffc0, 0],
    ['usemem 512 GiB', 480 * GiB, 0x20, 0x0000000c, 0xffffff80, 0],
  ];
  for (const [name, mem, lo, wantLo, wantHi] of cases) {
    it(`${name}: all-ones readback 0x${wantLo.toString(16)} / 0x${wantHi.toString(16)}`, async () => {
      assert.deepEqual(await sizeBar(mem, lo), [wantLo, wantHi]);
    });
  }

  it('a write spanning 0x1C..0x23 writes only BAR3 bytes and reports 4', async () => {
    const { dev } = await rig();
    const n = await dev.write(CFG, 0x1c, new Uint8Array(8).fill(0xff));
    assert.equal(n, 4);
    assert.equal(variant(dev).barValue(2), 0xffffffff_00000000n);
    assert.equal(variant(dev).barValue(4), 0n);
    assert.equal(await cfgRead32(dev, 0x20), 0xc);
  });

  it('a read spanning 0x10..0x30 overlays only BAR2/3; BAR4/5 bytes are the core virtual BARs', async () => {
    const { dev } = await rig();
    await dev.write(CFG, 0x18, le32(0xffffffff));
    await dev.write(CFG, 0x20, le32(0xffffffff));
    const b = await dev.read(CFG, 0x10, 0x20);
    assert.equal(u32(b, 0x08), 0xc000000c); // resmem overlay
    // BAR4 bytes come from the core: the physical 32 MiB BAR's virtualization (address 0).
    assert.equal(u32(b, 0x10), 0x0000000c);
    assert.equal(await cfgRead32(dev, 0x20), 0x0000000c);
  });

  it('byte-granular unaligned writes merge into bar_val', async () => {
    const { dev } = await rig();
    assert.equal(await dev.write(CFG, 0x23, new Uint8Array([0x12, 0x34])), 2);
    assert.equal(variant(dev).barValue(4), 0x3412_000000n);
    assert.equal(await dev.write(CFG, 0x27, new Uint8Array([0x80])), 1);
    const b = await dev.read(CFG, 0x21, 7);
    // bar 128 GiB: bits below 37 read 0 (0x12 vanishes, 0x34 keeps bit 37); byte 7 = 0x80.
    assert.deepEqual([...b], [0, 0, 0, 0x20, 0, 0, 0x80]);
  });

  it('Blackwell: [0x18,0x20) is the real BAR1 (no overlay), a spanning write goes to the core', async () => {
    const { dev } = await rig({ profile: 'gb200' });
    await dev.write(CFG, 0x20, le32(0xffffffff));
    await dev.write(CFG, 0x24, le32(0xffffffff));
    assert.equal(await cfgRead32(dev, 0x24), 0xffffffc0); // usemem 256 GiB
    // 0x1C..0x23: first range matches, no resmem → whole write to the core, count 8.
    assert.equal(await dev.write(CFG, 0x1c, new Uint8Array(8)), 8);
    assert.equal(variant(dev).barValue(4), 0xffffffff_ffffffffn);
    // A read spanning both ranges gets no overlay: BAR5 reads the core's 0, not 0xffffffc0.
    const b = await dev.read(CFG, 0x18, 0x10);
    assert.equal(u32(b, 12), 0);
  });

  it('VFIO_DEVICE_RESET zeroes bar_val; FLR through DevCtl does not', async () => {
    const { dev } = await rig();
    await dev.write(CFG, 0x24, le32(0xffffffff));
    // FLR via PCIe DevCtl (cap at 0x60, DevCtl at 0x68, FLR bit 15).
    await dev.write(CFG, 0x69, new Uint8Array([0x80]));
    assert.equal(await cfgRead32(dev, 0x24), 0xffffffe0);
    await dev.reset();
    assert.equal(await cfgRead32(dev, 0x24), 0);
    assert.equal(await cfgRead32(dev, 0x20), 0xc);
  });

  it('open zeroes bar_val again', async () => {
    const { dev } = await rig();
    await dev.write(CFG, 0x18, le32(0xffffffff));
    dev.close();
    await dev.open();
    assert.equal(await cfgRead32(dev, 0x18), 0xc);
  });

  it('config access beyond 4096 bytes is EFAULT', async () => {
    const { dev } = await rig();
    assert.throws(() => dev.read(CFG, 4094, 4), /EFAULT/);
    assert.throws(() => dev.write(CFG, 4096, new Uint8Array(1)), /EFAULT/);
  });
});
