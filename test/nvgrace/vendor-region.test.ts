import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  VENDOR_REGION_INDEX,
  VENDOR_REGION_SUBTYPE,
  VENDOR_REGION_TYPE,
} from '../../src/nvgrace/index.js';
import { Errno } from '../../src/uapi/errno.js';
import { VfioError } from '../../src/vfio/errors.js';
import {
  decodeSparseMmapCap,
  decodeTypeCap,
  walkCaps,
} from '../../src/vfio-user/protocol/index.js';
import { CFG, GiB, le32, rig, u32 } from './helpers.js';

const errno = (n: number) => (e: unknown) => e instanceof VfioError && e.errno === n;

function caps(ri: { caps: Uint8Array; capOffset: number }) {
  const full = new Uint8Array(32 + ri.caps.length);
  full.set(ri.caps, 32);
  return walkCaps(full, ri.capOffset);
}

/** Size a BAR through config space the way firmware does (write all-ones, read back). */
async function sizeBar(dev: Awaited<ReturnType<typeof rig>>['dev'], at: number): Promise<number> {
  await dev.write(CFG, at, le32(0xffffffff));
  await dev.write(CFG, at + 4, le32(0xffffffff));
  const lo = u32(await dev.read(CFG, at, 4)) & ~0xf;
  const hi = u32(await dev.read(CFG, at + 4, 4));
  const mask = (BigInt(hi) << 32n) | BigInt(lo >>> 0);
  return mask === 0n ? 0 : Number((~mask & 0xffff_ffff_ffff_ffffn) + 1n);
}

describe('--layout vendor-region (the review alternative: one device-specific region)', () => {
  it('regions 2 and 4 are masked: size 0, flags 0, and their config BARs size to 0 (Hopper)', async () => {
    const { dev } = await rig({ policies: { layout: 'vendor-region' } });
    for (const i of [2, 4]) {
      const ri = dev.regionInfo(i, 64);
      assert.equal(ri.size, 0n);
      assert.equal(ri.flags, 0);
      assert.equal(dev.mapping(i), null);
      assert.throws(() => dev.readInto(i, 0, new Uint8Array(4)), errno(Errno.EINVAL));
      assert.throws(() => dev.write(i, 0, new Uint8Array(4)), errno(Errno.EINVAL));
    }
    assert.equal(await sizeBar(dev, 0x18), 0);
    assert.equal(await sizeBar(dev, 0x20), 0);
  });

  it('the device reports VFIO_PCI_NUM_REGIONS + 1 regions; region 9 holds all device memory', async () => {
    const { dev } = await rig({ memSize: 96 * GiB, policies: { layout: 'vendor-region' } });
    assert.equal(dev.deviceInfo().numRegions, 10);
    const ri = dev.regionInfo(VENDOR_REGION_INDEX, 4096);
    assert.equal(ri.index, 9);
    assert.equal(ri.size, BigInt(96 * GiB));
    assert.equal(ri.offset, 9n << 40n);
    // mmap-only: MMAP | CAPS, no READ/WRITE.
    assert.equal(ri.flags, 0x4 | 0x8);
    const [type, sparse] = caps(ri);
    assert.ok(type && sparse);
    assert.equal(type.id, 2);
    assert.deepEqual(decodeTypeCap(type.bytes), {
      type: VENDOR_REGION_TYPE,
      subtype: VENDOR_REGION_SUBTYPE,
    });
    assert.equal(VENDOR_REGION_TYPE, 0x80000000 + 0x10de);
    assert.equal(sparse.id, 1);
    // Hopper: usemem {0, 95 GiB}, then resmem {95 GiB, 1 GiB}, as the card has them.
    assert.deepEqual(decodeSparseMmapCap(sparse.bytes), [
      { offset: 0n, size: BigInt(95 * GiB) },
      { offset: BigInt(95 * GiB), size: BigInt(GiB) },
    ]);
  });

  it('region 9 is passed as one fd over the whole device memory', async () => {
    const { dev, card } = await rig({ policies: { layout: 'vendor-region' } });
    const m = dev.mapping(VENDOR_REGION_INDEX);
    assert.ok(m);
    assert.equal(m.fd, card.memory.fd ?? null);
    assert.equal(m.offset, 0);
    assert.equal(m.areas.length, 2);
  });

  it('read/write of region 9 are EINVAL (no READ/WRITE flags)', async () => {
    const { dev } = await rig({ policies: { layout: 'vendor-region' } });
    assert.throws(() => dev.readInto(9, 0, new Uint8Array(4)), errno(Errno.EINVAL));
    assert.throws(() => dev.write(9, 0, new Uint8Array(4)), errno(Errno.EINVAL));
  });

  it('Blackwell: one area (no resmem) and index 2 stays the real BAR1', async () => {
    const { dev, card } = await rig({ profile: 'gb200', policies: { layout: 'vendor-region' } });
    const ri = dev.regionInfo(9, 4096);
    assert.equal(ri.size, BigInt(card.memory.size));
    const sparse = caps(ri)[1];
    assert.ok(sparse);
    assert.equal(decodeSparseMmapCap(sparse.bytes).length, 1);
    assert.equal(dev.regionInfo(2, 64).size, BigInt(card.bars[2]?.size ?? 0));
    assert.equal(dev.regionInfo(4, 64).size, 0n);
  });

  it('bars layout (upstream): region 9 does not exist', async () => {
    const { dev } = await rig();
    assert.equal(dev.deviceInfo().numRegions, 9);
    assert.throws(() => dev.regionInfo(9, 64), errno(Errno.EINVAL));
  });
});
