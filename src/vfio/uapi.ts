/**
 * VFIO uAPI numbers (include/uapi/linux/vfio.h) the device model and the server share:
 * region and IRQ indexes, info flags, capability IDs and SET_IRQS flag bits.
 *
 * Rules: values only, copied exactly from the uapi header; no behaviour.
 */

/** Region indexes of a vfio-pci device. */
export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;
export const VFIO_PCI_NUM_REGIONS = 9;

/** IRQ indexes of a vfio-pci device. */
export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;
export const VFIO_PCI_NUM_IRQS = 5;

/** Kernel-internal file-offset encoding: region index << 40. */
export const VFIO_PCI_OFFSET_SHIFT = 40;

/** Region offset of `index` as the kernel reports it in region_info.offset. */
export function regionOffset(index: number): bigint {
  return BigInt(index) << BigInt(VFIO_PCI_OFFSET_SHIFT);
}

/** struct vfio_device_info flags. */
export const VFIO_DEVICE_FLAGS_RESET = 0x1;
export const VFIO_DEVICE_FLAGS_PCI = 0x2;
export const VFIO_DEVICE_FLAGS_CAPS = 0x80;

/** struct vfio_region_info flags. */
export const VFIO_REGION_INFO_FLAG_READ = 0x1;
export const VFIO_REGION_INFO_FLAG_WRITE = 0x2;
export const VFIO_REGION_INFO_FLAG_MMAP = 0x4;
export const VFIO_REGION_INFO_FLAG_CAPS = 0x8;

/** Region-info capability IDs. */
export const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
export const VFIO_REGION_INFO_CAP_TYPE = 2;
export const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;

/** Sizes of the fixed structures. */
export const VFIO_REGION_INFO_SIZE = 32;
export const VFIO_INFO_CAP_HEADER_SIZE = 8;

/** struct vfio_irq_info flags. */
export const VFIO_IRQ_INFO_EVENTFD = 0x1;
export const VFIO_IRQ_INFO_MASKABLE = 0x2;
export const VFIO_IRQ_INFO_AUTOMASKED = 0x4;
export const VFIO_IRQ_INFO_NORESIZE = 0x8;

/** struct vfio_irq_set flags: one data type and one action. */
export const VFIO_IRQ_SET_DATA_NONE = 0x1;
export const VFIO_IRQ_SET_DATA_BOOL = 0x2;
export const VFIO_IRQ_SET_DATA_EVENTFD = 0x4;
export const VFIO_IRQ_SET_ACTION_MASK = 0x8;
export const VFIO_IRQ_SET_ACTION_UNMASK = 0x10;
export const VFIO_IRQ_SET_ACTION_TRIGGER = 0x20;
export const VFIO_IRQ_SET_DATA_TYPE_MASK =
  VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_DATA_EVENTFD;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK =
  VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK | VFIO_IRQ_SET_ACTION_TRIGGER;
