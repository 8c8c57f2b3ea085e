/**
 * The VFIO uAPI (include/uapi/linux/vfio.h) as this project uses it: region and IRQ indexes,
 * info and SET_IRQS flags, region-info capability IDs, DMA map/unmap flags, device-feature
 * numbers, the fixed structure sizes and the region-info structure itself. vfio-user carries
 * these same numbers and structures inside its messages, so the protocol codec, the device
 * model, the server and the host edge all import them from here.
 *
 * Rules: values only, copied exactly from the uapi header (vfio-user-only numbers such as
 * command codes live in src/vfio-user/protocol/constants.ts); no behaviour beyond the
 * offset encoding; no imports, so every layer may depend on this one.
 */

/** Region indexes of a vfio-pci device (VFIO_PCI_*_REGION_INDEX). */
export const PciRegion = {
  BAR0: 0,
  BAR1: 1,
  BAR2: 2,
  BAR3: 3,
  BAR4: 4,
  BAR5: 5,
  ROM: 6,
  CONFIG: 7,
  VGA: 8,
  NUM_REGIONS: 9,
} as const;

const REGION_NAMES = new Map<number, string>(
  Object.entries(PciRegion)
    .filter(([k]) => k !== 'NUM_REGIONS')
    .map(([k, v]) => [v, k]),
);

/** "BAR4", "CONFIG", or "region N" for an index vfio-pci does not define. */
export function pciRegionName(index: number): string {
  return REGION_NAMES.get(index) ?? `region ${index}`;
}

/** IRQ indexes of a vfio-pci device (VFIO_PCI_*_IRQ_INDEX). */
export const PciIrq = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4, NUM_IRQS: 5 } as const;

/** Kernel-internal file-offset encoding (VFIO_PCI_OFFSET_SHIFT): region index << 40. */
export const VFIO_PCI_OFFSET_SHIFT = 40;

/** Region offset of `index` as the kernel reports it in region_info.offset. */
export function regionOffset(index: number): bigint {
  return BigInt(index) << BigInt(VFIO_PCI_OFFSET_SHIFT);
}

/** struct vfio_device_info flags (VFIO_DEVICE_FLAGS_*). */
export const DeviceInfoFlags = { RESET: 1 << 0, PCI: 1 << 1, CAPS: 1 << 7 } as const;

/** struct vfio_region_info flags (VFIO_REGION_INFO_FLAG_*). */
export const RegionInfoFlags = { READ: 1 << 0, WRITE: 1 << 1, MMAP: 1 << 2, CAPS: 1 << 3 } as const;

/** Region-info capability IDs (VFIO_REGION_INFO_CAP_*; 16 is vfio-user's SPARSE_MMAP_FDS). */
export const RegionCapId = {
  SPARSE_MMAP: 1,
  TYPE: 2,
  MSIX_MAPPABLE: 3,
  NVLINK2_SSATGT: 4,
  NVLINK2_LNKSPD: 5,
  SPARSE_MMAP_FDS: 16,
} as const;

/**
 * VFIO_REGION_INFO_CAP_TYPE of a device-specific region: type VFIO_REGION_TYPE_PCI_VENDOR_TYPE |
 * vendor id, subtype per vendor. 10de subtype 1 is the retired POWER9 NVLink2 RAM region
 * (VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM, "Deprecated, region no longer provided").
 */
export const RegionType = {
  PCI_VENDOR_TYPE: 0x80000000,
  PCI_VENDOR_MASK: 0xffff,
  NVIDIA_NVLINK2_RAM_SUBTYPE: 1,
} as const;

/** struct vfio_irq_info flags (VFIO_IRQ_INFO_*). */
export const IrqInfoFlags = {
  EVENTFD: 1 << 0,
  MASKABLE: 1 << 1,
  AUTOMASKED: 1 << 2,
  NORESIZE: 1 << 3,
} as const;

/** struct vfio_irq_set flags (VFIO_IRQ_SET_*): one data type and one action. */
export const IrqSetFlags = {
  DATA_NONE: 1 << 0,
  DATA_BOOL: 1 << 1,
  DATA_EVENTFD: 1 << 2,
  DATA_TYPE_MASK: 0x07,
  ACTION_MASK: 1 << 3,
  ACTION_UNMASK: 1 << 4,
  ACTION_TRIGGER: 1 << 5,
  ACTION_TYPE_MASK: 0x38,
} as const;

/** struct vfio_iommu_type1_dma_map flags (VFIO_DMA_MAP_FLAG_*): the access a mapping allows. */
export const DmaMapFlags = { READ: 1 << 0, WRITE: 1 << 1 } as const;

/** struct vfio_iommu_type1_dma_unmap flags (VFIO_DMA_UNMAP_FLAG_*). */
export const DmaUnmapFlags = { GET_DIRTY_BITMAP: 1 << 0, ALL: 1 << 1 } as const;

/** struct vfio_device_feature flags (VFIO_DEVICE_FEATURE_*). */
export const DeviceFeatureFlags = {
  MASK: 0xffff,
  GET: 1 << 16,
  SET: 1 << 17,
  PROBE: 1 << 18,
} as const;

/** Device feature numbers (VFIO_DEVICE_FEATURE_MIGRATION etc.). */
export const DeviceFeature = {
  MIGRATION: 1,
  MIG_DEVICE_STATE: 2,
  DMA_LOGGING_START: 6,
  DMA_LOGGING_STOP: 7,
  DMA_LOGGING_REPORT: 8,
} as const;

/** Sizes of the fixed uAPI structures, in bytes. */
export const VfioSize = {
  /** struct vfio_device_info up to num_irqs (argsz, flags, num_regions, num_irqs). */
  DEVICE_INFO: 16,
  /** struct vfio_region_info. */
  REGION_INFO: 32,
  /** struct vfio_info_cap_header (id u16, version u16, next u32). */
  CAP_HEADER: 8,
  /** struct vfio_irq_info. */
  IRQ_INFO: 16,
  /** struct vfio_irq_set without its data (argsz, flags, index, start, count). */
  IRQ_SET: 20,
} as const;

/**
 * struct vfio_region_info with its capability chain, as VFIO_DEVICE_GET_REGION_INFO fills it
 * for a given argsz and as vfio-user's GET_REGION_INFO reply carries it: `argsz` is what the
 * full answer needs; `caps` holds the chain bytes exactly as they follow the 32-byte struct
 * (empty when argsz was too small, in which case capOffset is 0 even if flags has CAPS).
 */
export interface RegionInfo {
  argsz: number;
  flags: number;
  index: number;
  capOffset: number;
  size: bigint;
  offset: bigint;
  caps: Uint8Array;
}
