/**
 * What a function reset keeps (pci_try_reset_function saves and restores the config state
 * around the FLR; docs/driver-rules.md §8.8), and the MSI-X table's exemption from the
 * memory-enable check (§8.4).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCard, LAYOUT, ManualClock } from '../../src/hw/index.js';
import {
  PCI_ERR_UNCOR_MASK,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_CERE,
  PCI_EXP_DEVCTL_URRE,
} from '../../src/pci/constants.js';
import { VfioPciDevice } from '../../src/vfio/pci-device.js';

const CFG = 7;
const le = (v: number, n: number) => {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (v >>> (8 * i)) & 0xff;
  return b;
};
const val = (b: Uint8Array) => b.reduceRight((v, x) => v * 256 + x, 0);

function open() {
  const card = createCard({ profile: 'gh200', clock: new ManualClock() });
  const dev = new VfioPciDevice(card);
  dev.open();
  return { card, dev };
}

const DEVCTL = LAYOUT.pcie + PCI_EXP_DEVCTL;
const AER_UNCOR_MASK = LAYOUT.aer + PCI_ERR_UNCOR_MASK;

describe('function reset keeps the config state', () => {
  it('DevCtl error-reporting bits the guest set survive an FLR requested through DevCtl', () => {
    const { dev } = open();
    const before = val(dev.read(CFG, DEVCTL, 2));
    const set = before | PCI_EXP_DEVCTL_CERE | PCI_EXP_DEVCTL_URRE;
    dev.write(CFG, DEVCTL, le(set, 2));
    dev.write(CFG, DEVCTL, le(set | PCI_EXP_DEVCTL_BCR_FLR, 2));
    assert.equal(val(dev.read(CFG, DEVCTL, 2)), set);
  });

  it('AER uncorrectable mask survives VFIO_DEVICE_RESET', () => {
    const { dev } = open();
    dev.write(CFG, AER_UNCOR_MASK, le(0x00100000, 4));
    dev.reset();
    assert.equal(val(dev.read(CFG, AER_UNCOR_MASK, 4)), 0x00100000);
  });

  it('the hardware DevCtl matches what was saved, without the FLR bit', () => {
    const { dev, card } = open();
    dev.write(CFG, DEVCTL, le(val(dev.read(CFG, DEVCTL, 2)) | PCI_EXP_DEVCTL_CERE, 2));
    const hw = card.cfgRead(DEVCTL, 2);
    dev.reset();
    assert.equal(card.cfgRead(DEVCTL, 2), hw);
    assert.equal(card.cfgRead(DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR, 0);
  });
});

describe('MSI-X table and memory enable', () => {
  it('a read entirely inside the MSI-X table returns 0xFF even with MSE clear', () => {
    const { dev } = open();
    const cmd = val(dev.read(CFG, 4, 2));
    dev.write(CFG, 4, le(cmd & ~0x2, 2));
    assert.deepEqual([...dev.read(0, LAYOUT.msixTableOffset, 4)], [0xff, 0xff, 0xff, 0xff]);
    assert.equal(dev.write(0, LAYOUT.msixTableOffset, le(0, 4)), 4);
  });

  it('an access that reaches past the table with MSE clear is still EIO', () => {
    const { dev } = open();
    const cmd = val(dev.read(CFG, 4, 2));
    dev.write(CFG, 4, le(cmd & ~0x2, 2));
    assert.throws(() => dev.read(0, LAYOUT.msixTableOffset - 4, 8), /EIO/);
  });
});
