/**
 * Card profiles as data: what differs between the Grace-attached GPUs the nvgrace-gpu driver
 * binds (IDs, memory size, Hopper vs Blackwell MIG bug, BAR sizes, BAR0 ID registers).
 *
 * Rules: only facts and documented assumptions live here — no behaviour. Sources and
 * assumptions are summarised in docs/driver-rules.md §1, §10; every value not found in a
 * source is marked "assumption" with the reasoning.
 */

const MIB = 2 ** 20;
const GIB = 2 ** 30;

export type ProfileName =
  | 'gh200'
  | 'gh200-144g'
  | 'gh200-2345'
  | 'gb200'
  | 'gb300'
  | 'blackwell-next';

export interface CardProfile {
  readonly name: ProfileName;
  /** One line for the CLI's profile list. */
  readonly description: string;
  readonly vendorId: number;
  readonly deviceId: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
  readonly revision: number;
  /** Device (coherent, C2C-attached) memory size in bytes = ACPI `nvidia,gpu-mem-size`. */
  readonly memSize: number;
  /**
   * Hopper's MIG hardware bug (needs the 1 GiB uncached resmem carve-out). Encoded in the
   * NVIDIA DVSEC ID 3 register at +0xA: bit 0 set = no bug (Blackwell), clear = bug (Hopper).
   */
  readonly migHwBug: boolean;
  /** NV_PMC_BOOT_0 (BAR0 + 0x0) and NV_PMC_BOOT_42 (BAR0 + 0xA00). */
  readonly boot0: number;
  readonly boot42: number;
  /** Real BAR1 (config BAR2/3, 64-bit prefetchable) size in bytes. */
  readonly bar1Size: number;
  /** Real regions 4/5 (64-bit prefetchable) size in bytes; 0 = none. */
  readonly bar4Size: number;
  /**
   * The CXL Device DVSEC (vendor 0x1E98, ID 0) in extended config space, or absent. Its
   * presence is what makes a ≥ 7.2 driver wait on it instead of polling BAR0.
   * `memActiveTimeoutField` is the Memory_Active_Timeout code (bits 15:13 of Range 1 Size Low).
   */
  readonly cxlDvsec?: { readonly memActiveTimeoutField: number };
}

/**
 * Common to all profiles, with the source of each value:
 * - Class 0x0302 (3D controller), revision 0xA1: real dumps of every Grace part — GH200
 *   10de:2342 (lspci -v on the host, posted by the driver's author in its LKML review:
 *   lore.kernel.org "vfio/nvgrace-gpu" v17/v18 thread, "0009:01:00.0 3D controller: NVIDIA
 *   Corporation Device 2342 (rev a1)"), GB200 10de:2941 and GB300 10de:31c2 (lspci -nn in
 *   OpenNebula's Grace passthrough guide and NVIDIA/mig-parted#227).
 * - BAR0 16 MiB, 64-bit prefetchable: real GH200 dump above ("Memory at 661002000000 (64-bit,
 *   prefetchable) [size=16M]"); for GB200/GB300 an assumption (same as every Hopper part).
 * - Regions 4/5: 32 MiB 64-bit prefetchable: real GH200 dump above ("[size=32M]"); an
 *   assumption for GB200/GB300. The nvgrace variant replaces index 4 with its fake usemem BAR
 *   whenever ACPI memory is present, so it only shows on the plain vfio-pci fallback.
 * - Subsystem vendor 0x10DE (all dumps above).
 */
export const BAR0_SIZE = 16 * MIB;
const BAR4_SIZE = 32 * MIB;

/** NV_PMC_BOOT_0 = arch [28:24] | impl [23:20] | major [7:4] | minor [3:0]; rev A1. */
const BOOT0_GH100_A1 = 0x180000a1;
const BOOT0_GB100_A1 = 0x1a0000a1;
/** NV_PMC_BOOT_42 = arch [29:24] | impl [23:20] | major [19:16] | minor [15:12]. */
const BOOT42_GH100_A1 = 0x180a1000;
const BOOT42_GB100_A1 = 0x1a0a1000;
/**
 * Blackwell-Next: assumption — the next architecture code after GB20x (0x1B), i.e. arch 0x1C,
 * impl 0, rev A1 (open-gpu-kernel-modules names a GR1XX class 0x1C0; no BOOT_0 dump found).
 */
const BOOT0_NEXT_A1 = 0x1c0000a1;
const BOOT42_NEXT_A1 = 0x1c0a1000;

/** Hopper BAR1: 128 GiB on the real GH200 10de:2342 dump ("[size=128G]", LKML thread above). */
const HOPPER_BAR1_96G = 128 * GIB;
/** GH200 144G (10de:2348): assumption — the next power of two above its 144 GiB of HBM3e. */
const HOPPER_BAR1_144G = 256 * GIB;
/** Blackwell BAR1: size not public; 256 MiB is an assumption (brief), kept small on purpose. */
const BLACKWELL_BAR1 = 256 * MIB;

const common = {
  vendorId: 0x10de,
  subsystemVendorId: 0x10de,
  revision: 0xa1,
  bar4Size: BAR4_SIZE,
} as const;

export const PROFILES: Readonly<Record<ProfileName, CardProfile>> = {
  gh200: {
    ...common,
    name: 'gh200',
    description: 'GH200 (10de:2342, "GH200 480GB"), Hopper, 96 GiB HBM3',
    deviceId: 0x2342,
    // Real: "Subsystem: NVIDIA Corporation Device 16eb" (GH200 host lspci, LKML thread above).
    subsystemId: 0x16eb,
    // ~96 GiB is what GH200 480GB nodes report (§10); the exact ACPI value is not public.
    memSize: 96 * GIB,
    migHwBug: true,
    boot0: BOOT0_GH100_A1,
    boot42: BOOT42_GH100_A1,
    bar1Size: HOPPER_BAR1_96G,
  },
  'gh200-144g': {
    ...common,
    name: 'gh200-144g',
    description: 'GH200 144G HBM3e (10de:2348), Hopper, 144 GiB HBM3e',
    deviceId: 0x2348,
    // Assumption: no public dump of 10de:2348 gives its subsystem ID.
    subsystemId: 0x1809,
    memSize: 144 * GIB,
    migHwBug: true,
    boot0: BOOT0_GH100_A1,
    boot42: BOOT42_GH100_A1,
    bar1Size: HOPPER_BAR1_144G,
  },
  'gh200-2345': {
    ...common,
    name: 'gh200-2345',
    description: 'GH200 (10de:2345, driver table "GH200 480GB"), Hopper, 96 GiB (assumed)',
    deviceId: 0x2345,
    // Assumption: no public dump of 10de:2345 gives its subsystem ID.
    subsystemId: 0x16f5,
    // Assumption: same HBM3 96 GiB as 0x2342 (no source gives this SKU's memory).
    memSize: 96 * GIB,
    migHwBug: true,
    boot0: BOOT0_GH100_A1,
    boot42: BOOT42_GH100_A1,
    bar1Size: HOPPER_BAR1_96G,
  },
  gb200: {
    ...common,
    name: 'gb200',
    description: 'GB200 (10de:2941), Blackwell, 192 GiB HBM3e per GPU',
    deviceId: 0x2941,
    // Real: "Subsystem: NVIDIA Corporation Device [10de:2046]" on all four GPUs of a GB200
    // tray (lspci -nnkk in OpenNebula's Grace passthrough guide; NVIDIA/mig-parted#227).
    subsystemId: 0x2046,
    // 192 GB HBM3e per B200 GPU in GB200 (NVIDIA datasheet: 384 GB per 2-GPU superchip);
    // taken as 192 GiB, the doc's Blackwell worked example (§1.3).
    memSize: 192 * GIB,
    migHwBug: false,
    boot0: BOOT0_GB100_A1,
    boot42: BOOT42_GB100_A1,
    bar1Size: BLACKWELL_BAR1,
  },
  gb300: {
    ...common,
    name: 'gb300',
    description: 'GB300 (10de:31c2), Blackwell Ultra, 288 GiB HBM3e per GPU',
    deviceId: 0x31c2,
    // Assumption: the GB300 dumps found show class and revision but not the subsystem ID.
    subsystemId: 0x1a2c,
    // 288 GB HBM3e per GPU (§10), taken as 288 GiB (§1.3 example).
    memSize: 288 * GIB,
    migHwBug: false,
    // GB300's chipset value was not found (§10): assumption = the GB10x encoding (arch 0x1A,
    // impl 0, rev A1), i.e. the same BOOT_0/BOOT_42 as GB200.
    boot0: BOOT0_GB100_A1,
    boot42: BOOT42_GB100_A1,
    bar1Size: BLACKWELL_BAR1,
  },
  'blackwell-next': {
    ...common,
    name: 'blackwell-next',
    description:
      'Blackwell-Next (10de:3041, assumed), readiness via CXL Device DVSEC (kernel >= 7.2), 288 GiB',
    // Assumption: 10de:3041 is what lspci shows for the Vera Rubin GPU PF on one Vera Rubin
    // NVL system (kubevirt/kubevirt#19070; another report names 10de:307f). NV-Kernels PR 382
    // calls the parts the 7.2 readiness check targets "Blackwell-Next (VR)". The 7.2 driver's
    // ID table does not list it: it binds through driver_override (PCI_DRIVER_OVERRIDE_DEVICE_VFIO
    // matches any device then), and the readiness path is chosen by the DVSEC, not the ID.
    deviceId: 0x3041,
    subsystemId: 0x1b00,
    // Assumption: 288 GiB of HBM4, as GB300 (no ACPI gpu-mem-size of such a part is public;
    // an nvml capture of pre-release Vera Rubin shows 280 GiB usable).
    memSize: 288 * GIB,
    migHwBug: false,
    boot0: BOOT0_NEXT_A1,
    boot42: BOOT42_NEXT_A1,
    bar1Size: BLACKWELL_BAR1,
    // Assumption: Memory_Active_Timeout 010b = 16 s. The register value of a real part is not
    // public; the field allows 1/4/16/64/256 s, and 16 s keeps the wait below the legacy 30 s.
    cxlDvsec: { memActiveTimeoutField: 0b010 },
  },
};

export const DEFAULT_PROFILE: ProfileName = 'gh200';

export const PROFILE_NAMES: readonly ProfileName[] = Object.keys(PROFILES) as ProfileName[];

/** Profile names with their one-line descriptions, default first, for the CLI. */
export function listProfiles(): { name: ProfileName; description: string; isDefault: boolean }[] {
  return PROFILE_NAMES.map((name) => ({
    name,
    description: PROFILES[name].description,
    isDefault: name === DEFAULT_PROFILE,
  }));
}

/** Parse a profile name (case-insensitive); throws a RangeError listing the valid names. */
export function parseProfileName(text: string): ProfileName {
  const t = text.trim().toLowerCase();
  if ((PROFILE_NAMES as readonly string[]).includes(t)) return t as ProfileName;
  throw new RangeError(`unknown card profile '${text}' (known: ${PROFILE_NAMES.join(', ')})`);
}

export function getProfile(name: ProfileName): CardProfile {
  const p = PROFILES[name];
  if (!p) throw new RangeError(`unknown card profile '${String(name)}'`);
  return p;
}
