import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CapabilityBuilder } from '../../src/pci/capabilities.js';
import { ConfigSpace } from '../../src/pci/config-space.js';
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_CAPABILITY_LIST,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_DVSEC,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_LTR,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
} from '../../src/pci/constants.js';
import { findCap, findDvsec, findExtCap, listCaps, listExtCaps } from '../../src/pci/walk.js';

function pcieOpts() {
  return {
    devCap: 0x10000000,
    devCtl: 0,
    lnkCap: 0,
    lnkSta: 0,
    devCap2: 0,
    lnkCap2: 0,
    lnkCtl2: 0,
  };
}

describe('capability builders and walker', () => {
  it('links standard caps in call order and sets Status.CapList', () => {
    const cs = new ConfigSpace();
    const b = new CapabilityBuilder(cs);
    b.pm({ at: 0x40 });
    b.msi({ at: 0x48, vectors: 16, is64: true, perVectorMask: true });
    b.pcie({ at: 0x60, ...pcieOpts() });
    b.vendor(0x14, 0x9c);
    b.msix({
      at: 0xb0,
      vectors: 9,
      tableBir: 0,
      tableOffset: 0xb90000,
      pbaBir: 0,
      pbaOffset: 0xba0000,
    });
    assert.equal(cs.u8(PCI_CAPABILITY_LIST), 0x40);
    assert.ok(cs.u16(PCI_STATUS) & PCI_STATUS_CAP_LIST);
    assert.deepEqual(listCaps(cs.reader), [
      { id: PCI_CAP_ID_PM, offset: 0x40 },
      { id: PCI_CAP_ID_MSI, offset: 0x48 },
      { id: PCI_CAP_ID_EXP, offset: 0x60 },
      { id: PCI_CAP_ID_VNDR, offset: 0x9c },
      { id: PCI_CAP_ID_MSIX, offset: 0xb0 },
    ]);
    assert.equal(cs.u16(0x48 + 2), 0x0188, 'MSI flags: 64-bit, per-vector mask, 16 vectors');
    assert.equal(cs.u16(0xb0 + 2), 8, 'MSI-X table size field is vectors - 1');
    assert.equal(cs.u32(0xb0 + 4), 0xb90000);
    assert.equal(findCap(cs.reader, PCI_CAP_ID_MSIX), 0xb0);
    assert.equal(findCap(cs.reader, 0x13), null);
  });

  it('places caps at the next free dword when no offset is given', () => {
    const cs = new ConfigSpace();
    const b = new CapabilityBuilder(cs);
    assert.equal(b.pm(), 0x40);
    assert.equal(b.msi({ vectors: 1, is64: false, perVectorMask: false }), 0x48);
    assert.equal(b.vendor(5), 0x54);
  });

  it('refuses overlapping, unaligned and out-of-area placements', () => {
    const cs = new ConfigSpace();
    const b = new CapabilityBuilder(cs);
    b.pm({ at: 0x40 });
    assert.throws(() => b.vendor(8, 0x44), /overlaps/);
    assert.throws(() => b.vendor(8, 0x52), /aligned/);
    assert.throws(() => b.vendor(8, 0xfc), /outside/);
    assert.throws(() => b.msi({ vectors: 3, is64: false, perVectorMask: false }), /vector count/);
    assert.throws(() => b.ltr(0x104), /first extended/);
  });

  it('a walk over a looping chain ends', () => {
    const cs = new ConfigSpace();
    cs.setU16(PCI_STATUS, PCI_STATUS_CAP_LIST);
    cs.setU8(PCI_CAPABILITY_LIST, 0x40);
    cs.setU16(0x40, 0x4001);
    assert.equal(listCaps(cs.reader).length, 48);
    cs.setU32(0x100, (0x100 << 20) | 0x18);
    assert.ok(listExtCaps(cs.reader).length <= 480);
  });

  it('no caps are listed when Status.CapList is clear', () => {
    const cs = new ConfigSpace();
    cs.setU8(PCI_CAPABILITY_LIST, 0x40);
    cs.setU16(0x40, 0x0001);
    assert.deepEqual(listCaps(cs.reader), []);
  });

  it('links extended caps from 0x100, lists a Null placeholder, and finds a DVSEC', () => {
    const cs = new ConfigSpace();
    const b = new CapabilityBuilder(cs);
    b.nullExt(0x2c);
    b.ltr(0x12c);
    b.aer();
    b.dvsec(0x1e98, 0, 0, 0x38);
    b.dvsec(0x10de, 0, 3, 0x10);
    b.dsn(0x0123456789abcdefn);
    const caps = listExtCaps(cs.reader);
    assert.deepEqual(
      caps.map((c) => c.id),
      [
        0,
        PCI_EXT_CAP_ID_LTR,
        PCI_EXT_CAP_ID_ERR,
        PCI_EXT_CAP_ID_DVSEC,
        PCI_EXT_CAP_ID_DVSEC,
        PCI_EXT_CAP_ID_DSN,
      ],
    );
    assert.equal(cs.u32(0x100) >>> 20, 0x12c);
    const nv = findDvsec(cs.reader, 0x10de, 3);
    assert.equal(nv, caps[4]?.offset);
    assert.equal(findDvsec(cs.reader, 0x10de, 4), null);
    const dsn = findExtCap(cs.reader, PCI_EXT_CAP_ID_DSN)!;
    assert.equal(cs.u32(dsn + 4), 0x89abcdef);
    assert.equal(cs.u32(dsn + 8), 0x01234567);
  });

  it('an empty 0x100 header means no extended caps', () => {
    assert.deepEqual(listExtCaps(new ConfigSpace().reader), []);
  });

  it('MSI enable and MSI-X enable/mask bits are writable, the rest of the flags are not', () => {
    const cs = new ConfigSpace();
    const b = new CapabilityBuilder(cs);
    const msi = b.msi({ vectors: 16, is64: true, perVectorMask: true });
    const msix = b.msix({ vectors: 9, tableBir: 0, tableOffset: 0, pbaBir: 0, pbaOffset: 0x1000 });
    cs.write(msi + 2, 2, 0xffff);
    assert.equal(cs.u16(msi + 2), 0x01f9);
    cs.write(msix + 2, 2, 0xffff);
    assert.equal(cs.u16(msix + 2), 0xc008);
    cs.write(msi + 0x10, 4, 0xffffffff);
    assert.equal(cs.u32(msi + 0x10), 0xffff, 'only 16 mask bits exist');
  });

  it('ReBAR encodes supported sizes and the current size', () => {
    const cs = new ConfigSpace();
    const b = new CapabilityBuilder(cs);
    const pos = b.rebar([{ barIndex: 2, sizes: [2 ** 26, 2 ** 28], current: 2 ** 28 }]);
    assert.equal(cs.u32(pos + 4), (1 << (6 + 4)) | (1 << (8 + 4)));
    assert.equal(cs.u32(pos + 8), 2 | (1 << 5) | (8 << 8));
  });
});
