/**
 * vfio-user wire constants: command numbers, header flags, and the VFIO uAPI values that
 * travel inside messages (redefined here so the pure protocol layer imports nothing).
 *
 * Rules: values are copied from the spec / <linux/vfio.h>; unknown command numbers are kept
 * raw (a `number`), so a peer sending 14 or 99 is representable and answerable.
 */

export const Command = {
  VERSION: 1,
  DMA_MAP: 2,
  DMA_UNMAP: 3,
  DEVICE_GET_INFO: 4,
  DEVICE_GET_REGION_INFO: 5,
  DEVICE_GET_REGION_IO_FDS: 6,
  DEVICE_GET_IRQ_INFO: 7,
  DEVICE_SET_IRQS: 8,
  REGION_READ: 9,
  REGION_WRITE: 10,
  DMA_READ: 11,
  DMA_WRITE: 12,
  DEVICE_RESET: 13,
  /** Removed from the spec (old DIRTY_PAGES); still in QEMU's enum. Never valid. */
  DIRTY_PAGES: 14,
  REGION_WRITE_MULTI: 15,
  DEVICE_FEATURE: 16,
  MIG_DATA_READ: 17,
  MIG_DATA_WRITE: 18,
} as const;

export type CommandName = keyof typeof Command;
export type KnownCommand = (typeof Command)[CommandName];

const COMMAND_NAMES = new Map<number, string>(Object.entries(Command).map(([k, v]) => [v, k]));

/** "REGION_READ", or "command 99" for a number the spec does not define. */
export function commandName(command: number): string {
  return COMMAND_NAMES.get(command) ?? `command ${command}`;
}

/** Header flags word. */
export const HeaderFlags = {
  TYPE_MASK: 0x0f,
  TYPE_COMMAND: 0x0,
  TYPE_REPLY: 0x1,
  NO_REPLY: 0x10,
  ERROR: 0x20,
} as const;

export const HEADER_SIZE = 16;

/** A subset of Linux errno values the protocol layer names (the server uses src/vfio/errors). */
export const ProtoErrno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  E2BIG: 7,
  EBADF: 9,
  EFAULT: 14,
  EEXIST: 17,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  ENOSYS: 38,
  EPROTO: 71,
  EMSGSIZE: 90,
} as const;

// ---- VFIO uAPI values carried in messages (<linux/vfio.h>) ----

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

export const PciIrq = { INTX: 0, MSI: 1, MSIX: 2, ERR: 3, REQ: 4, NUM_IRQS: 5 } as const;

export const DeviceInfoFlags = { RESET: 1 << 0, PCI: 1 << 1 } as const;

export const RegionInfoFlags = { READ: 1 << 0, WRITE: 1 << 1, MMAP: 1 << 2, CAPS: 1 << 3 } as const;

export const RegionCapId = {
  SPARSE_MMAP: 1,
  TYPE: 2,
  MSIX_MAPPABLE: 3,
  NVLINK2_SSATGT: 4,
  NVLINK2_LNKSPD: 5,
  SPARSE_MMAP_FDS: 16,
} as const;

export const IrqInfoFlags = {
  EVENTFD: 1 << 0,
  MASKABLE: 1 << 1,
  AUTOMASKED: 1 << 2,
  NORESIZE: 1 << 3,
} as const;

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

export const DmaMapFlags = { READ: 1 << 0, WRITE: 1 << 1 } as const;

export const DmaUnmapFlags = { GET_DIRTY_BITMAP: 1 << 0, ALL: 1 << 1 } as const;

export const DeviceFeatureFlags = {
  MASK: 0xffff,
  GET: 1 << 16,
  SET: 1 << 17,
  PROBE: 1 << 18,
} as const;

export const DeviceFeature = {
  MIGRATION: 1,
  MIG_DEVICE_STATE: 2,
  DMA_LOGGING_START: 6,
  DMA_LOGGING_STOP: 7,
  DMA_LOGGING_REPORT: 8,
} as const;

export const IoFdType = { IOEVENTFD: 0, IOREGIONFD: 1 } as const;

// ---- fixed wire sizes (payload bytes, after the 16-byte header) ----

export const Sizes = {
  VERSION_MIN: 4,
  DMA_MAP: 32,
  DMA_UNMAP: 24,
  DMA_UNMAP_BITMAP: 16,
  DEVICE_INFO: 16,
  REGION_INFO: 32,
  REGION_IO_FDS: 16,
  IO_FD_ENTRY: 40,
  IRQ_INFO: 16,
  SET_IRQS: 20,
  REGION_ACCESS: 16,
  WRITE_MULTI_HEADER: 8,
  WRITE_MULTI_ENTRY: 24,
  WRITE_MULTI_DATA: 8,
  DMA_ACCESS: 16,
  /** QEMU 10.1's DMA_READ/WRITE struct: address u64 @0, count u32 @8, data @12. */
  DMA_ACCESS_QEMU101: 12,
  DEVICE_FEATURE: 8,
  MIG_DATA: 8,
} as const;
