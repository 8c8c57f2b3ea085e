/**
 * A small VfioDevice for session tests, shaped like a vfio-pci GPU: BAR0 16 MiB (trapped), BAR2
 * 1 GiB mappable through an fd with one sparse area, BAR4 mappable but with no fd (pure
 * in-process memory), 4 KiB config space (vendor 0x10de, interrupt pin 1), no ROM. Plus a fake
 * HostOps that records which fds were closed.
 */

import type { RegionInfo } from '../../src/uapi/vfio.js';
import type {
  DeviceInfo,
  DmaSpace,
  IrqInfo,
  IrqSink,
  MaybePromise,
  RegionMapping,
  SetIrqsRequest,
  VfioDevice,
} from '../../src/vfio/device.js';
import { fail } from '../../src/vfio/errors.js';
import type { DmaRegionAccess, HostOps } from '../../src/vfio-user/server/host.js';

export const BAR2_FD = 100;
export const BAR2_BACKING_OFFSET = 0x1000;
const MiB = 1 << 20;
const GiB = 2 ** 30;

const SIZES = [16 * MiB, 0, GiB, 0, 2 * GiB, 0, 0, 4096, 0];

export class FakeDevice implements VfioDevice {
  readonly name = 'fake 10de:2342';
  readonly config = new Uint8Array(4096);
  readonly irqRequests: SetIrqsRequest[] = [];
  readonly writes: { index: number; offset: number; data: number[] }[] = [];
  dma: DmaSpace | null = null;
  resets = 0;
  closed = 0;
  /** Make reads of BAR0 wait (Promise) — for ordering tests. */
  slowReads: Promise<void> | null = null;
  rejectIrqs = false;
  private sinks: IrqSink[] = [];

  constructor() {
    const v = new DataView(this.config.buffer);
    v.setUint16(0, 0x10de, true);
    v.setUint16(2, 0x2342, true);
    this.config[0x3d] = 1;
  }

  open(): void {}
  close(): void {
    this.closed++;
    for (const s of this.sinks) s.close();
    this.sinks = [];
  }
  deviceInfo(): DeviceInfo {
    return { flags: 3, numRegions: 9, numIrqs: 5 };
  }
  regionInfo(index: number, argsz: number): RegionInfo {
    if (index >= 9) fail('EINVAL', 'bad index');
    const size = BigInt(SIZES[index] ?? 0);
    let flags = size > 0n ? 3 : 0;
    let caps = new Uint8Array(0);
    let full = 32;
    if (index === 2 || index === 4) {
      flags |= 4 | 8;
      full = 64;
      if (argsz >= full) {
        caps = new Uint8Array(32);
        const v = new DataView(caps.buffer);
        v.setUint16(0, 1, true); // SPARSE_MMAP
        v.setUint16(2, 1, true);
        v.setUint32(4, 0, true);
        v.setUint32(8, 1, true); // one area
        v.setBigUint64(16, 0n, true);
        v.setBigUint64(24, BigInt(GiB / 2), true);
      }
    }
    return {
      argsz: full,
      flags,
      index,
      capOffset: caps.length ? 32 : 0,
      size,
      offset: BigInt(index) << 40n,
      caps,
    };
  }
  irqInfo(index: number): IrqInfo {
    const counts = [1, 1, 0, 1, 1];
    return { flags: 1, index, count: counts[index] ?? 0 };
  }
  setIrqs(req: SetIrqsRequest): void {
    if (this.rejectIrqs) fail('EINVAL', 'rejected by test');
    const max = this.irqInfo(req.index).count;
    if (req.count > 0 && req.start + req.count > max) fail('EINVAL', 'irq range');
    this.irqRequests.push(req);
    this.sinks.push(...(req.sinks ?? []));
  }
  readView(): null {
    return null;
  }
  readInto(index: number, offset: number, target: Uint8Array): MaybePromise<number> {
    const copy = (d: Uint8Array) => {
      target.set(d);
      return d.length;
    };
    const r = this.read(index, offset, target.length);
    return r instanceof Promise ? r.then(copy) : copy(r);
  }
  private read(index: number, offset: number, length: number): MaybePromise<Uint8Array> {
    const size = SIZES[index] ?? 0;
    if (offset >= size) fail('EINVAL', 'read past region');
    const n = Math.min(length, size - offset);
    const data =
      index === 7
        ? this.config.slice(offset, offset + n)
        : new Uint8Array(n).fill(index === 0 ? 0xab : 0);
    if (index === 0 && this.slowReads) return this.slowReads.then(() => data);
    return data;
  }
  write(index: number, offset: number, data: Uint8Array): MaybePromise<number> {
    const size = SIZES[index] ?? 0;
    if (offset >= size) fail('EINVAL', 'write past region');
    const n = Math.min(data.length, size - offset);
    this.writes.push({ index, offset, data: [...data.subarray(0, n)] });
    if (index === 7 && offset !== 0x30) this.config.set(data.subarray(0, n), offset);
    return n;
  }
  reset(): void {
    this.resets++;
  }
  mapping(index: number): RegionMapping | null {
    if (index === 2)
      return { fd: BAR2_FD, offset: BAR2_BACKING_OFFSET, areas: [{ offset: 0, size: GiB / 2 }] };
    if (index === 4) return { fd: null, offset: 0, areas: [{ offset: 0, size: 2 * GiB }] };
    return null;
  }
  setDmaSpace(dma: DmaSpace | null): void {
    this.dma = dma;
  }
}

export class FakeHost implements HostOps {
  readonly closedFds: number[] = [];
  readonly signals = new Map<number, number>();
  readonly regions = new Map<number, Uint8Array>();
  failSinkFor: number | null = null;

  closeFd(fd: number): void {
    this.closedFds.push(fd);
  }
  sinkFromFd(fd: number): IrqSink {
    if (fd === this.failSinkFor) throw new Error(`not an eventfd: ${fd}`);
    return {
      signal: () => this.signals.set(fd, (this.signals.get(fd) ?? 0) + 1),
      close: () => this.closeFd(fd),
    };
  }
  dmaRegionFromFd(fd: number, _offset: bigint, size: bigint): DmaRegionAccess {
    const mem = new Uint8Array(Number(size > 0x100000n ? 0x100000n : size));
    this.regions.set(fd, mem);
    return {
      read: (off, len) => mem.slice(off, off + len),
      write: (off, data) => mem.set(data, off),
      close: () => this.closeFd(fd),
    };
  }
}
