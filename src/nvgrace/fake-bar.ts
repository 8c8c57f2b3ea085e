/**
 * The emulated BAR registers of the fake BARs in config space (docs/driver-rules.md §2).
 *
 * Rules:
 * - Each fake BAR is one 64-bit register bar_val; it reads (bar_val & ~(bar_size − 1)) | 0xC
 *   (64-bit prefetchable), little-endian, at any alignment/length.
 * - Matching is first-match if / else-if: a range touching [0x18,0x20) selects resmem (and on
 *   Blackwell, where there is none, nothing: no overlay, the write goes to the core) even when
 *   it also touches [0x20,0x28); only otherwise [0x20,0x28) selects usemem.
 * - A write copies only the intersecting bytes and reports only their count (short write).
 */
import type { MemRegion } from './layout.js';

export const BAR2_LO = 0x18;
export const BAR4_LO = 0x20;

export interface FakeBarReg {
  region: MemRegion;
  barVal: bigint;
}

export interface Intersection {
  /** Position of the first intersecting byte in the user's buffer. */
  bufOffset: number;
  /** Position of that byte in the 8-byte register. */
  regOffset: number;
  count: number;
}

/** range_intersect_range(pos, count, reg, 8). */
export function intersect(pos: number, count: number, reg: number): Intersection | null {
  const s = Math.max(pos, reg);
  const e = Math.min(pos + count, reg + 8);
  if (s >= e) return null;
  return { bufOffset: s - pos, regOffset: s - reg, count: e - s };
}

/** Which register (start offset) a config access selects, per the first-match rule. */
export function selectRegister(
  pos: number,
  count: number,
): { reg: number; hit: Intersection } | null {
  const a = intersect(pos, count, BAR2_LO);
  if (a) return { reg: BAR2_LO, hit: a };
  const b = intersect(pos, count, BAR4_LO);
  if (b) return { reg: BAR4_LO, hit: b };
  return null;
}

/** The 8 bytes a fake BAR register reads as. */
export function readValue(r: FakeBarReg): Uint8Array {
  const size = BigInt(r.region.barSize);
  const v = (r.barVal & ~(size - 1n) & 0xffff_ffff_ffff_ffffn) | 0xcn;
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, true);
  return out;
}

/** Merge `count` bytes of `src` into the register at byte `regOffset`. */
export function mergeBytes(r: FakeBarReg, src: Uint8Array, regOffset: number): void {
  const cur = new Uint8Array(8);
  const dv = new DataView(cur.buffer);
  dv.setBigUint64(0, r.barVal, true);
  cur.set(src, regOffset);
  r.barVal = dv.getBigUint64(0, true);
}
