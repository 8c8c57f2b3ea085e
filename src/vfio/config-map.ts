/**
 * The vfio-pci core's permission map of config space, built at open from the hardware's
 * capability chains (vfio_pci_config.c: vfio_config_init / vfio_cap_init / vfio_ecap_init).
 *
 * Rules (docs/driver-rules.md §8.1–§8.3):
 * - Every byte has an owner (the header, a capability, or a gap), a virtualization mask and a
 *   write mask: read = (hw & ~virt) | (vconfig & virt); write bits with write&virt go to
 *   vconfig, write&~virt are read-modify-written to hardware, the rest are ignored.
 * - Gaps (bytes no capability claims, after the header) are raw read/write; vendor-specific
 *   caps (std 0x09) read normally but write raw; vendor ext caps and DVSECs are raw both ways.
 * - Standard caps without a length-table entry are hidden (unlinked). Extended caps without a
 *   table entry are hidden too; a hidden one first at 0x100 stays as a placeholder whose dword
 *   is fully virtual with ID/version 0 and the next pointer kept.
 * - The next pointer of every exposed std cap and the first dword of every ext cap are
 *   virtual, so the chain can be edited in vconfig.
 */
import type { ConfigReader } from '../pci/config-space.js';
import * as C from '../pci/constants.js';

export const RAW_NONE = 0;
/** Reads and writes go straight to hardware. */
export const RAW_RW = 1;
/** Reads use the masks, writes go straight to hardware (std vendor-specific cap). */
export const RAW_WRITE = 2;

export interface ConfigMap {
  readonly size: number;
  readonly virt: Uint8Array;
  readonly write: Uint8Array;
  readonly raw: Uint8Array;
  /** Start offset of the owning structure (0 = header), -1 for a gap. */
  readonly owner: Int32Array;
  /** Exposed standard caps (id → offset) and extended caps (id → offset). */
  readonly caps: Map<number, number>;
  readonly ecaps: Map<number, number>;
  /** vconfig edits made at build time (unlinked chains, placeholder header). */
  readonly vconfigPatches: { offset: number; size: 1 | 2 | 4; value: number }[];
}

function setMask(arr: Uint8Array, at: number, size: number, mask: number): void {
  for (let i = 0; i < size; i++) arr[at + i] = (mask >>> (8 * i)) & 0xff;
}

/** Length of an exposed std cap (0 = hidden), as vfio's pci_cap_length table + fixups. */
function stdCapLength(read: ConfigReader, id: number, pos: number): number {
  switch (id) {
    case C.PCI_CAP_ID_PM:
      return C.PCI_PM_SIZEOF;
    case C.PCI_CAP_ID_MSI: {
      const flags = read(pos + C.PCI_MSI_FLAGS, 2);
      let len = 10;
      if (flags & C.PCI_MSI_FLAGS_64BIT) len += 4;
      if (flags & C.PCI_MSI_FLAGS_MASKBIT) len += 10;
      return len;
    }
    case C.PCI_CAP_ID_VNDR:
      return read(pos + C.PCI_CAP_VNDR_LEN, 1);
    case C.PCI_CAP_ID_EXP: {
      const v = read(pos + C.PCI_EXP_FLAGS, 2) & C.PCI_EXP_FLAGS_VERS;
      return v === 1 ? C.PCI_CAP_EXP_ENDPOINT_SIZEOF_V1 : C.PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
    }
    case C.PCI_CAP_ID_MSIX:
      return C.PCI_CAP_MSIX_SIZEOF;
    case C.PCI_CAP_ID_AF:
      return 6;
    case C.PCI_CAP_ID_VPD:
      return 8;
    case C.PCI_CAP_ID_AGP:
    case C.PCI_CAP_ID_PCIX:
    case C.PCI_CAP_ID_HT:
    case C.PCI_CAP_ID_SATA:
      return 8;
    default:
      return 0;
  }
}

/** Length of an exposed ext cap (0 = hidden). */
function extCapLength(read: ConfigReader, id: number, pos: number): number {
  switch (id) {
    case C.PCI_EXT_CAP_ID_ERR:
      return C.PCI_ERR_CAP_SIZEOF_ENDPOINT;
    case C.PCI_EXT_CAP_ID_VC:
    case C.PCI_EXT_CAP_ID_VC9:
    case C.PCI_EXT_CAP_ID_MFVC:
      return 0x10;
    case C.PCI_EXT_CAP_ID_DSN:
      return C.PCI_EXT_CAP_DSN_SIZEOF;
    case C.PCI_EXT_CAP_ID_PWR:
      return C.PCI_EXT_CAP_PWR_SIZEOF;
    case C.PCI_EXT_CAP_ID_LTR:
      return C.PCI_EXT_CAP_LTR_SIZEOF;
    case C.PCI_EXT_CAP_ID_REBAR: {
      const nbar =
        (read(pos + C.PCI_REBAR_CTRL, 4) & C.PCI_REBAR_CTRL_NBAR_MASK) >>>
        C.PCI_REBAR_CTRL_NBAR_SHIFT;
      return 4 + 8 * Math.max(nbar, 1);
    }
    case C.PCI_EXT_CAP_ID_VNDR:
    case C.PCI_EXT_CAP_ID_DVSEC:
      return (read(pos + 4, 4) >>> 20) & 0xfff;
    case C.PCI_EXT_CAP_ID_ARI:
    case C.PCI_EXT_CAP_ID_ACS:
    case C.PCI_EXT_CAP_ID_ATS:
    case C.PCI_EXT_CAP_ID_PRI:
    case C.PCI_EXT_CAP_ID_TPH:
    case C.PCI_EXT_CAP_ID_MCAST:
    case C.PCI_EXT_CAP_ID_DPA:
    case C.PCI_EXT_CAP_ID_SRIOV:
      return 8;
    default:
      return 0;
  }
}

/** Build the map for a device whose raw config is readable through `read`. */
export function buildConfigMap(read: ConfigReader, size: number): ConfigMap {
  const virt = new Uint8Array(size);
  const write = new Uint8Array(size);
  const raw = new Uint8Array(size);
  const owner = new Int32Array(size).fill(-1);
  const caps = new Map<number, number>();
  const ecaps = new Map<number, number>();
  const patches: ConfigMap['vconfigPatches'] = [];
  const ALL = 0xffffffff;

  // --- header (init_pci_cap_basic_perm) ---
  owner.fill(0, 0, C.PCI_STD_HEADER_SIZEOF);
  setMask(virt, C.PCI_VENDOR_ID, 4, ALL);
  setMask(virt, C.PCI_COMMAND, 2, C.PCI_COMMAND_INTX_DISABLE);
  setMask(write, C.PCI_COMMAND, 2, 0xffff);
  setMask(virt, C.PCI_STATUS, 2, C.PCI_STATUS_CAP_LIST);
  write[C.PCI_CACHE_LINE_SIZE] = 0xff;
  write[C.PCI_LATENCY_TIMER] = 0xff;
  write[C.PCI_BIST] = 0xff;
  for (let bar = C.PCI_BASE_ADDRESS_0; bar <= C.PCI_BASE_ADDRESS_5; bar += 4) {
    setMask(virt, bar, 4, ALL);
    setMask(write, bar, 4, ALL);
  }
  setMask(virt, C.PCI_ROM_ADDRESS, 4, ALL);
  setMask(write, C.PCI_ROM_ADDRESS, 4, ALL);
  virt[C.PCI_CAPABILITY_LIST] = 0xff;
  virt[C.PCI_INTERRUPT_LINE] = 0xff;
  write[C.PCI_INTERRUPT_LINE] = 0xff;
  virt[C.PCI_INTERRUPT_PIN] = 0xff;

  // --- standard capabilities ---
  let prevNext = C.PCI_CAPABILITY_LIST;
  let pos = (read(C.PCI_STATUS, 2) & C.PCI_STATUS_CAP_LIST) !== 0 ? read(prevNext, 1) & 0xfc : 0;
  let anyStd = false;
  for (let ttl = 48; ttl > 0 && pos >= C.PCI_STD_HEADER_SIZEOF; ttl--) {
    const hdr = read(pos, 2);
    const id = hdr & 0xff;
    const next = (hdr >>> 8) & 0xfc;
    const len = id === 0xff ? 0 : stdCapLength(read, id, pos);
    if (len === 0 || caps.has(id) || pos + len > C.PCI_CFG_SPACE_SIZE) {
      // Hidden: unlink by pointing the previous next byte past it.
      patches.push({ offset: prevNext, size: 1, value: next });
      if (id === 0xff) break;
      pos = next;
      continue;
    }
    anyStd = true;
    caps.set(id, pos);
    owner.fill(pos, pos, pos + len);
    virt[pos + C.PCI_CAP_LIST_NEXT] = 0xff;
    stdCapPerms(read, id, pos, virt, write, raw, len);
    prevNext = pos + C.PCI_CAP_LIST_NEXT;
    pos = next;
  }
  if (!anyStd) patches.push({ offset: C.PCI_STATUS, size: 2, value: 0 });

  // --- extended capabilities ---
  let epos = C.PCI_CFG_SPACE_SIZE;
  let prevHdr = -1;
  let prevHdrValue = 0;
  for (let ttl = (size - C.PCI_CFG_SPACE_SIZE) / 8; size > epos && ttl > 0; ttl--) {
    const header = read(epos, 4);
    if (header === 0 || header === 0xffffffff) break;
    const id = C.extCapId(header);
    const next = C.extCapNext(header);
    let len = extCapLength(read, id, epos);
    if (epos + len > size) len = 0;
    if (len === 0) {
      if (epos === C.PCI_CFG_SPACE_SIZE) {
        // Placeholder: its dword is virtual, ID/version 0, next kept.
        owner.fill(epos, epos, epos + 4);
        setMask(virt, epos, 4, ALL);
        setMask(write, epos, 4, ALL);
        prevHdrValue = C.extCapHeader(0, 0, next);
        patches.push({ offset: epos, size: 4, value: prevHdrValue });
        prevHdr = epos;
      } else if (prevHdr >= 0) {
        // Unlink: the previous header's next pointer skips this one.
        prevHdrValue = ((prevHdrValue & 0xfffff) | (next << 20)) >>> 0;
        patches.push({ offset: prevHdr, size: 4, value: prevHdrValue });
      }
    } else {
      ecaps.set(id, epos);
      owner.fill(epos, epos, epos + len);
      setMask(virt, epos, 4, ALL);
      extCapPerms(id, epos, write, raw, len);
      prevHdr = epos;
      prevHdrValue = header;
    }
    if (next < C.PCI_CFG_SPACE_SIZE || next + 4 > size) break;
    epos = next;
  }
  // Gaps (incl. the body of hidden caps) are raw pass-through both ways.
  for (let o = C.PCI_STD_HEADER_SIZEOF; o < size; o++) if (owner[o] === -1) raw[o] = RAW_RW;
  return { size, virt, write, raw, owner, caps, ecaps, vconfigPatches: patches };
}

function stdCapPerms(
  read: ConfigReader,
  id: number,
  pos: number,
  virt: Uint8Array,
  write: Uint8Array,
  raw: Uint8Array,
  len: number,
): void {
  switch (id) {
    case C.PCI_CAP_ID_PM:
      setMask(virt, pos + C.PCI_PM_PMC, 2, C.PCI_PM_CAP_PME_MASK);
      setMask(virt, pos + C.PCI_PM_CTRL, 4, C.PCI_PM_CTRL_PME_ENABLE | C.PCI_PM_CTRL_PME_STATUS);
      setMask(
        write,
        pos + C.PCI_PM_CTRL,
        4,
        ~(C.PCI_PM_CTRL_PME_ENABLE | C.PCI_PM_CTRL_PME_STATUS | C.PCI_PM_CTRL_STATE_MASK),
      );
      break;
    case C.PCI_CAP_ID_MSI: {
      const flags = read(pos + C.PCI_MSI_FLAGS, 2);
      virt[pos + C.PCI_MSI_FLAGS] = 0xff;
      write[pos + C.PCI_MSI_FLAGS] = 0xff;
      const is64 = (flags & C.PCI_MSI_FLAGS_64BIT) !== 0;
      setMask(virt, pos + C.PCI_MSI_ADDRESS_LO, 4, 0xffffffff);
      setMask(write, pos + C.PCI_MSI_ADDRESS_LO, 4, 0xffffffff);
      const data = is64 ? C.PCI_MSI_DATA_64 : C.PCI_MSI_DATA_32;
      if (is64) {
        setMask(virt, pos + C.PCI_MSI_ADDRESS_HI, 4, 0xffffffff);
        setMask(write, pos + C.PCI_MSI_ADDRESS_HI, 4, 0xffffffff);
      }
      setMask(virt, pos + data, 2, 0xffff);
      setMask(write, pos + data, 2, 0xffff);
      if (flags & C.PCI_MSI_FLAGS_MASKBIT) {
        const mask = is64 ? C.PCI_MSI_MASK_64 : C.PCI_MSI_MASK_32;
        setMask(write, pos + mask, 4, 0xffffffff);
      }
      break;
    }
    case C.PCI_CAP_ID_EXP:
      setMask(
        virt,
        pos + C.PCI_EXP_DEVCTL,
        2,
        C.PCI_EXP_DEVCTL_BCR_FLR | C.PCI_EXP_DEVCTL_PAYLOAD | C.PCI_EXP_DEVCTL_READRQ,
      );
      setMask(write, pos + C.PCI_EXP_DEVCTL, 2, ~C.PCI_EXP_DEVCTL_PHANTOM & 0xffff);
      if (len > C.PCI_EXP_DEVCTL2 + 1) {
        setMask(write, pos + C.PCI_EXP_DEVCTL2, 2, ~C.PCI_EXP_DEVCTL2_ARI & 0xffff);
      }
      break;
    case C.PCI_CAP_ID_VNDR:
      raw.fill(RAW_WRITE, pos, pos + len);
      break;
    default:
      // MSI-X and the rest: read-only pass-through (MSI-X enable only via SET_IRQS).
      break;
  }
}

function extCapPerms(
  id: number,
  pos: number,
  write: Uint8Array,
  raw: Uint8Array,
  len: number,
): void {
  switch (id) {
    case C.PCI_EXT_CAP_ID_ERR: {
      for (const reg of [C.PCI_ERR_UNCOR_STATUS, C.PCI_ERR_UNCOR_MASK, C.PCI_ERR_UNCOR_SEVER]) {
        setMask(write, pos + reg, 4, C.PCI_ERR_UNC_DEFINED);
      }
      for (const reg of [C.PCI_ERR_COR_STATUS, C.PCI_ERR_COR_MASK]) {
        setMask(write, pos + reg, 4, C.PCI_ERR_COR_DEFINED);
      }
      // ECRC generation/check enable.
      setMask(write, pos + C.PCI_ERR_CAP, 4, 0x40 | 0x100);
      break;
    }
    case C.PCI_EXT_CAP_ID_PWR:
      // init_pci_ext_cap_pwr_perm: the writable byte is PCI_PWR_DATA (+8, read-only in
      // hardware), not the Data Select register at +4, whatever its comment says — so a user
      // cannot change the selector through vfio.
      write[pos + C.PCI_PWR_DATA] = 0xff;
      break;
    case C.PCI_EXT_CAP_ID_VNDR:
    case C.PCI_EXT_CAP_ID_DVSEC:
      // Reads: vfio_direct_config_read — the header dword from vconfig (its next pointer may
      // unlink a hidden cap), the body from hardware. Writes: vfio_raw_config_write, all bytes.
      raw.fill(RAW_WRITE, pos, pos + 4);
      raw.fill(RAW_RW, pos + 4, pos + len);
      break;
    default:
      break;
  }
}
