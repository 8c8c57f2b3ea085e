/**
 * Capability builders: append standard capabilities (chain from 0x34, area 0x40..0xFF) and
 * extended capabilities (chain from 0x100) to a ConfigSpace, with their hardware write masks.
 *
 * Rules: the chain order is the call order; each capability goes at `at` when given (dword
 * aligned) or at the next free dword otherwise; overlapping or out-of-area placements throw.
 * Every builder sets the register values a device shows at power-on and declares which bits
 * are writable / write-1-to-clear, so ConfigSpace.write() behaves as the hardware would.
 */
import type { ConfigSpace } from './config-space.js';
import {
  extCapHeader,
  PCI_CAP_EXP_SIZEOF,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_CAP_LIST_NEXT,
  PCI_CAP_MSIX_SIZEOF,
  PCI_CAP_VNDR_LEN,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_SIZE,
  PCI_DSN_HIGH,
  PCI_DSN_LOW,
  PCI_DVSEC_HEADER_SIZEOF,
  PCI_DVSEC_HEADER1,
  PCI_DVSEC_HEADER2,
  PCI_ERR_CAP_SIZEOF_ENDPOINT,
  PCI_ERR_COR_ADV_NFAT,
  PCI_ERR_COR_DEFINED,
  PCI_ERR_COR_MASK,
  PCI_ERR_COR_STATUS,
  PCI_ERR_UNC_DEFINED,
  PCI_ERR_UNC_SEVER_DEFAULT,
  PCI_ERR_UNCOR_MASK,
  PCI_ERR_UNCOR_SEVER,
  PCI_ERR_UNCOR_STATUS,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP2,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL2,
  PCI_EXP_DEVSTA,
  PCI_EXP_FLAGS,
  PCI_EXP_LNKCAP,
  PCI_EXP_LNKCAP2,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL2,
  PCI_EXP_LNKSTA,
  PCI_EXP_LNKSTA2,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXT_CAP_DSN_SIZEOF,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_DVSEC,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_LTR,
  PCI_EXT_CAP_ID_NULL,
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_VNDR,
  PCI_EXT_CAP_LTR_SIZEOF,
  PCI_EXT_CAP_PWR_SIZEOF,
  PCI_LTR_MAX_NOSNOOP_LAT,
  PCI_LTR_MAX_SNOOP_LAT,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32,
  PCI_MSI_MASK_64,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
  PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_PM_SIZEOF,
  PCI_PWR_DSR,
  PCI_REBAR_CAP,
  PCI_REBAR_CTRL,
  PCI_REBAR_CTRL_BAR_SHIFT,
  PCI_REBAR_CTRL_NBAR_SHIFT,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCI_VNDR_HEADER,
} from './constants.js';

export interface PmOptions {
  at?: number;
  /** PMC register bits above the version (PME support, D1/D2, aux current). */
  pmcFlags?: number;
  /** PMCSR No_Soft_Reset: D3hot→D0 keeps the device state. */
  noSoftReset?: boolean;
}

export interface MsiOptions {
  at?: number;
  /** Multiple Message Capable, as a vector count: 1, 2, 4, 8, 16 or 32. */
  vectors: number;
  is64: boolean;
  perVectorMask: boolean;
}

export interface PcieOptions {
  at?: number;
  /** Device/port type (flags [7:4]); default endpoint. */
  type?: number;
  devCap: number;
  devCtl: number;
  lnkCap: number;
  lnkSta: number;
  devCap2: number;
  lnkCap2: number;
  lnkCtl2: number;
  lnkSta2?: number;
}

export interface MsixOptions {
  at?: number;
  /** Number of vectors (1..2048); the register holds vectors - 1. */
  vectors: number;
  tableBir: number;
  tableOffset: number;
  pbaBir: number;
  pbaOffset: number;
}

export interface RebarEntry {
  /** BAR index 0..5 as the ReBAR control encodes it. */
  barIndex: number;
  /** Supported sizes in bytes (powers of two, 1 MiB .. 128 TiB). */
  sizes: number[];
  /** Current size in bytes (one of `sizes`). */
  current: number;
}

const MIB = 2 ** 20;

function isPow2(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Builds a capability chain into a ConfigSpace. One builder per image. */
export class CapabilityBuilder {
  private lastStd = 0;
  private lastExt = 0;
  private readonly stdUsed: [number, number][] = [];
  private readonly extUsed: [number, number][] = [];

  constructor(readonly cs: ConfigSpace) {}

  /** Append a standard capability of `length` bytes; returns its offset. */
  addCap(id: number, length: number, at?: number): number {
    const pos = this.place(this.stdUsed, PCI_STD_HEADER_SIZEOF, PCI_CFG_SPACE_SIZE, length, at);
    const cs = this.cs;
    cs.setU8(pos, id);
    cs.setU8(pos + PCI_CAP_LIST_NEXT, 0);
    if (this.lastStd === 0) cs.setU8(PCI_CAPABILITY_LIST, pos);
    else cs.setU8(this.lastStd + PCI_CAP_LIST_NEXT, pos);
    cs.setU16(PCI_STATUS, cs.u16(PCI_STATUS) | PCI_STATUS_CAP_LIST);
    this.lastStd = pos;
    return pos;
  }

  /** Append an extended capability of `length` bytes; returns its offset. */
  addExtCap(id: number, version: number, length: number, at?: number): number {
    if (this.cs.size <= PCI_CFG_SPACE_SIZE) {
      throw new RangeError('extended capabilities need a 4096-byte config space');
    }
    if (this.extUsed.length === 0 && at !== undefined && at !== PCI_CFG_SPACE_SIZE) {
      throw new RangeError('the first extended capability must be at 0x100');
    }
    const pos = this.place(this.extUsed, PCI_CFG_SPACE_SIZE, this.cs.size, length, at);
    this.cs.setU32(pos, extCapHeader(id, version, 0));
    if (this.lastExt !== 0) {
      const prev = this.cs.u32(this.lastExt);
      this.cs.setU32(this.lastExt, ((prev & 0xfffff) | (pos << 20)) >>> 0);
    }
    this.lastExt = pos;
    return pos;
  }

  private place(
    used: [number, number][],
    lo: number,
    hi: number,
    length: number,
    at: number | undefined,
  ): number {
    if (!Number.isInteger(length) || length < 2) throw new RangeError(`bad cap length ${length}`);
    let pos = at;
    if (pos === undefined) {
      const end = used.reduce((m, [, e]) => Math.max(m, e), lo);
      pos = (end + 3) & ~3;
    }
    if (!Number.isInteger(pos) || pos % 4 !== 0) {
      throw new RangeError(`capability offset 0x${pos.toString(16)} is not dword aligned`);
    }
    if (pos < lo || pos + length > hi) {
      throw new RangeError(
        `capability at 0x${pos.toString(16)} (+0x${length.toString(16)}) is outside 0x${lo.toString(16)}..0x${hi.toString(16)}`,
      );
    }
    for (const [s, e] of used) {
      if (pos < e && s < pos + length) {
        throw new RangeError(
          `capability at 0x${pos.toString(16)} overlaps the one at 0x${s.toString(16)}`,
        );
      }
    }
    used.push([pos, pos + length]);
    return pos;
  }

  /** Power Management v3: PMCSR power state and PME_En writable, PME_Status W1C. */
  pm(opts: PmOptions = {}): number {
    const pos = this.addCap(PCI_CAP_ID_PM, PCI_PM_SIZEOF, opts.at);
    const cs = this.cs;
    cs.setU16(pos + PCI_PM_PMC, 0x3 | ((opts.pmcFlags ?? 0) & ~0x7));
    cs.setU16(pos + PCI_PM_CTRL, opts.noSoftReset ? PCI_PM_CTRL_NO_SOFT_RESET : 0);
    cs.setWritable(pos + PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE);
    cs.setW1c(pos + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_STATUS);
    return pos;
  }

  /** MSI: enable and Multiple Message Enable writable; address/data/mask writable; pending RO. */
  msi(opts: MsiOptions): number {
    const log2 = Math.log2(opts.vectors);
    if (!Number.isInteger(log2) || log2 < 0 || log2 > 5) {
      throw new RangeError(`MSI vector count ${opts.vectors} is not 1, 2, 4, 8, 16 or 32`);
    }
    const length = (opts.is64 ? 14 : 10) + (opts.perVectorMask ? 10 : 0);
    const pos = this.addCap(PCI_CAP_ID_MSI, length, opts.at);
    const cs = this.cs;
    let flags = log2 << 1;
    if (opts.is64) flags |= PCI_MSI_FLAGS_64BIT;
    if (opts.perVectorMask) flags |= PCI_MSI_FLAGS_MASKBIT;
    cs.setU16(pos + PCI_MSI_FLAGS, flags);
    cs.setWritable(pos + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    cs.setWritable(pos + PCI_MSI_ADDRESS_LO, 4, 0xfffffffc);
    if (opts.is64) cs.setWritable(pos + PCI_MSI_ADDRESS_HI, 4, 0xffffffff);
    cs.setWritable(pos + (opts.is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 2, 0xffff);
    if (opts.perVectorMask) {
      const mask = opts.vectors === 32 ? 0xffffffff : 2 ** opts.vectors - 1;
      cs.setWritable(pos + (opts.is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 4, mask);
    }
    return pos;
  }

  /**
   * PCI Express v2 capability (full 0x3C bytes). DevCtl error/payload/snoop/MRRS bits are
   * writable; the FLR bit is not stored (it always reads 0 — the device acts on the write).
   */
  pcie(opts: PcieOptions): number {
    const pos = this.addCap(PCI_CAP_ID_EXP, PCI_CAP_EXP_SIZEOF, opts.at);
    const cs = this.cs;
    cs.setU16(pos + PCI_EXP_FLAGS, 0x2 | ((opts.type ?? PCI_EXP_TYPE_ENDPOINT) << 4));
    cs.setU32(pos + PCI_EXP_DEVCAP, opts.devCap);
    cs.setU16(pos + PCI_EXP_DEVCTL, opts.devCtl);
    // Error enables, relaxed ordering, MPS, ext tag, aux PM, no snoop, MRRS (no phantom).
    cs.setWritable(pos + PCI_EXP_DEVCTL, 2, 0x7dff);
    cs.setW1c(pos + PCI_EXP_DEVSTA, 2, 0x000f);
    cs.setU32(pos + PCI_EXP_LNKCAP, opts.lnkCap);
    // ASPM, RCB, common clock, extended synch, clock PM, HW autonomous width disable.
    cs.setWritable(pos + PCI_EXP_LNKCTL, 2, 0x03cb);
    cs.setU16(pos + PCI_EXP_LNKSTA, opts.lnkSta);
    cs.setU32(pos + PCI_EXP_DEVCAP2, opts.devCap2);
    // Completion timeout value/disable, IDO, LTR enable, 10-bit tag requester.
    cs.setWritable(pos + PCI_EXP_DEVCTL2, 2, 0x171f);
    cs.setU32(pos + PCI_EXP_LNKCAP2, opts.lnkCap2);
    cs.setU16(pos + PCI_EXP_LNKCTL2, opts.lnkCtl2);
    cs.setWritable(pos + PCI_EXP_LNKCTL2, 2, 0x003f);
    cs.setU16(pos + PCI_EXP_LNKSTA2, opts.lnkSta2 ?? 0);
    return pos;
  }

  /** Vendor-specific capability of `length` bytes (length byte at +2), body read-only. */
  vendor(length: number, at?: number): number {
    if (!Number.isInteger(length) || length < 3 || length > 0xff) {
      throw new RangeError(`vendor capability length ${length} is not 3..255`);
    }
    const pos = this.addCap(PCI_CAP_ID_VNDR, length, at);
    this.cs.setU8(pos + PCI_CAP_VNDR_LEN, length);
    return pos;
  }

  /** MSI-X: function mask and enable writable; table/PBA location read-only. */
  msix(opts: MsixOptions): number {
    if (!Number.isInteger(opts.vectors) || opts.vectors < 1 || opts.vectors > 2048) {
      throw new RangeError(`MSI-X vector count ${opts.vectors} is not 1..2048`);
    }
    for (const [name, bir, off] of [
      ['table', opts.tableBir, opts.tableOffset],
      ['PBA', opts.pbaBir, opts.pbaOffset],
    ] as const) {
      if (!Number.isInteger(bir) || bir < 0 || bir > 5) throw new RangeError(`bad ${name} BIR`);
      if (!Number.isInteger(off) || off % 8 !== 0 || off < 0 || off > 0xfffffff8) {
        throw new RangeError(`MSI-X ${name} offset 0x${off.toString(16)} is not 8-byte aligned`);
      }
    }
    const pos = this.addCap(PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF, opts.at);
    const cs = this.cs;
    cs.setU16(pos + PCI_MSIX_FLAGS, opts.vectors - 1);
    cs.setWritable(pos + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    cs.setU32(pos + PCI_MSIX_TABLE, (opts.tableOffset | opts.tableBir) >>> 0);
    cs.setU32(pos + PCI_MSIX_PBA, (opts.pbaOffset | opts.pbaBir) >>> 0);
    return pos;
  }

  /** Null extended capability (ID 0): a placeholder that only carries the next pointer. */
  nullExt(reserve = 4, at?: number): number {
    return this.addExtCap(PCI_EXT_CAP_ID_NULL, 0, reserve, at);
  }

  /** Latency Tolerance Reporting: both latency registers writable (value + scale). */
  ltr(at?: number): number {
    const pos = this.addExtCap(PCI_EXT_CAP_ID_LTR, 1, PCI_EXT_CAP_LTR_SIZEOF, at);
    this.cs.setWritable(pos + PCI_LTR_MAX_SNOOP_LAT, 2, 0x1fff);
    this.cs.setWritable(pos + PCI_LTR_MAX_NOSNOOP_LAT, 2, 0x1fff);
    return pos;
  }

  /**
   * Resizable BAR. The size field is read-only here: the cards built with it do not model
   * resizing (the vfio core exposes ReBAR read-only anyway).
   */
  rebar(entries: RebarEntry[], at?: number): number {
    if (entries.length < 1 || entries.length > 6) throw new RangeError('ReBAR needs 1..6 BARs');
    const pos = this.addExtCap(PCI_EXT_CAP_ID_REBAR, 1, 4 + 8 * entries.length, at);
    entries.forEach((e, i) => {
      let cap = 0;
      for (const s of e.sizes) {
        if (!isPow2(s) || s < MIB || s > 2 ** 47) {
          throw new RangeError(`ReBAR size ${s} is not a power of two in 1 MiB..128 TiB`);
        }
        cap += 2 ** (Math.log2(s / MIB) + 4);
      }
      if (!e.sizes.includes(e.current)) throw new RangeError('ReBAR current size not supported');
      let ctrl = (e.barIndex & 7) | (Math.log2(e.current / MIB) << PCI_REBAR_CTRL_BAR_SHIFT);
      if (i === 0) ctrl |= entries.length << PCI_REBAR_CTRL_NBAR_SHIFT;
      this.cs.setU32(pos + PCI_REBAR_CAP + 8 * i, cap >>> 0);
      this.cs.setU32(pos + PCI_REBAR_CTRL + 8 * i, ctrl);
    });
    return pos;
  }

  /** AER v2 for an endpoint: status bits W1C, mask and severity writable. */
  aer(at?: number): number {
    const pos = this.addExtCap(PCI_EXT_CAP_ID_ERR, 2, PCI_ERR_CAP_SIZEOF_ENDPOINT, at);
    const cs = this.cs;
    cs.setW1c(pos + PCI_ERR_UNCOR_STATUS, 4, PCI_ERR_UNC_DEFINED);
    cs.setWritable(pos + PCI_ERR_UNCOR_MASK, 4, PCI_ERR_UNC_DEFINED);
    cs.setU32(pos + PCI_ERR_UNCOR_SEVER, PCI_ERR_UNC_SEVER_DEFAULT);
    cs.setWritable(pos + PCI_ERR_UNCOR_SEVER, 4, PCI_ERR_UNC_DEFINED);
    cs.setW1c(pos + PCI_ERR_COR_STATUS, 4, PCI_ERR_COR_DEFINED);
    cs.setU32(pos + PCI_ERR_COR_MASK, PCI_ERR_COR_ADV_NFAT);
    cs.setWritable(pos + PCI_ERR_COR_MASK, 4, PCI_ERR_COR_DEFINED);
    return pos;
  }

  /** Vendor-specific extended capability; VSEC header = ID, rev, length. Body read-only. */
  vendorExt(vsecId: number, rev: number, length: number, at?: number): number {
    if (!Number.isInteger(length) || length < 8 || length > 0xfff) {
      throw new RangeError(`VSEC length ${length} is not 8..4095`);
    }
    const pos = this.addExtCap(PCI_EXT_CAP_ID_VNDR, 1, length, at);
    const h = ((length << 20) | ((rev & 0xf) << 16) | (vsecId & 0xffff)) >>> 0;
    this.cs.setU32(pos + PCI_VNDR_HEADER, h);
    return pos;
  }

  /** Designated Vendor-Specific Extended Capability; the caller fills registers after +0xA. */
  dvsec(vendor: number, rev: number, dvsecId: number, length: number, at?: number): number {
    if (!Number.isInteger(length) || length < PCI_DVSEC_HEADER_SIZEOF || length > 0xfff) {
      throw new RangeError(`DVSEC length ${length} is not 10..4095`);
    }
    const pos = this.addExtCap(PCI_EXT_CAP_ID_DVSEC, 1, length, at);
    const h1 = ((length << 20) | ((rev & 0xf) << 16) | (vendor & 0xffff)) >>> 0;
    this.cs.setU32(pos + PCI_DVSEC_HEADER1, h1);
    this.cs.setU16(pos + PCI_DVSEC_HEADER2, dvsecId & 0xffff);
    return pos;
  }

  /** Power Budgeting: Data Select writable; Data reads 0 (no budget entries published). */
  powerBudget(at?: number): number {
    const pos = this.addExtCap(PCI_EXT_CAP_ID_PWR, 1, PCI_EXT_CAP_PWR_SIZEOF, at);
    this.cs.setWritable(pos + PCI_PWR_DSR, 1, 0xff);
    return pos;
  }

  /** Device Serial Number (64-bit, low dword first). */
  dsn(serial: bigint, at?: number): number {
    if (serial < 0n || serial >= 1n << 64n) throw new RangeError('DSN must fit 64 bits');
    const pos = this.addExtCap(PCI_EXT_CAP_ID_DSN, 1, PCI_EXT_CAP_DSN_SIZEOF, at);
    this.cs.setU32(pos + PCI_DSN_LOW, Number(serial & 0xffffffffn));
    this.cs.setU32(pos + PCI_DSN_HIGH, Number(serial >> 32n));
    return pos;
  }
}
