/**
 * BAR sizing emulation of the virtual BARs (vfio_bar_fixup), §8.2: on the next read of any
 * BAR/ROM register after a BAR write (or after open), each virtual BAR keeps only the address
 * bits above its size plus the type flags; values written never reach the hardware.
 *
 * Rules: a BAR without a host resource reads 0 (and a 64-bit pair is then not skipped); a
 * 64-bit BAR's upper dword is masked with the upper half of ~(size − 1); the ROM keeps its
 * enable bit and reads 0 when there is no ROM.
 */

import type { BarResource } from '../../hw/card.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
} from '../../pci/constants.js';

const TWO32 = 2 ** 32;

function getU32(b: Uint8Array, at: number): number {
  return (
    ((b[at] ?? 0) |
      ((b[at + 1] ?? 0) << 8) |
      ((b[at + 2] ?? 0) << 16) |
      ((b[at + 3] ?? 0) << 24)) >>>
    0
  );
}

function setU32(b: Uint8Array, at: number, v: number): void {
  for (let i = 0; i < 4; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}

/** The type flags vfio reports in a virtual BAR (vfio_generate_bar_flags). */
export function barFlags(bar: BarResource): number {
  if (bar.io) return PCI_BASE_ADDRESS_SPACE_IO;
  return (
    (bar.is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
    (bar.prefetch ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0)
  );
}

/** Low and high dwords of ~(size − 1) for a power-of-two size (sizes up to 2^63). */
function sizeMask(size: number): { lo: number; hi: number } {
  if (size >= TWO32) return { lo: 0, hi: ~(size / TWO32 - 1) >>> 0 };
  return { lo: ~(size - 1) >>> 0, hi: 0xffffffff };
}

/** Apply the sizing emulation to the BAR and ROM registers of `vconfig` in place. */
export function fixupBars(
  vconfig: Uint8Array,
  bars: readonly BarResource[],
  romSize: number,
): void {
  for (let i = 0; i < 6; i++) {
    const at = PCI_BASE_ADDRESS_0 + 4 * i;
    const bar = bars[i];
    if (!bar || bar.size === 0) {
      setU32(vconfig, at, 0);
      continue;
    }
    const m = sizeMask(bar.size);
    const lo = ((getU32(vconfig, at) & m.lo) | barFlags(bar)) >>> 0;
    setU32(vconfig, at, lo);
    if (lo & PCI_BASE_ADDRESS_MEM_TYPE_64 && !bar.io && i < 5) {
      setU32(vconfig, at + 4, (getU32(vconfig, at + 4) & m.hi) >>> 0);
      i++;
    }
  }
  if (romSize > 0) {
    const m = (sizeMask(romSize).lo | PCI_ROM_ADDRESS_ENABLE) >>> 0;
    setU32(vconfig, PCI_ROM_ADDRESS, (getU32(vconfig, PCI_ROM_ADDRESS) & m) >>> 0);
  } else {
    setU32(vconfig, PCI_ROM_ADDRESS, 0);
  }
}

/** True for header offsets inside a BAR or the ROM register (the kernel's is_bar()). */
export function isBarOffset(offset: number): boolean {
  return (
    (offset >= PCI_BASE_ADDRESS_0 && offset < PCI_BASE_ADDRESS_0 + 24) ||
    (offset >= PCI_ROM_ADDRESS && offset < PCI_ROM_ADDRESS + 4)
  );
}
