/**
 * The card's interrupt logic: which mechanism a raised vector uses and what masking does.
 *
 * Rules (PCI/PCIe spec behaviour): MSI-X wins when its physical enable bit is set, else MSI
 * when enabled, else INTx. A masked MSI-X entry (or the function mask) or a masked MSI vector
 * records the interrupt as pending instead; unmasking a pending vector delivers it then.
 * Vectors beyond the enabled count are dropped. INTx sets Status.Interrupt and is delivered
 * unless Command.INTxDisable is set; clearing INTxDisable while it is asserted delivers it.
 * Bus Master Enable is not checked (a simplification: the interrupt path is not a DMA model).
 */

import type { ConfigSpace } from '../pci/config-space.js';
import {
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QMASK,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_64,
  PCI_MSI_PENDING_64,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_STATUS,
  PCI_STATUS_INTERRUPT,
} from '../pci/constants.js';
import type { CardInterrupt } from './card.js';
import type { MsixTable } from './msix-table.js';

export type InterruptHandler = (irq: CardInterrupt) => void;

export class InterruptLogic {
  private handler: InterruptHandler | null = null;

  /** `msi` must be a 64-bit capability with per-vector masking (as this card's is). */
  constructor(
    private readonly cs: ConfigSpace,
    private readonly msi: number,
    private readonly msix: number,
    private readonly table: MsixTable,
  ) {}

  setHandler(handler: InterruptHandler | null): void {
    this.handler = handler;
  }

  private deliver(irq: CardInterrupt): void {
    this.handler?.(irq);
  }

  private msixFlags(): number {
    return this.cs.u16(this.msix + PCI_MSIX_FLAGS);
  }

  private msiFlags(): number {
    return this.cs.u16(this.msi + PCI_MSI_FLAGS);
  }

  /** Vectors the MSI capability currently allows: 2^min(MME, MMC). */
  private msiEnabledVectors(flags: number): number {
    const mmc = (flags & PCI_MSI_FLAGS_QMASK) >> 1;
    const mme = (flags & PCI_MSI_FLAGS_QSIZE) >> 4;
    return 1 << Math.min(mmc, mme);
  }

  /** Raise `vector` the way the function's current interrupt mode says. */
  raise(vector: number): void {
    const xf = this.msixFlags();
    if (xf & PCI_MSIX_FLAGS_ENABLE) {
      if (!Number.isInteger(vector) || vector < 0 || vector >= this.table.vectors) return;
      if (xf & PCI_MSIX_FLAGS_MASKALL || this.table.isMasked(vector)) {
        this.table.setPending(vector, true);
      } else {
        this.deliver({ kind: 'msix', vector });
      }
      return;
    }
    const mf = this.msiFlags();
    if (mf & PCI_MSI_FLAGS_ENABLE) {
      if (!Number.isInteger(vector) || vector < 0 || vector >= this.msiEnabledVectors(mf)) return;
      const bit = 2 ** vector;
      if (Math.floor(this.cs.u32(this.msi + PCI_MSI_MASK_64) / bit) % 2 === 1) {
        const pending = this.cs.u32(this.msi + PCI_MSI_PENDING_64);
        this.cs.setU32(this.msi + PCI_MSI_PENDING_64, (pending | bit) >>> 0);
      } else {
        this.deliver({ kind: 'msi', vector });
      }
      return;
    }
    this.cs.setU16(PCI_STATUS, this.cs.u16(PCI_STATUS) | PCI_STATUS_INTERRUPT);
    if ((this.cs.u16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) === 0) this.deliver({ kind: 'intx' });
  }

  /** De-assert INTx (the device's interrupt source was serviced). */
  deassertIntx(): void {
    this.cs.setU16(PCI_STATUS, this.cs.u16(PCI_STATUS) & ~PCI_STATUS_INTERRUPT);
  }

  /** After a command-register write: INTxDisable cleared while asserted delivers INTx. */
  commandChanged(oldCommand: number): void {
    const cmd = this.cs.u16(PCI_COMMAND);
    const unmasked = oldCommand & PCI_COMMAND_INTX_DISABLE && !(cmd & PCI_COMMAND_INTX_DISABLE);
    if (!unmasked || !(this.cs.u16(PCI_STATUS) & PCI_STATUS_INTERRUPT)) return;
    if (this.msixFlags() & PCI_MSIX_FLAGS_ENABLE || this.msiFlags() & PCI_MSI_FLAGS_ENABLE) return;
    this.deliver({ kind: 'intx' });
  }

  /** After an MSI-X control or table write: deliver pending vectors that are now unmasked. */
  msixChanged(): void {
    const xf = this.msixFlags();
    if (!(xf & PCI_MSIX_FLAGS_ENABLE) || xf & PCI_MSIX_FLAGS_MASKALL) return;
    for (let v = 0; v < this.table.vectors; v++) {
      if (this.table.isPending(v) && !this.table.isMasked(v)) {
        this.table.setPending(v, false);
        this.deliver({ kind: 'msix', vector: v });
      }
    }
  }

  /** After an MSI control or mask write: deliver pending vectors that are now unmasked. */
  msiChanged(): void {
    const mf = this.msiFlags();
    if (!(mf & PCI_MSI_FLAGS_ENABLE) || this.msixFlags() & PCI_MSIX_FLAGS_ENABLE) return;
    let pending = this.cs.u32(this.msi + PCI_MSI_PENDING_64);
    const mask = this.cs.u32(this.msi + PCI_MSI_MASK_64);
    for (let v = 0; v < this.msiEnabledVectors(mf); v++) {
      const bit = 2 ** v;
      if (Math.floor(pending / bit) % 2 === 1 && Math.floor(mask / bit) % 2 === 0) {
        pending -= bit;
        this.cs.setU32(this.msi + PCI_MSI_PENDING_64, pending);
        this.deliver({ kind: 'msi', vector: v });
      }
    }
  }
}
