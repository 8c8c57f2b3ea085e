/**
 * A config-space byte image with hardware write semantics.
 *
 * Owns three byte maps of equal size: the register values, the write mask (bits software may
 * set or clear) and the write-1-to-clear mask (bits a 1 clears). `write()` is what a config
 * write does on the bus; `set*()` change the image directly (builders, hardware-side state).
 * All multi-byte values are little-endian; accesses must be 1, 2 or 4 bytes, naturally aligned
 * and inside the space — anything else throws a RangeError naming the access.
 */
import { PCI_CFG_SPACE_EXP_SIZE } from './constants.js';

export type AccessSize = 1 | 2 | 4;

/** Read one naturally aligned 1/2/4-byte config register (the shape the walker needs). */
export type ConfigReader = (offset: number, size: AccessSize) => number;

/** Throw unless `offset`/`size` is a naturally aligned 1/2/4-byte access inside `limit` bytes. */
export function checkConfigAccess(offset: number, size: number, limit: number): void {
  if (size !== 1 && size !== 2 && size !== 4) {
    throw new RangeError(`config access size ${size} is not 1, 2 or 4`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset + size > limit) {
    throw new RangeError(`config access at ${offset} (+${size}) is outside 0..${limit}`);
  }
  if (offset % size !== 0) {
    throw new RangeError(`config access at 0x${offset.toString(16)} is not ${size}-byte aligned`);
  }
}

function getLe(bytes: Uint8Array, offset: number, size: AccessSize): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + (bytes[offset + i] ?? 0);
  return v;
}

function setLe(bytes: Uint8Array, offset: number, size: AccessSize, value: number): void {
  let v = value >>> 0;
  for (let i = 0; i < size; i++) {
    bytes[offset + i] = v & 0xff;
    v >>>= 8;
  }
}

export class ConfigSpace {
  readonly bytes: Uint8Array;
  readonly wmask: Uint8Array;
  readonly w1cmask: Uint8Array;

  constructor(readonly size: number = PCI_CFG_SPACE_EXP_SIZE) {
    if (!Number.isInteger(size) || size < 0x40 || size > PCI_CFG_SPACE_EXP_SIZE) {
      throw new RangeError(`config space size ${size} is not in 64..4096`);
    }
    this.bytes = new Uint8Array(size);
    this.wmask = new Uint8Array(size);
    this.w1cmask = new Uint8Array(size);
  }

  /** Register value, no side effects. */
  read(offset: number, size: AccessSize): number {
    checkConfigAccess(offset, size, this.size);
    return getLe(this.bytes, offset, size);
  }

  u8(offset: number): number {
    return this.read(offset, 1);
  }
  u16(offset: number): number {
    return this.read(offset, 2);
  }
  u32(offset: number): number {
    return this.read(offset, 4);
  }

  /** Set a register value directly (ignores the masks). */
  set(offset: number, size: AccessSize, value: number): void {
    checkConfigAccess(offset, size, this.size);
    setLe(this.bytes, offset, size, value);
  }
  setU8(offset: number, value: number): void {
    this.set(offset, 1, value);
  }
  setU16(offset: number, value: number): void {
    this.set(offset, 2, value);
  }
  setU32(offset: number, value: number): void {
    this.set(offset, 4, value);
  }

  /** Declare which bits of a register software may write. */
  setWritable(offset: number, size: AccessSize, mask: number): void {
    checkConfigAccess(offset, size, this.size);
    setLe(this.wmask, offset, size, mask);
  }

  /** Declare which bits of a register are write-1-to-clear. */
  setW1c(offset: number, size: AccessSize, mask: number): void {
    checkConfigAccess(offset, size, this.size);
    setLe(this.w1cmask, offset, size, mask);
  }

  writableMask(offset: number, size: AccessSize): number {
    checkConfigAccess(offset, size, this.size);
    return getLe(this.wmask, offset, size);
  }

  w1cMask(offset: number, size: AccessSize): number {
    checkConfigAccess(offset, size, this.size);
    return getLe(this.w1cmask, offset, size);
  }

  /** A bus write: writable bits take the new value, W1C bits written as 1 clear, others stay. */
  write(offset: number, size: AccessSize, value: number): void {
    checkConfigAccess(offset, size, this.size);
    let v = value >>> 0;
    for (let i = 0; i < size; i++) {
      const at = offset + i;
      const b = v & 0xff;
      v >>>= 8;
      const wm = this.wmask[at] ?? 0;
      const cm = this.w1cmask[at] ?? 0;
      const old = this.bytes[at] ?? 0;
      this.bytes[at] = ((old & ~wm) | (b & wm)) & ~(b & cm) & 0xff;
    }
  }

  /** The reader function shape the capability walker takes. */
  get reader(): ConfigReader {
    return (offset, size) => this.read(offset, size);
  }

  /** An independent copy (values and masks). */
  clone(): ConfigSpace {
    const c = new ConfigSpace(this.size);
    c.copyFrom(this);
    return c;
  }

  /** Overwrite values and masks with those of `other` (same size). */
  copyFrom(other: ConfigSpace): void {
    if (other.size !== this.size) {
      throw new RangeError(`config space sizes differ: ${other.size} vs ${this.size}`);
    }
    this.bytes.set(other.bytes);
    this.wmask.set(other.wmask);
    this.w1cmask.set(other.w1cmask);
  }
}
