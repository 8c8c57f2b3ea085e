/**
 * The VfioDevice interface: the one seam between the vfio-user server and the device model,
 * shaped like the VFIO device-fd uAPI (ioctls + read/write/mmap at region offsets), holding
 * exactly what the server calls.
 *
 * Rules: the server knows only this file, errors.ts and src/uapi, never nvgrace or hw. A
 * rejected access throws VfioError(errno). Methods that may have to wait (the ≥6.19 readiness
 * gate, a reset) return a Promise only when they really wait; the fast path stays synchronous.
 * A device holds no per-process state: a server may serve several devices, each through its
 * own endpoint. How readInto/readView serve REGION_READ without copies, and what the caller
 * must do with a view, is owned by src/vfio-user/server/read-path.ts.
 */
import type { RegionInfo } from '../uapi/vfio.js';

export type MaybePromise<T> = T | Promise<T>;

/** struct vfio_device_info, minus argsz/cap_offset. */
export interface DeviceInfo {
  flags: number;
  numRegions: number;
  numIrqs: number;
}

/** struct vfio_irq_info, minus argsz. */
export interface IrqInfo {
  flags: number;
  index: number;
  count: number;
}

/** Something an interrupt can be delivered to: an eventfd in production, a counter in tests. */
export interface IrqSink {
  signal(): void;
  close(): void;
}

/** VFIO_DEVICE_SET_IRQS, decoded. For DATA_BOOL `bools` has `count` bytes; for DATA_EVENTFD `sinks` has 0 or `count` entries (0 = de-assign). */
export interface SetIrqsRequest {
  flags: number;
  index: number;
  start: number;
  count: number;
  bools?: Uint8Array | undefined;
  sinks?: IrqSink[] | undefined;
}

/** A mappable window of a region: the file its bytes live in, and which parts may be mapped. */
export interface RegionMapping {
  /**
   * The fd the VMM maps (MAP_SHARED), owned by the device (the server passes it on, never
   * closes it); null when the bytes live only in this process, so the VMM must use messages.
   */
  fd: number | null;
  /** File offset in `fd` of region offset 0. */
  offset: number;
  /** Areas (region-relative) the VMM may map, as in the sparse-mmap capability. */
  areas: { offset: number; size: number }[];
}

/** Guest memory as the device reaches it (the session's DMA maps). */
export interface DmaSpace {
  read(address: bigint, length: number): Uint8Array;
  write(address: bigint, data: Uint8Array): void;
}

export interface VfioDevice {
  /** A short name for logs ("nvgrace-gpu-vfio-pci 10de:2342"). */
  readonly name: string;
  /** Device fd open (a VMM attaches): function reset, fake BAR registers zeroed. */
  open(): MaybePromise<void>;
  /** Last close (the VMM detaches): interrupts torn down, sinks closed. */
  close(): void;
  deviceInfo(): DeviceInfo;
  regionInfo(index: number, argsz: number): RegionInfo;
  irqInfo(index: number): IrqInfo;
  setIrqs(req: SetIrqsRequest): void;
  /**
   * pread() at a region offset into the caller's buffer, as the kernel's read() fills a user
   * buffer: writes every byte of target[0, n) and returns n, which is less than target.length
   * when clipped at the region end. The server reads straight into its reply this way
   * (src/vfio-user/server/read-path.ts).
   */
  readInto(index: number, offset: number, target: Uint8Array): MaybePromise<number>;
  /**
   * What readInto would write, as a view of the device's memory, when the read can be served
   * in place (no gate to wait for, no clipping or padding, memory known to hold data); else
   * null, and the caller uses readInto. The view shows later writes: the caller sends or
   * copies it before the device handles anything else (read-path.ts, invariant 2).
   */
  readView(index: number, offset: number, length: number): Uint8Array | null;
  /** write() at a region offset; returns the byte count the kernel would return. */
  write(index: number, offset: number, data: Uint8Array): MaybePromise<number>;
  /** VFIO_DEVICE_RESET. */
  reset(): MaybePromise<void>;
  /** What a VMM may mmap for a region (the sparse-mmap areas); null if not mappable. */
  mapping(index: number): RegionMapping | null;
  /** Give the device access to guest memory (null when the VMM detaches). */
  setDmaSpace(dma: DmaSpace | null): void;
}
