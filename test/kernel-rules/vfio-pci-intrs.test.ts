/**
 * drivers/vfio/pci/vfio_pci_intrs.c (and the SET_IRQS validation in vfio_main.c it relies
 * on), rule by rule. Read: v6.8+ (xarray ctx, eventfd_signal(ctx)) through v7.0.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMU_IRQ_TRIGGER } from '../../src/hw/index.js';
import { IrqSetFlags } from '../../src/uapi/vfio.js';
import { CFG, core, Errno, errno, le, rd, Sink, sinks } from './helpers.js';

const { DATA_NONE: NONE, DATA_BOOL: BOOL, DATA_EVENTFD: EVENTFD } = IrqSetFlags;
const { ACTION_MASK: MASK, ACTION_UNMASK: UNMASK, ACTION_TRIGGER: TRIGGER } = IrqSetFlags;
const INTX = 0;
const MSI = 1;
const MSIX = 2;
const ERR = 3;
const REQ = 4;
const MSI_CAP = 0x48;
const MSI_FLAGS = MSI_CAP + 2;
const MSI_MASK = MSI_CAP + 0x10;
/** The PBA's place in BAR0 (config-image.ts LAYOUT.msixPbaOffset). */
const PBA = 0xba0000;

describe('vfio_pci_set_irqs_ioctl: the action picks the handler', () => {
  it('no action, or two actions, has no handler: ENOTTY (not EINVAL)', () => {
    const { dev } = core();
    for (const index of [INTX, MSI, MSIX, ERR, REQ]) {
      for (const action of [0, MASK | TRIGGER, MASK | UNMASK, MASK | UNMASK | TRIGGER]) {
        assert.throws(
          () => dev.setIrqs({ flags: NONE | action, index, start: 0, count: 1 }),
          errno(Errno.ENOTTY),
          `index ${index} action 0x${action.toString(16)}`,
        );
      }
    }
  });

  it('MSI and MSI-X MASK/UNMASK: ENOTTY ("XXX Need masking support exported")', () => {
    const { dev } = core();
    for (const index of [MSI, MSIX])
      for (const action of [MASK, UNMASK])
        assert.throws(
          () => dev.setIrqs({ flags: NONE | action, index, start: 0, count: 1 }),
          errno(Errno.ENOTTY),
        );
  });

  it('ERR and REQ take TRIGGER only: MASK/UNMASK → ENOTTY', () => {
    const { dev } = core();
    for (const index of [ERR, REQ])
      for (const action of [MASK, UNMASK])
        assert.throws(
          () => dev.setIrqs({ flags: NONE | action, index, start: 0, count: 1 }),
          errno(Errno.ENOTTY),
        );
  });

  it('vfio_set_irqs_validate_and_prepare runs first: two data types → EINVAL even with two actions', () => {
    const { dev } = core();
    assert.throws(
      () => dev.setIrqs({ flags: NONE | BOOL | MASK | TRIGGER, index: MSIX, start: 0, count: 1 }),
      errno(Errno.EINVAL),
    );
    assert.throws(
      () => dev.setIrqs({ flags: NONE | TRIGGER, index: MSIX, start: 9, count: 1 }),
      errno(Errno.EINVAL),
    );
  });
});

describe('vfio_pci_set_intx_mask', () => {
  it('an eventfd-driven mask is not implemented: ENOTTY once INTx is on', () => {
    const { dev } = core();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: INTX, start: 0, count: 1, sinks: [new Sink()] });
    const s = new Sink();
    assert.throws(
      () => dev.setIrqs({ flags: EVENTFD | MASK, index: INTX, start: 0, count: 1, sinks: [s] }),
      errno(Errno.ENOTTY),
    );
    assert.equal(s.closed, false, 'the rejected sink is left to the caller');
  });

  it('checks INTx mode and start/count first: EINVAL when INTx is off', () => {
    const { dev } = core();
    assert.throws(
      () =>
        dev.setIrqs({
          flags: EVENTFD | MASK,
          index: INTX,
          start: 0,
          count: 1,
          sinks: [new Sink()],
        }),
      errno(Errno.EINVAL),
    );
  });
});

describe('vfio_pci_set_ctx_trigger_single (ERR/REQ)', () => {
  for (const [name, index] of [
    ['ERR', ERR],
    ['REQ', REQ],
  ] as const) {
    it(`${name}: DATA_NONE with no trigger set → EINVAL (count 1 and count 0)`, () => {
      const { dev } = core();
      for (const count of [0, 1])
        assert.throws(
          () => dev.setIrqs({ flags: NONE | TRIGGER, index, start: 0, count }),
          errno(Errno.EINVAL),
        );
    });

    it(`${name}: DATA_NONE count 1 signals, count 0 releases (closing it)`, () => {
      const { dev } = core();
      const s = new Sink();
      dev.setIrqs({ flags: EVENTFD | TRIGGER, index, start: 0, count: 1, sinks: [s] });
      dev.setIrqs({ flags: NONE | TRIGGER, index, start: 0, count: 1 });
      assert.equal(s.n, 1);
      dev.setIrqs({ flags: NONE | TRIGGER, index, start: 0, count: 0 });
      assert.equal(s.closed, true);
      assert.throws(
        () => dev.setIrqs({ flags: NONE | TRIGGER, index, start: 0, count: 1 }),
        errno(Errno.EINVAL),
      );
    });

    it(`${name}: DATA_BOOL and DATA_EVENTFD with count 0 → EINVAL`, () => {
      const { dev } = core();
      assert.throws(
        () =>
          dev.setIrqs({
            flags: BOOL | TRIGGER,
            index,
            start: 0,
            count: 0,
            bools: new Uint8Array(0),
          }),
        errno(Errno.EINVAL),
      );
      assert.throws(
        () => dev.setIrqs({ flags: EVENTFD | TRIGGER, index, start: 0, count: 0, sinks: [] }),
        errno(Errno.EINVAL),
      );
    });

    it(`${name}: DATA_BOOL without a trigger is accepted and does nothing; with one, true signals`, () => {
      const { dev } = core();
      dev.setIrqs({ flags: BOOL | TRIGGER, index, start: 0, count: 1, bools: new Uint8Array([1]) });
      const s = new Sink();
      dev.setIrqs({ flags: EVENTFD | TRIGGER, index, start: 0, count: 1, sinks: [s] });
      dev.setIrqs({ flags: BOOL | TRIGGER, index, start: 0, count: 1, bools: new Uint8Array([0]) });
      dev.setIrqs({ flags: BOOL | TRIGGER, index, start: 0, count: 1, bools: new Uint8Array([1]) });
      assert.equal(s.n, 1);
    });

    it(`${name}: an eventfd of -1 (no fd passed) releases the trigger`, () => {
      const { dev } = core();
      const s = new Sink();
      dev.setIrqs({ flags: EVENTFD | TRIGGER, index, start: 0, count: 1, sinks: [s] });
      dev.setIrqs({ flags: EVENTFD | TRIGGER, index, start: 0, count: 1, sinks: [] });
      assert.equal(s.closed, true);
    });
  }
});

describe('vfio_msi_enable / vfio_msi_disable and the MSI capability', () => {
  it('enable programs MME = ceil(log2(nvec)) and Enable in hardware; vectors without a trigger stay masked', () => {
    const { dev, card } = core();
    const s = sinks(3);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 3, sinks: s });
    const flags = card.cfgRead(MSI_FLAGS, 2);
    assert.equal((flags >> 4) & 7, 2);
    assert.ok(flags & 1);
    // msi_capability_init masks the 4 allocated vectors; request_irq unmasks 0..2.
    assert.equal(card.cfgRead(MSI_MASK, 4) & 0xf, 0b1000);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 1, count: 1, sinks: [] });
    assert.equal(card.cfgRead(MSI_MASK, 4) & 0xf, 0b1010, 'free_irq masks the vector');
  });

  it('disable clears Enable but keeps MME and unmasks the allocated vectors (pci_msi_shutdown)', () => {
    const { dev, card } = core();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 2, sinks: sinks(2) });
    dev.setIrqs({ flags: NONE | TRIGGER, index: MSI, start: 0, count: 0 });
    const flags = card.cfgRead(MSI_FLAGS, 2);
    assert.equal(flags & 1, 0);
    assert.equal((flags >> 4) & 7, 1);
    assert.equal(card.cfgRead(MSI_MASK, 4) & 0x3, 0);
  });

  it('msi_qmax survives disable: a later flags write with MSI off is still clipped to it, Enable dropped', () => {
    const { dev, card } = core();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 4, sinks: sinks(4) });
    dev.setIrqs({ flags: NONE | TRIGGER, index: MSI, start: 0, count: 0 });
    const low = rd(dev.read(CFG, MSI_FLAGS, 1) as Uint8Array);
    // MME = 7 requested with Enable: clipped to msi_qmax (2), Enable dropped (MSI not on).
    dev.write(CFG, MSI_FLAGS, le((low & 0x0e) | 0x70 | 1, 1));
    const v = rd(dev.read(CFG, MSI_FLAGS, 2) as Uint8Array);
    assert.equal((v >> 4) & 7, 2);
    assert.equal(v & 1, 0);
    assert.equal((card.cfgRead(MSI_FLAGS, 2) >> 4) & 7, 2);
  });

  it('Multiple Message Capable reads the value copied at open, not msi_qmax (vfio_msi_config_read updates vconfig[start], the cap header)', () => {
    const { dev, card } = core();
    const hwMmc = (card.cfgRead(MSI_FLAGS, 2) >> 1) & 7;
    assert.equal((rd(dev.read(CFG, MSI_FLAGS, 2) as Uint8Array) >> 1) & 7, hwMmc);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 1, sinks: sinks(1) });
    assert.equal((rd(dev.read(CFG, MSI_FLAGS, 2) as Uint8Array) >> 1) & 7, hwMmc);
    assert.equal(
      rd(dev.read(CFG, MSI_CAP, 1) as Uint8Array),
      0x05,
      'the cap ID is read from hardware',
    );
  });

  it('the virtual flags keep the Enable and MME the user wrote across a SET_IRQS disable (vfio_msi_disable leaves vconfig alone)', () => {
    const { dev, card } = core();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 4, sinks: sinks(4) });
    const low = rd(dev.read(CFG, MSI_FLAGS, 1) as Uint8Array);
    dev.write(CFG, MSI_FLAGS, le((low & 0x0f) | 0x20 | 1, 1)); // the guest's Enable + MME 2
    dev.setIrqs({ flags: NONE | TRIGGER, index: MSI, start: 0, count: 0 });
    const v = rd(dev.read(CFG, MSI_FLAGS, 2) as Uint8Array);
    assert.equal(v & 1, 1, 'virtual Enable still set');
    assert.equal((v >> 4) & 7, 2);
    assert.equal(card.cfgRead(MSI_FLAGS, 2) & 1, 0, 'hardware disabled');
  });

  it('re-enable after disable programs the new vector count', () => {
    const { dev, card } = core();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 8, sinks: sinks(8) });
    dev.setIrqs({ flags: NONE | TRIGGER, index: MSI, start: 0, count: 0 });
    const s = sinks(2);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 2, sinks: s });
    assert.equal((card.cfgRead(MSI_FLAGS, 2) >> 4) & 7, 1);
    dev.write(0, EMU_IRQ_TRIGGER, le(1));
    assert.equal(s[1]?.n, 1);
  });

  it('vfio_msi_config_write: a write ending at the flags (the next-pointer byte) writes the flags back', () => {
    const { dev, card } = core();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 4, sinks: sinks(4) });
    const low = rd(dev.read(CFG, MSI_FLAGS, 1) as Uint8Array);
    dev.write(CFG, MSI_FLAGS, le((low & 0x0f) | 0x10, 1)); // user MME 1 while MSI is on
    assert.equal((card.cfgRead(MSI_FLAGS, 2) >> 4) & 7, 1);
    card.cfgWrite(MSI_FLAGS, 2, (card.cfgRead(MSI_FLAGS, 2) & ~0x70) | 0x20); // hardware drifts
    dev.write(CFG, MSI_CAP + 1, le(0, 1));
    assert.equal((card.cfgRead(MSI_FLAGS, 2) >> 4) & 7, 1, 'vconfig flags rewritten to hardware');
  });
});

describe('vfio_msi_set_block / vfio_msi_set_vector_signal', () => {
  it('an fd for a vector beyond those enabled → EINVAL, unwinding the block before it', () => {
    const { dev } = core();
    const first = sinks(4);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSIX, start: 0, count: 4, sinks: first });
    const next = sinks(3);
    assert.throws(
      () => dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSIX, start: 2, count: 3, sinks: next }),
      errno(Errno.EINVAL),
    );
    // Vectors 2 and 3 were replaced then de-assigned by the unwind: their old eventfds are gone.
    assert.deepEqual(
      first.map((s) => s.closed),
      [false, false, true, true],
    );
    assert.ok(
      next.every((s) => !s.closed),
      'rejected sinks are the caller’s to close',
    );
  });

  it('DATA_NONE/BOOL trigger loops skip vectors without a trigger and need the index enabled', () => {
    const { dev } = core();
    assert.throws(
      () => dev.setIrqs({ flags: NONE | TRIGGER, index: MSIX, start: 0, count: 1 }),
      errno(Errno.EINVAL),
    );
    const s = sinks(2);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSIX, start: 0, count: 2, sinks: s });
    dev.setIrqs({ flags: NONE | TRIGGER, index: MSIX, start: 0, count: 5 });
    assert.deepEqual(
      s.map((x) => x.n),
      [1, 1],
    );
  });

  it('MSI-X: a vector without a trigger is masked in the table, so its interrupt goes pending (msix_capability_init, free_irq)', () => {
    const { dev } = core();
    const s = sinks(3);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSIX, start: 0, count: 3, sinks: s });
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSIX, start: 1, count: 1, sinks: [] });
    dev.write(0, EMU_IRQ_TRIGGER, le(1));
    dev.write(0, EMU_IRQ_TRIGGER, le(2));
    assert.equal(s[2]?.n, 1);
    const pba = rd(dev.read(0, PBA, 1) as Uint8Array);
    assert.equal(pba & 0b110, 0b010, 'vector 1 pending, vector 2 delivered');
  });
});

describe('INTx and the virtual INTx-Disable (vfio_basic_config_write, vfio_pci_intx_unmask_handler, vfio_send_intx_eventfd)', () => {
  const INTX_DISABLE = 0x0400;
  function intxOn() {
    const r = core();
    const s = new Sink();
    r.dev.setIrqs({ flags: EVENTFD | TRIGGER, index: INTX, start: 0, count: 1, sinks: [s] });
    const cmd = rd(r.dev.read(CFG, 4, 2) as Uint8Array);
    const setDisable = (on: boolean) =>
      r.dev.write(CFG, 4, le(on ? cmd | INTX_DISABLE : cmd & ~INTX_DISABLE, 2));
    return { ...r, s, setDisable };
  }

  it('clearing INTx-Disable lifts the automask: a still-asserted line is signalled again', () => {
    const { dev, s, setDisable } = intxOn();
    dev.write(0, EMU_IRQ_TRIGGER, le(0));
    assert.equal(s.n, 1, 'signalled, now automasked');
    setDisable(true);
    setDisable(false);
    assert.equal(s.n, 2, 'unmasked by the config write; the level line fires again');
  });

  it('UNMASK while INTx-Disable is set does nothing; the line stays masked', () => {
    const { dev, s, setDisable } = intxOn();
    setDisable(true);
    dev.write(0, EMU_IRQ_TRIGGER, le(0));
    dev.setIrqs({ flags: NONE | UNMASK, index: INTX, start: 0, count: 1 });
    assert.equal(s.n, 0);
  });

  it('the DATA_NONE loopback trigger signals nothing while INTx-Disable is set', () => {
    const { dev, s, setDisable } = intxOn();
    setDisable(true);
    dev.setIrqs({ flags: NONE | TRIGGER, index: INTX, start: 0, count: 1 });
    assert.equal(s.n, 0);
    setDisable(false);
    dev.setIrqs({ flags: NONE | TRIGGER, index: INTX, start: 0, count: 1 });
    assert.equal(s.n, 1);
  });

  it('enabling INTx with INTx-Disable set starts masked (vfio_intx_enable)', () => {
    const { dev } = core();
    const cmd = rd(dev.read(CFG, 4, 2) as Uint8Array);
    dev.write(CFG, 4, le(cmd | INTX_DISABLE, 2));
    const s = new Sink();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: INTX, start: 0, count: 1, sinks: [s] });
    dev.write(0, EMU_IRQ_TRIGGER, le(0));
    assert.equal(s.n, 0);
  });
});

describe('vfio_pci_set_msi_trigger: enabling with DATA_EVENTFD and count 0', () => {
  it('start 0 count 0 asks vfio_msi_enable for 0 vectors: pci_alloc_irq_vectors → ERANGE, nothing enabled', () => {
    const { dev, card } = core();
    for (const index of [MSI, MSIX]) {
      assert.throws(
        () => dev.setIrqs({ flags: EVENTFD | TRIGGER, index, start: 0, count: 0, sinks: [] }),
        errno(Errno.ERANGE),
      );
    }
    assert.equal(card.cfgRead(MSI_FLAGS, 2) & 1, 0);
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 0, count: 1, sinks: [new Sink()] });
  });

  it('start 3 count 0 enables 3 vectors with no trigger (vfio_msi_enable(start + count))', () => {
    const { dev, card } = core();
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSI, start: 3, count: 0, sinks: [] });
    assert.equal((card.cfgRead(MSI_FLAGS, 2) >> 4) & 7, 2);
    assert.equal(card.cfgRead(MSI_FLAGS, 2) & 1, 1);
  });
});
