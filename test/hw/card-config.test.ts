import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../src/hw/clock.js';
import { LAYOUT } from '../../src/hw/config-image.js';
import { createCard } from '../../src/hw/create-card.js';

function gh200() {
  return createCard({ profile: 'gh200', clock: new ManualClock() });
}

describe('physical config writes follow hardware masks', () => {
  it('BAR0 sizing: all-ones reads back the 16 MiB mask with the type bits', () => {
    const c = gh200();
    c.cfgWrite(0x10, 4, 0xffffffff);
    c.cfgWrite(0x14, 4, 0xffffffff);
    assert.equal(c.cfgRead(0x10, 4), 0xff00000c);
    assert.equal(c.cfgRead(0x14, 4), 0xffffffff);
  });

  it('BAR1 of 128 GiB sizes through both dwords', () => {
    const c = gh200();
    c.cfgWrite(0x18, 4, 0xffffffff);
    c.cfgWrite(0x1c, 4, 0xffffffff);
    assert.equal(c.cfgRead(0x18, 4), 0x0000000c);
    assert.equal(c.cfgRead(0x1c, 4), 0xffffffe0);
  });

  it('a BAR keeps an assigned address and never its type bits', () => {
    const c = gh200();
    c.cfgWrite(0x10, 4, 0x12345678);
    assert.equal(c.cfgRead(0x10, 4), 0x1200000c);
  });

  it('the 256 MiB Blackwell BAR1 sizes as 0xf000000c', () => {
    const c = createCard({ profile: 'gb200', clock: new ManualClock() });
    c.cfgWrite(0x18, 4, 0xffffffff);
    assert.equal(c.cfgRead(0x18, 4), 0xf000000c);
  });

  it('command: MSE, bus master and INTx-disable are writable, reserved bits are not', () => {
    const c = gh200();
    c.cfgWrite(4, 2, 0xffff);
    assert.equal(c.cfgRead(4, 2), 0x0547);
    c.cfgWrite(4, 2, 0);
    assert.equal(c.cfgRead(4, 2), 0);
  });

  it('status: writing a value cannot set error bits; CapList stays', () => {
    const c = gh200();
    c.cfgWrite(6, 2, 0xffff);
    assert.equal(c.cfgRead(6, 2), 0x0010);
  });

  it('read-only IDs ignore writes', () => {
    const c = gh200();
    c.cfgWrite(0, 4, 0);
    c.cfgWrite(8, 4, 0);
    assert.equal(c.cfgRead(0, 4), 0x234210de);
    assert.equal(c.cfgRead(8, 4), 0x030200a1);
  });

  it('PMCSR: D3hot is accepted, unsupported D1 keeps the current state', () => {
    const c = gh200();
    const pmcsr = LAYOUT.pm + 4;
    c.cfgWrite(pmcsr, 2, 3);
    assert.equal(c.cfgRead(pmcsr, 2) & 3, 3);
    c.cfgWrite(pmcsr, 2, 1);
    assert.equal(c.cfgRead(pmcsr, 2) & 3, 3);
    c.cfgWrite(pmcsr, 2, 0);
    assert.equal(c.cfgRead(pmcsr, 2) & 3, 0);
    assert.ok(c.cfgRead(pmcsr, 2) & 0x8, 'No_Soft_Reset');
  });

  it('DevCtl: FLR bit reads 0 and writing it resets the function', () => {
    const c = gh200();
    c.cfgWrite(4, 2, 0x0006);
    c.cfgWrite(0x10, 4, 0xabc00000);
    const devctl = LAYOUT.pcie + 8;
    c.cfgWrite(devctl, 2, c.cfgRead(devctl, 2) | 0x8000);
    assert.equal(c.cfgRead(devctl, 2) & 0x8000, 0);
    assert.equal(c.cfgRead(4, 2), 0, 'command back to power-on');
    assert.equal(c.cfgRead(0x10, 4), 0xc, 'BAR back to power-on');
  });

  it('DevCtl: MPS/MRRS are writable without resetting', () => {
    const c = gh200();
    c.cfgWrite(4, 2, 0x0002);
    const devctl = LAYOUT.pcie + 8;
    c.cfgWrite(devctl, 2, 0x5030);
    assert.equal(c.cfgRead(devctl, 2), 0x5030);
    assert.equal(c.cfgRead(4, 2), 0x0002);
  });

  it('MSI-X control: enable and function mask are writable, table size is not', () => {
    const c = gh200();
    c.cfgWrite(LAYOUT.msix + 2, 2, 0xffff);
    assert.equal(c.cfgRead(LAYOUT.msix + 2, 2), 0xc008);
  });

  it('refuses malformed config accesses', () => {
    const c = gh200();
    assert.throws(() => c.cfgRead(4096, 1), RangeError);
    assert.throws(() => c.cfgRead(1, 2), RangeError);
    assert.throws(() => c.cfgWrite(0, 3 as 1, 0), RangeError);
  });
});
