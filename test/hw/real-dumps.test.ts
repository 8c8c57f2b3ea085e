/**
 * The config image against the real dumps public sources hold (docs/audit.md lists each):
 * every value here was read off a published lspci or config hexdump of the part (or of the
 * closest Hopper/Blackwell part where no Grace dump shows it).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/hw/clock.js';
import { createCard } from '../../src/hw/create-card.js';
import type { ProfileName } from '../../src/hw/profiles.js';

const card = (profile: ProfileName) => createCard({ profile, clock: new ManualClock() });
const MIB = 2 ** 20;
const GIB = 2 ** 30;

describe('GH200 10de:2342 as its host lspci shows it (driver LKML review thread)', () => {
  it('subsystem 10de:16eb, 3D controller, rev a1', () => {
    const c = card('gh200');
    assert.equal(c.cfgRead(0x2c, 2), 0x10de);
    assert.equal(c.cfgRead(0x2e, 2), 0x16eb);
    assert.equal(c.cfgRead(0x08, 4) >>> 8, 0x030200);
    assert.equal(c.cfgRead(0x08, 1), 0xa1);
  });

  it('three 64-bit prefetchable memory BARs: 16M, 128G, 32M', () => {
    const c = card('gh200');
    assert.deepEqual(
      c.bars.filter((b) => b.size > 0).map((b) => [b.index, b.size, b.is64, b.prefetch]),
      [
        [0, 16 * MIB, true, true],
        [2, 128 * GIB, true, true],
        [4, 32 * MIB, true, true],
      ],
    );
  });
});

describe('GB200 10de:2941 as lspci -nnkk shows it (OpenNebula Grace guide, NVIDIA/mig-parted#227)', () => {
  it('subsystem 10de:2046, 3D controller, rev a1', () => {
    const c = card('gb200');
    assert.equal(c.cfgRead(0x2e, 2), 0x2046);
    assert.equal(c.cfgRead(0x08, 4) >>> 8, 0x030200);
    assert.equal(c.cfgRead(0x08, 1), 0xa1);
  });
});

describe('Hopper/Blackwell capability values (H100 SXM hexdump, H100 PCIe and GB10 lspci -vvv)', () => {
  for (const profile of ['gh200', 'gb200'] as const) {
    it(`${profile}: PM PMC 0x0013 (no PME from any state), PMCSR NoSoftRst+`, () => {
      const c = card(profile);
      assert.equal(c.cfgRead(0x40, 4), 0x00134801);
      assert.equal(c.cfgRead(0x44, 2), 0x0008);
    });

    it(`${profile}: MSI at 0x48 with flags 0x0188 (Count=1/16 Maskable+ 64bit+)`, () => {
      assert.equal(card(profile).cfgRead(0x48, 4), 0x01886005);
    });

    it(`${profile}: DevCap MaxPayload 256, ExtTag+, L0s <64ns, L1 <1us, RBE+, FLReset+`, () => {
      const devcap = card(profile).cfgRead(0x60 + 4, 4);
      assert.equal(devcap & 0x7, 1, 'MPS 256 B');
      assert.equal((devcap >>> 6) & 0x7, 0, 'L0s acceptable latency <64ns');
      assert.equal((devcap >>> 9) & 0x7, 0, 'L1 acceptable latency <1us');
      assert.ok(devcap & (1 << 5) && devcap & (1 << 15) && devcap & (1 << 28));
    });
  }
});

describe('Device Serial Number layout (H20 lspci NVIDIA/nvtrust#128, GB10 config walk)', () => {
  it('the low dword ends in the OUI bytes 48 B0 2D, as "…-2d-b0-48" in lspci', () => {
    for (const profile of ['gh200', 'gb200'] as const) {
      const lo = card(profile).cfgRead(0x2f0 + 4, 4);
      assert.equal(lo & 0xffffff, 0x2db048);
    }
  });
});
