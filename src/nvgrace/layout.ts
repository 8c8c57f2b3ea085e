/**
 * The nvgrace-gpu memory layout: how the ACPI device memory is split into the fake BARs
 * (docs/driver-rules.md §1.2).
 *
 * Rules:
 * - Hopper (MIG hardware bug; every device on 6.9–6.13): x = memlength − 1 GiB (underflow →
 *   EOVERFLOW); usemem = round_down(x, 512 MiB) (0 → EINVAL); resmem = the rest, at device
 *   offset usemem, exposed at index 2; usemem at index 4. usemem bar = pow2up(x) on ≥6.14,
 *   pow2up(usemem) on 6.9; resmem bar = pow2up(resmem).
 * - Blackwell (≥6.14 and DVSEC ID 3 bit 0 set): usemem = memlength, bar pow2up(memlength),
 *   no resmem (index 2 is the real BAR1, served by the core).
 * - Sizes are plain numbers (all < 2^53).
 */
import { fail } from '../vfio/errors.js';
import { BANDS, type KernelBand } from './kernel-bands.js';

export const RESMEM_SIZE = 2 ** 30;
export const MEMBLK_SIZE = 2 ** 29;
export const USEMEM_REGION_INDEX = 4;
export const RESMEM_REGION_INDEX = 2;

export interface MemRegion {
  /** Region index (4 usemem, 2 resmem). */
  index: number;
  /** Offset of the region's first byte in the device memory. */
  devOffset: number;
  /** Bytes of real memory (the sparse-mmap area). */
  memlength: number;
  /** Fake BAR size (power of two). */
  barSize: number;
}

export interface NvgraceLayout {
  blackwell: boolean;
  usemem: MemRegion;
  resmem: MemRegion | null;
}

/** Smallest power of two ≥ x (x ≥ 1). */
export function pow2up(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

export interface LayoutInput {
  memlength: number;
  band: KernelBand;
  /** DVSEC ID 3 bit 0 (MIG_SUPPORTED_WITH_CACHED_RESMEM) as read from config. */
  dvsecMigBit: boolean;
}

export function computeLayout({ memlength, band, dvsecMigBit }: LayoutInput): NvgraceLayout {
  if (!Number.isSafeInteger(memlength) || memlength <= 0) {
    fail('EINVAL', `device memory length ${memlength} is not a positive size`);
  }
  const b = BANDS[band];
  if (b.dvsecDetection && dvsecMigBit) {
    return {
      blackwell: true,
      usemem: {
        index: USEMEM_REGION_INDEX,
        devOffset: 0,
        memlength,
        barSize: pow2up(memlength),
      },
      resmem: null,
    };
  }
  if (memlength < RESMEM_SIZE) {
    fail('EOVERFLOW', `device memory 0x${memlength.toString(16)} is below the 1 GiB resmem`);
  }
  const x = memlength - RESMEM_SIZE;
  const use = Math.floor(x / MEMBLK_SIZE) * MEMBLK_SIZE;
  if (use === 0) fail('EINVAL', `device memory 0x${memlength.toString(16)} leaves no usemem`);
  const res = memlength - use;
  return {
    blackwell: false,
    usemem: {
      index: USEMEM_REGION_INDEX,
      devOffset: 0,
      memlength: use,
      barSize: pow2up(b.barSizeBeforeRounding ? x : use),
    },
    resmem: { index: RESMEM_REGION_INDEX, devOffset: use, memlength: res, barSize: pow2up(res) },
  };
}
