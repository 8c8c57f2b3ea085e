/**
 * The emulator identity block: EMULATOR EXTENSION, NOT ON REAL HARDWARE. Sixteen read-only
 * 32-bit words at BAR0 + 0xFFF100 that tell a client (`inspect`) what the server emulates: the
 * profile, the kernel band, the review policies and the device memory size. A real GPU has
 * something else at those offsets and a guest driver never reads there; only tools that know
 * this emulator do, and they trust the block only when the magic reads 'NVGU'.
 *
 * Rules: the layout below is versioned (IDENTITY_VERSION); fields are little-endian words,
 * 64-bit values as low word then high word. Codes are 1-based so that 0 means "not told":
 * the profile code is 1 + its index in PROFILE_NAMES; the band and policy codes are opaque
 * here (the card is hardware, not policy) — bandCode() in src/nvgrace/kernel-bands.ts and
 * policyCode() in src/nvgrace/policies.ts own their meaning, and the CLI passes them in at card
 * construction (build-device.ts). Reads go through the card's decode state
 * like every BAR0 read, so a card off the bus shows all-ones, hence no magic.
 */

import { PROFILE_NAMES, type ProfileName } from './profiles.js';

/** BAR0 offset of the block (next to the IRQ trigger at 0xFFF000). */
export const EMU_IDENTITY = 0xfff100;
/** 'NVGU' as bytes N V G U, read as one little-endian word. */
export const IDENTITY_MAGIC = 0x5547564e;
export const IDENTITY_VERSION = 1;
/** Bytes in the block (reads past the fields inside it return 0). */
export const IDENTITY_SIZE = 0x40;

/** Word offsets inside the block. */
export const IdentityReg = {
  MAGIC: 0x00,
  VERSION: 0x04,
  PROFILE: 0x08,
  KERNEL_BAND: 0x0c,
  POLICIES: 0x10,
  MEM_SIZE_LO: 0x18,
  MEM_SIZE_HI: 0x1c,
} as const;

export interface IdentityFields {
  /** 1 + index in PROFILE_NAMES; 0 = unknown. */
  profileCode: number;
  /** Opaque band code (kernel-bands.ts bandCode()); 0 = not told. */
  bandCode: number;
  /** Opaque policy code (policies.ts policyCode()); 0 = not told. */
  policyCode: number;
  memSize: bigint;
}

export function profileCode(name: ProfileName): number {
  return PROFILE_NAMES.indexOf(name) + 1;
}

export function profileFromCode(code: number): ProfileName | null {
  return PROFILE_NAMES[code - 1] ?? null;
}

/** The block's bytes for these fields. */
export function encodeIdentity(f: IdentityFields): Uint8Array {
  const b = new Uint8Array(IDENTITY_SIZE);
  const v = new DataView(b.buffer);
  v.setUint32(IdentityReg.MAGIC, IDENTITY_MAGIC, true);
  v.setUint32(IdentityReg.VERSION, IDENTITY_VERSION, true);
  v.setUint32(IdentityReg.PROFILE, f.profileCode >>> 0, true);
  v.setUint32(IdentityReg.KERNEL_BAND, f.bandCode >>> 0, true);
  v.setUint32(IdentityReg.POLICIES, f.policyCode >>> 0, true);
  v.setBigUint64(IdentityReg.MEM_SIZE_LO, f.memSize, true);
  return b;
}

/** The fields from a block's first 0x20 bytes, or null without the magic (e.g. all-ones). */
export function decodeIdentity(b: Uint8Array): (IdentityFields & { version: number }) | null {
  if (b.length < 0x20) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint32(IdentityReg.MAGIC, true) !== IDENTITY_MAGIC) return null;
  return {
    version: v.getUint32(IdentityReg.VERSION, true),
    profileCode: v.getUint32(IdentityReg.PROFILE, true),
    bandCode: v.getUint32(IdentityReg.KERNEL_BAND, true),
    policyCode: v.getUint32(IdentityReg.POLICIES, true),
    memSize: v.getBigUint64(IdentityReg.MEM_SIZE_LO, true),
  };
}
