import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCard, EMU_INTX_DEASSERT, EMU_IRQ_TRIGGER, ManualClock } from '../../src/hw/index.js';
import { Errno } from '../../src/uapi/errno.js';
import type { IrqSink } from '../../src/vfio/device.js';
import { VfioError } from '../../src/vfio/errors.js';
import { VfioPciDevice } from '../../src/vfio/pci-device.js';

const CFG = 7;
const errno = (n: number) => (e: unknown) => e instanceof VfioError && e.errno === n;
const le32 = (v: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
};
const u32 = (b: Uint8Array, at = 0) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);

function open(profile: 'gh200' | 'gb200' = 'gh200') {
  const clock = new ManualClock();
  const card = createCard({ profile, clock });
  const dev = new VfioPciDevice(card);
  dev.open();
  return { card, dev, clock };
}

class Counter implements IrqSink {
  n = 0;
  closed = false;
  signal(): void {
    this.n++;
  }
  close(): void {
    this.closed = true;
  }
}

const trigger = (v: number) => le32(v);

describe('core info', () => {
  it('device info: PCI|RESET, 9 regions, 5 irqs', () => {
    const { dev } = open();
    assert.deepEqual(dev.deviceInfo(), { flags: 3, numRegions: 9, numIrqs: 5 });
  });

  it('region info: BAR0 READ|WRITE without MMAP, ROM none, config 4096, VGA and >= 9 EINVAL', () => {
    const { dev } = open();
    const bar0 = dev.regionInfo(0, 32);
    assert.equal(bar0.flags, 3);
    assert.equal(bar0.size, 16n * 2n ** 20n);
    assert.equal(dev.regionInfo(1, 32).flags, 0);
    assert.equal(dev.regionInfo(6, 32).flags, 0);
    assert.equal(dev.regionInfo(6, 32).size, 0n);
    const cfg = dev.regionInfo(7, 32);
    assert.deepEqual([cfg.flags, cfg.size, cfg.offset], [3, 4096n, 7n << 40n]);
    assert.throws(() => dev.regionInfo(8, 32), errno(Errno.EINVAL));
    assert.throws(() => dev.regionInfo(9, 32), errno(Errno.EINVAL));
  });

  it('irq info per index, >= 5 EINVAL', () => {
    const { dev } = open();
    assert.deepEqual(dev.irqInfo(0), { index: 0, flags: 7, count: 1 });
    assert.deepEqual(dev.irqInfo(1), { index: 1, flags: 9, count: 16 });
    assert.deepEqual(dev.irqInfo(2), { index: 2, flags: 9, count: 9 });
    assert.deepEqual(dev.irqInfo(3), { index: 3, flags: 9, count: 1 });
    assert.deepEqual(dev.irqInfo(4), { index: 4, flags: 9, count: 1 });
    assert.throws(() => dev.irqInfo(5), errno(Errno.EINVAL));
  });
});

describe('core config virtualization', () => {
  it('vendor/device are read-only', () => {
    const { dev } = open();
    dev.write(CFG, 0, le32(0x12345678));
    assert.equal(u32(dev.read(CFG, 0, 4)), 0x234210de);
  });

  it('BAR sizing: all-ones on BAR0 reads back the 16 MiB mask with 64-bit prefetch flags', () => {
    const { dev } = open();
    dev.write(CFG, 0x10, le32(0xffffffff));
    dev.write(CFG, 0x14, le32(0xffffffff));
    assert.equal(u32(dev.read(CFG, 0x10, 4)), 0xff00000c);
    assert.equal(u32(dev.read(CFG, 0x14, 4)), 0xffffffff);
  });

  it('unimplemented BARs and the ROM BAR read 0 after all-ones', () => {
    const { dev } = open('gh200');
    dev.write(CFG, 0x30, le32(0xffffffff));
    assert.equal(u32(dev.read(CFG, 0x30, 4)), 0);
  });

  it('BAR writes never reach hardware', () => {
    const { dev, card } = open();
    dev.write(CFG, 0x10, le32(0xfe000000));
    assert.equal(card.cfgRead(0x10, 4), 0x0000000c);
  });

  it('memory BAR access with the virtual MSE clear is EIO', () => {
    const { dev } = open();
    dev.write(CFG, 4, new Uint8Array([0, 0]));
    assert.throws(() => dev.read(0, 0, 4), errno(Errno.EIO));
    assert.throws(() => dev.write(0, 0, le32(0)), errno(Errno.EIO));
    dev.write(CFG, 4, new Uint8Array([2, 0]));
    assert.equal(u32(dev.read(0, 0, 4)), 0x180000a1);
  });

  it('BAR access at/after the size is EINVAL, count clipped', () => {
    const { dev } = open();
    const size = 16 * 2 ** 20;
    assert.throws(() => dev.read(0, size, 4), errno(Errno.EINVAL));
    assert.equal(dev.read(0, size - 2, 8).length, 2);
    assert.throws(() => dev.read(1, 0, 4), errno(Errno.EINVAL));
  });

  it('the MSI-X table range in BAR0 reads 0xFF and drops writes', () => {
    const { dev, card } = open();
    dev.write(0, 0xb90000, le32(0x12345678));
    assert.equal(u32(dev.read(0, 0xb90000, 4)), 0xffffffff);
    const hw = new Uint8Array(4);
    card.barRead(0, 0xb90000, hw);
    assert.equal(u32(hw), 0);
  });

  it('the FLR bit resets the card and reads 0', () => {
    const { dev, card } = open();
    card.barWrite(0, 0x100, le32(0xabcd));
    dev.write(CFG, 0x68, new Uint8Array([0x10, 0xa8]));
    assert.equal(dev.read(CFG, 0x69, 1)[0]! & 0x80, 0);
    const b = new Uint8Array(4);
    card.barRead(0, 0x100, b);
    assert.equal(u32(b), 0);
  });

  it('INTx-Disable is virtual; pin reads 1 and is read-only', () => {
    const { dev, card } = open();
    dev.write(CFG, 5, new Uint8Array([0x04]));
    assert.equal(dev.read(CFG, 5, 1)[0], 0x04);
    assert.equal(card.cfgRead(4, 2) & 0x400, 0);
    dev.write(CFG, 0x3d, new Uint8Array([0]));
    assert.equal(dev.read(CFG, 0x3d, 1)[0], 1);
  });

  it('status writes are dropped; MSI-X control writes are dropped', () => {
    const { dev, card } = open();
    dev.write(CFG, 0xb2, new Uint8Array([0, 0x80]));
    assert.equal(card.cfgRead(0xb2, 2) & 0x8000, 0);
    assert.equal(dev.read(CFG, 6, 2)[0]! & 0x10, 0x10);
  });

  it('the hidden Null ext cap at 0x100 reads id/version 0 with next kept; DVSEC is raw', () => {
    const { dev, card } = open();
    const h = u32(dev.read(CFG, 0x100, 4));
    assert.equal(h & 0xfffff, 0);
    assert.equal(h >>> 20, card.cfgRead(0x100, 4) >>> 20);
    assert.equal(u32(dev.read(CFG, 0x2c8, 4)), card.cfgRead(0x2c8, 4));
  });

  it('unaligned and odd-sized config reads equal the aligned view', () => {
    const { dev } = open();
    const whole = dev.read(CFG, 0, 0x40);
    assert.deepEqual([...dev.read(CFG, 3, 7)], [...whole.subarray(3, 10)]);
  });
});

describe('SET_IRQS', () => {
  it('rejects zero or two data types, bad ranges and wrong sink counts (EINVAL); MASK or two actions on MSI-X (ENOTTY)', () => {
    const { dev } = open();
    const bad = [
      { flags: 0x20, index: 2, start: 0, count: 1 },
      { flags: 0x21 | 0x04, index: 2, start: 0, count: 1 },
      { flags: 0x24, index: 2, start: 9, count: 1, sinks: [new Counter()] },
      { flags: 0x24, index: 2, start: 0, count: 10, sinks: [] },
      { flags: 0x24, index: 2, start: 0, count: 2, sinks: [new Counter()] },
      { flags: 0x22, index: 0, start: 0, count: 1, bools: new Uint8Array(2) },
      { flags: 0x24, index: 5, start: 0, count: 1, sinks: [new Counter()] },
    ];
    for (const req of bad)
      assert.throws(() => dev.setIrqs(req), errno(Errno.EINVAL), JSON.stringify(req));
    // Two actions: no handler in vfio_pci_set_irqs_ioctl → ENOTTY (not EINVAL).
    for (const flags of [0x09, 0x01 | 0x28]) {
      assert.throws(
        () => dev.setIrqs({ flags, index: 2, start: 0, count: 1 }),
        errno(Errno.ENOTTY),
      );
    }
  });

  it('an interrupt reaches the MSI-X sink (physical enable + unmasked entry programmed)', () => {
    const { dev, card } = open();
    const sinks = Array.from({ length: 9 }, () => new Counter());
    dev.setIrqs({ flags: 0x24, index: 2, start: 0, count: 9, sinks });
    assert.ok(card.cfgRead(0xb2, 2) & 0x8000);
    dev.write(0, EMU_IRQ_TRIGGER, trigger(5));
    assert.deepEqual(
      sinks.map((s) => s.n),
      [0, 0, 0, 0, 0, 1, 0, 0, 0],
    );
    // Enabling MSI while MSI-X is active is EINVAL.
    assert.throws(
      () => dev.setIrqs({ flags: 0x24, index: 1, start: 0, count: 1, sinks: [new Counter()] }),
      errno(Errno.EINVAL),
    );
    dev.setIrqs({ flags: 0x21, index: 2, start: 0, count: 0 });
    assert.equal(card.cfgRead(0xb2, 2) & 0x8000, 0);
    assert.ok(sinks.every((s) => s.closed));
  });

  it('an interrupt reaches the MSI sink with MME programmed', () => {
    const { dev, card } = open();
    const sinks = Array.from({ length: 4 }, () => new Counter());
    dev.setIrqs({ flags: 0x24, index: 1, start: 0, count: 4, sinks });
    assert.equal((card.cfgRead(0x4a, 2) >> 4) & 7, 2);
    dev.write(0, EMU_IRQ_TRIGGER, trigger(3));
    assert.equal(sinks[3]?.n, 1);
  });

  it('INTx reaches its sink once, stays masked until UNMASK, and re-fires while asserted', () => {
    const { dev } = open();
    const s = new Counter();
    dev.setIrqs({ flags: 0x24, index: 0, start: 0, count: 1, sinks: [s] });
    dev.write(0, EMU_IRQ_TRIGGER, trigger(0));
    dev.write(0, EMU_IRQ_TRIGGER, trigger(0));
    assert.equal(s.n, 1);
    dev.write(0, EMU_INTX_DEASSERT, le32(1));
    dev.setIrqs({ flags: 0x11, index: 0, start: 0, count: 1 });
    assert.equal(s.n, 1);
    dev.write(0, EMU_IRQ_TRIGGER, trigger(0));
    assert.equal(s.n, 2);
    // Still asserted: unmask delivers again (level-triggered).
    dev.setIrqs({ flags: 0x11, index: 0, start: 0, count: 1 });
    assert.equal(s.n, 3);
  });

  it('DATA_NONE TRIGGER fires a loopback signal; ERR/REQ accept one eventfd', () => {
    const { dev } = open();
    const s = new Counter();
    dev.setIrqs({ flags: 0x24, index: 4, start: 0, count: 1, sinks: [s] });
    dev.setIrqs({ flags: 0x21, index: 4, start: 0, count: 1 });
    assert.equal(s.n, 1);
    dev.close();
    assert.ok(s.closed);
  });

  it('reset with an INTx-disabled device keeps vconfig; reset EINVAL when reset does not work', () => {
    const clock = new ManualClock();
    const card = createCard({ profile: 'gh200', clock });
    const dev = new VfioPciDevice(card, { resetWorks: false });
    dev.open();
    assert.equal(dev.deviceInfo().flags, 2);
    assert.throws(() => dev.reset(), errno(Errno.EINVAL));
  });
});
