/**
 * The per-capability permission tables and capability lengths of the vfio-pci core
 * (vfio_pci_init_perm_bits, pci_cap_length / pci_ext_cap_length, vfio_cap_len /
 * vfio_ext_cap_len), nvgrace-gpu.md §8.2–§8.3.
 *
 * Rules: a length of 0 hides the capability; a capability without its own table is read
 * directly from hardware (header virtual) and its writes are dropped; vendor-specific caps,
 * vendor-specific ext caps and DVSECs write raw to hardware.
 */
import type { ConfigReader } from '../../pci/config-space.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BIST,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_EXP_ENDPOINT_SIZEOF_V1,
  PCI_CAP_EXP_ENDPOINT_SIZEOF_V2,
  PCI_CAP_ID_AF,
  PCI_CAP_ID_AGP,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PCIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_SATA,
  PCI_CAP_ID_VNDR,
  PCI_CAP_ID_VPD,
  PCI_CAP_LIST_NEXT,
  PCI_CAP_MSIX_SIZEOF,
  PCI_CAP_VNDR_LEN,
  PCI_CAPABILITY_LIST,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_DEVICE_ID,
  PCI_DVSEC_HEADER1,
  PCI_ERR_CAP,
  PCI_ERR_COR_MASK,
  PCI_ERR_COR_STATUS,
  PCI_ERR_ROOT_COMMAND,
  PCI_ERR_UNCOR_MASK,
  PCI_ERR_UNCOR_SEVER,
  PCI_ERR_UNCOR_STATUS,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_PAYLOAD,
  PCI_EXP_DEVCTL_PHANTOM,
  PCI_EXP_DEVCTL_READRQ,
  PCI_EXP_DEVCTL2,
  PCI_EXP_DEVCTL2_ARI,
  PCI_EXP_FLAGS,
  PCI_EXP_FLAGS_TYPE,
  PCI_EXP_FLAGS_VERS,
  PCI_EXP_TYPE_RC_END,
  PCI_EXT_CAP_DSN_SIZEOF,
  PCI_EXT_CAP_ID_ACS,
  PCI_EXT_CAP_ID_ARI,
  PCI_EXT_CAP_ID_ATS,
  PCI_EXT_CAP_ID_DPA,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_DVSEC,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_LTR,
  PCI_EXT_CAP_ID_MCAST,
  PCI_EXT_CAP_ID_MFVC,
  PCI_EXT_CAP_ID_PRI,
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_EXT_CAP_ID_TPH,
  PCI_EXT_CAP_ID_VC,
  PCI_EXT_CAP_ID_VC9,
  PCI_EXT_CAP_ID_VNDR,
  PCI_EXT_CAP_LTR_SIZEOF,
  PCI_EXT_CAP_PWR_SIZEOF,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_LATENCY_TIMER,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_MASK_32,
  PCI_MSI_MASK_64,
  PCI_MSI_PENDING_32,
  PCI_MSI_PENDING_64,
  PCI_PM_CAP_PME_MASK,
  PCI_PM_CTRL,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_PM_SIZEOF,
  PCI_PWR_DSR,
  PCI_REBAR_CTRL,
  PCI_REBAR_CTRL_NBAR_MASK,
  PCI_REBAR_CTRL_NBAR_SHIFT,
  PCI_ROM_ADDRESS,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCI_VENDOR_ID,
  PCI_VNDR_HEADER,
} from '../../pci/constants.js';
import { ALL_VIRT, ALL_WRITE, NO_VIRT, NO_WRITE, PermBuilder, type PermTable } from './perm.js';

/** Writable AER bits (init_pci_ext_cap_err_perm). */
export const AER_UNCOR_WRITABLE = 0x03fff031;
export const AER_COR_WRITABLE = 0x0000f1c1;
export const AER_CAP_WRITABLE = 0x00000120; // ECRC generation + check enable

/** The type 0 header (0x00–0x3F), §8.2. */
export function basicPerm(): PermTable {
  const p = new PermBuilder(PCI_STD_HEADER_SIZEOF, 'basic');
  p.set(PCI_VENDOR_ID, 2, ALL_VIRT, NO_WRITE);
  p.set(PCI_DEVICE_ID, 2, ALL_VIRT, NO_WRITE);
  p.set(PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE, ALL_WRITE);
  p.set(PCI_STATUS, 2, PCI_STATUS_CAP_LIST, NO_WRITE);
  p.set(PCI_CACHE_LINE_SIZE, 1, NO_VIRT, ALL_WRITE);
  p.set(PCI_LATENCY_TIMER, 1, NO_VIRT, ALL_WRITE);
  p.set(PCI_BIST, 1, NO_VIRT, ALL_WRITE);
  for (let i = 0; i < 6; i++) p.set(PCI_BASE_ADDRESS_0 + 4 * i, 4, ALL_VIRT, ALL_WRITE);
  p.set(PCI_ROM_ADDRESS, 4, ALL_VIRT, ALL_WRITE);
  p.set(PCI_CAPABILITY_LIST, 1, ALL_VIRT, NO_WRITE);
  p.set(PCI_INTERRUPT_LINE, 1, ALL_VIRT, ALL_WRITE);
  p.set(PCI_INTERRUPT_PIN, 1, ALL_VIRT, NO_WRITE);
  return p.build();
}

/** A capability without its own table: direct read (next virtual), writes dropped. */
function directPerm(len: number, ext: boolean): PermTable {
  const p = new PermBuilder(len);
  p.read = 'direct';
  p.writeKind = 'none';
  if (ext) p.set(0, 4, ALL_VIRT, NO_WRITE);
  else p.set(PCI_CAP_LIST_NEXT, 1, ALL_VIRT, NO_WRITE);
  return p.build();
}

function pmPerm(len: number): PermTable {
  const p = new PermBuilder(len, 'pm');
  p.set(PCI_CAP_LIST_NEXT, 1, ALL_VIRT, NO_WRITE);
  p.set(PCI_PM_PMC, 2, PCI_PM_CAP_PME_MASK, NO_WRITE);
  const pme = PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS;
  p.set(PCI_PM_CTRL, 4, pme, ~(pme | PCI_PM_CTRL_STATE_MASK) >>> 0);
  return p.build();
}

function msiPerm(len: number, flags: number): PermTable {
  const p = new PermBuilder(len, 'msi');
  p.set(PCI_CAP_LIST_NEXT, 1, ALL_VIRT, NO_WRITE);
  // The upper byte of the control register is reserved: only the low byte is virtual.
  p.set(PCI_MSI_FLAGS, 1, ALL_VIRT, ALL_WRITE);
  p.set(PCI_MSI_ADDRESS_LO, 4, ALL_VIRT, ALL_WRITE);
  if (flags & PCI_MSI_FLAGS_64BIT) {
    p.set(PCI_MSI_ADDRESS_HI, 4, ALL_VIRT, ALL_WRITE);
    p.set(PCI_MSI_DATA_64, 2, ALL_VIRT, ALL_WRITE);
    if (flags & PCI_MSI_FLAGS_MASKBIT) {
      p.set(PCI_MSI_MASK_64, 4, NO_VIRT, ALL_WRITE);
      p.set(PCI_MSI_PENDING_64, 4, NO_VIRT, ALL_WRITE);
    }
  } else {
    p.set(PCI_MSI_DATA_32, 2, ALL_VIRT, ALL_WRITE);
    if (flags & PCI_MSI_FLAGS_MASKBIT) {
      p.set(PCI_MSI_MASK_32, 4, NO_VIRT, ALL_WRITE);
      p.set(PCI_MSI_PENDING_32, 4, NO_VIRT, ALL_WRITE);
    }
  }
  return p.build();
}

function pciePerm(len: number): PermTable {
  const p = new PermBuilder(len, 'pcie');
  p.set(PCI_CAP_LIST_NEXT, 1, ALL_VIRT, NO_WRITE);
  // FLR, MPS and MRRS virtual; everything but Phantom Functions writable.
  p.set(
    PCI_EXP_DEVCTL,
    2,
    PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ,
    ~PCI_EXP_DEVCTL_PHANTOM & 0xffff,
  );
  p.set(PCI_EXP_DEVCTL2, 2, NO_VIRT, ~PCI_EXP_DEVCTL2_ARI & 0xffff);
  return p.build();
}

function vendorPerm(len: number, ext: boolean): PermTable {
  const p = new PermBuilder(len);
  p.read = 'direct';
  p.writeKind = 'raw';
  if (ext) p.set(0, 4, ALL_VIRT, NO_WRITE);
  else p.set(PCI_CAP_LIST_NEXT, 1, ALL_VIRT, NO_WRITE);
  return p.build();
}

function aerPerm(len: number): PermTable {
  const p = new PermBuilder(len);
  p.set(0, 4, ALL_VIRT, NO_WRITE);
  p.set(PCI_ERR_UNCOR_STATUS, 4, NO_VIRT, AER_UNCOR_WRITABLE);
  p.set(PCI_ERR_UNCOR_MASK, 4, NO_VIRT, AER_UNCOR_WRITABLE);
  p.set(PCI_ERR_UNCOR_SEVER, 4, NO_VIRT, AER_UNCOR_WRITABLE);
  p.set(PCI_ERR_COR_STATUS, 4, NO_VIRT, AER_COR_WRITABLE);
  p.set(PCI_ERR_COR_MASK, 4, NO_VIRT, AER_COR_WRITABLE);
  p.set(PCI_ERR_CAP, 4, NO_VIRT, AER_CAP_WRITABLE);
  return p.build();
}

function pwrPerm(len: number): PermTable {
  const p = new PermBuilder(len);
  p.set(0, 4, ALL_VIRT, NO_WRITE);
  p.set(PCI_PWR_DSR, 1, NO_VIRT, ALL_WRITE);
  return p.build();
}

/** Length of a standard capability as vfio sizes it; 0 = hidden. */
export function stdCapLength(id: number, read: ConfigReader, pos: number): number {
  switch (id) {
    case PCI_CAP_ID_PM:
      return PCI_PM_SIZEOF;
    case PCI_CAP_ID_AGP:
      return 48;
    case PCI_CAP_ID_VPD:
      return 8;
    case PCI_CAP_ID_MSI: {
      const flags = read(pos + PCI_MSI_FLAGS, 2);
      let len = 10;
      if (flags & PCI_MSI_FLAGS_64BIT) len += 4;
      if (flags & PCI_MSI_FLAGS_MASKBIT) len += 10;
      return len;
    }
    case PCI_CAP_ID_PCIX:
      return 8; // simplification: a type 0 PCI-X capability (not on a PCIe GPU)
    case PCI_CAP_ID_VNDR:
      return read(pos + PCI_CAP_VNDR_LEN, 1);
    case PCI_CAP_ID_EXP: {
      const flags = read(pos + PCI_EXP_FLAGS, 2);
      const rcEnd = (flags & PCI_EXP_FLAGS_TYPE) >> 4 === PCI_EXP_TYPE_RC_END;
      if ((flags & PCI_EXP_FLAGS_VERS) === 1) return rcEnd ? 0xc : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
      return rcEnd ? 0x2c : PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
    }
    case PCI_CAP_ID_MSIX:
      return PCI_CAP_MSIX_SIZEOF;
    case PCI_CAP_ID_SATA:
      return 8;
    case PCI_CAP_ID_AF:
      return 6;
    case 0x08: // HyperTransport: variable in the kernel; a GPU has none
      return 4;
    default:
      // Slot-ID, CompactPCI hot-swap, Debug, CCRC, SHPC, SSVID, AGP3, Secure, EA, 0, > max.
      return 0;
  }
}

/** The permission table of a visible standard capability. */
export function stdCapPerm(id: number, len: number, read: ConfigReader, pos: number): PermTable {
  switch (id) {
    case PCI_CAP_ID_PM:
      return pmPerm(len);
    case PCI_CAP_ID_MSI:
      return msiPerm(len, read(pos + PCI_MSI_FLAGS, 2));
    case PCI_CAP_ID_EXP:
      return pciePerm(len);
    case PCI_CAP_ID_VNDR:
      return vendorPerm(len, false);
    default:
      return directPerm(len, false);
  }
}

/** Length of an extended capability as vfio sizes it; 0 = hidden. */
export function extCapLength(id: number, read: ConfigReader, pos: number): number {
  switch (id) {
    case PCI_EXT_CAP_ID_ERR:
      return PCI_ERR_ROOT_COMMAND;
    case PCI_EXT_CAP_ID_VC:
    case PCI_EXT_CAP_ID_VC9:
    case PCI_EXT_CAP_ID_MFVC:
      return 0x10; // simplification: the fixed part (a Grace GPU has none)
    case PCI_EXT_CAP_ID_DSN:
      return PCI_EXT_CAP_DSN_SIZEOF;
    case PCI_EXT_CAP_ID_PWR:
      return PCI_EXT_CAP_PWR_SIZEOF;
    case PCI_EXT_CAP_ID_VNDR:
      return read(pos + PCI_VNDR_HEADER, 4) >>> 20;
    case PCI_EXT_CAP_ID_ACS:
    case PCI_EXT_CAP_ID_ARI:
    case PCI_EXT_CAP_ID_ATS:
      return 8;
    case PCI_EXT_CAP_ID_SRIOV:
      return 0x40;
    case PCI_EXT_CAP_ID_MCAST:
      return 0x30;
    case PCI_EXT_CAP_ID_PRI:
      return 0x10;
    case PCI_EXT_CAP_ID_REBAR: {
      const nbar =
        (read(pos + PCI_REBAR_CTRL, 1) & PCI_REBAR_CTRL_NBAR_MASK) >> PCI_REBAR_CTRL_NBAR_SHIFT;
      return 4 + nbar * 8;
    }
    case PCI_EXT_CAP_ID_DPA:
    case PCI_EXT_CAP_ID_TPH:
      return 0x10; // simplification: fixed part only
    case PCI_EXT_CAP_ID_LTR:
      return PCI_EXT_CAP_LTR_SIZEOF;
    case PCI_EXT_CAP_ID_DVSEC:
      return (read(pos + PCI_DVSEC_HEADER1, 4) >>> 20) & 0xfff;
    default:
      // Null (0), RCLD, RCILC, RCEC, RCRB, CAC, MR-IOV, Secondary PCIe, PMUX, PASID, and every
      // ID without a table entry (DLF, 16/32 GT/s physical layer, DOE, ...).
      return 0;
  }
}

/** The permission table of a visible extended capability (or the hidden placeholder). */
export function extCapPerm(id: number, len: number): PermTable {
  switch (id) {
    case PCI_EXT_CAP_ID_ERR:
      return aerPerm(len);
    case PCI_EXT_CAP_ID_PWR:
      return pwrPerm(len);
    case PCI_EXT_CAP_ID_VNDR:
    case PCI_EXT_CAP_ID_DVSEC:
      return vendorPerm(len, true);
    default:
      return directPerm(len, true);
  }
}
