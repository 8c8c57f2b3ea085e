/**
 * drivers/vfio/pci/vfio_pci_core.c, rule by rule: device info, region info and IRQ info of
 * the plain core (what nvgrace-gpu-vfio-pci-core and everything the variant does not override
 * answers). Read: v6.19 (the get_region_info_caps conversion). Deliberate differences are
 * named in the test (docs/audit.md §4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCard, ManualClock } from '../../src/hw/index.js';
import { RegionInfoFlags } from '../../src/uapi/vfio.js';
import { VfioPciDevice } from '../../src/vfio/pci-device.js';
import { core, Errno, errno } from './helpers.js';

const { READ, WRITE } = RegionInfoFlags;

describe('vfio_pci_ioctl_get_info', () => {
  it('flags PCI|RESET when the function reset works, 9 regions, 5 IRQs', () => {
    assert.deepEqual(core().dev.deviceInfo(), { flags: 0x3, numRegions: 9, numIrqs: 5 });
  });

  it('no RESET flag when reset_works is false; VFIO_DEVICE_RESET is then EINVAL', () => {
    const card = createCard({ profile: 'gh200', clock: new ManualClock() });
    const dev = new VfioPciDevice(card, { resetWorks: false });
    dev.open();
    assert.equal(dev.deviceInfo().flags, 0x2);
    assert.throws(() => dev.reset(), errno(Errno.EINVAL));
  });
});

describe('vfio_pci_ioctl_get_region_info', () => {
  it('CONFIG: offset 7 << 40, size cfg_size (4096), READ|WRITE', () => {
    const r = core().dev.regionInfo(7, 32);
    assert.deepEqual([r.offset, r.size, r.flags], [7n << 40n, 4096n, READ | WRITE]);
  });

  it('a BAR without a host resource: size 0, flags 0', () => {
    const r = core().dev.regionInfo(1, 32);
    assert.deepEqual([r.size, r.flags], [0n, 0]);
  });

  it('ROM with no ROM BAR and no shadow ROM: size 0, flags 0', () => {
    const r = core().dev.regionInfo(6, 32);
    assert.deepEqual([r.size, r.flags], [0n, 0]);
  });

  it('VGA on a non-VGA device (class 0x0302) and any index >= 9 → EINVAL', () => {
    const { dev } = core();
    assert.throws(() => dev.regionInfo(8, 32), errno(Errno.EINVAL));
    assert.throws(() => dev.regionInfo(9, 32), errno(Errno.EINVAL));
  });

  it('argsz below the 32-byte struct → EINVAL', () => {
    assert.throws(() => core().dev.regionInfo(0, 16), errno(Errno.EINVAL));
  });

  it('deliberate: BAR0 is READ|WRITE without MMAP and without MSIX_MAPPABLE (the kernel reports MMAP|CAPS + MSIX_MAPPABLE: bar_mmap_supported, msix_mmappable_cap); its registers are trapped', () => {
    const r = core().dev.regionInfo(0, 64);
    assert.deepEqual([r.size, r.flags, r.capOffset], [16n * 2n ** 20n, READ | WRITE, 0]);
  });

  it('deliberate: the real BAR1 and regions 4/5 are READ|WRITE without MMAP (the kernel reports MMAP for any memory BAR ≥ a page)', () => {
    for (const profile of ['gh200', 'gb200'] as const) {
      const { dev } = core(profile);
      for (const index of [2, 4]) assert.equal(dev.regionInfo(index, 32).flags, READ | WRITE);
    }
  });
});

describe('vfio_pci_ioctl_get_irq_info / vfio_pci_get_irq_count', () => {
  it('INTx: count 1 (pin A), EVENTFD|MASKABLE|AUTOMASKED', () => {
    assert.deepEqual(core().dev.irqInfo(0), { index: 0, flags: 0x7, count: 1 });
  });

  it('MSI: count 2^MMC of the hardware flags (16), EVENTFD|NORESIZE', () => {
    assert.deepEqual(core().dev.irqInfo(1), { index: 1, flags: 0x9, count: 16 });
  });

  it('MSI-X: count table size (9), EVENTFD|NORESIZE (has_dyn_msix is false: the GICv3 ITS MSI parent lacks MSI_FLAG_PCI_MSIX_ALLOC_DYN)', () => {
    assert.deepEqual(core().dev.irqInfo(2), { index: 2, flags: 0x9, count: 9 });
  });

  it('ERR (a PCIe device) and REQ: count 1, EVENTFD|NORESIZE', () => {
    const { dev } = core();
    assert.deepEqual(dev.irqInfo(3), { index: 3, flags: 0x9, count: 1 });
    assert.deepEqual(dev.irqInfo(4), { index: 4, flags: 0x9, count: 1 });
  });

  it('index >= 5 → EINVAL', () => {
    assert.throws(() => core().dev.irqInfo(5), errno(Errno.EINVAL));
  });
});
