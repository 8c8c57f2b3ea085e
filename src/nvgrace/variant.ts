/**
 * NvgraceDevice: the nvgrace-gpu-vfio-pci variant over the vfio-pci core — fake BARs backed
 * by the coherent device memory (usemem at index 4, Hopper's resmem at index 2).
 *
 * Rules (docs/driver-rules.md §2–§7):
 * - Everything not about a fake BAR falls through to the core (VfioPciDevice).
 * - Config: fake BAR registers overlay core reads and absorb writes (see fake-bar.ts); they
 *   are zeroed at open and by VFIO_DEVICE_RESET before the core reset (not by FLR or close).
 * - Region info: offset index << 40, size bar_size, flags READ|WRITE|MMAP|CAPS, one
 *   sparse-mmap area {0, memlength}; argsz < 64 → argsz 64, no caps.
 * - read/write: off ≥ bar_size → EINVAL; clipped to bar_size; below memlength → device
 *   memory; the padding reads 0xFF and drops writes. The core's MSE check does not apply (the
 *   hardware returns all-ones / drops writes while decode is off).
 * - ≥6.19 post-reset gate: after any core reset (open, ioctl, FLR via config) the next fake-BAR
 *   read, or write starting below memlength (of any length, zero included), fails EIO while
 *   the virtual MSE is clear, proceeds
 *   at once when the card is ready, else polls up to 30 s (→ ETIME). Note: a VMM attaches with
 *   MSE cleared until the guest enables decode, and the open-time reset arms the gate, so the
 *   first access after open with MSE clear gets EIO — that is the kernel's behaviour.
 * - IOEVENTFD → ENOTTY for every region.
 */
import type { Card } from '../hw/card.js';
import { PciRegion, type RegionInfo, RegionInfoFlags } from '../uapi/vfio.js';
import type {
  DeviceInfo,
  DmaSpace,
  IrqInfo,
  MaybePromise,
  RegionMapping,
  SetIrqsRequest,
  VfioDevice,
} from '../vfio/device.js';
import { fail } from '../vfio/errors.js';
import type { VfioPciDevice } from '../vfio/pci-device.js';
import { buildRegionInfo, sparseMmapCap } from '../vfio/region-info.js';
import { type FakeBarReg, mergeBytes, readValue, selectRegister } from './fake-bar.js';
import { BANDS, type KernelBand } from './kernel-bands.js';
import type { MemRegion, NvgraceLayout } from './layout.js';
import { cardReady, waitReady } from './readiness.js';

const FAKE_BAR_FLAGS =
  RegionInfoFlags.READ | RegionInfoFlags.WRITE | RegionInfoFlags.MMAP | RegionInfoFlags.CAPS;

export class NvgraceDevice implements VfioDevice {
  readonly name: string;
  readonly layout: NvgraceLayout;
  readonly band: KernelBand;
  private readonly core: VfioPciDevice;
  private readonly card: Card;
  private readonly usemem: FakeBarReg;
  private readonly resmem: FakeBarReg | null;
  private resetDone = false;

  constructor(core: VfioPciDevice, layout: NvgraceLayout, band: KernelBand, name: string) {
    this.core = core;
    this.card = core.card;
    this.layout = layout;
    this.band = band;
    this.name = name;
    this.usemem = { region: layout.usemem, barVal: 0n };
    this.resmem = layout.resmem ? { region: layout.resmem, barVal: 0n } : null;
    core.onReset = () => {
      if (BANDS[band].postResetGate) this.resetDone = true;
    };
  }

  /** True while the ≥6.19 post-reset readiness check is pending. */
  get readinessCheckPending(): boolean {
    return this.resetDone;
  }

  /** Current raw bar_val of the fake BAR at `index` (tests, inspection). */
  barValue(index: number): bigint | null {
    return this.fake(index)?.barVal ?? null;
  }

  private fake(index: number): FakeBarReg | null {
    if (index === this.usemem.region.index) return this.usemem;
    if (this.resmem && index === this.resmem.region.index) return this.resmem;
    return null;
  }

  private zeroBars(): void {
    this.usemem.barVal = 0n;
    if (this.resmem) this.resmem.barVal = 0n;
  }

  open(): void {
    this.core.open();
    this.zeroBars();
  }

  close(): void {
    this.core.close();
  }

  deviceInfo(): DeviceInfo {
    return this.core.deviceInfo();
  }

  regionInfo(index: number, argsz: number): RegionInfo {
    const f = this.fake(index);
    if (!f) return this.core.regionInfo(index, argsz);
    const r = f.region;
    const caps = [sparseMmapCap([{ offset: 0, size: r.memlength }])];
    return buildRegionInfo({ index, flags: FAKE_BAR_FLAGS, size: r.barSize, caps }, argsz);
  }

  irqInfo(index: number): IrqInfo {
    return this.core.irqInfo(index);
  }

  setIrqs(req: SetIrqsRequest): void {
    this.core.setIrqs(req);
  }

  // --- config overlay -----------------------------------------------------------------

  private configTarget(pos: number, count: number) {
    const sel = selectRegister(pos, count);
    if (!sel) return null;
    const reg = sel.reg === 0x18 ? this.resmem : this.usemem;
    return reg ? { reg, hit: sel.hit } : null;
  }

  private configRead(pos: number, length: number): Uint8Array {
    const out = this.core.read(PciRegion.CONFIG, pos, length);
    const t = this.configTarget(pos, length);
    if (t) {
      const v = readValue(t.reg);
      out.set(v.subarray(t.hit.regOffset, t.hit.regOffset + t.hit.count), t.hit.bufOffset);
    }
    return out;
  }

  private configWrite(pos: number, data: Uint8Array): number {
    const t = this.configTarget(pos, data.length);
    if (!t) return this.core.write(PciRegion.CONFIG, pos, data);
    const { hit } = t;
    mergeBytes(t.reg, data.subarray(hit.bufOffset, hit.bufOffset + hit.count), hit.regOffset);
    return hit.count;
  }

  // --- fake BAR memory ----------------------------------------------------------------

  /** ≥6.19 gate: undefined when the access may go ahead now, a Promise when it must wait. */
  private gate(): Promise<void> | undefined {
    if (!this.resetDone) return undefined;
    if (!this.core.memoryEnabled) fail('EIO', 'memory decode disabled with a reset pending');
    if (cardReady(this.card)) {
      this.resetDone = false;
      return undefined;
    }
    return waitReady(this.card, this.card.clock).then((ok) => {
      if (!ok) fail('ETIME', 'GPU not ready 30 s after reset');
      this.resetDone = false;
    });
  }

  private clip(r: MemRegion, offset: number, length: number): number {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= r.barSize) {
      fail('EINVAL', `offset 0x${offset.toString(16)} beyond BAR size 0x${r.barSize.toString(16)}`);
    }
    if (!Number.isSafeInteger(length) || length < 0) fail('EINVAL', `bad length ${length}`);
    return Math.min(length, r.barSize - offset);
  }

  /** target[0, n) from device memory, the padding past memlength as 0xFF; returns n. */
  private memRead(r: MemRegion, offset: number, target: Uint8Array, n: number): number {
    if (n === 0) return 0;
    const inMem = Math.max(0, Math.min(n, r.memlength - offset));
    // The common case (a whole buffer in device memory) takes no subarray and no fill.
    if (inMem === target.length) {
      this.card.memRead(r.devOffset + offset, target);
      return n;
    }
    if (inMem > 0) this.card.memRead(r.devOffset + offset, target.subarray(0, inMem));
    target.fill(0xff, inMem, n);
    return n;
  }

  private memWrite(r: MemRegion, offset: number, data: Uint8Array, n: number): number {
    if (n === 0) return 0;
    const inMem = Math.max(0, Math.min(n, r.memlength - offset));
    if (inMem > 0) this.card.memWrite(r.devOffset + offset, data.subarray(0, inMem));
    return n;
  }

  readInto(index: number, offset: number, target: Uint8Array): MaybePromise<number> {
    if (index === PciRegion.CONFIG) {
      const d = this.configRead(offset, target.length);
      target.set(d);
      return d.length;
    }
    const f = this.fake(index);
    if (!f) return this.core.readInto(index, offset, target);
    const r = f.region;
    const n = this.clip(r, offset, target.length);
    // nvgrace_gpu_read_mem runs nvgrace_gpu_check_device_ready for every read, a zero-length
    // one included (EIO with decode off, else it waits and disarms the check).
    const wait = this.gate();
    if (wait) return wait.then(() => this.memRead(r, offset, target, n));
    return this.memRead(r, offset, target, n);
  }

  readView(index: number, offset: number, length: number): Uint8Array | null {
    const f = this.fake(index);
    if (!f || this.resetDone) return null; // not device memory, or the ≥6.19 gate is armed
    const r = f.region;
    if (!Number.isSafeInteger(offset) || offset < 0 || length <= 0) return null;
    if (offset + length > r.memlength) return null; // clipping or 0xFF padding: readInto
    return this.card.memView(r.devOffset + offset, length);
  }

  /** The kernel's read() into a fresh buffer (the model's own callers; the server uses readInto). */
  read(index: number, offset: number, length: number): MaybePromise<Uint8Array> {
    if (index === PciRegion.CONFIG) return this.configRead(offset, length);
    const f = this.fake(index);
    if (!f) return this.core.read(index, offset, length);
    const out = new Uint8Array(this.clip(f.region, offset, length));
    const n = this.readInto(index, offset, out);
    return n instanceof Promise ? n.then((k) => out.subarray(0, k)) : out.subarray(0, n);
  }

  write(index: number, offset: number, data: Uint8Array): MaybePromise<number> {
    if (index === PciRegion.CONFIG) return this.configWrite(offset, data);
    const f = this.fake(index);
    if (!f) return this.core.write(index, offset, data);
    const r = f.region;
    const n = this.clip(r, offset, data.length);
    // A write starting in the padding returns before the readiness gate (kernel asymmetry);
    // one below memlength reaches it even with zero length (nvgrace_gpu_write_mem).
    if (offset >= r.memlength) return n;
    const wait = this.gate();
    if (wait) return wait.then(() => this.memWrite(r, offset, data, n));
    return this.memWrite(r, offset, data, n);
  }

  reset(): void {
    // Zeroed first, so it happens even when the core reset then fails.
    this.zeroBars();
    this.core.reset();
  }

  /** VFIO_DEVICE_IOEVENTFD: the variant refuses it (the server offers no ioeventfds either). */
  ioeventfd(_index: number, _offset: number, _size: number): void {
    fail('ENOTTY', 'nvgrace-gpu does not support IOEVENTFD');
  }

  mapping(index: number): RegionMapping | null {
    const f = this.fake(index);
    if (!f) return this.core.mapping(index);
    const r = f.region;
    return {
      fd: this.card.memory.fd ?? null,
      offset: r.devOffset,
      areas: [{ offset: 0, size: r.memlength }],
    };
  }

  setDmaSpace(dma: DmaSpace | null): void {
    this.core.setDmaSpace(dma);
  }
}
