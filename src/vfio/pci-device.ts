/**
 * VfioPciDevice: the vfio-pci core over a Card, as the VfioDevice seam (vfio_pci_core.c):
 * open/close lifecycle, device/region/IRQ info, region read/write, SET_IRQS, reset, mmap.
 *
 * Rules:
 * - open: Memory Space enabled in hardware (pci_enable_device), function reset (its success
 *   decides `resetWorks`), INTx unmasked in hardware, vconfig built, card interrupts routed.
 * - close: interrupts torn down and sinks closed, bus mastering cleared, the function reset.
 * - VFIO_DEVICE_RESET: EINVAL unless the open-time reset worked; else FLR with the config state
 *   kept; vconfig is not changed. Every function reset (ioctl, DevCtl FLR, open) tells the
 *   reset-done listeners (the PCI reset_done callback a variant hooks).
 * - Region info: BARs from the card's resources; MMAP only for BARs the card marks mappable.
 *   DEVIATION from the kernel (documented decision): BAR0 is register space emulated in
 *   software, so it never gets MMAP (the VMM must trap it), and therefore no MSIX_MAPPABLE cap.
 * - IOEVENTFD on the core: validated as the kernel does, then recorded (no fast path here).
 */
import type { Card } from '../hw/card.js';
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_D3HOT,
  PCI_INTERRUPT_PIN,
  PCI_MSIX_BIR_MASK,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_TABLE,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
} from '../pci/constants.js';
import { barRead, barWrite, romRead, type TableRange } from './bar-io.js';
import { VirtualConfig } from './config/vconfig.js';
import type {
  DeviceInfo,
  DmaSpace,
  IrqInfo,
  RegionInfo,
  RegionMapping,
  SetIrqsRequest,
  VfioDevice,
} from './device.js';
import { fail } from './errors.js';
import { resetFunction } from './function-reset.js';
import { Interrupts } from './irqs.js';
import { buildRegionInfo, type InfoCap, msixMappableCap } from './region-info.js';
import { DeviceFlags, IrqFlags, RegionFlags, VfioPciIrq, VfioPciRegion } from './uapi.js';

export interface IoEventFd {
  index: number;
  offset: number;
  size: number;
}

const hex = (n: number) => `${n.toString(16).padStart(4, '0')}`;

export class VfioPciDevice implements VfioDevice {
  readonly name: string;
  readonly config: VirtualConfig;
  readonly irqs: Interrupts;
  /** Did the open-time function reset work (VFIO_DEVICE_RESET and the RESET flag need it). */
  resetWorks = true;
  isOpen = false;
  /** Guest memory, when a VMM is attached (unused by this card: it does no DMA). */
  dma: DmaSpace | null = null;
  readonly ioeventfds: IoEventFd[] = [];
  private readonly resetListeners: (() => void)[] = [];

  constructor(
    readonly card: Card,
    name?: string,
  ) {
    this.name = name ?? `vfio-pci ${hex(card.vendorId)}:${hex(card.deviceId)}`;
    this.config = new VirtualConfig(card, {
      functionReset: () => {
        this.functionReset();
      },
      intxDisableChanged: (d) => this.irqs.virtualIntxDisable(d),
      setPowerState: (s) => this.setPowerState(s),
      msiActive: () => this.irqs.type === 'msi',
      msiQmax: () => this.irqs.msiQmax,
    });
    this.irqs = new Interrupts(
      card,
      () => ({
        msi: this.config.capOffset(PCI_CAP_ID_MSI),
        msix: this.config.capOffset(PCI_CAP_ID_MSIX),
      }),
      (i) => this.irqCount(i),
    );
    // Before the first open the user view is what open would build (for inspection).
    this.config.init();
  }

  /** Call `fn` after every function reset (the PCI core's reset_done callback). */
  onResetDone(fn: () => void): void {
    this.resetListeners.push(fn);
  }

  /** Virtual Command.MSE set and the function in D0..D2 (__vfio_pci_memory_enabled). */
  memoryEnabled(): boolean {
    const cmd = this.config.get(PCI_COMMAND, 2);
    return (cmd & PCI_COMMAND_MEMORY) !== 0 && this.powerState() < PCI_D3HOT;
  }

  /** The function's power state as the hardware reports it. */
  powerState(): number {
    const pm = this.config.capOffset(PCI_CAP_ID_PM);
    if (pm === null) return 0;
    return this.card.cfgRead(pm + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK;
  }

  private setPowerState(state: number): void {
    const pm = this.config.capOffset(PCI_CAP_ID_PM);
    if (pm === null) return;
    const cur = this.card.cfgRead(pm + PCI_PM_CTRL, 2);
    this.card.cfgWrite(pm + PCI_PM_CTRL, 2, (cur & ~PCI_PM_CTRL_STATE_MASK) | state);
  }

  /** pci_try_reset_function: FLR with config save/restore, then reset_done listeners. */
  functionReset(): boolean {
    const ok = resetFunction(this.card);
    if (ok) for (const fn of this.resetListeners) fn();
    return ok;
  }

  // --- lifecycle ------------------------------------------------------------------------

  open(): void {
    if (this.isOpen) this.close();
    this.setPowerState(0);
    // pci_enable_device: decode the BARs the function has.
    const io = this.card.bars.some((b) => b.size > 0 && b.io);
    const cmd = this.card.cfgRead(PCI_COMMAND, 2);
    this.card.cfgWrite(PCI_COMMAND, 2, cmd | PCI_COMMAND_MEMORY | (io ? PCI_COMMAND_IO : 0));
    this.resetWorks = this.functionReset();
    const after = this.card.cfgRead(PCI_COMMAND, 2);
    if (after & PCI_COMMAND_INTX_DISABLE)
      this.card.cfgWrite(PCI_COMMAND, 2, after & ~PCI_COMMAND_INTX_DISABLE);
    this.config.init();
    this.irqs.teardown();
    this.card.onInterrupt((irq) => this.irqs.deliver(irq));
    this.isOpen = true;
  }

  close(): void {
    this.irqs.teardown();
    this.card.onInterrupt(null);
    this.ioeventfds.length = 0;
    const cmd = this.card.cfgRead(PCI_COMMAND, 2);
    this.card.cfgWrite(PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
    // The kernel resets the function on release (without the reset_done callback).
    if (this.resetWorks) resetFunction(this.card);
    this.isOpen = false;
  }

  setDmaSpace(dma: DmaSpace | null): void {
    this.dma = dma;
  }

  // --- info -----------------------------------------------------------------------------

  deviceInfo(): DeviceInfo {
    return {
      flags: DeviceFlags.PCI | (this.resetWorks ? DeviceFlags.RESET : 0),
      numRegions: VfioPciRegion.NUM_REGIONS,
      numIrqs: VfioPciIrq.NUM_IRQS,
    };
  }

  /** The MSI-X table range in its BAR (16 bytes per vector). */
  msixTable(): TableRange | null {
    const cap = this.config.capOffset(PCI_CAP_ID_MSIX);
    if (cap === null) return null;
    const reg = this.card.cfgRead(cap + PCI_MSIX_TABLE, 4);
    const start = (reg & ~PCI_MSIX_BIR_MASK) >>> 0;
    const n = Interrupts.msixCount(this.card, cap);
    return { bar: reg & PCI_MSIX_BIR_MASK, start, end: start + n * PCI_MSIX_ENTRY_SIZE };
  }

  private barMappable(index: number): boolean {
    const bar = this.card.bars[index];
    // BAR0 is never mappable here: its registers are emulated and must be trapped.
    if (!bar || bar.size === 0 || bar.io || !bar.mappable || index === 0) return false;
    return this.card.barBacking(index) !== null;
  }

  regionInfo(index: number, argsz: number): RegionInfo {
    if (index >= 0 && index <= VfioPciRegion.BAR5 && Number.isInteger(index)) {
      const bar = this.card.bars[index];
      const size = bar?.size ?? 0;
      if (size === 0) return buildRegionInfo(argsz, { index, flags: 0, size: 0 });
      let flags = RegionFlags.READ | RegionFlags.WRITE;
      const caps: InfoCap[] = [];
      if (this.barMappable(index)) {
        flags |= RegionFlags.MMAP;
        if (this.msixTable()?.bar === index) caps.push(msixMappableCap());
      }
      return buildRegionInfo(argsz, { index, flags, size, caps });
    }
    switch (index) {
      case VfioPciRegion.ROM: {
        const size = this.card.romSize;
        return buildRegionInfo(argsz, { index, flags: size > 0 ? RegionFlags.READ : 0, size });
      }
      case VfioPciRegion.CONFIG:
        return buildRegionInfo(argsz, {
          index,
          flags: RegionFlags.READ | RegionFlags.WRITE,
          size: this.card.cfgSize,
        });
      case VfioPciRegion.VGA:
        return fail('EINVAL', 'not a VGA device');
      default:
        return fail('EINVAL', `region index ${index} out of range`);
    }
  }

  /** vfio_pci_get_irq_count. */
  irqCount(index: number): number {
    switch (index) {
      case VfioPciIrq.INTX:
        return this.config.get(PCI_INTERRUPT_PIN, 1) ? 1 : 0;
      case VfioPciIrq.MSI:
        return Interrupts.msiCount(this.card, this.config.capOffset(PCI_CAP_ID_MSI));
      case VfioPciIrq.MSIX:
        return Interrupts.msixCount(this.card, this.config.capOffset(PCI_CAP_ID_MSIX));
      case VfioPciIrq.ERR:
        return this.config.capOffset(PCI_CAP_ID_EXP) !== null ? 1 : 0;
      case VfioPciIrq.REQ:
        return 1;
      default:
        return 0;
    }
  }

  irqInfo(index: number): IrqInfo {
    const pcie = this.config.capOffset(PCI_CAP_ID_EXP) !== null;
    if (
      !Number.isInteger(index) ||
      index < 0 ||
      index >= VfioPciIrq.NUM_IRQS ||
      (index === VfioPciIrq.ERR && !pcie)
    ) {
      fail('EINVAL', `IRQ index ${index} out of range`);
    }
    let flags: number = IrqFlags.EVENTFD;
    if (index === VfioPciIrq.INTX) flags |= IrqFlags.MASKABLE | IrqFlags.AUTOMASKED;
    else flags |= IrqFlags.NORESIZE; // no dynamic MSI-X allocation
    return { flags, index, count: this.irqCount(index) };
  }

  setIrqs(req: SetIrqsRequest): void {
    this.irqs.setIrqs(req);
  }

  // --- region access --------------------------------------------------------------------

  private io() {
    return {
      card: this.card,
      memoryEnabled: () => this.memoryEnabled(),
      msixTable: () => this.msixTable(),
    };
  }

  read(index: number, offset: number, length: number): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0) fail('EINVAL', `bad length ${length}`);
    if (index >= 0 && index <= VfioPciRegion.BAR5 && Number.isInteger(index)) {
      return barRead(this.io(), index, offset, length);
    }
    if (index === VfioPciRegion.ROM) return romRead(this.io(), offset, length);
    if (index === VfioPciRegion.CONFIG) return this.config.read(offset, length);
    return fail('EINVAL', `region index ${index} cannot be read`);
  }

  write(index: number, offset: number, data: Uint8Array): number {
    if (index >= 0 && index <= VfioPciRegion.BAR5 && Number.isInteger(index)) {
      return barWrite(this.io(), index, offset, data);
    }
    if (index === VfioPciRegion.ROM) return fail('EINVAL', 'the ROM is read-only');
    if (index === VfioPciRegion.CONFIG) return this.config.write(offset, data);
    return fail('EINVAL', `region index ${index} cannot be written`);
  }

  reset(): void {
    if (!this.resetWorks) fail('EINVAL', 'function reset does not work on this device');
    this.functionReset();
  }

  ioeventfd(index: number, offset: number, size: number): void {
    if (!Number.isInteger(index) || index < 0 || index > VfioPciRegion.BAR5) {
      fail('EINVAL', `IOEVENTFD needs a BAR region, got index ${index}`);
    }
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8)
      fail('EINVAL', `IOEVENTFD size ${size}`);
    const bar = this.card.bars[index];
    if (!bar || !Number.isSafeInteger(offset) || offset < 0 || offset + size > bar.size) {
      fail('EINVAL', `IOEVENTFD at 0x${offset.toString(16)} (+${size}) is outside BAR ${index}`);
    }
    const t = this.msixTable();
    if (t && t.bar === index && offset + size > t.start && offset < t.end) {
      fail('EINVAL', 'IOEVENTFD may not cover the MSI-X table');
    }
    this.ioeventfds.push({ index, offset, size });
  }

  mapping(index: number): RegionMapping | null {
    if (!this.barMappable(index)) return null;
    const bar = this.card.bars[index];
    const b = this.card.barBacking(index);
    if (!bar || !b) return null;
    return { backing: b.backing, backingOffset: b.offset, areas: [{ offset: 0, size: bar.size }] };
  }
}
