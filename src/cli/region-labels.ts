/**
 * What each region of a served device is, derived from what the device serves (region info:
 * size, flags and capabilities), never from the profile: the one labelling function the
 * `serve` banner and `inspect` share, so both say what a VMM actually gets.
 *
 * Rules:
 * - A BAR region with a sparse-mmap capability is device memory: index 2 "resmem" (uncached,
 *   Hopper layout), index 4 "usemem" (cacheable). Without one it is the card's own BAR: index 0
 *   the registers, index 2 the real BAR1 aperture, index 4 the real BAR at regions 4/5 (the
 *   plain vfio-pci fallback, e.g. ACPI memory absent or 0). Size 0 = not served.
 * - A device-specific region (index ≥ 9) with the type NVIDIA vendor | 0x10de and our subtype
 *   is the whole device memory (--layout vendor-region): usemem, then resmem if a second area.
 * - The device memory served is the sum of the memory regions' sparse-mmap areas.
 */

import { RegionCapId, RegionType, VfioSize } from '../uapi/vfio.js';
import { decodeSparseMmapCap, decodeTypeCap, walkCaps } from '../vfio-user/protocol/index.js';

/** Region info as either side sees it (the device's RegionInfo, the client's reply). */
export interface RegionInfoLike {
  index: number;
  flags: number;
  size: bigint;
  capOffset: number;
  /** Capability bytes as they follow the 32-byte struct. */
  caps: Uint8Array;
}

export interface ServedRegion {
  index: number;
  size: number;
  flags: number;
  sparseAreas: { offset: number; size: number }[];
  /** The TYPE capability, if any. */
  type: { type: number; subtype: number } | null;
}

export type RegionRole =
  | 'registers'
  | 'resmem'
  | 'usemem'
  | 'real-bar1'
  | 'real-bar4'
  | 'vendor-memory'
  | 'other';

export interface RegionLabel {
  role: RegionRole;
  /** Human label, e.g. 'device memory "usemem" (cacheable)'. */
  kind: string;
  /** Bytes of device memory behind it (its sparse-mmap areas), for memory roles. */
  memory?: number;
}

/** The vendor-region identity (mirrors src/nvgrace/vendor-region.ts, checked by a test). */
export const NVIDIA_VENDOR_REGION_TYPE = RegionType.PCI_VENDOR_TYPE + 0x10de;
export const NVGRACE_DEVMEM_SUBTYPE = 2;

const REGION_INFO_SIZE = VfioSize.REGION_INFO;

/** Decode the capabilities of one region's info. */
export function servedRegion(info: RegionInfoLike): ServedRegion {
  const out: ServedRegion = {
    index: info.index,
    size: Number(info.size),
    flags: info.flags,
    sparseAreas: [],
    type: null,
  };
  if (info.capOffset < REGION_INFO_SIZE || info.caps.length === 0) return out;
  const full = new Uint8Array(REGION_INFO_SIZE + info.caps.length);
  full.set(info.caps, REGION_INFO_SIZE);
  for (const cap of walkCaps(full, info.capOffset)) {
    if (cap.id === RegionCapId.SPARSE_MMAP) {
      for (const a of decodeSparseMmapCap(cap.bytes)) {
        out.sparseAreas.push({ offset: Number(a.offset), size: Number(a.size) });
      }
    } else if (cap.id === RegionCapId.TYPE) {
      out.type = decodeTypeCap(cap.bytes);
    }
  }
  return out;
}

const sum = (areas: { size: number }[]) => areas.reduce((n, a) => n + a.size, 0);

/** The label of one served region (null when it is not served: size 0). */
export function labelRegion(r: ServedRegion): RegionLabel | null {
  if (r.size === 0) return null;
  const memory = sum(r.sparseAreas);
  const isMem = r.sparseAreas.length > 0;
  if (
    r.type &&
    r.type.type === NVIDIA_VENDOR_REGION_TYPE &&
    r.type.subtype === NVGRACE_DEVMEM_SUBTYPE
  ) {
    const parts = r.sparseAreas.length > 1 ? '"usemem" + "resmem" (uncached)' : '"usemem"';
    return { role: 'vendor-memory', kind: `device memory ${parts}, vendor region`, memory };
  }
  switch (r.index) {
    case 6:
    case 7:
    case 8:
      return null; // ROM, config space, VGA: not BARs, not device memory
    case 0:
      return { role: 'registers', kind: 'registers (BAR0)' };
    case 2:
      return isMem
        ? { role: 'resmem', kind: 'device memory "resmem" (uncached)', memory }
        : { role: 'real-bar1', kind: 'real BAR1 aperture' };
    case 4:
      return isMem
        ? { role: 'usemem', kind: 'device memory "usemem" (cacheable)', memory }
        : { role: 'real-bar4', kind: 'real BAR (regions 4/5)' };
    default:
      return {
        role: 'other',
        kind: isMem ? 'device memory' : 'region',
        ...(isMem ? { memory } : {}),
      };
  }
}

/** Bytes of device memory a VMM can reach through the served regions. */
export function servedDeviceMemory(regions: readonly ServedRegion[]): number {
  let n = 0;
  for (const r of regions) {
    const l = labelRegion(r);
    if (l?.memory !== undefined) n += l.memory;
  }
  return n;
}
