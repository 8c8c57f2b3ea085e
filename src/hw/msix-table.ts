/**
 * The MSI-X table and Pending Bit Array of the card, as memory-like BAR registers.
 *
 * Rules: 16-byte entries (address low/high, data, vector control); only bit 0 (mask) of the
 * vector control is writable, the rest reads 0. Every entry is masked at power-on and after a
 * reset (PCIe spec). The PBA is read-only to software; the card sets and clears its bits.
 */
import {
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
} from '../pci/constants.js';

export class MsixTable {
  readonly table: Uint8Array;
  readonly pba: Uint8Array;

  constructor(readonly vectors: number) {
    this.table = new Uint8Array(vectors * PCI_MSIX_ENTRY_SIZE);
    // One QWORD per 64 vectors.
    this.pba = new Uint8Array(Math.ceil(vectors / 64) * 8);
    this.reset();
  }

  get tableSize(): number {
    return this.table.length;
  }

  get pbaSize(): number {
    return this.pba.length;
  }

  reset(): void {
    this.table.fill(0);
    this.pba.fill(0);
    for (let v = 0; v < this.vectors; v++) {
      this.table[v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] =
        PCI_MSIX_ENTRY_CTRL_MASKBIT;
    }
  }

  /** Store table bytes at table-relative `offset` (caller keeps the range inside the table). */
  writeTable(offset: number, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const at = offset + i;
      const inEntry = at % PCI_MSIX_ENTRY_SIZE;
      const b = data[i] ?? 0;
      if (inEntry === PCI_MSIX_ENTRY_VECTOR_CTRL) this.table[at] = b & PCI_MSIX_ENTRY_CTRL_MASKBIT;
      else if (inEntry > PCI_MSIX_ENTRY_VECTOR_CTRL) this.table[at] = 0;
      else this.table[at] = b;
    }
  }

  isMasked(vector: number): boolean {
    const b = this.table[vector * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL] ?? 0;
    return (b & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0;
  }

  isPending(vector: number): boolean {
    return (((this.pba[vector >> 3] ?? 0) >> (vector & 7)) & 1) === 1;
  }

  setPending(vector: number, on: boolean): void {
    const i = vector >> 3;
    const bit = 1 << (vector & 7);
    this.pba[i] = on ? (this.pba[i] ?? 0) | bit : (this.pba[i] ?? 0) & ~bit;
  }
}
