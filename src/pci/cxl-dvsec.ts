/**
 * The PCIe DVSEC for CXL Devices (CXL r4.0 section 8.1.3), the part the nvgrace-gpu ≥ 7.2 readiness
 * check reads: its identity and the Range 1 Size registers.
 *
 * Rules: numbers as include/uapi/linux/pci_regs.h names them (PCI_DVSEC_CXL_*, and the
 * PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT field the 7.2 commit added); the timeout decode is
 * cxl_mem_active_timeout_ms() of drivers/vfio/pci/nvgrace-gpu/main.c. Pure values, no I/O.
 */

/** PCI_VENDOR_ID_CXL: the DVSEC vendor of every CXL-defined DVSEC. */
export const PCI_VENDOR_ID_CXL = 0x1e98;
/** PCI_DVSEC_CXL_DEVICE: DVSEC ID 0, "PCIe DVSEC for CXL Devices". */
export const PCI_DVSEC_CXL_DEVICE = 0;
/** Length of the CXL Device DVSEC (CXL r4.0 Table 8-3: registers up to +0x3B). */
export const PCI_DVSEC_CXL_DEVICE_LENGTH = 0x3c;
/** PCI_DVSEC_CXL_CAP (+0xA): bit 2 MEM_CAPABLE, bits 5:4 HDM_COUNT. */
export const PCI_DVSEC_CXL_CAP = 0xa;
export const PCI_DVSEC_CXL_MEM_CAPABLE = 1 << 2;
/** HDM_COUNT field value 1 (one HDM range), shifted into place. */
export const PCI_DVSEC_CXL_HDM_COUNT_1 = 1 << 4;

/** PCI_DVSEC_CXL_RANGE_SIZE_HIGH(i) = 0x18 + i·0x10. */
export function cxlRangeSizeHigh(i: number): number {
  return 0x18 + i * 0x10;
}
/** PCI_DVSEC_CXL_RANGE_SIZE_LOW(i) = 0x1C + i·0x10: the status register the driver polls. */
export function cxlRangeSizeLow(i: number): number {
  return 0x1c + i * 0x10;
}

/** Bits of Range Size Low. */
export const PCI_DVSEC_CXL_MEM_INFO_VALID = 1 << 0;
export const PCI_DVSEC_CXL_MEM_ACTIVE = 1 << 1;
/** PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT = GENMASK(15, 13). */
export const PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT_SHIFT = 13;
export const PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT_MASK = 0x7 << 13;
/** PCI_DVSEC_CXL_MEM_SIZE_LOW = GENMASK(31, 28): size bits 31:28 (256 MiB granules). */
export const PCI_DVSEC_CXL_MEM_SIZE_LOW_SHIFT = 28;

/** The Memory_Active_Timeout field of a Range Size Low value. */
export function cxlMemActiveTimeoutField(status: number): number {
  return (
    (status & PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT_MASK) >>> PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT_SHIFT
  );
}

/**
 * cxl_mem_active_timeout_ms(): 000b = 1 s, 001b = 4 s, 010b = 16 s, 011b = 64 s, 100b = 256 s;
 * the reserved 101b–111b are clamped to 256 s.
 */
export function cxlMemActiveTimeoutMs(field: number): number {
  return 1000 * 4 ** Math.min(field & 0x7, 4);
}

/** Range 1 Size High/Low as a device of `size` bytes reports them, with the status bits given. */
export function cxlRangeSizeRegisters(
  size: number,
  status: { infoValid: boolean; active: boolean; timeoutField: number },
): { high: number; low: number } {
  const high = Math.floor(size / 2 ** 32) >>> 0;
  const sizeLow = Math.floor(size / 2 ** PCI_DVSEC_CXL_MEM_SIZE_LOW_SHIFT) & 0xf;
  const low =
    ((sizeLow << PCI_DVSEC_CXL_MEM_SIZE_LOW_SHIFT) |
      ((status.timeoutField & 0x7) << PCI_DVSEC_CXL_MEM_ACTIVE_TIMEOUT_SHIFT) |
      (status.active ? PCI_DVSEC_CXL_MEM_ACTIVE : 0) |
      (status.infoValid ? PCI_DVSEC_CXL_MEM_INFO_VALID : 0)) >>>
    0;
  return { high, low };
}
