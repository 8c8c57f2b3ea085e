/**
 * VFIO uAPI values (include/uapi/linux/vfio.h) as the vfio-pci device fd exposes them:
 * ioctl numbers, region and IRQ indexes, info flags, capability ids, SET_IRQS flag bits,
 * structure sizes and the vfio-pci file-offset encoding.
 *
 * Rules: values are copied exactly from the header; pure data, no logic beyond the offset
 * encoding helpers. The server may import this file (constants only).
 */

/** ioctl numbers: _IO(';', 100 + n). */
export const VfioIoctl = {
  GET_API_VERSION: 0x3b64,
  DEVICE_GET_INFO: 0x3b6b,
  DEVICE_GET_REGION_INFO: 0x3b6c,
  DEVICE_GET_IRQ_INFO: 0x3b6d,
  DEVICE_SET_IRQS: 0x3b6e,
  DEVICE_RESET: 0x3b6f,
  DEVICE_GET_PCI_HOT_RESET_INFO: 0x3b70,
  DEVICE_PCI_HOT_RESET: 0x3b71,
  DEVICE_IOEVENTFD: 0x3b74,
  DEVICE_FEATURE: 0x3b75,
} as const;

/** vfio-pci region indexes. */
export const VfioPciRegion = {
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

/** vfio-pci IRQ indexes. */
export const VfioPciIrq = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4, NUM_IRQS: 5 } as const;

/** struct vfio_device_info flags. */
export const DeviceFlags = { RESET: 0x1, PCI: 0x2, PLATFORM: 0x4, CAPS: 0x80 } as const;

/** struct vfio_region_info flags. */
export const RegionFlags = { READ: 0x1, WRITE: 0x2, MMAP: 0x4, CAPS: 0x8 } as const;

/** Region-info capability ids (each with version 1 here). */
export const RegionCap = { SPARSE_MMAP: 1, TYPE: 2, MSIX_MAPPABLE: 3 } as const;

/** struct vfio_irq_info flags. */
export const IrqFlags = { EVENTFD: 0x1, MASKABLE: 0x2, AUTOMASKED: 0x4, NORESIZE: 0x8 } as const;

/** struct vfio_irq_set flags: one data type and one action. */
export const IrqSet = {
  DATA_NONE: 0x1,
  DATA_BOOL: 0x2,
  DATA_EVENTFD: 0x4,
  ACTION_MASK: 0x8,
  ACTION_UNMASK: 0x10,
  ACTION_TRIGGER: 0x20,
  DATA_TYPE_MASK: 0x7,
  ACTION_TYPE_MASK: 0x38,
} as const;

/** Structure sizes in bytes. */
export const VfioSizes = {
  DEVICE_INFO: 24,
  REGION_INFO: 32,
  IRQ_INFO: 16,
  /** Capability header: id u16, version u16, next u32. */
  CAP_HEADER: 8,
  /** Sparse-mmap cap with no areas: header + nr_areas u32 + reserved u32. */
  SPARSE_MMAP_BASE: 16,
  SPARSE_MMAP_AREA: 16,
} as const;

/** vfio-pci file-offset encoding (kernel-internal; users take region_info.offset). */
export const VFIO_PCI_OFFSET_SHIFT = 40;
export const VFIO_PCI_OFFSET_MASK = 2 ** 40 - 1;

/** File offset of region `index`. */
export function regionOffset(index: number): bigint {
  return BigInt(index) << BigInt(VFIO_PCI_OFFSET_SHIFT);
}
