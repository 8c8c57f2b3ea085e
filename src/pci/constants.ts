/**
 * PCI / PCIe configuration-space constants: header offsets, command/status bits, BAR flag
 * bits, capability and extended-capability IDs, and the register layout of every capability
 * this project builds or virtualizes.
 *
 * Rules: values are copied from the PCI Local Bus 3.0 / PCIe Base specs as Linux spells them
 * in include/uapi/linux/pci_regs.h (names keep the Linux stem so they can be cross-checked).
 * Pure data, no logic.
 */

/** Conventional (256 B) and PCIe (4 KiB) config-space sizes. */
export const PCI_CFG_SPACE_SIZE = 0x100;
export const PCI_CFG_SPACE_EXP_SIZE = 0x1000;

/** Type 0 header offsets. */
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION_ID = 0x08;
export const PCI_CLASS_PROG = 0x09;
export const PCI_CLASS_DEVICE = 0x0a;
export const PCI_CACHE_LINE_SIZE = 0x0c;
export const PCI_LATENCY_TIMER = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BIST = 0x0f;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_BASE_ADDRESS_5 = 0x24;
export const PCI_CARDBUS_CIS = 0x28;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_CAPABILITY_LIST = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;
export const PCI_MIN_GNT = 0x3e;
export const PCI_MAX_LAT = 0x3f;
/** First byte after the type 0 header: standard capabilities live in [0x40, 0x100). */
export const PCI_STD_HEADER_SIZEOF = 0x40;

/** Config offset of BAR `index` (0..5). */
export function barOffset(index: number): number {
  return PCI_BASE_ADDRESS_0 + 4 * index;
}

/** Command register bits. */
export const PCI_COMMAND_IO = 0x1;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_COMMAND_SPECIAL = 0x8;
export const PCI_COMMAND_INVALIDATE = 0x10;
export const PCI_COMMAND_VGA_PALETTE = 0x20;
export const PCI_COMMAND_PARITY = 0x40;
export const PCI_COMMAND_WAIT = 0x80;
export const PCI_COMMAND_SERR = 0x100;
export const PCI_COMMAND_FAST_BACK = 0x200;
export const PCI_COMMAND_INTX_DISABLE = 0x400;

/** Status register bits. */
export const PCI_STATUS_IMM_READY = 0x1;
export const PCI_STATUS_INTERRUPT = 0x8;
export const PCI_STATUS_CAP_LIST = 0x10;
export const PCI_STATUS_66MHZ = 0x20;
export const PCI_STATUS_FAST_BACK = 0x80;
export const PCI_STATUS_PARITY = 0x100;
export const PCI_STATUS_DEVSEL_MASK = 0x600;
export const PCI_STATUS_SIG_TARGET_ABORT = 0x800;
export const PCI_STATUS_REC_TARGET_ABORT = 0x1000;
export const PCI_STATUS_REC_MASTER_ABORT = 0x2000;
export const PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
export const PCI_STATUS_DETECTED_PARITY = 0x8000;
/** The write-1-to-clear error bits of the status register. */
export const PCI_STATUS_ERROR_BITS =
  PCI_STATUS_PARITY |
  PCI_STATUS_SIG_TARGET_ABORT |
  PCI_STATUS_REC_TARGET_ABORT |
  PCI_STATUS_REC_MASTER_ABORT |
  PCI_STATUS_SIG_SYSTEM_ERROR |
  PCI_STATUS_DETECTED_PARITY;

/** Header type values. */
export const PCI_HEADER_TYPE_NORMAL = 0x00;
export const PCI_HEADER_TYPE_MULTIFUNC = 0x80;

/** BAR flag bits (low bits of a BAR register). */
export const PCI_BASE_ADDRESS_SPACE_IO = 0x1;
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0;
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc;
export const PCI_ROM_ADDRESS_ENABLE = 0x1;

/** Standard capability IDs. */
export const PCI_CAP_ID_PM = 0x01;
export const PCI_CAP_ID_AGP = 0x02;
export const PCI_CAP_ID_VPD = 0x03;
export const PCI_CAP_ID_SLOTID = 0x04;
export const PCI_CAP_ID_MSI = 0x05;
export const PCI_CAP_ID_CHSWP = 0x06;
export const PCI_CAP_ID_PCIX = 0x07;
export const PCI_CAP_ID_HT = 0x08;
export const PCI_CAP_ID_VNDR = 0x09;
export const PCI_CAP_ID_DBG = 0x0a;
export const PCI_CAP_ID_CCRC = 0x0b;
export const PCI_CAP_ID_SHPC = 0x0c;
export const PCI_CAP_ID_SSVID = 0x0d;
export const PCI_CAP_ID_AGP3 = 0x0e;
export const PCI_CAP_ID_SECDEV = 0x0f;
export const PCI_CAP_ID_EXP = 0x10;
export const PCI_CAP_ID_MSIX = 0x11;
export const PCI_CAP_ID_SATA = 0x12;
export const PCI_CAP_ID_AF = 0x13;
export const PCI_CAP_ID_EA = 0x14;
export const PCI_CAP_ID_MAX = PCI_CAP_ID_EA;

/** Standard capability header: ID at +0, next pointer at +1. */
export const PCI_CAP_LIST_ID = 0;
export const PCI_CAP_LIST_NEXT = 1;

/** Extended capability IDs (PCIe, from 0x100). */
export const PCI_EXT_CAP_ID_NULL = 0x00;
export const PCI_EXT_CAP_ID_ERR = 0x01;
export const PCI_EXT_CAP_ID_VC = 0x02;
export const PCI_EXT_CAP_ID_DSN = 0x03;
export const PCI_EXT_CAP_ID_PWR = 0x04;
export const PCI_EXT_CAP_ID_RCLD = 0x05;
export const PCI_EXT_CAP_ID_RCILC = 0x06;
export const PCI_EXT_CAP_ID_RCEC = 0x07;
export const PCI_EXT_CAP_ID_MFVC = 0x08;
export const PCI_EXT_CAP_ID_VC9 = 0x09;
export const PCI_EXT_CAP_ID_RCRB = 0x0a;
export const PCI_EXT_CAP_ID_VNDR = 0x0b;
export const PCI_EXT_CAP_ID_CAC = 0x0c;
export const PCI_EXT_CAP_ID_ACS = 0x0d;
export const PCI_EXT_CAP_ID_ARI = 0x0e;
export const PCI_EXT_CAP_ID_ATS = 0x0f;
export const PCI_EXT_CAP_ID_SRIOV = 0x10;
export const PCI_EXT_CAP_ID_MRIOV = 0x11;
export const PCI_EXT_CAP_ID_MCAST = 0x12;
export const PCI_EXT_CAP_ID_PRI = 0x13;
export const PCI_EXT_CAP_ID_AMD_XXX = 0x14;
export const PCI_EXT_CAP_ID_REBAR = 0x15;
export const PCI_EXT_CAP_ID_DPA = 0x16;
export const PCI_EXT_CAP_ID_TPH = 0x17;
export const PCI_EXT_CAP_ID_LTR = 0x18;
export const PCI_EXT_CAP_ID_SECPCI = 0x19;
export const PCI_EXT_CAP_ID_PMUX = 0x1a;
export const PCI_EXT_CAP_ID_PASID = 0x1b;
export const PCI_EXT_CAP_ID_DPC = 0x1d;
export const PCI_EXT_CAP_ID_L1SS = 0x1e;
export const PCI_EXT_CAP_ID_PTM = 0x1f;
export const PCI_EXT_CAP_ID_DVSEC = 0x23;
export const PCI_EXT_CAP_ID_DLF = 0x25;
export const PCI_EXT_CAP_ID_PL_16GT = 0x26;
export const PCI_EXT_CAP_ID_NPEM = 0x29;
export const PCI_EXT_CAP_ID_PL_32GT = 0x2a;
export const PCI_EXT_CAP_ID_DOE = 0x2e;
export const PCI_EXT_CAP_ID_MAX = PCI_EXT_CAP_ID_DOE;

/** Extended capability header fields: ID [15:0], version [19:16], next [31:20]. */
export function extCapId(header: number): number {
  return header & 0xffff;
}
export function extCapVersion(header: number): number {
  return (header >>> 16) & 0xf;
}
export function extCapNext(header: number): number {
  return (header >>> 20) & 0xffc;
}
export function extCapHeader(id: number, version: number, next: number): number {
  return ((next << 20) | ((version & 0xf) << 16) | (id & 0xffff)) >>> 0;
}

/** Power Management capability. */
export const PCI_PM_PMC = 2;
export const PCI_PM_CAP_VER_MASK = 0x0007;
export const PCI_PM_CAP_PME_D0 = 0x0800;
export const PCI_PM_CAP_PME_D3HOT = 0x4000;
export const PCI_PM_CAP_PME_MASK = 0xf800;
export const PCI_PM_CTRL = 4;
export const PCI_PM_CTRL_STATE_MASK = 0x0003;
export const PCI_PM_CTRL_NO_SOFT_RESET = 0x0008;
export const PCI_PM_CTRL_PME_ENABLE = 0x0100;
export const PCI_PM_CTRL_PME_STATUS = 0x8000;
export const PCI_PM_SIZEOF = 8;
export const PCI_D0 = 0;
export const PCI_D3HOT = 3;

/** MSI capability. */
export const PCI_MSI_FLAGS = 2;
export const PCI_MSI_FLAGS_ENABLE = 0x0001;
export const PCI_MSI_FLAGS_QMASK = 0x000e;
export const PCI_MSI_FLAGS_QSIZE = 0x0070;
export const PCI_MSI_FLAGS_64BIT = 0x0080;
export const PCI_MSI_FLAGS_MASKBIT = 0x0100;
export const PCI_MSI_ADDRESS_LO = 4;
export const PCI_MSI_ADDRESS_HI = 8;
/** Data register offset for 32-bit / 64-bit address capabilities. */
export const PCI_MSI_DATA_32 = 8;
export const PCI_MSI_DATA_64 = 12;
/** Mask / pending offsets for 32-bit / 64-bit capabilities with per-vector masking. */
export const PCI_MSI_MASK_32 = 12;
export const PCI_MSI_MASK_64 = 16;
export const PCI_MSI_PENDING_32 = 16;
export const PCI_MSI_PENDING_64 = 20;

/** MSI-X capability. */
export const PCI_MSIX_FLAGS = 2;
export const PCI_MSIX_FLAGS_QSIZE = 0x07ff;
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
export const PCI_MSIX_TABLE = 4;
export const PCI_MSIX_PBA = 8;
export const PCI_MSIX_BIR_MASK = 0x7;
export const PCI_MSIX_OFFSET_MASK = 0xfffffff8;
export const PCI_CAP_MSIX_SIZEOF = 12;
/** MSI-X table entry layout (16 bytes per vector). */
export const PCI_MSIX_ENTRY_SIZE = 16;
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0;
export const PCI_MSIX_ENTRY_UPPER_ADDR = 4;
export const PCI_MSIX_ENTRY_DATA = 8;
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

/** PCI Express capability. */
export const PCI_EXP_FLAGS = 2;
export const PCI_EXP_FLAGS_VERS = 0x000f;
export const PCI_EXP_FLAGS_TYPE = 0x00f0;
export const PCI_EXP_TYPE_ENDPOINT = 0x0;
export const PCI_EXP_TYPE_LEG_END = 0x1;
export const PCI_EXP_TYPE_RC_END = 0x9;
export const PCI_EXP_DEVCAP = 4;
export const PCI_EXP_DEVCAP_PAYLOAD = 0x00000007;
export const PCI_EXP_DEVCAP_EXT_TAG = 0x00000020;
export const PCI_EXP_DEVCAP_RBER = 0x00008000;
export const PCI_EXP_DEVCAP_FLR = 0x10000000;
export const PCI_EXP_DEVCTL = 8;
export const PCI_EXP_DEVCTL_CERE = 0x0001;
export const PCI_EXP_DEVCTL_NFERE = 0x0002;
export const PCI_EXP_DEVCTL_FERE = 0x0004;
export const PCI_EXP_DEVCTL_URRE = 0x0008;
export const PCI_EXP_DEVCTL_RELAX_EN = 0x0010;
export const PCI_EXP_DEVCTL_PAYLOAD = 0x00e0;
export const PCI_EXP_DEVCTL_EXT_TAG = 0x0100;
export const PCI_EXP_DEVCTL_PHANTOM = 0x0200;
export const PCI_EXP_DEVCTL_AUX_PME = 0x0400;
export const PCI_EXP_DEVCTL_NOSNOOP_EN = 0x0800;
export const PCI_EXP_DEVCTL_READRQ = 0x7000;
export const PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
export const PCI_EXP_DEVSTA = 10;
export const PCI_EXP_DEVSTA_CED = 0x0001;
export const PCI_EXP_DEVSTA_NFED = 0x0002;
export const PCI_EXP_DEVSTA_FED = 0x0004;
export const PCI_EXP_DEVSTA_URD = 0x0008;
export const PCI_EXP_DEVSTA_TRPND = 0x0020;
export const PCI_EXP_LNKCAP = 12;
export const PCI_EXP_LNKCTL = 16;
export const PCI_EXP_LNKSTA = 18;
export const PCI_EXP_SLTCAP = 20;
export const PCI_EXP_SLTCTL = 24;
export const PCI_EXP_SLTSTA = 26;
export const PCI_EXP_RTCTL = 28;
export const PCI_EXP_RTCAP = 30;
export const PCI_EXP_RTSTA = 32;
export const PCI_EXP_DEVCAP2 = 36;
export const PCI_EXP_DEVCAP2_LTR = 0x00000800;
export const PCI_EXP_DEVCTL2 = 40;
export const PCI_EXP_DEVCTL2_ARI = 0x0020;
export const PCI_EXP_DEVCTL2_LTR_EN = 0x0400;
export const PCI_EXP_DEVSTA2 = 42;
export const PCI_EXP_LNKCAP2 = 44;
export const PCI_EXP_LNKCTL2 = 48;
export const PCI_EXP_LNKSTA2 = 50;
/** v1 endpoint capability length, and v2 endpoint-with-link length (ends after LNKSTA2). */
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V1 = 20;
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 = 52;
/** Full v2 capability including slot and root registers. */
export const PCI_CAP_EXP_SIZEOF = 60;

/** Vendor-specific capability: length byte at +2. */
export const PCI_CAP_VNDR_LEN = 2;

/** AER extended capability. */
export const PCI_ERR_UNCOR_STATUS = 4;
export const PCI_ERR_UNCOR_MASK = 8;
export const PCI_ERR_UNCOR_SEVER = 12;
export const PCI_ERR_COR_STATUS = 16;
export const PCI_ERR_COR_MASK = 20;
export const PCI_ERR_CAP = 24;
export const PCI_ERR_HEADER_LOG = 28;
export const PCI_ERR_ROOT_COMMAND = 44;
export const PCI_ERR_ROOT_STATUS = 48;
export const PCI_ERR_ROOT_ERR_SRC = 52;
/** Endpoint AER length (no root-port registers). */
export const PCI_ERR_CAP_SIZEOF_ENDPOINT = 44;
/** Uncorrectable error bits defined by PCIe (status / mask / severity share the layout). */
export const PCI_ERR_UNC_DEFINED = 0x03fff030;
/** Spec default severity: Data Link Protocol, Surprise Down, Flow Control, Malformed TLP, ... */
export const PCI_ERR_UNC_SEVER_DEFAULT = 0x00462030;
/** Correctable error bits defined by PCIe. */
export const PCI_ERR_COR_DEFINED = 0x0000f1c1;
export const PCI_ERR_COR_ADV_NFAT = 0x00002000;

/** Device Serial Number extended capability. */
export const PCI_DSN_LOW = 4;
export const PCI_DSN_HIGH = 8;
export const PCI_EXT_CAP_DSN_SIZEOF = 12;

/** Power Budgeting extended capability. */
export const PCI_PWR_DSR = 4;
export const PCI_PWR_DATA = 8;
export const PCI_PWR_CAP = 12;
export const PCI_EXT_CAP_PWR_SIZEOF = 16;

/** LTR extended capability. */
export const PCI_LTR_MAX_SNOOP_LAT = 4;
export const PCI_LTR_MAX_NOSNOOP_LAT = 6;
export const PCI_LTR_VALUE_MASK = 0x03ff;
export const PCI_LTR_SCALE_MASK = 0x1c00;
export const PCI_EXT_CAP_LTR_SIZEOF = 8;

/** Resizable BAR extended capability: per BAR a capability dword and a control dword. */
export const PCI_REBAR_CAP = 4;
export const PCI_REBAR_CTRL = 8;
export const PCI_REBAR_CTRL_BAR_IDX = 0x0007;
export const PCI_REBAR_CTRL_NBAR_MASK = 0x00e0;
export const PCI_REBAR_CTRL_NBAR_SHIFT = 5;
export const PCI_REBAR_CTRL_BAR_SIZE = 0x3f00;
export const PCI_REBAR_CTRL_BAR_SHIFT = 8;

/** Vendor-specific extended capability: header at +4 = ID [15:0], rev [19:16], len [31:20]. */
export const PCI_VNDR_HEADER = 4;

/** DVSEC: header1 at +4 = vendor [15:0], rev [19:16], length [31:20]; header2 at +8 = ID. */
export const PCI_DVSEC_HEADER1 = 4;
export const PCI_DVSEC_HEADER2 = 8;
/** Smallest DVSEC: ext header + header1 + header2 (the ID is 16 bits). */
export const PCI_DVSEC_HEADER_SIZEOF = 10;

/** PCI class codes used here. */
export const PCI_CLASS_DISPLAY_3D = 0x030200;
