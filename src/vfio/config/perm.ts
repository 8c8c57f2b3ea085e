/**
 * Permission tables for config-space virtualization (vfio_pci_config.c's perm_bits): per
 * capability, a `virt` and a `write` byte mask relative to the capability start, plus how
 * its bytes are read and written.
 *
 * Rules (the generic per-bit rule): read = (hardware & ~virt) | (vconfig & virt), hardware not
 * read when the piece is fully virtual; write: write&virt bits go to vconfig, write&~virt bits
 * are read-modify-written to hardware, other bits are ignored, and a piece with no writable
 * bits is accepted and dropped. `direct` reads come from hardware except the capability
 * header (next pointer / first ext dword) which is virtual; `raw` goes straight to hardware.
 */

export type ReadKind = 'default' | 'direct' | 'raw';
export type WriteKind = 'default' | 'raw' | 'none';

/** What a capability's bytes need beyond the generic rule (the kernel's readfn/writefn). */
export type CapRole = 'basic' | 'pm' | 'msi' | 'pcie' | 'plain';

export interface PermTable {
  readonly len: number;
  readonly virt: Uint8Array;
  readonly write: Uint8Array;
  readonly read: ReadKind;
  readonly writeKind: WriteKind;
  readonly role: CapRole;
}

const ALL = 0xffffffff;

export class PermBuilder {
  readonly virt: Uint8Array;
  readonly write: Uint8Array;
  read: ReadKind = 'default';
  writeKind: WriteKind = 'default';

  constructor(
    readonly len: number,
    readonly role: CapRole = 'plain',
  ) {
    this.virt = new Uint8Array(len);
    this.write = new Uint8Array(len);
  }

  /** Set `size` bytes at `offset` (little-endian masks), clipped to the table. */
  set(offset: number, size: 1 | 2 | 4, virt: number, write: number): this {
    for (let i = 0; i < size && offset + i < this.len; i++) {
      this.virt[offset + i] = (virt >>> (8 * i)) & 0xff;
      this.write[offset + i] = (write >>> (8 * i)) & 0xff;
    }
    return this;
  }

  build(): PermTable {
    return {
      len: this.len,
      virt: this.virt,
      write: this.write,
      read: this.read,
      writeKind: this.writeKind,
      role: this.role,
    };
  }
}

export const ALL_VIRT = ALL;
export const ALL_WRITE = ALL;
export const NO_VIRT = 0;
export const NO_WRITE = 0;

/** Little-endian value of `size` mask bytes at `offset` of a table. */
export function maskAt(bytes: Uint8Array, offset: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + (bytes[offset + i] ?? 0);
  return v >>> 0;
}

/** A full-ones value of `size` bytes. */
export function ones(size: number): number {
  return size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
}
