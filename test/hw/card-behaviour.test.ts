import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  C2C_LINK_STATUS,
  EMU_INTX_DEASSERT,
  EMU_IRQ_TRIGGER,
  HBM_TRAINING_STATUS,
  NV_PMC_BOOT_0,
  NV_PMC_BOOT_42,
} from '../../src/hw/bar0.js';
import type { CardInterrupt } from '../../src/hw/card.js';
import { ManualClock } from '../../src/hw/clock.js';
import { LAYOUT } from '../../src/hw/config-image.js';
import { createCard, DEFAULT_GPU_MEM_BASE_PA } from '../../src/hw/create-card.js';
import type { GraceCard } from '../../src/hw/grace-card.js';
import { SparseMemory } from '../../src/hw/memory.js';

const GIB = 2 ** 30;

function u32(c: GraceCard, bar: number, off: number): number {
  const b = new Uint8Array(4);
  c.barRead(bar, off, b);
  return new DataView(b.buffer).getUint32(0, true);
}

function w32(c: GraceCard, bar: number, off: number, v: number): void {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  c.barWrite(bar, off, b);
}

function enabled(opts: Partial<Parameters<typeof createCard>[0]> = {}) {
  const clock = new ManualClock();
  const c = createCard({ clock, memSize: 2 * GIB, ...opts });
  c.cfgWrite(4, 2, 0x0006);
  return { c, clock };
}

describe('BAR0 registers', () => {
  it('BOOT_0 and BOOT_42 identify GH100 A1 on Hopper and GB100 A1 on GB200', () => {
    const { c } = enabled({ profile: 'gh200' });
    assert.equal(u32(c, 0, NV_PMC_BOOT_0), 0x180000a1);
    assert.equal(u32(c, 0, NV_PMC_BOOT_42), 0x180a1000);
    const { c: b } = enabled({ profile: 'gb200' });
    assert.equal(u32(b, 0, NV_PMC_BOOT_0), 0x1a0000a1);
  });

  it('BOOT_0 ignores writes; other offsets keep what was written', () => {
    const { c } = enabled();
    w32(c, 0, 0, 0);
    assert.equal(u32(c, 0, 0), 0x180000a1);
    assert.equal(u32(c, 0, 0x1000), 0);
    w32(c, 0, 0x1000, 0xdeadbeef);
    assert.equal(u32(c, 0, 0x1000), 0xdeadbeef);
  });

  it('readiness registers read 0 until readyDelayMs has passed, then 0xFF', async () => {
    const { c, clock } = enabled({ readyDelayMs: 5000 });
    assert.equal(u32(c, 0, C2C_LINK_STATUS), 0);
    assert.equal(u32(c, 0, HBM_TRAINING_STATUS), 0);
    assert.deepEqual(c.readiness(), {
      c2cLinkReady: false,
      hbmTrainingDone: false,
      memInfoValid: false, // no CXL DVSEC on this part
      memActive: false,
    });
    await clock.advance(4999);
    assert.equal(u32(c, 0, C2C_LINK_STATUS), 0);
    await clock.advance(1);
    assert.equal(u32(c, 0, C2C_LINK_STATUS), 0xff);
    assert.equal(u32(c, 0, HBM_TRAINING_STATUS), 0xff);
  });

  it('readiness is immediate with the default delay', () => {
    const { c } = enabled();
    assert.equal(u32(c, 0, HBM_TRAINING_STATUS), 0xff);
  });

  it('a reset makes the card not ready again for readyDelayMs after the reset ends', async () => {
    const { c, clock } = enabled({ readyDelayMs: 100, resetDurationMs: 50 });
    await clock.advance(100);
    assert.equal(c.readiness().c2cLinkReady, true);
    c.reset();
    c.cfgWrite(4, 2, 0x0006);
    assert.equal(c.readiness().c2cLinkReady, false);
    await clock.advance(149);
    assert.equal(c.readiness().hbmTrainingDone, false);
    await clock.advance(1);
    assert.equal(c.readiness().hbmTrainingDone, true);
  });

  it('BAR accesses outside the BAR or to a missing BAR throw', () => {
    const { c } = enabled();
    assert.throws(() => c.barRead(0, 16 * 2 ** 20 - 2, new Uint8Array(4)), RangeError);
    assert.throws(() => c.barRead(1, 0, new Uint8Array(4)), /BAR 1 does not exist/);
    assert.throws(() => c.barRead(6, 0, new Uint8Array(4)), RangeError);
  });
});

describe('decode: MSE, D3hot and reset', () => {
  it('with MSE clear, memory and BAR0 read all-ones and writes are dropped', () => {
    const { c } = enabled();
    c.memWrite(0x1000, Uint8Array.of(1, 2, 3, 4));
    c.cfgWrite(4, 2, 0x0004);
    const b = new Uint8Array(4);
    c.memRead(0x1000, b);
    assert.deepEqual([...b], [0xff, 0xff, 0xff, 0xff]);
    assert.equal(u32(c, 0, 0), 0xffffffff);
    c.memWrite(0x1000, Uint8Array.of(9, 9, 9, 9));
    w32(c, 0, 0x2000, 0x55);
    c.cfgWrite(4, 2, 0x0006);
    c.memRead(0x1000, b);
    assert.deepEqual([...b], [1, 2, 3, 4]);
    assert.equal(u32(c, 0, 0x2000), 0);
  });

  it('at power-on the command register is 0, so memory reads all-ones', () => {
    const c = createCard({ clock: new ManualClock(), memSize: GIB });
    const b = new Uint8Array(2);
    c.memRead(0, b);
    assert.deepEqual([...b], [0xff, 0xff]);
  });

  it('in D3hot memory reads all-ones', () => {
    const { c } = enabled();
    c.cfgWrite(LAYOUT.pm + 4, 2, 3);
    const b = new Uint8Array(1);
    c.memRead(0, b);
    assert.equal(b[0], 0xff);
  });

  it('during a reset memory reads all-ones and drops writes; afterwards content is kept', async () => {
    const { c, clock } = enabled({ resetDurationMs: 100 });
    c.memWrite(0, Uint8Array.of(7));
    c.reset();
    assert.equal(c.inReset, true);
    c.cfgWrite(4, 2, 0x0006); // the core restores config during the reset
    const b = new Uint8Array(1);
    c.memRead(0, b);
    assert.equal(b[0], 0xff);
    c.memWrite(0, Uint8Array.of(8));
    await clock.advance(100);
    assert.equal(c.inReset, false);
    c.memRead(0, b);
    assert.equal(b[0], 7);
  });

  it('reset returns config and BAR0 scratch to power-on values', () => {
    const { c } = enabled();
    w32(c, 0, 0x3000, 1);
    c.cfgWrite(0x3c, 1, 0x0a);
    c.reset();
    assert.equal(c.cfgRead(4, 2), 0);
    assert.equal(c.cfgRead(0x3c, 1), 0);
    c.cfgWrite(4, 2, 0x0002);
    assert.equal(u32(c, 0, 0x3000), 0);
  });

  it('memory accesses past the end throw', () => {
    const { c } = enabled();
    assert.throws(() => c.memRead(2 * GIB - 1, new Uint8Array(2)), RangeError);
    assert.throws(() => c.memWrite(-1, new Uint8Array(1)), RangeError);
  });
});

describe('IRQ trigger register (emulator extension)', () => {
  function withIrqs(opts: Partial<Parameters<typeof createCard>[0]> = {}) {
    const r = enabled(opts);
    const got: CardInterrupt[] = [];
    r.c.onInterrupt((irq) => got.push(irq));
    return { ...r, got };
  }

  it('delivers INTx when neither MSI nor MSI-X is enabled', () => {
    const { c, got } = withIrqs();
    w32(c, 0, EMU_IRQ_TRIGGER, 3);
    assert.deepEqual(got, [{ kind: 'intx' }]);
    assert.ok(c.cfgRead(6, 2) & 0x8, 'Status.Interrupt set');
    w32(c, 0, EMU_INTX_DEASSERT, 1);
    assert.equal(c.cfgRead(6, 2) & 0x8, 0);
  });

  it('INTx-disable holds INTx back until it is cleared', () => {
    const { c, got } = withIrqs();
    c.cfgWrite(4, 2, 0x0406);
    w32(c, 0, EMU_IRQ_TRIGGER, 0);
    assert.deepEqual(got, []);
    c.cfgWrite(4, 2, 0x0006);
    assert.deepEqual(got, [{ kind: 'intx' }]);
  });

  it('delivers MSI vector V when MSI is enabled with enough vectors', () => {
    const { c, got } = withIrqs();
    c.cfgWrite(LAYOUT.msi + 2, 2, 0x0021); // enable, MME = 2 (4 vectors)
    w32(c, 0, EMU_IRQ_TRIGGER, 2);
    w32(c, 0, EMU_IRQ_TRIGGER, 4); // beyond the enabled vectors: dropped
    assert.deepEqual(got, [{ kind: 'msi', vector: 2 }]);
  });

  it('a masked MSI vector becomes pending and is delivered on unmask', () => {
    const { c, got } = withIrqs();
    c.cfgWrite(LAYOUT.msi + 2, 2, 0x0001);
    c.cfgWrite(LAYOUT.msi + 0x10, 4, 1);
    w32(c, 0, EMU_IRQ_TRIGGER, 0);
    assert.deepEqual(got, []);
    assert.equal(c.cfgRead(LAYOUT.msi + 0x14, 4), 1);
    c.cfgWrite(LAYOUT.msi + 0x10, 4, 0);
    assert.deepEqual(got, [{ kind: 'msi', vector: 0 }]);
    assert.equal(c.cfgRead(LAYOUT.msi + 0x14, 4), 0);
  });

  it('MSI-X: entries start masked; a trigger sets the PBA bit and unmasking delivers', () => {
    const { c, got } = withIrqs();
    c.cfgWrite(LAYOUT.msi + 2, 2, 0x0001); // MSI-X wins over MSI
    c.cfgWrite(LAYOUT.msix + 2, 2, 0x8000);
    const entry5 = LAYOUT.msixTableOffset + 5 * 16;
    assert.equal(u32(c, 0, entry5 + 12), 1, 'masked at power-on');
    w32(c, 0, EMU_IRQ_TRIGGER, 5);
    assert.deepEqual(got, []);
    assert.equal(u32(c, 0, LAYOUT.msixPbaOffset), 1 << 5);
    w32(c, 0, entry5 + 12, 0);
    assert.deepEqual(got, [{ kind: 'msix', vector: 5 }]);
    assert.equal(u32(c, 0, LAYOUT.msixPbaOffset), 0);
    w32(c, 0, EMU_IRQ_TRIGGER, 5);
    w32(c, 0, EMU_IRQ_TRIGGER, 9); // table has 9 entries: dropped
    assert.deepEqual(got, [
      { kind: 'msix', vector: 5 },
      { kind: 'msix', vector: 5 },
    ]);
  });

  it('MSI-X function mask holds every vector pending', () => {
    const { c, got } = withIrqs();
    w32(c, 0, LAYOUT.msixTableOffset + 12, 0);
    c.cfgWrite(LAYOUT.msix + 2, 2, 0xc000);
    w32(c, 0, EMU_IRQ_TRIGGER, 0);
    assert.deepEqual(got, []);
    c.cfgWrite(LAYOUT.msix + 2, 2, 0x8000);
    assert.deepEqual(got, [{ kind: 'msix', vector: 0 }]);
  });

  it('the MSI-X table keeps address/data and only the mask bit of vector control', () => {
    const { c } = enabled();
    const e = LAYOUT.msixTableOffset + 16;
    w32(c, 0, e, 0xfee00000);
    w32(c, 0, e + 8, 0x4021);
    w32(c, 0, e + 12, 0xffffffff);
    assert.equal(u32(c, 0, e), 0xfee00000);
    assert.equal(u32(c, 0, e + 8), 0x4021);
    assert.equal(u32(c, 0, e + 12), 1);
  });
});

describe('createCard', () => {
  it('a 512 GiB card builds without allocating device memory', () => {
    const memory = new SparseMemory(512 * GIB);
    const c = createCard({ clock: new ManualClock(), memSize: 512 * GIB, memory });
    assert.equal(c.memory.size, 512 * GIB);
    assert.equal(memory.residentPages, 0);
  });

  it('refuses a backing whose size differs from the memory size', () => {
    assert.throws(
      () => createCard({ clock: new ManualClock(), memory: new SparseMemory(GIB) }),
      /memory backing is 1073741824 bytes but the card's memory size is 103079215104 bytes/,
    );
  });

  it('ACPI properties: default, absent (null) and zero', () => {
    const clock = new ManualClock();
    const c = createCard({ clock, profile: 'gh200-144g' });
    assert.deepEqual(c.acpi, { memBasePa: DEFAULT_GPU_MEM_BASE_PA, memSize: 144 * GIB });
    assert.equal(createCard({ clock, acpiMemSize: null }).acpi, null);
    assert.equal(createCard({ clock, acpiMemSize: 0 }).acpi?.memSize, 0);
    assert.throws(() => createCard({ clock, acpiMemSize: 5 }), /acpiMemSize/);
  });

  it('refuses bad sizes and times with a clear message', () => {
    const clock = new ManualClock();
    assert.throws(() => createCard({ clock, memSize: 0 }), /positive whole number/);
    assert.throws(() => createCard({ clock, memSize: 1.5 }), /positive whole number/);
    assert.throws(() => createCard({ clock, readyDelayMs: -1 }), /readyDelayMs/);
  });
});
