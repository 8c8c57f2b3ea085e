/**
 * drivers/vfio/vfio_main.c, rule by rule: the SET_IRQS header validation every vfio driver
 * shares (vfio_set_irqs_validate_and_prepare), as vfio_pci_ioctl_set_irqs calls it with the
 * index's count from vfio_pci_get_irq_count. Read: v6.x.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IrqSetFlags } from '../../src/uapi/vfio.js';
import { core, Errno, errno, Sink } from './helpers.js';

const { DATA_NONE: NONE, DATA_BOOL: BOOL, DATA_EVENTFD: EVENTFD } = IrqSetFlags;
const { ACTION_TRIGGER: TRIGGER } = IrqSetFlags;
const MSIX = 2;

describe('vfio_set_irqs_validate_and_prepare', () => {
  it('index >= VFIO_PCI_NUM_IRQS → EINVAL', () => {
    const { dev } = core();
    assert.throws(
      () => dev.setIrqs({ flags: NONE | TRIGGER, index: 5, start: 0, count: 1 }),
      errno(Errno.EINVAL),
    );
  });

  it('flag bits outside the data and action masks → EINVAL', () => {
    const { dev } = core();
    assert.throws(
      () => dev.setIrqs({ flags: NONE | TRIGGER | 0x40, index: MSIX, start: 0, count: 1 }),
      errno(Errno.EINVAL),
    );
  });

  it('start >= the index count, or start + count beyond it → EINVAL', () => {
    const { dev } = core();
    for (const [start, count] of [
      [9, 0],
      [9, 1],
      [8, 2],
      [0, 10],
    ] as const) {
      assert.throws(
        () => dev.setIrqs({ flags: NONE | TRIGGER, index: MSIX, start, count }),
        errno(Errno.EINVAL),
        `${start}+${count}`,
      );
    }
  });

  it('no data type, or more than one → EINVAL ("default: return -EINVAL")', () => {
    const { dev } = core();
    for (const data of [0, NONE | BOOL, BOOL | EVENTFD, NONE | BOOL | EVENTFD]) {
      assert.throws(
        () => dev.setIrqs({ flags: data | TRIGGER, index: MSIX, start: 0, count: 1 }),
        errno(Errno.EINVAL),
        `data 0x${data.toString(16)}`,
      );
    }
  });

  it('DATA_BOOL needs count bytes of data, DATA_EVENTFD count fds (0 fds = all -1 here) → EINVAL otherwise', () => {
    const { dev } = core();
    assert.throws(
      () =>
        dev.setIrqs({
          flags: BOOL | TRIGGER,
          index: MSIX,
          start: 0,
          count: 2,
          bools: new Uint8Array(1),
        }),
      errno(Errno.EINVAL),
    );
    assert.throws(
      () =>
        dev.setIrqs({
          flags: EVENTFD | TRIGGER,
          index: MSIX,
          start: 0,
          count: 2,
          sinks: [new Sink()],
        }),
      errno(Errno.EINVAL),
    );
  });

  it('a well-formed header reaches the handler (count 0 at start 0 passes validation; the MSI handler then refuses a disable of an index that is not on)', () => {
    const { dev } = core();
    assert.throws(
      () => dev.setIrqs({ flags: NONE | TRIGGER, index: MSIX, start: 0, count: 0 }),
      errno(Errno.EINVAL),
    );
    dev.setIrqs({ flags: EVENTFD | TRIGGER, index: MSIX, start: 0, count: 1, sinks: [new Sink()] });
    dev.setIrqs({ flags: NONE | TRIGGER, index: MSIX, start: 0, count: 0 });
  });
});
