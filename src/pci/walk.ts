/**
 * Capability-chain walker: standard capabilities from the pointer at 0x34, extended ones from
 * 0x100, DVSEC lookup by vendor + ID.
 *
 * Rules: works on any `ConfigReader` (a ConfigSpace, a Card's cfgRead, the vfio core's view)
 * and never trusts the chain: pointers are masked as Linux masks them, a pointer outside its
 * area ends the walk, and a loop is cut by a hop limit (as pci_find_capability's TTL does).
 */
import type { ConfigReader } from './config-space.js';
import {
  extCapId,
  extCapNext,
  extCapVersion,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_DVSEC_HEADER1,
  PCI_DVSEC_HEADER2,
  PCI_EXT_CAP_ID_DVSEC,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
} from './constants.js';

export interface StdCap {
  id: number;
  offset: number;
}

export interface ExtCap {
  id: number;
  version: number;
  offset: number;
}

export interface DvsecHeader {
  vendor: number;
  revision: number;
  /** DVSEC length in bytes, from header1 [31:20] (covers the whole structure incl. ext header). */
  length: number;
  dvsecId: number;
}

/** Maximum standard-capability hops (48, as Linux's PCI_FIND_CAP_TTL). */
const STD_TTL = 48;

/** The standard capabilities in chain order; empty when Status.CapList is clear. */
export function listCaps(read: ConfigReader): StdCap[] {
  const out: StdCap[] = [];
  if ((read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) === 0) return out;
  let pos = read(PCI_CAPABILITY_LIST, 1) & 0xfc;
  for (let ttl = STD_TTL; ttl > 0 && pos >= PCI_STD_HEADER_SIZEOF; ttl--) {
    const header = read(pos, 2);
    const id = header & 0xff;
    if (id === 0xff) break;
    out.push({ id, offset: pos });
    pos = (header >>> 8) & 0xfc;
  }
  return out;
}

/** Offset of the first standard capability with `id`, or null. */
export function findCap(read: ConfigReader, id: number): number | null {
  return listCaps(read).find((c) => c.id === id)?.offset ?? null;
}

/**
 * The extended capabilities in chain order, from 0x100. A header of 0 (or all-ones) at 0x100
 * means none; a header with ID 0 and a next pointer (a Null placeholder) is listed with id 0.
 */
export function listExtCaps(
  read: ConfigReader,
  cfgSize: number = PCI_CFG_SPACE_EXP_SIZE,
): ExtCap[] {
  const out: ExtCap[] = [];
  if (cfgSize <= PCI_CFG_SPACE_SIZE) return out;
  let pos = PCI_CFG_SPACE_SIZE;
  // Each ext cap takes at least 8 bytes (Linux's TTL), so this bounds any loop.
  for (let ttl = (cfgSize - PCI_CFG_SPACE_SIZE) / 8; ttl > 0; ttl--) {
    const header = read(pos, 4);
    if (header === 0 || header === 0xffffffff) break;
    out.push({ id: extCapId(header), version: extCapVersion(header), offset: pos });
    const next = extCapNext(header);
    if (next < PCI_CFG_SPACE_SIZE || next + 4 > cfgSize) break;
    pos = next;
  }
  return out;
}

/** Offset of the first extended capability with `id`, or null. */
export function findExtCap(
  read: ConfigReader,
  id: number,
  cfgSize: number = PCI_CFG_SPACE_EXP_SIZE,
): number | null {
  return listExtCaps(read, cfgSize).find((c) => c.id === id)?.offset ?? null;
}

/** The DVSEC header fields of the DVSEC capability at `offset`. */
export function readDvsecHeader(read: ConfigReader, offset: number): DvsecHeader {
  const h1 = read(offset + PCI_DVSEC_HEADER1, 4);
  return {
    vendor: h1 & 0xffff,
    revision: (h1 >>> 16) & 0xf,
    length: (h1 >>> 20) & 0xfff,
    dvsecId: read(offset + PCI_DVSEC_HEADER2, 2),
  };
}

/** Offset of the DVSEC with this vendor and DVSEC ID, or null (as pci_find_dvsec_capability). */
export function findDvsec(
  read: ConfigReader,
  vendor: number,
  dvsecId: number,
  cfgSize: number = PCI_CFG_SPACE_EXP_SIZE,
): number | null {
  for (const cap of listExtCaps(read, cfgSize)) {
    if (cap.id !== PCI_EXT_CAP_ID_DVSEC) continue;
    if (cap.offset + PCI_DVSEC_HEADER2 + 2 > cfgSize) continue;
    const h = readDvsecHeader(read, cap.offset);
    if (h.vendor === vendor && h.dvsecId === dvsecId) return cap.offset;
  }
  return null;
}
