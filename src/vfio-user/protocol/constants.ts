/**
 * vfio-user wire constants: command numbers, header flags, the io-fd types and the fixed
 * payload sizes. The VFIO uAPI values that travel inside messages (region/IRQ indexes, flags,
 * errnos, struct sizes) are not vfio-user's own: they live in src/uapi.
 *
 * Rules: values are copied from the spec; unknown command numbers are kept raw (a `number`),
 * so a peer sending 14 or 99 is representable and answerable.
 */
import { VfioSize } from '../../uapi/vfio.js';

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

export const IoFdType = { IOEVENTFD: 0, IOREGIONFD: 1 } as const;

// ---- fixed wire sizes (payload bytes, after the 16-byte header) ----

export const Sizes = {
  VERSION_MIN: 4,
  DMA_MAP: 32,
  DMA_UNMAP: 24,
  DMA_UNMAP_BITMAP: 16,
  DEVICE_INFO: VfioSize.DEVICE_INFO,
  REGION_INFO: VfioSize.REGION_INFO,
  REGION_IO_FDS: 16,
  IO_FD_ENTRY: 40,
  IRQ_INFO: VfioSize.IRQ_INFO,
  SET_IRQS: VfioSize.IRQ_SET,
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
