/**
 * drivers/vfio/pci/vfio_pci_config.c, rule by rule: the config region's virtualization.
 * Read: v6.x (the permission tables and the MSI/BAR handlers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCard, ManualClock } from '../../src/hw/index.js';
import { VfioPciDevice } from '../../src/vfio/pci-device.js';
import { CFG, core, Errno, errno, le, rd } from './helpers.js';

const cfg32 = (dev: ReturnType<typeof core>['dev'], at: number) =>
  rd(dev.read(CFG, at, 4) as Uint8Array);

describe('vfio_pci_config_rw / vfio_config_do_rw', () => {
  it('a zero-length access is 0 at any offset ("while (count)")', () => {
    const { dev } = core();
    assert.equal((dev.read(CFG, 0x2000, 0) as Uint8Array).length, 0);
    assert.equal(dev.write(CFG, 0x1000, new Uint8Array(0)), 0);
  });

  it('an access reaching past cfg_size → EFAULT', () => {
    const { dev } = core();
    assert.throws(() => dev.read(CFG, 0x1000, 1), errno(Errno.EFAULT));
    assert.throws(() => dev.read(CFG, 0xffe, 4), errno(Errno.EFAULT));
  });
});

describe('vfio_bar_fixup (BAR sizing emulation)', () => {
  it('BAR0 written all-ones reads ~(16M - 1) | 64-bit prefetchable; the upper half all-ones', () => {
    const { dev } = core();
    dev.write(CFG, 0x10, le(0xffffffff));
    dev.write(CFG, 0x14, le(0xffffffff));
    assert.equal(cfg32(dev, 0x10), 0xff00000c);
    assert.equal(cfg32(dev, 0x14), 0xffffffff);
  });

  it('the ROM BAR with no ROM resource reads 0 whatever is written', () => {
    const { dev } = core();
    dev.write(CFG, 0x30, le(0xffffffff));
    assert.equal(cfg32(dev, 0x30), 0);
  });
});

describe('init_pci_cap_msi_perm / vfio_msi_config_read', () => {
  it('the MSI flags low byte is virtual and user-writable, MMC included (the read path does not refresh it)', () => {
    const { dev, card } = core();
    const flags = 0x48 + 2;
    const hw = card.cfgRead(flags, 2);
    dev.write(CFG, flags, le((hw & 0xf1) | (1 << 1), 1)); // MMC 1 written
    assert.equal((rd(dev.read(CFG, flags, 2) as Uint8Array) >> 1) & 7, 1);
    assert.equal((card.cfgRead(flags, 2) >> 1) & 7, (hw >> 1) & 7, 'read-only in hardware');
  });

  it('Enable written while MSI is not on via SET_IRQS is dropped (vfio_msi_config_write)', () => {
    const { dev, card } = core();
    const flags = 0x48 + 2;
    dev.write(CFG, flags, le(card.cfgRead(flags, 2) | 1, 2));
    assert.equal(rd(dev.read(CFG, flags, 2) as Uint8Array) & 1, 0);
    assert.equal(card.cfgRead(flags, 2) & 1, 0);
  });
});

describe('init_pci_cap_pm_perm / init_pci_cap_exp_perm', () => {
  it('PMC PME_Support bits read 0 (virtualized and cleared)', () => {
    assert.equal((cfg32(core().dev, 0x40) >>> 27) & 0x1f, 0);
  });

  it('PCIe DevCtl Initiate-FLR reads 0 after it is written (and resets the function)', () => {
    const { dev } = core();
    const devctl = 0x60 + 8;
    const v = rd(dev.read(CFG, devctl, 2) as Uint8Array);
    dev.write(CFG, devctl, le(v | 0x8000, 2));
    assert.equal(rd(dev.read(CFG, devctl, 2) as Uint8Array) & 0x8000, 0);
  });
});

describe('vfio_basic_config_write (Command)', () => {
  it('INTx-Disable is virtual: the user’s bit reads back, hardware follows vfio’s INTx state', () => {
    const { dev } = core();
    dev.write(CFG, 4, le(0x0406, 2));
    assert.equal(rd(dev.read(CFG, 4, 2) as Uint8Array) & 0x0400, 0x0400);
  });

  it('clearing Memory Space makes the core BARs EIO (the virtual MSE decides)', () => {
    const { dev } = core();
    dev.write(CFG, 4, le(0x0000, 2));
    assert.throws(() => dev.read(0, 0, 4), errno(Errno.EIO));
  });
});

describe('vfio_ecap_init / vfio_direct_config_read (vendor-specific and DVSEC headers)', () => {
  /** The card with the DSN at 0x2F0 replaced by a PASID header (hidden by vfio: length 0). */
  function withHiddenCapAfterDvsec() {
    const card = createCard({ profile: 'gh200', clock: new ManualClock() });
    const PASID_HDR = 0x0001001b; // ID 0x1B, version 1, next 0
    const cfgRead = (o: number, s: 1 | 2 | 4): number => {
      if (o >= 0x2f0 && o < 0x2f4) return Math.floor(PASID_HDR / 256 ** (o - 0x2f0)) % 256 ** s;
      return card.cfgRead(o, s);
    };
    const proxy = new Proxy(card, {
      get(t, p) {
        if (p === 'cfgRead') return cfgRead;
        const v = Reflect.get(t, p, t);
        return typeof v === 'function' ? v.bind(t) : v;
      },
    });
    const dev = new VfioPciDevice(proxy);
    dev.open();
    return { card, dev };
  }

  it('a hidden cap after the DVSEC is unlinked: the DVSEC header reads next 0 (the header comes from vconfig)', () => {
    const { card, dev } = withHiddenCapAfterDvsec();
    const hdr = cfg32(dev, 0x2c8);
    assert.equal(hdr >>> 20, 0);
    assert.equal(hdr & 0xfffff, card.cfgRead(0x2c8, 4) & 0xfffff, 'ID and version as in hardware');
  });

  it('the DVSEC body is read from hardware and writable raw', () => {
    const { card, dev } = core();
    assert.equal(cfg32(dev, 0x2c8 + 8), card.cfgRead(0x2c8 + 8, 4));
  });
});

describe('init_pci_ext_cap_pwr_perm (Power Budgeting)', () => {
  it('the Data Select register is not writable through vfio (the kernel marks PCI_PWR_DATA, +8, writable instead)', () => {
    const { dev, card } = core();
    const pwr = 0x2b8;
    dev.write(CFG, pwr + 4, le(3, 1));
    assert.equal(rd(dev.read(CFG, pwr + 4, 1) as Uint8Array), 0);
    assert.equal(card.cfgRead(pwr + 4, 1), 0, 'the selector in hardware is unchanged');
  });
});
