/**
 * createCard: build a GraceCard from a profile name and options (the one entry point the CLI
 * and tests use).
 *
 * Rules: every option is validated with a clear RangeError; building never allocates in
 * proportion to the memory size (a 512 GiB card is built in milliseconds; without a backing
 * a SparseMemory is used).
 */
import type { Clock } from './clock.js';
import { buildConfigImage } from './config-image.js';
import { type EmulatorIdentityTag, GraceCard } from './grace-card.js';
import { type MemoryBacking, SparseMemory } from './memory.js';
import { type CardProfile, DEFAULT_PROFILE, getProfile, type ProfileName } from './profiles.js';

/** The low 24 bits of every NVIDIA DSN seen in real dumps: OUI 48:B0:2D, byte-reversed. */
export const NVIDIA_DSN_OUI = 0x2db048n;

/**
 * Where Grace maps the GPU's memory in the host physical address space: 0x4000_0000_0000
 * (64 TiB) is the base commonly seen for the GPU node in GH200 /proc/iomem; not verified
 * against an ACPI dump, so it is only a plausible default.
 */
export const DEFAULT_GPU_MEM_BASE_PA = 0x4000_0000_0000n;

export interface CreateCardOptions {
  /** Profile name or a full profile; default 'gh200'. */
  profile?: ProfileName | CardProfile;
  /** Device memory size in bytes (`--mem-size`); default the profile's. */
  memSize?: number;
  /** The device memory; its size must equal the memory size. Default: a SparseMemory. */
  memory?: MemoryBacking;
  clock: Clock;
  /** Time after power-on / each reset until C2C and HBM report ready; default 0. Infinity = never. */
  readyDelayMs?: number;
  /** How long a reset lasts (memory all-ones, writes dropped); default 0. */
  resetDurationMs?: number;
  /**
   * ACPI `nvidia,gpu-mem-size`: undefined = the memory size; null = the properties are absent;
   * 0 = present but 0 ("C2C link not up"). Absent or 0 makes the driver fall back to plain
   * vfio-pci. Any other value must equal the memory size.
   */
  acpiMemSize?: number | null;
  /** ACPI `nvidia,gpu-mem-base-pa`; default DEFAULT_GPU_MEM_BASE_PA. */
  acpiMemBasePa?: bigint;
  /** Device Serial Number; default the device ID above NVIDIA's OUI (see NVIDIA_DSN_OUI). */
  serialNumber?: bigint;
  /** CXL parts: time after power-on / each reset until MEM_INFO_VALID; default 0. */
  cxlInfoValidDelayMs?: number;
  /** CXL parts: the Memory_Active_Timeout code (0..7) instead of the profile's. */
  cxlMemActiveTimeoutField?: number;
  /**
   * The band and policy codes the emulator identity block reports (BAR0 + 0xFFF100, not on
   * real hardware); default 0 = not told.
   */
  identity?: EmulatorIdentityTag;
}

function checkMs(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) {
    throw new RangeError(`${name} must be a non-negative number of milliseconds, got ${v}`);
  }
  return v;
}

export function createCard(opts: CreateCardOptions): GraceCard {
  const base =
    typeof opts.profile === 'object' ? opts.profile : getProfile(opts.profile ?? DEFAULT_PROFILE);
  const code = opts.cxlMemActiveTimeoutField;
  if (code !== undefined && (!Number.isInteger(code) || code < 0 || code > 7)) {
    throw new RangeError(`Memory_Active_Timeout code must be 0..7, got ${code}`);
  }
  if (code !== undefined && !base.cxlDvsec) {
    throw new RangeError(`profile ${base.name} has no CXL Device DVSEC to carry a timeout`);
  }
  const profile: CardProfile =
    code === undefined ? base : { ...base, cxlDvsec: { memActiveTimeoutField: code } };
  const memSize = opts.memSize ?? profile.memSize;
  if (!Number.isSafeInteger(memSize) || memSize <= 0) {
    throw new RangeError(`memory size must be a positive whole number of bytes, got ${memSize}`);
  }
  const memory = opts.memory ?? new SparseMemory(memSize);
  if (memory.size !== memSize) {
    throw new RangeError(
      `memory backing is ${memory.size} bytes but the card's memory size is ${memSize} bytes`,
    );
  }
  const acpiSize = opts.acpiMemSize === undefined ? memSize : opts.acpiMemSize;
  if (acpiSize !== null && acpiSize !== 0 && acpiSize !== memSize) {
    throw new RangeError(
      `acpiMemSize must be null, 0 or the memory size (${memSize}), got ${acpiSize}`,
    );
  }
  const basePa = opts.acpiMemBasePa ?? DEFAULT_GPU_MEM_BASE_PA;
  if (basePa < 0n || basePa >= 1n << 64n) throw new RangeError('acpiMemBasePa must fit 64 bits');
  // NVIDIA's DSN layout: the OUI 48:B0:2D in the low three bytes (config bytes 48 B0 2D), the
  // serial above it — real H20 "9f-21-0f-69-a4-2d-b0-48" (NVIDIA/nvtrust#128) and GB10
  // "00-00-00-00-00-2d-b0-48". The default serial is the device ID (assumption).
  const serialNumber = opts.serialNumber ?? (BigInt(profile.deviceId) << 24n) | NVIDIA_DSN_OUI;
  return new GraceCard({
    profile,
    image: buildConfigImage(profile, { serialNumber, memSize }),
    memory,
    clock: opts.clock,
    acpi: acpiSize === null ? null : { memBasePa: basePa, memSize: acpiSize },
    readyDelayMs: checkMs('readyDelayMs', opts.readyDelayMs),
    resetDurationMs: checkMs('resetDurationMs', opts.resetDurationMs),
    cxlInfoValidDelayMs: checkMs('cxlInfoValidDelayMs', opts.cxlInfoValidDelayMs),
    ...(opts.identity ? { identity: opts.identity } : {}),
  });
}
