/**
 * The 'vendor-region' exposure (policies.ts): the coherent device memory as ONE device-specific
 * VFIO region instead of fake BARs — Alex Williamson's alternative in the v15 review, not what
 * Linux ships.
 *
 * Rules:
 * - Index VFIO_PCI_NUM_REGIONS (9), the first device-specific index (vfio_pci_register_dev_region
 *   hands them out from there); the device reports 10 regions.
 * - Type capability: type VFIO_REGION_TYPE_PCI_VENDOR_TYPE | 0x10de, subtype
 *   VENDOR_REGION_SUBTYPE (2). 10de subtype 1 is taken by the retired NVLink2 RAM region, so an
 *   old VMM's NVLink2 code can never mistake this region for that one; 2 is our own choice.
 * - Flags MMAP | CAPS only: no READ/WRITE, so read()/write() of it are EINVAL.
 * - Size = the whole device memory (no power-of-two padding: it is not a BAR). A sparse-mmap
 *   capability names the areas as the card has them: usemem {0, usemem}, then on Hopper resmem
 *   {usemem, resmem} — the VMM maps the second area uncached (NORMAL_NC).
 * - One fd (the device memory) covers the region; backing offset 0.
 */
import { PciRegion, type RegionInfo, RegionInfoFlags, RegionType } from '../uapi/vfio.js';
import { buildRegionInfo, sparseMmapCap, typeCap } from '../vfio/region-info.js';
import type { NvgraceLayout } from './layout.js';

export const VENDOR_REGION_INDEX = PciRegion.NUM_REGIONS;
export const VENDOR_REGION_TYPE = (RegionType.PCI_VENDOR_TYPE | 0x10de) >>> 0;
/** Our subtype for "Grace coherent device memory" (see the module rules). */
export const VENDOR_REGION_SUBTYPE = 2;
export const VENDOR_REGION_FLAGS = RegionInfoFlags.MMAP | RegionInfoFlags.CAPS;

/** The mappable areas of the vendor region, region-relative: usemem, then resmem if any. */
export function vendorRegionAreas(layout: NvgraceLayout): { offset: number; size: number }[] {
  const areas = [{ offset: layout.usemem.devOffset, size: layout.usemem.memlength }];
  if (layout.resmem) areas.push({ offset: layout.resmem.devOffset, size: layout.resmem.memlength });
  return areas;
}

/** The region's size: every byte of device memory the layout uses. */
export function vendorRegionSize(layout: NvgraceLayout): number {
  return layout.usemem.memlength + (layout.resmem?.memlength ?? 0);
}

export function vendorRegionInfo(layout: NvgraceLayout, argsz: number): RegionInfo {
  const caps = [
    typeCap(VENDOR_REGION_TYPE, VENDOR_REGION_SUBTYPE),
    sparseMmapCap(vendorRegionAreas(layout)),
  ];
  return buildRegionInfo(
    {
      index: VENDOR_REGION_INDEX,
      flags: VENDOR_REGION_FLAGS,
      size: vendorRegionSize(layout),
      caps,
    },
    argsz,
  );
}
