/**
 * VfioPciDevice: the plain vfio-pci core over a Card — what a VMM sees through the device fd
 * of a vfio-pci (or nvgrace-gpu-vfio-pci-core) bound function.
 *
 * Rules (docs/driver-rules.md §8):
 * - Regions: BAR0..5 (size from the host resources; 0 → flags 0), ROM (6, none on this card:
 *   size 0 flags 0), CONFIG (7, cfgSize, READ|WRITE), VGA (8) → EINVAL, ≥ 9 → EINVAL.
 * - No host BAR is MMAP: BAR0's registers (readiness, MSI-X table, the emulator's IRQ
 *   trigger) are trapped in this emulator, so every access must come through read()/write(),
 *   and this card has no other host BAR of plain memory (device memory is the variant's).
 * - BAR read/write (vfio_pci_bar_rw): EINVAL at/after the size, count clipped to the end;
 *   memory BARs → EIO while the virtual MSE is clear (or D3hot), checked per device access
 *   so a zero-length access returns 0; the MSI-X table range reads 0xFF and drops writes
 *   (the VMM emulates the table).
 * - open: function reset, then Memory Space enabled in hardware (pci_enable_device), then
 *   vconfig copied from hardware (so the virtual MSE starts 1). close: IRQs torn down, sinks
 *   closed, function reset (the kernel's release path).
 * - reset (VFIO_DEVICE_RESET): card.reset(), vconfig kept, interrupt programming restored.
 * - Host side (control plane): hostReset is a reset the host starts (sysfs reset →
 *   pci_reset_function), the same save/reset/restore as an FLR; requestRelease signals REQ
 *   (vfio_pci_core_request); reportAer logs the error in the card and, for an uncorrectable
 *   one, signals ERR (vfio_pci_core_aer_err_detected; correctable errors never reach the
 *   driver's error_detected).
 */
import type { Card } from '../hw/card.js';
import * as C from '../pci/constants.js';
import {
  DeviceInfoFlags,
  PciIrq,
  PciRegion,
  type RegionInfo,
  RegionInfoFlags,
} from '../uapi/vfio.js';
import { VirtualConfig } from './config-virt.js';
import type {
  DeviceInfo,
  DmaSpace,
  IrqInfo,
  RegionMapping,
  SetIrqsRequest,
  VfioDevice,
} from './device.js';
import { fail } from './errors.js';
import { IrqController } from './irqs.js';
import { buildRegionInfo } from './region-info.js';
import { saveConfigState } from './saved-state.js';

/** Who started a function reset (control-plane events). */
export type ResetCause = 'open' | 'vmm' | 'flr' | 'host' | 'release';

/** Told about every function reset the core performs. */
export type ResetObserver = (cause: ResetCause, durationMs: number) => void;

export interface VfioPciDeviceOptions {
  /** Device name for logs; default "vfio-pci VVVV:DDDD". */
  name?: string;
  /** Whether the function reset works (DEVICE_INFO RESET flag, VFIO_DEVICE_RESET). Default true. */
  resetWorks?: boolean;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

export class VfioPciDevice implements VfioDevice {
  readonly name: string;
  readonly card: Card;
  readonly config: VirtualConfig;
  readonly irqs: IrqController;
  private readonly resetWorks: boolean;
  private dma: DmaSpace | null = null;
  /** The MSI-X table's BAR and byte range (undefined: not looked up yet; null: no MSI-X). */
  private msixTable: { bar: number; range: readonly [number, number] } | null | undefined;
  /** Called after every function reset the core performs (open, ioctl, FLR via config). */
  onReset: (() => void) | null = null;
  /** Told about each reset, with its cause and how long the card stays in reset. */
  resetObserver: ResetObserver | null = null;
  /** Function resets performed since creation. */
  resetCount = 0;

  constructor(card: Card, opts: VfioPciDeviceOptions = {}) {
    this.card = card;
    this.name = opts.name ?? `vfio-pci ${hex4(card.vendorId)}:${hex4(card.deviceId)}`;
    this.resetWorks = opts.resetWorks ?? true;
    this.config = new VirtualConfig(card, {
      msiActive: () => this.irqs.msiActive,
      msiQmax: () => this.irqs.msiQmax,
      intxDisableChanged: (d) => this.irqs.setVirqDisabled(d),
      flr: () => this.functionReset(),
    });
    this.irqs = new IrqController(card, {
      intxPin: () => this.config.interruptPin,
      msiCap: this.config.capOffset(C.PCI_CAP_ID_MSI),
      msixCap: this.config.capOffset(C.PCI_CAP_ID_MSIX),
      isPcie: this.config.capOffset(C.PCI_CAP_ID_EXP) !== undefined,
    });
  }

  /** The core's "memory enabled" (virtual MSE and D0). */
  get memoryEnabled(): boolean {
    return this.config.memoryEnabled;
  }

  /** Guest memory as set by the VMM (null when none). */
  get dmaSpace(): DmaSpace | null {
    return this.dma;
  }

  open(): void {
    if (this.resetWorks) this.card.reset();
    // pci_enable_device: memory decode on for the memory BARs.
    const cmd = this.card.cfgRead(C.PCI_COMMAND, 2);
    this.card.cfgWrite(C.PCI_COMMAND, 2, cmd | C.PCI_COMMAND_MEMORY);
    this.config.init();
    this.irqs.attach();
    if (this.resetWorks) {
      this.onReset?.();
      this.resetDone('open');
    }
  }

  close(): void {
    this.irqs.release();
    if (this.resetWorks) {
      this.card.reset();
      this.resetDone('release');
    }
    this.dma = null;
  }

  private resetDone(cause: ResetCause): void {
    this.resetCount++;
    this.resetObserver?.(cause, this.card.lastResetMs);
  }

  deviceInfo(): DeviceInfo {
    return {
      flags: DeviceInfoFlags.PCI | (this.resetWorks ? DeviceInfoFlags.RESET : 0),
      numRegions: PciRegion.NUM_REGIONS,
      numIrqs: PciIrq.NUM_IRQS,
    };
  }

  private barSize(index: number): number {
    return this.card.bars[index]?.size ?? 0;
  }

  regionInfo(index: number, argsz: number): RegionInfo {
    if (!Number.isInteger(index) || index < 0) fail('EINVAL', `region ${index} does not exist`);
    if (index <= PciRegion.BAR5) {
      const size = this.barSize(index);
      let flags = 0;
      // No MMAP: host BARs are trapped registers here (see the rules above).
      if (size > 0) flags = RegionInfoFlags.READ | RegionInfoFlags.WRITE;
      return buildRegionInfo({ index, flags, size }, argsz);
    }
    if (index === PciRegion.ROM) {
      const size = this.card.romSize;
      return buildRegionInfo({ index, flags: size > 0 ? RegionInfoFlags.READ : 0, size }, argsz);
    }
    if (index === PciRegion.CONFIG) {
      const flags = RegionInfoFlags.READ | RegionInfoFlags.WRITE;
      return buildRegionInfo({ index, flags, size: this.card.cfgSize }, argsz);
    }
    if (index === PciRegion.VGA) fail('EINVAL', 'not a VGA device');
    return fail('EINVAL', `region ${index} does not exist`);
  }

  irqInfo(index: number): IrqInfo {
    return this.irqs.info(index);
  }

  setIrqs(req: SetIrqsRequest): void {
    this.irqs.set(req);
  }

  /** The MSI-X table's [start, end) inside BAR `index`, or null. */
  private msixTableRange(index: number): readonly [number, number] | null {
    // Table Offset/BIR and Table Size are read-only in hardware: found once, on first use
    // (every BAR access asks).
    if (this.msixTable === undefined) {
      const cap = this.config.capOffset(C.PCI_CAP_ID_MSIX);
      if (cap === undefined) {
        this.msixTable = null;
      } else {
        const tbl = this.card.cfgRead(cap + C.PCI_MSIX_TABLE, 4);
        const n = (this.card.cfgRead(cap + C.PCI_MSIX_FLAGS, 2) & C.PCI_MSIX_FLAGS_QSIZE) + 1;
        const start = tbl & C.PCI_MSIX_OFFSET_MASK;
        this.msixTable = {
          bar: tbl & C.PCI_MSIX_BIR_MASK,
          range: [start, start + n * C.PCI_MSIX_ENTRY_SIZE],
        };
      }
    }
    const t = this.msixTable;
    return t !== null && t.bar === index ? t.range : null;
  }

  private checkBar(index: number, offset: number, length: number): number {
    const size = this.barSize(index);
    if (size === 0) fail('EINVAL', `BAR ${index} is not implemented`);
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= size) {
      fail('EINVAL', `BAR ${index} offset ${offset} is outside its ${size} bytes`);
    }
    if (!Number.isSafeInteger(length) || length < 0) fail('EINVAL', `bad length ${length}`);
    const n = Math.min(length, size - offset);
    const bar = this.card.bars[index];
    // The MSI-X table range is filled/dropped without touching the device: no memory check.
    const t = this.msixTableRange(index);
    const inTable = t !== null && offset >= t[0] && offset + n <= t[1];
    // vfio_pci_core_do_io_rw tests memory enable per device access: a zero-length access
    // makes none, so it returns 0 even with decode off.
    if (n > 0 && bar && !bar.io && !this.memoryEnabled && !inTable) {
      fail('EIO', `BAR ${index}: memory decode disabled`);
    }
    return n;
  }

  readInto(index: number, offset: number, target: Uint8Array): number {
    if (index === PciRegion.CONFIG) return this.config.readInto(offset, target);
    if (Number.isInteger(index) && index >= 0 && index <= PciRegion.BAR5) {
      const n = this.checkBar(index, offset, target.length);
      const out = n === target.length ? target : target.subarray(0, n);
      const t = this.msixTableRange(index);
      if (!t || offset < t[0] || offset + n > t[1]) this.card.barRead(index, offset, out);
      if (t) {
        const s = Math.max(t[0], offset);
        const e = Math.min(t[1], offset + n);
        if (s < e) out.fill(0xff, s - offset, e - offset);
      }
      return n;
    }
    if (index === PciRegion.ROM) {
      if (this.card.romSize === 0) fail('EINVAL', 'no ROM');
      if (!this.memoryEnabled) fail('EIO', 'ROM: memory decode disabled');
      if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.card.romSize) {
        fail('EINVAL', `ROM offset ${offset} out of range`);
      }
      const n = Math.min(target.length, this.card.romSize - offset);
      this.card.romRead(offset, target.subarray(0, n));
      return n;
    }
    return fail('EINVAL', `region ${index} cannot be read`);
  }

  /** Host BARs here are register space, never served in place. */
  readView(_index: number, _offset: number, _length: number): null {
    return null;
  }

  /** The kernel's read() into a fresh buffer (the variant's config overlay, tests). */
  read(index: number, offset: number, length: number): Uint8Array {
    if (index === PciRegion.CONFIG) return this.config.read(offset, length);
    if (!Number.isSafeInteger(length) || length < 0) fail('EINVAL', `bad length ${length}`);
    const out = new Uint8Array(length);
    const n = this.readInto(index, offset, out);
    return n === length ? out : out.subarray(0, n);
  }

  write(index: number, offset: number, data: Uint8Array): number {
    if (index === PciRegion.CONFIG) return this.config.write(offset, data);
    if (Number.isInteger(index) && index >= 0 && index <= PciRegion.BAR5) {
      const n = this.checkBar(index, offset, data.length);
      const t = this.msixTableRange(index);
      if (!t) {
        this.card.barWrite(index, offset, data.subarray(0, n));
        return n;
      }
      // Write the parts outside the MSI-X table; the table part is dropped.
      const end = offset + n;
      if (offset < t[0]) {
        this.card.barWrite(index, offset, data.subarray(0, Math.min(end, t[0]) - offset));
      }
      if (end > t[1]) {
        const s = Math.max(offset, t[1]);
        this.card.barWrite(index, s, data.subarray(s - offset, n));
      }
      return n;
    }
    return fail('EINVAL', `region ${index} cannot be written`);
  }

  /**
   * A function reset the core performs (ioctl or FLR through config): hardware reset with the
   * PCI core's save/restore (pci_try_reset_function: command register, saved-state.ts
   * registers), vconfig kept, interrupt programming restored.
   */
  functionReset(cause: ResetCause = 'flr'): void {
    const saved = this.card.cfgRead(C.PCI_COMMAND, 2);
    const restore = saveConfigState(this.card);
    this.card.reset();
    restore();
    const keep = C.PCI_COMMAND_MEMORY | C.PCI_COMMAND_IO | C.PCI_COMMAND_MASTER;
    const hw = this.card.cfgRead(C.PCI_COMMAND, 2);
    this.card.cfgWrite(C.PCI_COMMAND, 2, (hw & ~keep) | (saved & keep));
    this.irqs.programHw();
    this.onReset?.();
    this.resetDone(cause);
  }

  reset(): void {
    if (!this.resetWorks) fail('EINVAL', 'function reset does not work on this device');
    this.functionReset('vmm');
  }

  /** A reset the host starts (sysfs reset): the PCI core's save/reset/restore, as for an FLR. */
  hostReset(): void {
    this.functionReset('host');
  }

  /** vfio_pci_core_request(): signal REQ if the user registered it; false when nobody listens. */
  requestRelease(): boolean {
    return this.irqs.signal(PciIrq.REQ, 0);
  }

  /**
   * The card reports an AER error: logged in the card; an uncorrectable one reaches
   * vfio_pci_core_aer_err_detected(), which signals ERR. Returns whether ERR was signalled.
   */
  reportAer(kind: 'correctable' | 'uncorrectable'): { fatal: boolean; signalled: boolean } {
    const { fatal } = this.card.recordAerError(kind);
    const signalled = kind === 'uncorrectable' && this.irqs.signal(PciIrq.ERR, 0);
    return { fatal, signalled };
  }

  /** VFIO_DEVICE_IOEVENTFD (model only: the server offers no ioeventfds). */
  ioeventfd(index: number, offset: number, size: number): void {
    // Accepted and ignored: every access is trapped here anyway, so an ioeventfd would only
    // be a fast path.
    void index;
    void offset;
    void size;
  }

  /** No region of the core is mappable (see the rules above). */
  mapping(_index: number): RegionMapping | null {
    return null;
  }

  setDmaSpace(dma: DmaSpace | null): void {
    this.dma = dma;
  }
}
