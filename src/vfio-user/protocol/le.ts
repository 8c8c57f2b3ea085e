/**
 * Little-endian field access on byte arrays for the per-message hot paths (headers, region
 * accesses): no DataView and no BigInt per message, each of which costs more than the rest of
 * decoding a 4-byte read (measured: bench/, 2026-11).
 *
 * Rules: u64 fields are read as plain numbers — exact up to 2^53 − 1; anything larger reads as
 * +Infinity, which no region or range check accepts, so an out-of-range offset fails like any
 * other out-of-range offset. Writers take safe integers (or, in setU64Any, bigints).
 * Message memory comes from `allocBytes` (see there).
 */

const TWO_32 = 0x1_0000_0000;
/** Above this, the high word of a u64 makes the value exceed 2^53 − 1. */
const SAFE_HIGH = 0x1f_ffff;

export function getU32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

export function setU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v;
  b[o + 1] = v >>> 8;
  b[o + 2] = v >>> 16;
  b[o + 3] = v >>> 24;
}

/** A u64 as a number: exact up to 2^53 − 1, +Infinity above (see the module rules). */
export function getU64(b: Uint8Array, o: number): number {
  const hi = getU32(b, o + 4);
  if (hi > SAFE_HIGH) return Number.POSITIVE_INFINITY;
  return hi * TWO_32 + getU32(b, o);
}

/** Store a non-negative safe integer as a u64. */
export function setU64(b: Uint8Array, o: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`bad u64 value ${v}`);
  setU32(b, o, v % TWO_32);
  setU32(b, o + 4, Math.floor(v / TWO_32));
}

/** Store a u64 given as a number (safe integer) or a bigint (any u64, e.g. a hostile offset). */
export function setU64Any(b: Uint8Array, o: number, v: number | bigint): void {
  if (typeof v === 'number') {
    setU64(b, o, v);
    return;
  }
  if (v < 0n || v >= 1n << 64n) throw new RangeError(`bad u64 value ${v}`);
  setU32(b, o, Number(v & 0xffff_ffffn));
  setU32(b, o + 4, Number(v >> 32n));
}

/**
 * `n` zeroed bytes for a message. Small messages are slices of a shared slab, each byte handed
 * out once (so zeroed without a fill): off V8's heap, unlike a small `new Uint8Array`, so the
 * transport can hand them to the kernel without first copying them into a backing store
 * (≈ 40 ns instead of ≈ 300 ns per message, measured). Large ones get their own buffer.
 */
export function allocBytes(n: number): Uint8Array {
  if (n > SLAB_PIECE_MAX) return new Uint8Array(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const b = slab.subarray(slabUsed, slabUsed + n);
  slabUsed = (slabUsed + n + 7) & ~7; // 8-byte aligned slices, as Node's pool does
  return b;
}

const SLAB_SIZE = 64 * 1024;
const SLAB_PIECE_MAX = 4096;
let slab = new Uint8Array(SLAB_SIZE);
let slabUsed = 0;
