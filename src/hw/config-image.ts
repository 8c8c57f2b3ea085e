/**
 * The power-on config image of a Grace GPU: type 0 header, BAR sizing masks, and the
 * capability chain of the Hopper proxy (H20, docs/driver-rules.md §10) plus the NVIDIA DVSEC.
 *
 * Rules: the offsets are fixed for every profile. Each value names its source: a real dump
 * (with where it was published) or "assumption". No public dump of a Grace part's capability
 * list was found (the GH200 one in the driver's LKML review shows the header and BARs only),
 * so the chain is the H20's (NVIDIA/nvtrust#128, lspci -vvv of 10de:2329) and the DVSEC —
 * absent from the H20 capture — is placed in its gap at 0x2C8 (assumption). Write masks are
 * what the hardware allows: BAR address bits above the size, command bits of a PCIe endpoint,
 * W1C error status bits, and the per-capability masks set by the pci builders.
 */

import { CapabilityBuilder } from '../pci/capabilities.js';
import { ConfigSpace } from '../pci/config-space.js';
import {
  barOffset,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_CACHE_LINE_SIZE,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CLASS_DISPLAY_3D,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_NORMAL,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_REVISION_ID,
  PCI_STATUS,
  PCI_STATUS_ERROR_BITS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from '../pci/constants.js';
import {
  cxlRangeSizeHigh,
  cxlRangeSizeLow,
  cxlRangeSizeRegisters,
  PCI_DVSEC_CXL_CAP,
  PCI_DVSEC_CXL_DEVICE,
  PCI_DVSEC_CXL_DEVICE_LENGTH,
  PCI_DVSEC_CXL_HDM_COUNT_1,
  PCI_DVSEC_CXL_MEM_CAPABLE,
  PCI_VENDOR_ID_CXL,
} from '../pci/cxl-dvsec.js';
import type { BarResource } from './card.js';
import type { CardProfile } from './profiles.js';
import { BAR0_SIZE } from './profiles.js';

const MIB = 2 ** 20;
const TWO32 = 2 ** 32;

/**
 * Where things are in the image and in BAR0 (fixed for every profile). Capability offsets and
 * the MSI (1/16, maskable, 64-bit) and MSI-X (9) vector counts: real H20 dump
 * (NVIDIA/nvtrust#128); the MSI cap at 0x48 with flags 0x0188 also matches the real H100 SXM
 * hexdump (topofmind.dev) and the GB10 lspci (NixOS/nixpkgs#527847).
 */
export const LAYOUT = {
  pm: 0x40,
  msi: 0x48,
  pcie: 0x60,
  vendor: 0x9c,
  msix: 0xb0,
  nullExt: 0x100,
  ltr: 0x12c,
  rebar: 0x134,
  aer: 0x1b8,
  vendorExt: 0x2a4,
  powerBudget: 0x2b8,
  nvDvsec: 0x2c8,
  dsn: 0x2f0,
  /** CXL Device DVSEC, only on profiles that have one (after the DSN's 0xC bytes). */
  cxlDvsec: 0x300,
  msiVectors: 16,
  msixVectors: 9,
  /** MSI-X table and PBA in BAR0, at the offsets NVIDIA GPUs report in lspci. */
  msixTableBar: 0,
  msixTableOffset: 0xb90000,
  msixPbaBar: 0,
  msixPbaOffset: 0xba0000,
} as const;

/** NVIDIA DVSEC (vendor 0x10DE, DVSEC ID 3): length, and the register the driver reads. */
export const NV_DVSEC_VENDOR = 0x10de;
export const NV_DVSEC_ID = 3;
export const NV_DVSEC_LENGTH = 0x10;
export const NV_DVSEC_MIG_REG = 0xa;
/** Bit 0 of the +0xA register: MIG_SUPPORTED_WITH_CACHED_RESMEM (set on Blackwell). */
export const NV_DVSEC_MIG_CACHED_RESMEM = 0x1;

/** PMC bit 4: Immediate_Readiness_on_Return_to_D0 (set on the real H100 dump, PMC 0x0013). */
const PM_PMC_IMMEDIATE_READINESS = 0x0010;

/** Command register bits a PCIe endpoint implements (H100 dump shows 0x0547 set). */
export const COMMAND_WRITABLE =
  PCI_COMMAND_IO |
  PCI_COMMAND_MEMORY |
  PCI_COMMAND_MASTER |
  PCI_COMMAND_PARITY |
  PCI_COMMAND_SERR |
  PCI_COMMAND_INTX_DISABLE;

const MEM64_PREF = PCI_BASE_ADDRESS_MEM_TYPE_64 | PCI_BASE_ADDRESS_MEM_PREFETCH;

/** The host BAR resources of a profile (index 0..5; the upper half of a 64-bit BAR has size 0). */
export function profileBars(profile: CardProfile): BarResource[] {
  const bar = (index: number, size: number): BarResource => ({
    index,
    size,
    io: false,
    is64: size > 0,
    prefetch: size > 0,
  });
  const none = (index: number): BarResource => ({
    index,
    size: 0,
    io: false,
    is64: false,
    prefetch: false,
  });
  return [
    bar(0, BAR0_SIZE),
    none(1),
    bar(2, profile.bar1Size),
    none(3),
    profile.bar4Size > 0 ? bar(4, profile.bar4Size) : none(4),
    none(5),
  ];
}

function setBarRegisters(cs: ConfigSpace, bars: readonly BarResource[]): void {
  for (const b of bars) {
    if (b.size === 0 || !b.is64) continue;
    const lo = barOffset(b.index);
    cs.setU32(lo, MEM64_PREF);
    // Address bits at and above the size are writable; the type bits never are.
    const loMask = b.size >= TWO32 ? 0 : (~(b.size - 1) & 0xfffffff0) >>> 0;
    const hiMask = b.size <= TWO32 ? 0xffffffff : ~(b.size / TWO32 - 1) >>> 0;
    cs.setWritable(lo, 4, loMask);
    cs.setWritable(lo + 4, 4, hiMask);
  }
}

/** ReBAR sizes offered for BAR1: 64 MiB up to its current size (assumption). */
function rebarSizes(size: number): number[] {
  const out: number[] = [];
  for (let s = 64 * MIB; s <= size; s *= 2) out.push(s);
  return out.length > 0 ? out : [size];
}

export interface ConfigImageOptions {
  /** Device Serial Number. */
  serialNumber: bigint;
  /** Device memory size (the CXL DVSEC's Range 1 size); default the profile's. */
  memSize?: number;
}

/** Build the power-on config image of `profile`. */
export function buildConfigImage(profile: CardProfile, opts: ConfigImageOptions): ConfigSpace {
  const cs = new ConfigSpace(PCI_CFG_SPACE_EXP_SIZE);
  cs.setU16(PCI_VENDOR_ID, profile.vendorId);
  cs.setU16(PCI_DEVICE_ID, profile.deviceId);
  cs.setU16(PCI_COMMAND, 0);
  cs.setWritable(PCI_COMMAND, 2, COMMAND_WRITABLE);
  cs.setU16(PCI_STATUS, 0);
  cs.setW1c(PCI_STATUS, 2, PCI_STATUS_ERROR_BITS);
  cs.setU8(PCI_REVISION_ID, profile.revision);
  cs.setU8(PCI_CLASS_PROG, PCI_CLASS_DISPLAY_3D & 0xff);
  cs.setU16(PCI_CLASS_PROG + 1, PCI_CLASS_DISPLAY_3D >>> 8);
  cs.setWritable(PCI_CACHE_LINE_SIZE, 1, 0xff);
  cs.setU8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL);
  cs.setU16(PCI_SUBSYSTEM_VENDOR_ID, profile.subsystemVendorId);
  cs.setU16(PCI_SUBSYSTEM_ID, profile.subsystemId);
  cs.setWritable(PCI_INTERRUPT_LINE, 1, 0xff);
  cs.setU8(PCI_INTERRUPT_PIN, 1);
  setBarRegisters(cs, profileBars(profile));

  const b = new CapabilityBuilder(cs);
  // PMC 0x0013 (version 3, bit 4 Immediate Readiness, no PME from any state) and PMCSR
  // NoSoftRst+: real H100 SXM config hexdump (topofmind.dev/notes/sysadmin/gpu, "4801 0013
  // 0008") and H100 PCIe / GB10 lspci -vvv ("PME(D0-,D1-,D2-,D3hot-,D3cold-)", NVIDIA/nvtrust#51,
  // NixOS/nixpkgs#527847). Was PME(D0+,D3hot+), a guess.
  b.pm({ at: LAYOUT.pm, pmcFlags: PM_PMC_IMMEDIATE_READINESS, noSoftReset: true });
  b.msi({ at: LAYOUT.msi, vectors: LAYOUT.msiVectors, is64: true, perVectorMask: true });
  b.pcie({
    at: LAYOUT.pcie,
    // MPS 256 B, ExtTag+, acceptable latency L0s <64ns / L1 <1us, RBE+, FLReset+, slot power
    // 0 W: real H100 PCIe and GB10 lspci -vvv (NVIDIA/nvtrust#51, NixOS/nixpkgs#527847: "Latency
    // L0s <64ns, L1 <1us ... RBE+ FLReset+"); slot power 0 as on the slot-less GB10 (assumption
    // for the C2C-attached GPU). Was L0s/L1 "unlimited", a guess.
    devCap: 0x10008021,
    // Relaxed ordering + no snoop enabled, MPS 128 B, MRRS 512 B (PCIe spec reset defaults).
    devCtl: 0x2810,
    // 32 GT/s x16 (Gen5, as H100), ASPM not supported: assumption (no Grace LnkCap found).
    lnkCap: 0x00000105,
    lnkSta: 0x1105,
    // Completion timeout ranges A-D + disable, LTR, 10-bit tag completer/requester: assumption.
    devCap2: 0x0003081f,
    lnkCap2: 0x0000003e,
    lnkCtl2: 0x0005,
  });
  b.vendor(0x14, LAYOUT.vendor);
  b.msix({
    at: LAYOUT.msix,
    vectors: LAYOUT.msixVectors,
    tableBir: LAYOUT.msixTableBar,
    tableOffset: LAYOUT.msixTableOffset,
    pbaBir: LAYOUT.msixPbaBar,
    pbaOffset: LAYOUT.msixPbaOffset,
  });

  b.nullExt(LAYOUT.ltr - LAYOUT.nullExt, LAYOUT.nullExt);
  b.ltr(LAYOUT.ltr);
  b.rebar(
    [{ barIndex: 2, sizes: rebarSizes(profile.bar1Size), current: profile.bar1Size }],
    LAYOUT.rebar,
  );
  b.aer(LAYOUT.aer);
  b.vendorExt(0x0001, 1, 0x14, LAYOUT.vendorExt);
  b.powerBudget(LAYOUT.powerBudget);
  const dvsec = b.dvsec(NV_DVSEC_VENDOR, 0, NV_DVSEC_ID, NV_DVSEC_LENGTH, LAYOUT.nvDvsec);
  cs.setU16(dvsec + NV_DVSEC_MIG_REG, profile.migHwBug ? 0 : NV_DVSEC_MIG_CACHED_RESMEM);
  b.dsn(opts.serialNumber, LAYOUT.dsn);
  if (profile.cxlDvsec) {
    // Mem-capable with one HDM range; Range 1 Size Low's status bits start clear (power-on:
    // the card sets them as its memory comes up, see GraceCard.cfgRead). Revision 2 is the
    // CXL 2.0+ layout. Everything in it is read-only here.
    const at = b.dvsec(
      PCI_VENDOR_ID_CXL,
      2,
      PCI_DVSEC_CXL_DEVICE,
      PCI_DVSEC_CXL_DEVICE_LENGTH,
      LAYOUT.cxlDvsec,
    );
    cs.setU16(at + PCI_DVSEC_CXL_CAP, PCI_DVSEC_CXL_MEM_CAPABLE | PCI_DVSEC_CXL_HDM_COUNT_1);
    const regs = cxlRangeSizeRegisters(opts.memSize ?? profile.memSize, {
      infoValid: false,
      active: false,
      timeoutField: profile.cxlDvsec.memActiveTimeoutField,
    });
    cs.setU32(at + cxlRangeSizeHigh(0), regs.high);
    cs.setU32(at + cxlRangeSizeLow(0), regs.low);
  }
  return cs;
}
