/**
 * What `inspect` reports the server emulates: the emulator identity block (BAR0 + 0xFFF100,
 * EMULATOR EXTENSION, NOT ON REAL HARDWARE; src/hw/emu-identity.ts) read the way any BAR0
 * register is, and the usemem/resmem sizes the served regions carry.
 *
 * Rules: 4-byte REGION_READs of BAR0 only (no new message). Anything but the magic — a server
 * that is not this emulator, a card off the bus (all-ones), an error reply such as EIO, a BAR0
 * too small — gives identity null ("unknown"); only a lost connection is an error. Codes this client does not know decode to null.
 */

import {
  decodeIdentity,
  EMU_IDENTITY,
  IDENTITY_MAGIC,
  type IdentityFields,
  profileFromCode,
} from '../hw/emu-identity.js';
import type { ProfileName } from '../hw/profiles.js';
import { bandFromCode, type KernelBand } from '../nvgrace/kernel-bands.js';
import { policiesFromCode, type ReviewPolicies } from '../nvgrace/policies.js';
import { PciRegion } from '../uapi/vfio.js';
import type { VfioUserClient } from '../vfio-user/client/client.js';
import { RemoteError } from '../vfio-user/protocol/index.js';
import type { ServedRegion } from './region-labels.js';
import { labelRegion } from './region-labels.js';

/** The fields read, up to and including the 64-bit memory size. */
const IDENTITY_READ = 0x20;

export interface IdentityReport {
  version: number;
  profile: ProfileName | null;
  kernel: KernelBand | null;
  policies: ReviewPolicies | null;
  /** Device memory size (the whole coherent memory), hex. */
  memSize: string;
}

export interface ServedMemory {
  /** Bytes of cacheable "usemem" a VMM can map, hex; null when none is served. */
  usemem: string | null;
  /** Bytes of uncached "resmem" (Hopper), hex; null when none is served. */
  resmem: string | null;
}

const hex = (v: bigint | number) => `0x${v.toString(16)}`;

export function identityReport(f: IdentityFields & { version: number }): IdentityReport {
  return {
    version: f.version,
    profile: profileFromCode(f.profileCode),
    kernel: bandFromCode(f.bandCode),
    policies: policiesFromCode(f.policyCode),
    memSize: hex(f.memSize),
  };
}

/** The identity block through BAR0, or null when the server shows none. */
export async function readIdentity(
  client: VfioUserClient,
  bar0Size: bigint,
): Promise<IdentityReport | null> {
  if (bar0Size < BigInt(EMU_IDENTITY + IDENTITY_READ)) return null;
  const block = new Uint8Array(IDENTITY_READ);
  try {
    for (let at = 0; at < IDENTITY_READ; at += 4) {
      const b = await client.regionRead(PciRegion.BAR0, EMU_IDENTITY + at, 4);
      if (b.length !== 4) return null;
      block.set(b, at);
      // Stop at once when the first word is not the magic (all-ones off the bus, a real GPU).
      if (
        at === 0 &&
        new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) !== IDENTITY_MAGIC
      ) {
        return null;
      }
    }
  } catch (e) {
    // The server refused the read (EIO and the like): unknown. A lost connection is no answer.
    if (e instanceof RemoteError) return null;
    throw e;
  }
  const f = decodeIdentity(block);
  return f ? identityReport(f) : null;
}

/** The usemem/resmem sizes the served regions carry (their sparse-mmap areas). */
export function servedMemory(regions: readonly ServedRegion[]): ServedMemory {
  let usemem: number | null = null;
  let resmem: number | null = null;
  for (const r of regions) {
    const label = labelRegion(r);
    if (label?.role === 'usemem') usemem = label.memory ?? null;
    else if (label?.role === 'resmem') resmem = label.memory ?? null;
    else if (label?.role === 'vendor-memory') {
      usemem = r.sparseAreas[0]?.size ?? null;
      resmem = r.sparseAreas[1]?.size ?? null;
    }
  }
  return {
    usemem: usemem === null ? null : hex(usemem),
    resmem: resmem === null ? null : hex(resmem),
  };
}
