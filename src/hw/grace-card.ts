/**
 * GraceCard: the physical Grace-attached NVIDIA GPU (GH200 / GB200 / GB300) behind the Card
 * contract — raw config space with hardware write masks, BAR0 registers, device memory, FLR.
 *
 * Rules:
 * - Decode: BAR and device-memory accesses read all-ones and drop writes while the physical
 *   Command.MSE is clear, while the function is in D3hot, or while a reset is in progress
 *   (NVIDIA's documented behaviour for the device memory, PCIe UR for BAR0).
 * - Reset (FLR, or DevCtl.BCR_FLR written as 1): config and registers to power-on values,
 *   readiness restarts; device memory is kept. Config space stays accessible during a reset.
 * - Time comes only from the injected Clock: `inReset` lasts resetDurationMs after a reset,
 *   and the readiness registers read 0xFF from readyDelayMs after power-on / the reset's end.
 * - Out-of-range or malformed accesses are programming errors of the caller: RangeError.
 * - Injected faults (faults.ts) are consulted behind one `faults.any` check: off the bus,
 *   config reads are all-ones and writes dropped, the function does not decode (BAR and
 *   memory accesses all-ones / dropped) and a reset reaches nothing; link-down /
 *   hbm-untrained hold their status register below 0xFF; reset-stall sets how long the next
 *   resets last. Poison is the driver's business (nvgrace read path); AER errors set the AER
 *   and Device Status bits the hardware would (PCIe r6.0 section 6.2).
 */

import { type ConfigSpace, checkConfigAccess } from '../pci/config-space.js';
import {
  PCI_COMMAND,
  PCI_COMMAND_MEMORY,
  PCI_D3HOT,
  PCI_ERR_COR_STATUS,
  PCI_ERR_UNCOR_SEVER,
  PCI_ERR_UNCOR_STATUS,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVSTA,
  PCI_EXP_DEVSTA_CED,
  PCI_EXP_DEVSTA_FED,
  PCI_EXP_DEVSTA_NFED,
  PCI_MSI_FLAGS,
  PCI_MSI_MASK_64,
  PCI_MSIX_FLAGS,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
} from '../pci/constants.js';
import { cxlRangeSizeLow, cxlRangeSizeRegisters } from '../pci/cxl-dvsec.js';
import { Bar0 } from './bar0.js';
import type { BarResource, Card, CardInterrupt, ReadinessHook, ReadinessState } from './card.js';
import type { Clock } from './clock.js';
import { LAYOUT, profileBars } from './config-image.js';
import { encodeIdentity, profileCode } from './emu-identity.js';
import { CardFaults } from './faults.js';
import { InterruptLogic } from './interrupts.js';
import type { MemoryBacking } from './memory.js';
import { MsixTable } from './msix-table.js';
import type { CardProfile } from './profiles.js';

export interface GraceCardParams {
  profile: CardProfile;
  /** Power-on config image; the card keeps a private copy as its reset template. */
  image: ConfigSpace;
  memory: MemoryBacking;
  clock: Clock;
  acpi: { memBasePa: bigint; memSize: number } | null;
  readyDelayMs: number;
  resetDurationMs: number;
  /** CXL parts: time after power-on / a reset's end until MEM_INFO_VALID is set (default 0). */
  cxlInfoValidDelayMs?: number;
  /** What the emulator identity block reports beyond the card's own facts (emu-identity.ts). */
  identity?: EmulatorIdentityTag;
}

/** The identity block's opaque codes, told by whoever composes the device (src/cli). */
export interface EmulatorIdentityTag {
  bandCode: number;
  policyCode: number;
}

/** AER Correctable Internal Error (COR_STATUS bit 14) and Uncorrectable Internal Error (bit 22). */
const AER_COR_INTERNAL = 1 << 14;
const AER_UNCOR_INTERNAL = 1 << 22;

function touches(offset: number, size: number, reg: number, len: number): boolean {
  return reg < offset + size && offset < reg + len;
}

/** The byte at config offset `at` of a `size`-byte write of `value` at `offset`. */
function byteOf(value: number, offset: number, at: number): number {
  return (value >>> ((at - offset) * 8)) & 0xff;
}

export class GraceCard implements Card {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly cfgSize: number;
  readonly bars: readonly BarResource[];
  readonly romSize = 0;
  readonly acpi: { memBasePa: bigint; memSize: number } | null;
  readonly memory: MemoryBacking;
  readonly clock: Clock;
  readonly profile: CardProfile;
  readonly readyDelayMs: number;
  readonly resetDurationMs: number;
  /** Injected faults (see faults.ts); the paths below check `faults.any` first. */
  readonly faults: CardFaults;

  private readonly powerOn: ConfigSpace;
  private readonly cs: ConfigSpace;
  private readonly msixTable = new MsixTable(LAYOUT.msixVectors);
  private readonly irq: InterruptLogic;
  private readonly bar0: Bar0;
  private resetEnd: number;
  /** The clock has been seen past resetEnd (monotonic: it stays past until the next reset). */
  private resetOver = false;
  private lastResetDuration = 0;
  private readyAt: number;
  private readonly cxlInfoValidDelayMs: number;
  /** Config offset of the CXL DVSEC's Range 1 Size Low (live status bits), or -1. */
  private readonly cxlStatusAt: number;
  private readinessHook: ReadinessHook | null = null;

  constructor(p: GraceCardParams) {
    this.profile = p.profile;
    this.vendorId = p.profile.vendorId;
    this.deviceId = p.profile.deviceId;
    this.powerOn = p.image.clone();
    this.cs = p.image.clone();
    this.cfgSize = this.cs.size;
    this.bars = Object.freeze(profileBars(p.profile).map((b) => Object.freeze(b)));
    this.acpi = p.acpi;
    this.memory = p.memory;
    this.clock = p.clock;
    this.readyDelayMs = p.readyDelayMs;
    this.resetDurationMs = p.resetDurationMs;
    this.cxlInfoValidDelayMs = p.cxlInfoValidDelayMs ?? 0;
    this.cxlStatusAt = p.profile.cxlDvsec ? LAYOUT.cxlDvsec + cxlRangeSizeLow(0) : -1;
    this.faults = new CardFaults(p.memory.size);
    this.irq = new InterruptLogic(this.cs, LAYOUT.msi, LAYOUT.msix, this.msixTable);
    this.bar0 = new Bar0(
      {
        size: this.bars[0]?.size ?? 0,
        boot0: p.profile.boot0,
        boot42: p.profile.boot42,
        msixTableOffset: LAYOUT.msixTableOffset,
        msixPbaOffset: LAYOUT.msixPbaOffset,
        identity: encodeIdentity({
          profileCode: profileCode(p.profile.name),
          bandCode: p.identity?.bandCode ?? 0,
          policyCode: p.identity?.policyCode ?? 0,
          memSize: BigInt(p.memory.size),
        }),
      },
      { readiness: () => this.readiness(), irq: this.irq, msix: this.msixTable },
    );
    const now = this.clock.now();
    this.resetEnd = now;
    this.readyAt = now + this.readyDelayMs;
  }

  // --- config space -------------------------------------------------------------------

  cfgRead(offset: number, size: 1 | 2 | 4): number {
    checkConfigAccess(offset, size, this.cfgSize);
    // Off the bus nothing answers: the root port completes the read with all-ones.
    if (this.faults.any && this.faults.offBus)
      return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    if (this.cxlStatusAt >= 0 && touches(offset, size, this.cxlStatusAt, 4)) this.refreshCxl();
    return this.cs.read(offset, size);
  }

  /** Range 1 Size Low shows the memory's state now (the status bits are live hardware state). */
  private refreshCxl(): void {
    const cxl = this.profile.cxlDvsec;
    if (!cxl) return;
    const r = this.readiness();
    const regs = cxlRangeSizeRegisters(this.memory.size, {
      infoValid: r.memInfoValid,
      active: r.memActive,
      timeoutField: cxl.memActiveTimeoutField,
    });
    this.cs.setU32(this.cxlStatusAt, regs.low);
  }

  cfgWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    checkConfigAccess(offset, size, this.cfgSize);
    if (this.faults.any && this.faults.offBus) return;
    let v = value >>> 0;
    const oldCommand = this.cs.u16(PCI_COMMAND);

    // PMCSR: only D0 and D3hot exist; a write of D1/D2 completes but the state is kept.
    const pmcsr = LAYOUT.pm + PCI_PM_CTRL;
    if (touches(offset, size, pmcsr, 1)) {
      const want = byteOf(v, offset, pmcsr) & PCI_PM_CTRL_STATE_MASK;
      if (want === 1 || want === 2) {
        const shift = (pmcsr - offset) * 8;
        const keep = this.cs.u8(pmcsr) & PCI_PM_CTRL_STATE_MASK;
        v = ((v & ~(PCI_PM_CTRL_STATE_MASK << shift)) | (keep << shift)) >>> 0;
      }
    }

    // DevCtl.BCR_FLR is not stored (reads 0); writing it as 1 starts a function-level reset.
    const devctlHi = LAYOUT.pcie + PCI_EXP_DEVCTL + 1;
    const flr =
      touches(offset, size, devctlHi, 1) &&
      (byteOf(v, offset, devctlHi) & (PCI_EXP_DEVCTL_BCR_FLR >> 8)) !== 0;

    this.cs.write(offset, size, v);

    if (touches(offset, size, PCI_COMMAND, 2)) this.irq.commandChanged(oldCommand);
    if (touches(offset, size, LAYOUT.msix + PCI_MSIX_FLAGS, 2)) this.irq.msixChanged();
    if (
      touches(offset, size, LAYOUT.msi + PCI_MSI_FLAGS, 2) ||
      touches(offset, size, LAYOUT.msi + PCI_MSI_MASK_64, 4)
    ) {
      this.irq.msiChanged();
    }
    if (flr) this.reset();
  }

  // --- decode -------------------------------------------------------------------------

  /** True while the function answers memory transactions (MSE set, D0, not in reset). */
  get decoding(): boolean {
    if (this.faults.any && this.faults.offBus) return false;
    if (this.inReset) return false;
    if ((this.cs.u16(PCI_COMMAND) & PCI_COMMAND_MEMORY) === 0) return false;
    return (this.cs.u8(LAYOUT.pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK) !== PCI_D3HOT;
  }

  private checkBar(index: number, offset: number, length: number): BarResource {
    const bar = Number.isInteger(index) ? this.bars[index] : undefined;
    if (!bar || bar.size === 0) throw new RangeError(`BAR ${index} does not exist`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > bar.size) {
      throw new RangeError(
        `BAR ${index} access at 0x${offset.toString(16)} (+${length}) is outside its 0x${bar.size.toString(16)} bytes`,
      );
    }
    return bar;
  }

  barRead(index: number, offset: number, target: Uint8Array): void {
    this.checkBar(index, offset, target.length);
    if (!this.decoding) {
      target.fill(0xff);
      return;
    }
    if (index === 0) this.bar0.read(offset, target);
    // BAR1 (index 2) and the 32 MiB BAR at index 4: apertures no GPU driver has set up, so
    // nothing answers behind them — reads 0, writes are dropped.
    else target.fill(0);
  }

  barWrite(index: number, offset: number, data: Uint8Array): void {
    this.checkBar(index, offset, data.length);
    if (!this.decoding) return;
    if (index === 0) this.bar0.write(offset, data);
  }

  romRead(offset: number, target: Uint8Array): void {
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`bad ROM offset ${offset}`);
    }
    // No ROM image: every byte is past the image.
    target.fill(0xff);
  }

  // --- device memory ------------------------------------------------------------------

  private checkMem(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > this.memory.size) {
      throw new RangeError(
        `device memory access at 0x${offset.toString(16)} (+${length}) is outside its 0x${this.memory.size.toString(16)} bytes`,
      );
    }
  }

  memRead(offset: number, target: Uint8Array): void {
    this.checkMem(offset, target.length);
    if (!this.decoding) target.fill(0xff);
    else this.memory.readInto(offset, target);
  }

  memWrite(offset: number, data: Uint8Array): void {
    this.checkMem(offset, data.length);
    if (this.decoding) this.memory.write(offset, data);
  }

  memView(offset: number, length: number): Uint8Array | null {
    this.checkMem(offset, length);
    return this.decoding ? (this.memory.view?.(offset, length) ?? null) : null;
  }

  // --- reset and readiness ------------------------------------------------------------

  reset(): void {
    // A card off the bus never sees the reset (the FLR write is lost like any other).
    if (this.faults.any && this.faults.offBus) return;
    this.cs.copyFrom(this.powerOn);
    this.msixTable.reset();
    this.bar0.reset();
    const now = this.clock.now();
    this.lastResetDuration = this.faults.resetStallMs ?? this.resetDurationMs;
    this.resetEnd = now + this.lastResetDuration;
    this.resetOver = false;
    this.readyAt = this.resetEnd + this.readyDelayMs;
  }

  /** How long the last reset lasts in all (ms, from its start). */
  get lastResetMs(): number {
    return this.lastResetDuration;
  }

  get inReset(): boolean {
    // Every BAR access asks: read the clock only while a reset may still be running.
    if (this.resetOver) return false;
    if (this.clock.now() < this.resetEnd) return true;
    this.resetOver = true;
    return false;
  }

  readiness(): ReadinessState {
    const now = this.clock.now();
    const up = now >= this.resetEnd;
    const ready = up && now >= this.readyAt;
    const cxl = this.cxlStatusAt >= 0;
    const state: ReadinessState = {
      c2cLinkReady: ready,
      hbmTrainingDone: ready,
      memInfoValid: cxl && up && now >= this.resetEnd + this.cxlInfoValidDelayMs,
      memActive: cxl && ready,
    };
    if (this.faults.any) {
      // Injected faults (faults.ts): the status registers stop reading 0xFF; off the bus
      // nothing reads as ready.
      const f = this.faults;
      if (f.linkDown || f.offBus) state.c2cLinkReady = false;
      if (f.hbmUntrained || f.offBus) state.hbmTrainingDone = false;
      // A CXL part reports untrained HBM as memory not active (MEM_ACTIVE clear) — its
      // only readiness signal on ≥ 7.2; the info stays valid (assumption, see
      // docs/review-alternatives.md).
      if (f.hbmUntrained) state.memActive = false;
      if (f.offBus) {
        state.memInfoValid = false;
        state.memActive = false;
      }
    }
    return this.readinessHook ? this.readinessHook(state) : state;
  }

  /**
   * Install (or clear with null) the hook that may hold readiness back: the seam for the
   * control plane's readiness faults. BAR0's status registers and the CXL DVSEC both read
   * through it.
   */
  setReadinessHook(hook: ReadinessHook | null): void {
    this.readinessHook = hook;
  }

  /** Milliseconds until both readiness registers read 0xFF (0: now); null while a fault holds them. */
  readyInMs(): number | null {
    const f = this.faults;
    if (f.any && (f.linkDown || f.hbmUntrained || f.offBus)) return null;
    return Math.max(0, this.readyAt - this.clock.now());
  }

  /**
   * The card detected an error and logged it in its AER capability and Device Status, as a
   * PCIe function does (PCIe r6.0 section 6.2.3.2): a correctable one sets COR_STATUS and DevSta.CED;
   * an uncorrectable one sets UNCOR_STATUS and DevSta.FED or NFED by its severity bit.
   * Returns whether the error is fatal. Signalling the host is the caller's (ERR irq).
   */
  recordAerError(kind: 'correctable' | 'uncorrectable'): { fatal: boolean } {
    if (this.faults.any && this.faults.offBus) return { fatal: kind === 'uncorrectable' };
    const devsta = LAYOUT.pcie + PCI_EXP_DEVSTA;
    const aer = LAYOUT.aer;
    if (kind === 'correctable') {
      this.cs.setU32(
        aer + PCI_ERR_COR_STATUS,
        this.cs.u32(aer + PCI_ERR_COR_STATUS) | AER_COR_INTERNAL,
      );
      this.cs.set(devsta, 2, this.cs.u16(devsta) | PCI_EXP_DEVSTA_CED);
      return { fatal: false };
    }
    const fatal = (this.cs.u32(aer + PCI_ERR_UNCOR_SEVER) & AER_UNCOR_INTERNAL) !== 0;
    this.cs.setU32(
      aer + PCI_ERR_UNCOR_STATUS,
      this.cs.u32(aer + PCI_ERR_UNCOR_STATUS) | AER_UNCOR_INTERNAL,
    );
    this.cs.set(
      devsta,
      2,
      this.cs.u16(devsta) | (fatal ? PCI_EXP_DEVSTA_FED : PCI_EXP_DEVSTA_NFED),
    );
    return { fatal };
  }

  onInterrupt(handler: ((irq: CardInterrupt) => void) | null): void {
    this.irq.setHandler(handler);
  }
}
