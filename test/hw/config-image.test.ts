import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/hw/clock.js';
import {
  LAYOUT,
  NV_DVSEC_ID,
  NV_DVSEC_MIG_REG,
  NV_DVSEC_VENDOR,
} from '../../src/hw/config-image.js';
import { createCard } from '../../src/hw/create-card.js';
import type { GraceCard } from '../../src/hw/grace-card.js';
import { PROFILE_NAMES, PROFILES, type ProfileName } from '../../src/hw/profiles.js';
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_DVSEC,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_LTR,
  PCI_EXT_CAP_ID_NULL,
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_VNDR,
} from '../../src/pci/constants.js';
import { findCap, findDvsec, listCaps, listExtCaps } from '../../src/pci/walk.js';

const GIB = 2 ** 30;

function card(profile: ProfileName): GraceCard {
  return createCard({ profile, clock: new ManualClock() });
}

describe('config image per profile', () => {
  for (const name of PROFILE_NAMES) {
    const p = PROFILES[name];
    it(`${name}: ids, class 0x030200, rev 0xa1, header type 0, INTA, command 0`, () => {
      const c = card(name);
      assert.equal(c.cfgRead(0, 2), 0x10de);
      assert.equal(c.cfgRead(2, 2), p.deviceId);
      assert.equal(c.cfgRead(8, 4), 0x030200a1);
      assert.equal(c.cfgRead(0x0e, 1), 0);
      assert.equal(c.cfgRead(0x2c, 2), p.subsystemVendorId);
      assert.equal(c.cfgRead(0x2e, 2), p.subsystemId);
      assert.equal(c.cfgRead(0x3d, 1), 1);
      assert.equal(c.cfgRead(4, 2), 0);
      assert.equal(c.cfgRead(6, 2), 0x0010, 'status: only CapList');
      assert.equal(c.cfgRead(0x30, 4), 0, 'no ROM BAR');
      assert.equal(c.romSize, 0);
    });

    it(`${name}: DVSEC 10de/3 bit 0 is ${p.migHwBug ? 'clear (Hopper)' : 'set (Blackwell)'}`, () => {
      const c = card(name);
      const read = c.cfgRead.bind(c);
      const dvsec = findDvsec(read, NV_DVSEC_VENDOR, NV_DVSEC_ID);
      assert.equal(dvsec, LAYOUT.nvDvsec);
      assert.equal(c.cfgRead(dvsec! + NV_DVSEC_MIG_REG, 2) & 1, p.migHwBug ? 0 : 1);
    });
  }

  it('standard chain is PM → MSI → PCIe → vendor → MSI-X at the H20 offsets', () => {
    const c = card('gh200');
    assert.deepEqual(listCaps(c.cfgRead.bind(c)), [
      { id: PCI_CAP_ID_PM, offset: 0x40 },
      { id: PCI_CAP_ID_MSI, offset: 0x48 },
      { id: PCI_CAP_ID_EXP, offset: 0x60 },
      { id: PCI_CAP_ID_VNDR, offset: 0x9c },
      { id: PCI_CAP_ID_MSIX, offset: 0xb0 },
    ]);
    assert.equal(c.cfgRead(0x40 + 2, 2) & 7, 3, 'PM version 3');
    assert.equal(c.cfgRead(0x48 + 2, 2), 0x0188);
    assert.equal(c.cfgRead(0x60 + 2, 2) & 0xff, 0x02, 'PCIe v2 endpoint');
    assert.ok(c.cfgRead(0x60 + 4, 4) & PCI_EXP_DEVCAP_FLR);
    assert.equal(c.cfgRead(0x9c + 2, 1), 0x14);
    assert.equal(c.cfgRead(0xb0 + 2, 2), 8, '9 MSI-X vectors');
    assert.equal(c.cfgRead(0xb0 + 4, 4), 0x00b90000, 'table in BAR0');
    assert.equal(c.cfgRead(0xb0 + 8, 4), 0x00ba0000, 'PBA in BAR0');
    assert.equal(findCap(c.cfgRead.bind(c), PCI_CAP_ID_MSIX), 0xb0);
  });

  it('extended chain starts with a Null placeholder and ends with the DSN', () => {
    const c = card('gb200');
    const caps = listExtCaps(c.cfgRead.bind(c));
    assert.deepEqual(
      caps.map((x) => [x.id, x.offset]),
      [
        [PCI_EXT_CAP_ID_NULL, 0x100],
        [PCI_EXT_CAP_ID_LTR, 0x12c],
        [PCI_EXT_CAP_ID_REBAR, 0x134],
        [PCI_EXT_CAP_ID_ERR, 0x1b8],
        [PCI_EXT_CAP_ID_VNDR, 0x2a4],
        [PCI_EXT_CAP_ID_PWR, 0x2b8],
        [PCI_EXT_CAP_ID_DVSEC, 0x2c8],
        [PCI_EXT_CAP_ID_DSN, 0x2f0],
      ],
    );
    // NVIDIA layout: OUI bytes 48 B0 2D lowest, the serial (device ID 0x2941 here) above.
    assert.equal(c.cfgRead(0x2f0 + 4, 4), 0x412db048);
    assert.equal(c.cfgRead(0x2f0 + 8, 4), 0x29);
  });

  it('BARs: 16 MiB BAR0, real BAR1 at 2/3, 32 MiB at 4/5, all 64-bit prefetchable', () => {
    const c = card('gh200');
    assert.deepEqual(
      c.bars.map((b) => b.size),
      [16 * 2 ** 20, 0, 128 * GIB, 0, 32 * 2 ** 20, 0],
    );
    for (const i of [0, 2, 4]) {
      assert.ok(c.bars[i]?.is64 && c.bars[i]?.prefetch && !c.bars[i]?.io);
      assert.equal(c.cfgRead(0x10 + 4 * i, 4), 0xc);
    }
    assert.equal(card('gb300').bars[2]?.size, 256 * 2 ** 20);
  });
});
