/**
 * BAR0, the GPU's register aperture (16 MiB), as far as anything outside the GPU driver reads
 * it: the ID registers, the two readiness registers nvgrace-gpu polls, the MSI-X table and
 * PBA, and one emulator-only doorbell.
 *
 * Rules: reads always show the special registers over a sparse scratch store; every other
 * offset reads back what was last written (0 after power-on/reset). Read-only registers drop
 * writes. The scratch store is bounded by the BAR size (at most 16 MiB resident).
 *
 * EMULATOR EXTENSION, NOT ON REAL HARDWARE: BAR0 + 0xFFF000 "IRQ trigger" — a write of V raises
 * interrupt vector V (MSI-X vector V if MSI-X is enabled, else MSI vector V, else INTx);
 * BAR0 + 0xFFF004 "INTx deassert" — any write drops the INTx line. Both read 0.
 * BAR0 + 0xFFF100 "identity" — a read-only block naming the profile, kernel band, policies and
 * memory size (emu-identity.ts). A real GPU has something else at these offsets; a guest
 * driver never reads there.
 */

import type { ReadinessState } from './card.js';
import { EMU_IDENTITY, IDENTITY_SIZE } from './emu-identity.js';
import type { InterruptLogic } from './interrupts.js';
import { SparseMemory } from './memory.js';
import type { MsixTable } from './msix-table.js';

/** NV_PMC_BOOT_0: architecture/implementation/revision of the chip. */
export const NV_PMC_BOOT_0 = 0x000000;
/** NV_PMC_BOOT_42: the same identity in the newer layout. */
export const NV_PMC_BOOT_42 = 0x000a00;
/** C2C link status: reads 0xFF once the C2C link is up (nvgrace-gpu C2C_LNK_STS). */
export const C2C_LINK_STATUS = 0x001498;
/** HBM training status: reads 0xFF once training completed (nvgrace-gpu HBM_TRAINING_STS). */
export const HBM_TRAINING_STATUS = 0x0200bc;
export const GPU_READY_VALUE = 0xff;
/** Emulator extension (not on real hardware): write V to raise interrupt vector V. */
export const EMU_IRQ_TRIGGER = 0xfff000;
/** Emulator extension (not on real hardware): any write de-asserts INTx. */
export const EMU_INTX_DEASSERT = 0xfff004;

export interface Bar0Config {
  size: number;
  boot0: number;
  boot42: number;
  msixTableOffset: number;
  msixPbaOffset: number;
  /** The emulator identity block's bytes (emu-identity.ts encodeIdentity()). */
  identity: Uint8Array;
}

export interface Bar0Host {
  readiness(): ReadinessState;
  readonly irq: InterruptLogic;
  readonly msix: MsixTable;
}

/** Copy the part of a register (bytes at `reg`) that overlaps the access into `target`. */
function overlay(reg: number, bytes: Uint8Array, offset: number, target: Uint8Array): void {
  const start = Math.max(reg, offset);
  const end = Math.min(reg + bytes.length, offset + target.length);
  // A byte loop: accesses are a few bytes, and subarray()+set() would allocate per read.
  for (let p = start; p < end; p++) target[p - offset] = bytes[p - reg]!;
}

function le32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, true);
  return b;
}

const READY = le32(GPU_READY_VALUE);
const ZERO4 = new Uint8Array(4);
const ZERO8 = new Uint8Array(8);

function overlaps(reg: number, len: number, offset: number, n: number): boolean {
  return reg < offset + n && offset < reg + len;
}

export class Bar0 {
  private scratch: SparseMemory;
  private readonly boot0: Uint8Array;
  private readonly boot42: Uint8Array;

  constructor(
    private readonly cfg: Bar0Config,
    private readonly host: Bar0Host,
  ) {
    this.scratch = new SparseMemory(cfg.size);
    this.boot0 = le32(cfg.boot0);
    this.boot42 = le32(cfg.boot42);
  }

  /** Registers back to power-on values (the MSI-X table is reset by its owner). */
  reset(): void {
    this.scratch.close();
    this.scratch = new SparseMemory(this.cfg.size);
  }

  /** Caller keeps [offset, offset + target.length) inside the BAR. */
  read(offset: number, target: Uint8Array): void {
    this.scratch.readInto(offset, target);
    const n = target.length;
    // Only the registers the access touches are looked at (a register read is the hot path).
    if (overlaps(NV_PMC_BOOT_0, 4, offset, n)) overlay(NV_PMC_BOOT_0, this.boot0, offset, target);
    if (overlaps(NV_PMC_BOOT_42, 4, offset, n)) {
      overlay(NV_PMC_BOOT_42, this.boot42, offset, target);
    }
    const c2c = overlaps(C2C_LINK_STATUS, 4, offset, n);
    const hbm = overlaps(HBM_TRAINING_STATUS, 4, offset, n);
    if (c2c || hbm) {
      const ready = this.host.readiness();
      if (c2c) overlay(C2C_LINK_STATUS, ready.c2cLinkReady ? READY : ZERO4, offset, target);
      if (hbm) overlay(HBM_TRAINING_STATUS, ready.hbmTrainingDone ? READY : ZERO4, offset, target);
    }
    const msix = this.host.msix;
    if (overlaps(this.cfg.msixTableOffset, msix.table.length, offset, n)) {
      overlay(this.cfg.msixTableOffset, msix.table, offset, target);
    }
    if (overlaps(this.cfg.msixPbaOffset, msix.pba.length, offset, n)) {
      overlay(this.cfg.msixPbaOffset, msix.pba, offset, target);
    }
    if (overlaps(EMU_IRQ_TRIGGER, 8, offset, n)) overlay(EMU_IRQ_TRIGGER, ZERO8, offset, target);
    if (overlaps(EMU_IDENTITY, IDENTITY_SIZE, offset, n)) {
      overlay(EMU_IDENTITY, this.cfg.identity, offset, target);
    }
  }

  /** Caller keeps [offset, offset + data.length) inside the BAR. */
  write(offset: number, data: Uint8Array): void {
    // Scratch takes everything; reads overlay the special registers, so bytes stored under a
    // read-only register stay invisible.
    this.scratch.write(offset, data);
    const n = data.length;
    const table = this.cfg.msixTableOffset;
    const msix = this.host.msix;
    if (overlaps(table, msix.tableSize, offset, n)) {
      const start = Math.max(table, offset);
      const end = Math.min(table + msix.tableSize, offset + n);
      msix.writeTable(start - table, data.subarray(start - offset, end - offset));
      this.host.irq.msixChanged();
    }
    if (overlaps(EMU_IRQ_TRIGGER, 4, offset, n)) {
      const reg = new Uint8Array(4);
      overlay(offset, data, EMU_IRQ_TRIGGER, reg);
      this.host.irq.raise(new DataView(reg.buffer).getUint32(0, true));
    }
    if (overlaps(EMU_INTX_DEASSERT, 4, offset, n)) this.host.irq.deassertIntx();
  }
}
