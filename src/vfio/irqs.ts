/**
 * VFIO_DEVICE_SET_IRQS state of the vfio-pci core (vfio_pci_intrs.c), §8.7: which IrqSink is
 * attached to which index/vector, validation as the kernel does it, INTx masking, and the
 * delivery of the card's interrupts to the attached sinks.
 *
 * Rules:
 * - Validation (vfio_set_irqs_validate_and_prepare): unknown flag bits, index ≥ 5, start ≥ the
 *   index's count or start+count beyond it, a data type that is not exactly one of NONE/BOOL/
 *   EVENTFD, fewer bools than count, or a sink list that is neither empty nor `count` long →
 *   EINVAL. An action the index does not implement (or not exactly one action) → ENOTTY.
 * - One interrupt type at a time: enabling INTx, MSI or MSI-X while another is active → EINVAL;
 *   count 0 + DATA_NONE|TRIGGER disables the active type.
 * - INTx is automasked: a delivered INTx masks the line (physical Command.INTxDisable) until
 *   UNMASK; unmasking while the line is still asserted re-signals and stays masked.
 * - The device owns every sink it accepted: replaced, de-assigned and torn-down sinks are
 *   closed. A rejected request takes no sink (the caller closes them).
 */
import type { Card, CardInterrupt } from '../hw/card.js';
import {
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MEMORY,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32,
  PCI_MSI_MASK_64,
  PCI_MSIX_BIR_MASK,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_TABLE,
  PCI_STATUS,
  PCI_STATUS_INTERRUPT,
} from '../pci/constants.js';
import type { IrqSink, SetIrqsRequest } from './device.js';
import { fail } from './errors.js';
import { IrqSet, VfioPciIrq } from './uapi.js';

export type IrqType = 'none' | 'intx' | 'msi' | 'msix';

/** Where the interrupt capabilities live (user-visible config offsets). */
export interface IrqCaps {
  msi: number | null;
  msix: number | null;
}

const ACTIONS = IrqSet.ACTION_MASK | IrqSet.ACTION_UNMASK | IrqSet.ACTION_TRIGGER;

export class Interrupts {
  type: IrqType = 'none';
  /** The INTx trigger and resample (unmask) sinks. */
  intxTrigger: IrqSink | null = null;
  intxUnmask: IrqSink | null = null;
  /** vfio's INTx mask state and the virtual Command.INTxDisable (virq_disabled). */
  intxMasked = false;
  virqDisabled = false;
  /** MSI / MSI-X vector contexts (num_ctx = length). */
  vectors: (IrqSink | null)[] = [];
  /** log2 of the MSI vectors allocated (what MMC reads back). */
  msiQmax = 0;
  err: IrqSink | null = null;
  req: IrqSink | null = null;

  constructor(
    private readonly card: Card,
    private readonly caps: () => IrqCaps,
    private readonly countOf: (index: number) => number,
  ) {}

  // --- physical helpers -----------------------------------------------------------------

  private setPhysIntxDisable(on: boolean): void {
    const cmd = this.card.cfgRead(PCI_COMMAND, 2);
    const want = on ? cmd | PCI_COMMAND_INTX_DISABLE : cmd & ~PCI_COMMAND_INTX_DISABLE;
    if (want !== cmd) this.card.cfgWrite(PCI_COMMAND, 2, want);
  }

  private intxAsserted(): boolean {
    return (this.card.cfgRead(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT) !== 0;
  }

  /** Run `fn` with physical Memory Space enabled (vfio_pci_memory_lock_and_enable). */
  private withMemory(fn: () => void): void {
    const cmd = this.card.cfgRead(PCI_COMMAND, 2);
    if (!(cmd & PCI_COMMAND_MEMORY)) this.card.cfgWrite(PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY);
    try {
      fn();
    } finally {
      if (!(cmd & PCI_COMMAND_MEMORY)) this.card.cfgWrite(PCI_COMMAND, 2, cmd);
    }
  }

  /** Mask or unmask one vector in hardware, as the host's irq startup/shutdown does. */
  private hwVectorMask(vector: number, masked: boolean): void {
    const c = this.caps();
    if (this.type === 'msix' && c.msix !== null) {
      const table = this.card.cfgRead(c.msix + PCI_MSIX_TABLE, 4);
      const bir = table & PCI_MSIX_BIR_MASK;
      const at =
        (table & ~PCI_MSIX_BIR_MASK) + vector * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL;
      this.withMemory(() =>
        this.card.barWrite(bir, at >>> 0, new Uint8Array([masked ? 1 : 0, 0, 0, 0])),
      );
    } else if (this.type === 'msi' && c.msi !== null) {
      const flags = this.card.cfgRead(c.msi + PCI_MSI_FLAGS, 2);
      if (!(flags & PCI_MSI_FLAGS_MASKBIT)) return;
      const reg = c.msi + (flags & PCI_MSI_FLAGS_64BIT ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
      const bit = 2 ** vector;
      const cur = this.card.cfgRead(reg, 4);
      const isSet = Math.floor(cur / bit) % 2 === 1;
      if (isSet !== masked) this.card.cfgWrite(reg, 4, (masked ? cur + bit : cur - bit) >>> 0);
    }
  }

  // --- SET_IRQS ---------------------------------------------------------------------------

  setIrqs(req: SetIrqsRequest): void {
    const { flags, index, start, count } = req;
    if (flags & ~(IrqSet.DATA_TYPE_MASK | IrqSet.ACTION_TYPE_MASK)) {
      fail('EINVAL', `SET_IRQS flags 0x${flags.toString(16)} has unknown bits`);
    }
    if (!Number.isInteger(index) || index < 0 || index >= VfioPciIrq.NUM_IRQS) {
      fail('EINVAL', `IRQ index ${index} out of range`);
    }
    const max = this.countOf(index);
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(count) ||
      start < 0 ||
      count < 0 ||
      start >= max ||
      start + count > max
    ) {
      fail('EINVAL', `IRQ range start ${start} count ${count} outside index ${index}'s ${max}`);
    }
    const data = flags & IrqSet.DATA_TYPE_MASK;
    if (data !== IrqSet.DATA_NONE && data !== IrqSet.DATA_BOOL && data !== IrqSet.DATA_EVENTFD) {
      fail('EINVAL', `SET_IRQS needs exactly one data type, got 0x${data.toString(16)}`);
    }
    if (data === IrqSet.DATA_BOOL && (req.bools?.length ?? 0) < count) {
      fail('EINVAL', `SET_IRQS DATA_BOOL needs ${count} bools`);
    }
    const sinks = req.sinks ?? [];
    if (data === IrqSet.DATA_EVENTFD && sinks.length !== 0 && sinks.length !== count) {
      fail('EINVAL', `SET_IRQS DATA_EVENTFD needs 0 or ${count} eventfds, got ${sinks.length}`);
    }
    const action = flags & ACTIONS;
    const one =
      action === IrqSet.ACTION_MASK ||
      action === IrqSet.ACTION_UNMASK ||
      action === IrqSet.ACTION_TRIGGER;
    if (!one) fail('ENOTTY', `SET_IRQS needs exactly one action, got 0x${action.toString(16)}`);
    switch (index) {
      case VfioPciIrq.INTX:
        if (action === IrqSet.ACTION_MASK) {
          this.intxMaskReq(req, data);
          return;
        }
        if (action === IrqSet.ACTION_UNMASK) {
          this.intxUnmaskReq(req, data);
          return;
        }
        this.intxTriggerReq(req, data);
        return;
      case VfioPciIrq.MSI:
      case VfioPciIrq.MSIX:
        if (action !== IrqSet.ACTION_TRIGGER) fail('ENOTTY', 'MSI/MSI-X masking is not supported');
        this.msiTriggerReq(req, data, index === VfioPciIrq.MSIX ? 'msix' : 'msi');
        return;
      default:
        if (action !== IrqSet.ACTION_TRIGGER)
          fail('ENOTTY', `index ${index} only supports TRIGGER`);
        this.singleTriggerReq(req, data, index === VfioPciIrq.ERR ? 'err' : 'req');
        return;
    }
  }

  private intxTriggerReq(req: SetIrqsRequest, data: number): void {
    if (this.type === 'intx' && req.count === 0 && data === IrqSet.DATA_NONE) {
      this.intxDisable();
      return;
    }
    if (!(this.type === 'intx' || this.type === 'none') || req.start !== 0 || req.count !== 1) {
      fail(
        'EINVAL',
        `cannot set INTx trigger (active type ${this.type}, start ${req.start}, count ${req.count})`,
      );
    }
    if (data === IrqSet.DATA_EVENTFD) {
      const sink = req.sinks?.[0] ?? null;
      if (this.type !== 'intx') this.intxEnable();
      if (this.intxTrigger !== sink) this.intxTrigger?.close();
      this.intxTrigger = sink;
      return;
    }
    if (this.type !== 'intx') fail('EINVAL', 'INTx is not enabled');
    if (data === IrqSet.DATA_NONE || req.bools?.[0]) this.sendIntx();
  }

  private intxMaskReq(req: SetIrqsRequest, data: number): void {
    if (this.type !== 'intx' || req.start !== 0 || req.count !== 1)
      fail('EINVAL', 'INTx is not enabled');
    if (data === IrqSet.DATA_EVENTFD) fail('ENOTTY', 'INTx mask eventfd is not implemented');
    if (data === IrqSet.DATA_NONE || req.bools?.[0]) this.intxMask();
  }

  private intxUnmaskReq(req: SetIrqsRequest, data: number): void {
    if (this.type !== 'intx' || req.start !== 0 || req.count !== 1)
      fail('EINVAL', 'INTx is not enabled');
    if (data === IrqSet.DATA_EVENTFD) {
      const sink = req.sinks?.[0] ?? null;
      if (this.intxUnmask !== sink) this.intxUnmask?.close();
      this.intxUnmask = sink;
      return;
    }
    if (data === IrqSet.DATA_NONE || req.bools?.[0]) this.intxUnmaskNow();
  }

  private intxEnable(): void {
    this.type = 'intx';
    this.intxMasked = this.virqDisabled;
    this.setPhysIntxDisable(this.intxMasked);
  }

  private intxDisable(): void {
    this.intxTrigger?.close();
    this.intxUnmask?.close();
    this.intxTrigger = null;
    this.intxUnmask = null;
    this.intxMasked = false;
    this.type = 'none';
  }

  private sendIntx(): void {
    if (this.type === 'intx' && !this.virqDisabled) this.intxTrigger?.signal();
  }

  /** vfio_pci_intx_mask. */
  intxMask(): void {
    if (this.type !== 'intx') this.setPhysIntxDisable(true);
    else if (!this.intxMasked) {
      this.setPhysIntxDisable(true);
      this.intxMasked = true;
    }
  }

  /** vfio_pci_intx_unmask: a still-asserted line stays masked and is signalled again. */
  intxUnmaskNow(): void {
    if (this.type !== 'intx') {
      this.setPhysIntxDisable(false);
      return;
    }
    if (!this.intxMasked || this.virqDisabled) return;
    if (this.intxAsserted()) {
      this.sendIntx();
      return;
    }
    this.setPhysIntxDisable(false);
    this.intxMasked = false;
  }

  /** The virtual Command.INTxDisable changed (vfio_basic_config_write). */
  virtualIntxDisable(disabled: boolean): void {
    if (disabled && !this.virqDisabled) {
      this.virqDisabled = true;
      this.intxMask();
    } else if (!disabled && this.virqDisabled) {
      this.virqDisabled = false;
      this.intxUnmaskNow();
    }
  }

  private msiTriggerReq(req: SetIrqsRequest, data: number, kind: 'msi' | 'msix'): void {
    if (this.type === kind && req.count === 0 && data === IrqSet.DATA_NONE) {
      this.msiDisable();
      return;
    }
    if (!(this.type === kind || this.type === 'none')) {
      fail(
        'EINVAL',
        `cannot enable ${kind.toUpperCase()} while ${this.type.toUpperCase()} is active`,
      );
    }
    if (data === IrqSet.DATA_EVENTFD) {
      if (this.type === kind) {
        if (req.start + req.count > this.vectors.length) {
          fail(
            'EINVAL',
            `vectors ${req.start}..${req.start + req.count - 1} beyond the ${this.vectors.length} enabled`,
          );
        }
      } else {
        if (req.start + req.count === 0)
          fail('EINVAL', `cannot enable ${kind.toUpperCase()} with 0 vectors`);
        this.msiEnable(req.start + req.count, kind);
      }
      const sinks = req.sinks ?? [];
      for (let i = 0; i < req.count; i++) this.setVector(req.start + i, sinks[i] ?? null);
      return;
    }
    if (this.type !== kind) fail('EINVAL', `${kind.toUpperCase()} is not enabled`);
    for (let i = 0; i < req.count; i++) {
      if (data === IrqSet.DATA_NONE || req.bools?.[i]) this.vectors[req.start + i]?.signal();
    }
  }

  private msiEnable(nvec: number, kind: 'msi' | 'msix'): void {
    const c = this.caps();
    this.type = kind;
    this.vectors = new Array<IrqSink | null>(nvec).fill(null);
    if (kind === 'msi' && c.msi !== null) {
      this.msiQmax = Math.ceil(Math.log2(nvec));
      const flags = this.card.cfgRead(c.msi + PCI_MSI_FLAGS, 2);
      for (let v = 0; v < 32; v++) this.hwVectorMask(v, true);
      const want = (flags & ~PCI_MSI_FLAGS_QSIZE) | (this.msiQmax << 4) | PCI_MSI_FLAGS_ENABLE;
      this.card.cfgWrite(c.msi + PCI_MSI_FLAGS, 2, want);
    } else if (kind === 'msix' && c.msix !== null) {
      const flags = this.card.cfgRead(c.msix + PCI_MSIX_FLAGS, 2);
      this.card.cfgWrite(
        c.msix + PCI_MSIX_FLAGS,
        2,
        (flags | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL,
      );
    }
  }

  private setVector(vector: number, sink: IrqSink | null): void {
    const old = this.vectors[vector] ?? null;
    if (old && old !== sink) old.close();
    this.vectors[vector] = sink;
    this.hwVectorMask(vector, sink === null);
  }

  private msiDisable(): void {
    const c = this.caps();
    for (let v = 0; v < this.vectors.length; v++) if (this.vectors[v]) this.setVector(v, null);
    if (this.type === 'msi' && c.msi !== null) {
      const flags = this.card.cfgRead(c.msi + PCI_MSI_FLAGS, 2);
      this.card.cfgWrite(c.msi + PCI_MSI_FLAGS, 2, flags & ~PCI_MSI_FLAGS_ENABLE);
    } else if (this.type === 'msix' && c.msix !== null) {
      const flags = this.card.cfgRead(c.msix + PCI_MSIX_FLAGS, 2);
      this.card.cfgWrite(c.msix + PCI_MSIX_FLAGS, 2, flags & ~PCI_MSIX_FLAGS_ENABLE);
    }
    this.vectors = [];
    this.type = 'none';
  }

  /** ERR / REQ (vfio_pci_set_ctx_trigger_single). */
  private singleTriggerReq(req: SetIrqsRequest, data: number, which: 'err' | 'req'): void {
    if (req.start !== 0 || req.count > 1) fail('EINVAL', `${which} takes one vector`);
    const cur = this[which];
    if (data === IrqSet.DATA_NONE) {
      if (cur && req.count) cur.signal();
      else if (cur) {
        cur.close();
        this[which] = null;
      }
      return;
    }
    if (!req.count) fail('EINVAL', `${which} needs count 1`);
    if (data === IrqSet.DATA_BOOL) {
      if (req.bools?.[0]) cur?.signal();
      return;
    }
    const sink = req.sinks?.[0] ?? null;
    if (cur && cur !== sink) cur.close();
    this[which] = sink;
  }

  // --- delivery and teardown ------------------------------------------------------------

  /** An interrupt the card raised (installed with card.onInterrupt). */
  deliver(irq: CardInterrupt): void {
    if (irq.kind === 'intx') {
      if (this.type !== 'intx' || this.intxMasked) return;
      this.setPhysIntxDisable(true);
      this.intxMasked = true;
      this.sendIntx();
      return;
    }
    if (irq.kind !== this.type) return;
    this.vectors[irq.vector]?.signal();
  }

  /** Signal the REQ sink (the host asks the user to release the device). */
  request(): void {
    this.req?.signal();
  }

  /** Tear everything down and close every sink (device close). */
  teardown(): void {
    if (this.type === 'intx') this.intxDisable();
    else if (this.type === 'msi' || this.type === 'msix') this.msiDisable();
    this.err?.close();
    this.req?.close();
    this.err = null;
    this.req = null;
    this.virqDisabled = false;
    this.intxMasked = false;
  }

  /** Vectors the MSI capability offers in hardware (2^MMC), 0 without one. */
  static msiCount(card: Card, msi: number | null): number {
    if (msi === null) return 0;
    return 1 << ((card.cfgRead(msi + PCI_MSI_FLAGS, 2) >> 1) & 0x7);
  }

  /** MSI-X table size + 1, 0 without the capability. */
  static msixCount(card: Card, msix: number | null): number {
    if (msix === null) return 0;
    return (card.cfgRead(msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE) + 1;
  }
}
