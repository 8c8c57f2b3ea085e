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
 *   hardware returns all-ones / drops writes while decode is off) — unless the review policy
 *   mse 'honour' is chosen (policies.ts): then a fake-BAR read/write with the virtual MSE clear
 *   is EIO and the fake BARs are offered without an fd while it is clear.
 * - ≥6.19 post-reset gate (nvgrace_gpu_check_device_ready): after any core reset (open, ioctl,
 *   FLR via config) the next fake-BAR read, or write starting below memlength (of any length,
 *   zero included), fails EIO while
 *   the virtual MSE is clear, proceeds at once when the card is ready, else polls up to 30 s
 *   (→ ETIME). Note: a VMM attaches with MSE cleared until the guest enables decode, and the
 *   open-time reset arms the gate, so the first access after open with MSE clear gets EIO —
 *   that is the kernel's behaviour. Same rule under both MSE policies.
 * - ≥7.2 with the CXL Device DVSEC (nvgrace_gpu_read_mem/write_mem): the gated access first
 *   waits on the DVSEC (nvgrace_gpu_wait_device_ready_cxl, outside the memory lock: up to
 *   1 s + Memory_Active_Timeout, ETIME/ENODEV), and only then checks MSE (EIO) and readiness
 *   once more without waiting.
 * - Layout 'vendor-region' (vendor-region.ts): regions 4 (and on Hopper 2) are masked — size
 *   0, config BAR reads 0 and absorbs writes, read/write EINVAL — and the memory is region 9.
 * - IOEVENTFD → ENOTTY for every region.
 * - Poisoned device memory (control-plane fault, the 7.0 driver's memory-failure handling):
 *   a trapped read that touches a poisoned range fails EFAULT — nvgrace_gpu_map_and_read()
 *   copies from the memremap'd memory with copy_to_user(), whose consumption of poison is a
 *   failed copy (-EFAULT) with arm64's machine-check-safe uaccess; writes go through (a
 *   store does not consume poison). Large reads of a poisoned card are never served in place.
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
import { BAR2_LO, type FakeBarReg, mergeBytes, readValue, selectRegister } from './fake-bar.js';
import { BANDS, type KernelBand } from './kernel-bands.js';
import type { MemRegion, NvgraceLayout } from './layout.js';
import { type ReviewPolicies, UPSTREAM_POLICIES } from './policies.js';
import { cardReady, testReadyCxl, waitReady, waitReadyCxl } from './readiness.js';
import { VENDOR_REGION_INDEX, vendorRegionAreas, vendorRegionInfo } from './vendor-region.js';

const FAKE_BAR_FLAGS =
  RegionInfoFlags.READ | RegionInfoFlags.WRITE | RegionInfoFlags.MMAP | RegionInfoFlags.CAPS;

export interface NvgraceDeviceOptions {
  /** The review's alternatives; default upstream (mse 'ignore', layout 'bars'). */
  policies?: ReviewPolicies;
  /** Offset of the CXL Device DVSEC when the ≥7.2 CXL readiness path applies, else null. */
  cxlDvsec?: number | null;
}

export class NvgraceDevice implements VfioDevice {
  readonly name: string;
  readonly layout: NvgraceLayout;
  readonly band: KernelBand;
  readonly policies: Readonly<ReviewPolicies>;
  /** CXL Device DVSEC offset when readiness goes through it (≥7.2), else null. */
  readonly cxlDvsec: number | null;
  /** The vfio-pci core under the variant (host-side operations: reset, REQ, AER). */
  readonly core: VfioPciDevice;
  private readonly card: Card;
  private readonly usemem: FakeBarReg;
  private readonly resmem: FakeBarReg | null;
  private readonly honourMse: boolean;
  private readonly vendorRegion: boolean;
  private resetDone = false;

  constructor(
    core: VfioPciDevice,
    layout: NvgraceLayout,
    band: KernelBand,
    name: string,
    opts: NvgraceDeviceOptions = {},
  ) {
    this.core = core;
    this.card = core.card;
    this.layout = layout;
    this.band = band;
    this.name = name;
    this.policies = Object.freeze({ ...(opts.policies ?? UPSTREAM_POLICIES) });
    this.cxlDvsec = opts.cxlDvsec ?? null;
    this.honourMse = this.policies.mse === 'honour';
    this.vendorRegion = this.policies.layout === 'vendor-region';
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

  /** The fake BAR (memory behind a BAR) at `index`; none in the vendor-region layout. */
  private fake(index: number): FakeBarReg | null {
    if (this.vendorRegion) return null;
    return this.overlay(index);
  }

  /** The register at `index` the variant owns (fake BAR, or masked in vendor-region). */
  private overlay(index: number): FakeBarReg | null {
    if (index === this.usemem.region.index) return this.usemem;
    if (this.resmem && index === this.resmem.region.index) return this.resmem;
    return null;
  }

  /** vendor-region: BAR indexes shown as absent (4, and 2 where resmem would be). */
  private masked(index: number): boolean {
    return this.vendorRegion && this.overlay(index) !== null;
  }

  /** What the BAR summary and inspect need: where each piece of device memory is served. */
  get vendorRegionIndex(): number | null {
    return this.vendorRegion ? VENDOR_REGION_INDEX : null;
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
    const info = this.core.deviceInfo();
    if (!this.vendorRegion) return info;
    return { ...info, numRegions: VENDOR_REGION_INDEX + 1 };
  }

  regionInfo(index: number, argsz: number): RegionInfo {
    if (this.vendorRegion) {
      if (index === VENDOR_REGION_INDEX) return vendorRegionInfo(this.layout, argsz);
      if (this.masked(index)) return buildRegionInfo({ index, flags: 0, size: 0 }, argsz);
    }
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
    const reg = sel.reg === BAR2_LO ? this.resmem : this.usemem;
    return reg ? { reg, hit: sel.hit } : null;
  }

  private configRead(pos: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.configReadInto(pos, out);
    return out;
  }

  /** The core's config read into `out`, with the fake BAR registers laid over it. */
  private configReadInto(pos: number, out: Uint8Array): number {
    const n = this.core.readInto(PciRegion.CONFIG, pos, out);
    const t = this.configTarget(pos, out.length);
    if (t) {
      const { bufOffset, regOffset, count } = t.hit;
      // vendor-region: a masked BAR reads 0 (no BAR there, so it sizes to 0).
      if (this.vendorRegion) out.fill(0, bufOffset, bufOffset + count);
      else out.set(readValue(t.reg).subarray(regOffset, regOffset + count), bufOffset);
    }
    return n;
  }

  private configWrite(pos: number, data: Uint8Array): number {
    const t = this.configTarget(pos, data.length);
    if (!t) return this.core.write(PciRegion.CONFIG, pos, data);
    const { hit } = t;
    mergeBytes(t.reg, data.subarray(hit.bufOffset, hit.bufOffset + hit.count), hit.regOffset);
    return hit.count;
  }

  // --- fake BAR memory ----------------------------------------------------------------

  /** mse 'honour' (v15): a trapped fake-BAR access with the virtual MSE clear is EIO. */
  private checkMse(index: number): void {
    if (this.honourMse && !this.core.memoryEnabled) {
      fail('EIO', `BAR ${index}: memory decode disabled (--mse honour)`);
    }
  }

  /** ≥6.19 gate: undefined when the access may go ahead now, a Promise when it must wait. */
  private gate(): Promise<void> | undefined {
    if (!this.resetDone) return undefined;
    if (this.cxlDvsec !== null) return this.gateCxl(this.cxlDvsec);
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

  /**
   * ≥7.2 CXL path of nvgrace_gpu_read_mem/write_mem: wait on the DVSEC first (outside the
   * memory lock), then nvgrace_gpu_check_device_ready: MSE clear → EIO, one more test.
   */
  private gateCxl(dvsec: number): Promise<void> | undefined {
    const check = (): void => {
      if (!this.resetDone) return;
      if (!this.core.memoryEnabled) fail('EIO', 'memory decode disabled with a reset pending');
      const t = testReadyCxl(this.card, dvsec);
      if (t.result === 'gone') fail('ENODEV', 'CXL DVSEC reads all-ones');
      if (t.result === 'not-ready') fail('EAGAIN', 'GPU memory not active');
      this.resetDone = false;
    };
    if (testReadyCxl(this.card, dvsec).result === 'ready') {
      check();
      return undefined;
    }
    return waitReadyCxl(this.card, this.card.clock, dvsec).then((r) => {
      if (r === 'ETIME') fail('ETIME', 'GPU memory not active within the CXL timeout');
      if (r === 'ENODEV') fail('ENODEV', 'CXL DVSEC reads all-ones');
      check();
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
    const faults = this.card.faults;
    if (faults.any && inMem > 0 && faults.isPoisoned(r.devOffset + offset, inMem)) {
      fail('EFAULT', `read at 0x${offset.toString(16)} (+${inMem}) touches poisoned device memory`);
    }
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
    if (index === PciRegion.CONFIG) return this.configReadInto(offset, target);
    const f = this.fake(index);
    if (!f) return this.core.readInto(this.notMasked(index), offset, target);
    const r = f.region;
    const n = this.clip(r, offset, target.length);
    // nvgrace_gpu_read_mem runs nvgrace_gpu_check_device_ready for every read, a zero-length
    // one included (EIO with decode off, else it waits and disarms the check).
    this.checkMse(index);
    const wait = this.gate();
    if (wait) return wait.then(() => this.memRead(r, offset, target, n));
    return this.memRead(r, offset, target, n);
  }

  /** vendor-region: the masked BARs and region 9 have no read/write (EINVAL); else `index`. */
  private notMasked(index: number): number {
    if (this.masked(index)) fail('EINVAL', `region ${index} is masked (--layout vendor-region)`);
    if (this.vendorRegion && index === VENDOR_REGION_INDEX) {
      fail('EINVAL', `region ${index} is mmap-only (--layout vendor-region)`);
    }
    return index;
  }

  readView(index: number, offset: number, length: number): Uint8Array | null {
    const f = this.fake(index);
    // Not device memory, the ≥6.19 gate is armed, or mse 'honour' may have to refuse it.
    if (!f || this.resetDone || (this.honourMse && !this.core.memoryEnabled)) return null;
    if (this.card.faults.any) return null; // poison and fault checks live on the readInto path
    const r = f.region;
    if (!Number.isSafeInteger(offset) || offset < 0 || length <= 0) return null;
    if (offset + length > r.memlength) return null; // clipping or 0xFF padding: readInto
    return this.card.memView(r.devOffset + offset, length);
  }

  /** The kernel's read() into a fresh buffer (the model's own callers; the server uses readInto). */
  read(index: number, offset: number, length: number): MaybePromise<Uint8Array> {
    if (index === PciRegion.CONFIG) return this.configRead(offset, length);
    const f = this.fake(index);
    if (!f) return this.core.read(this.notMasked(index), offset, length);
    const out = new Uint8Array(this.clip(f.region, offset, length));
    const n = this.readInto(index, offset, out);
    return n instanceof Promise ? n.then((k) => out.subarray(0, k)) : out.subarray(0, n);
  }

  write(index: number, offset: number, data: Uint8Array): MaybePromise<number> {
    if (index === PciRegion.CONFIG) return this.configWrite(offset, data);
    const f = this.fake(index);
    if (!f) return this.core.write(this.notMasked(index), offset, data);
    const r = f.region;
    const n = this.clip(r, offset, data.length);
    this.checkMse(index);
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
    // mse 'honour': while decode is off the memory is offered without an fd (an fd already
    // passed cannot be revoked: see docs/review-alternatives.md).
    const off = this.honourMse && !this.core.memoryEnabled;
    if (this.vendorRegion) {
      if (index === VENDOR_REGION_INDEX) {
        if (off) return null;
        return {
          fd: this.card.memory.fd ?? null,
          offset: 0,
          areas: vendorRegionAreas(this.layout),
        };
      }
      if (this.masked(index)) return null;
    }
    const f = this.fake(index);
    if (!f) return this.core.mapping(index);
    if (off) return null;
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
