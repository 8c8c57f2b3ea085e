/**
 * The session's DMA windows (DMA_MAP / DMA_UNMAP bookkeeping) and the DmaSpace the device
 * uses to reach guest memory through them.
 *
 * Rules (documented choices):
 * - windows never overlap: an exact duplicate (same address, size, offset, flags, and fd-ness)
 *   succeeds and keeps the existing window (the new fd is closed by the caller; file identity
 *   is not compared); any other overlap → EEXIST (the spec; libvfio-user says EINVAL);
 * - more than `maxMaps` windows → ENOSPC;
 * - unmap needs an exact address+size match → ENOENT otherwise;
 * - device DMA only through fd-backed windows: an fd-less window would need DMA_READ/WRITE
 *   messages, which QEMU 10.1 encodes differently from the spec, so it answers EFAULT;
 *   outside every window → EFAULT; against the window's protection → EPERM.
 */

import { DmaMapFlags } from '../../uapi/vfio.js';
import type { DmaSpace } from '../../vfio/device.js';
import { fail } from '../../vfio/errors.js';
import type { DmaRegionAccess } from './host.js';

export interface DmaWindow {
  address: bigint;
  size: bigint;
  offset: bigint;
  flags: number;
  /** The mapped fd, or null for a window that came without one. */
  region: DmaRegionAccess | null;
}

export class DmaTable implements DmaSpace {
  /** Sorted by address, non-overlapping. */
  private readonly windows: DmaWindow[] = [];

  constructor(readonly maxMaps: number) {}

  get count(): number {
    return this.windows.length;
  }

  list(): readonly DmaWindow[] {
    return this.windows;
  }

  /** Index of the first window whose end is above `address`. */
  private firstEndingAfter(address: bigint): number {
    let lo = 0;
    let hi = this.windows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const w = this.windows[mid]!;
      if (w.address + w.size <= address) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Check a new window; returns 'duplicate' for an exact re-map, throws on conflict. */
  check(
    address: bigint,
    size: bigint,
    offset: bigint,
    flags: number,
    hasFd: boolean,
  ): 'new' | 'duplicate' {
    const i = this.firstEndingAfter(address);
    const w = this.windows[i];
    if (w && w.address < address + size) {
      if (
        w.address === address &&
        w.size === size &&
        w.offset === offset &&
        w.flags === flags &&
        (w.region !== null) === hasFd
      ) {
        return 'duplicate';
      }
      fail(
        'EEXIST',
        `DMA window 0x${address.toString(16)}+0x${size.toString(16)} overlaps 0x${w.address.toString(16)}+0x${w.size.toString(16)}`,
      );
    }
    if (this.windows.length >= this.maxMaps)
      fail('ENOSPC', `DMA window table full (${this.maxMaps})`);
    return 'new';
  }

  /** Insert a window already accepted by check(). */
  insert(win: DmaWindow): void {
    this.windows.splice(this.firstEndingAfter(win.address), 0, win);
  }

  /** Remove the window with exactly this address and size. */
  remove(address: bigint, size: bigint): DmaWindow {
    const i = this.firstEndingAfter(address);
    const w = this.windows[i];
    if (!w || w.address !== address || w.size !== size) {
      fail('ENOENT', `no DMA window at exactly 0x${address.toString(16)}+0x${size.toString(16)}`);
    }
    this.windows.splice(i, 1);
    return w;
  }

  removeAll(): DmaWindow[] {
    return this.windows.splice(0, this.windows.length);
  }

  read(address: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.walk(address, length, DmaMapFlags.READ, (region, off, pos, n) => {
      out.set(region.read(off, n), pos);
    });
    return out;
  }

  write(address: bigint, data: Uint8Array): void {
    this.walk(address, data.length, DmaMapFlags.WRITE, (region, off, pos, n) => {
      region.write(off, data.subarray(pos, pos + n));
    });
  }

  /** Visit the windows covering [address, address+length), which may span adjacent windows. */
  private walk(
    address: bigint,
    length: number,
    need: number,
    visit: (region: DmaRegionAccess, offset: number, pos: number, n: number) => void,
  ): void {
    let pos = 0;
    let i = this.firstEndingAfter(address);
    while (pos < length) {
      const at = address + BigInt(pos);
      const w = this.windows[i];
      if (!w || w.address > at) fail('EFAULT', `DMA address 0x${at.toString(16)} is not mapped`);
      if (!w.region)
        fail(
          'EFAULT',
          `DMA window at 0x${w.address.toString(16)} has no fd (DMA messages not supported)`,
        );
      if (!(w.flags & need))
        fail(
          'EPERM',
          `DMA window at 0x${w.address.toString(16)} does not allow ${need === DmaMapFlags.READ ? 'reads' : 'writes'}`,
        );
      const off = at - w.address;
      const n = Math.min(length - pos, Number(w.size - off));
      visit(w.region, Number(off), pos, n);
      pos += n;
      i++;
    }
  }
}
