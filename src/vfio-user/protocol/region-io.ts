/**
 * REGION_READ (9), REGION_WRITE (10), REGION_WRITE_MULTI (15).
 *
 * Access struct (16): offset u64 @0, region u32 @8, count u32 @12; REGION_WRITE data @16.
 * Replies: READ = struct (count = bytes read) + data; WRITE = struct (count = bytes written).
 * WRITE_MULTI: wr_cnt u64 @0, then wr_cnt entries of 24 bytes at @8: offset u64, region u32,
 * count u32 (≤ 8), data[8]. Reply: wr_cnt u64. QEMU always sends it No_reply.
 */
import { Command, HEADER_SIZE, HeaderFlags, Sizes } from './constants.js';
import { badPayload } from './errors.js';
import { allocMessage, type Frame, viewOf, writeHeader } from './header.js';
import { allocBytes, getU32, getU64, setU32, setU64Any } from './le.js';
import { expectNoFds, expectReply } from './reply.js';

export interface RegionAccess {
  /** The offset; above 2^53 − 1 it reads as +Infinity (out of every region; see le.ts). */
  offset: number;
  /** The exact offset when it is above 2^53 − 1 (offset is then +Infinity), else undefined. */
  hugeOffset: bigint | undefined;
  region: number;
  count: number;
  /** REGION_WRITE request / REGION_READ reply data (empty otherwise). */
  data: Uint8Array;
}

const NO_DATA = new Uint8Array(0);

export function decodeRegionAccess(payload: Uint8Array, what = 'REGION access'): RegionAccess {
  if (payload.length < Sizes.REGION_ACCESS) {
    badPayload(`${what} payload is ${payload.length} bytes, below the minimum of 16`);
  }
  const offset = getU64(payload, 0);
  return {
    offset,
    hugeOffset:
      offset === Number.POSITIVE_INFINITY ? viewOf(payload).getBigUint64(0, true) : undefined,
    region: getU32(payload, 8),
    count: getU32(payload, 12),
    // A read carries no data: a shared empty view instead of a new one per request.
    data: payload.length === Sizes.REGION_ACCESS ? NO_DATA : payload.subarray(Sizes.REGION_ACCESS),
  };
}

/** Bytes before the data of a REGION_READ reply or REGION_WRITE request: header + access struct. */
export const ACCESS_HEAD = HEADER_SIZE + Sizes.REGION_ACCESS;

/** Header and access struct at the start of `b`, for a message of `size` bytes in all. */
function writeAccessHead(
  b: Uint8Array,
  size: number,
  msgId: number,
  command: number,
  flags: number,
  region: number,
  offset: bigint | number,
  count: number,
): void {
  writeHeader(b, msgId, command, size, flags, 0);
  setU64Any(b, HEADER_SIZE, offset);
  setU32(b, HEADER_SIZE + 8, region);
  setU32(b, HEADER_SIZE + 12, count);
}

function encodeAccess(
  msgId: number,
  command: number,
  flags: number,
  region: number,
  offset: bigint | number,
  count: number,
  data: Uint8Array | null,
): Uint8Array {
  const bytes = allocBytes(ACCESS_HEAD + (data?.length ?? 0));
  writeAccessHead(bytes, bytes.length, msgId, command, flags, region, offset, count);
  if (data) bytes.set(data, ACCESS_HEAD);
  return bytes;
}

export function encodeRegionRead(
  msgId: number,
  region: number,
  offset: bigint | number,
  count: number,
): Uint8Array {
  return encodeAccess(msgId, Command.REGION_READ, 0, region, offset, count, null);
}
export function decodeRegionRead(payload: Uint8Array): RegionAccess {
  return decodeRegionAccess(payload, 'REGION_READ');
}
export function encodeRegionReadReply(
  msgId: number,
  region: number,
  offset: bigint | number,
  data: Uint8Array,
): Uint8Array {
  return encodeAccess(
    msgId,
    Command.REGION_READ,
    HeaderFlags.TYPE_REPLY,
    region,
    offset,
    data.length,
    data,
  );
}
/** The header and access struct of a REGION_READ reply carrying `count` data bytes. */
function writeReadReplyHead(
  b: Uint8Array,
  msgId: number,
  region: number,
  offset: number,
  count: number,
): void {
  const flags = HeaderFlags.TYPE_REPLY;
  writeAccessHead(b, ACCESS_HEAD + count, msgId, Command.REGION_READ, flags, region, offset, count);
}

/**
 * Server: turn `buf`, whose `count` data bytes a device already wrote at ACCESS_HEAD, into the
 * REGION_READ reply (header and access struct written here; every byte sent is written —
 * `buf` may be reused memory). Returns the message, a view of `buf`.
 */
export function finishRegionReadReply(
  buf: Uint8Array,
  msgId: number,
  region: number,
  offset: number,
  count: number,
): Uint8Array {
  const msg = buf.length === ACCESS_HEAD + count ? buf : buf.subarray(0, ACCESS_HEAD + count);
  writeReadReplyHead(msg, msgId, region, offset, count);
  return msg;
}

/** Server: the 32 bytes before the data of a REGION_READ reply whose data is sent separately. */
export function regionReadReplyHead(
  msgId: number,
  region: number,
  offset: number,
  count: number,
): Uint8Array {
  const head = allocBytes(ACCESS_HEAD);
  writeReadReplyHead(head, msgId, region, offset, count);
  return head;
}

/** Client: the data actually read (count ≤ requested; a short count is the server's honest answer). */
export function decodeRegionReadReply(frame: Frame): RegionAccess {
  expectReply(frame, Command.REGION_READ, Sizes.REGION_ACCESS);
  expectNoFds(frame, 'REGION_READ reply');
  const r = decodeRegionAccess(frame.payload, 'REGION_READ reply');
  if (r.data.length !== r.count)
    badPayload(`REGION_READ reply count ${r.count} but ${r.data.length} data bytes`);
  return r;
}

export function encodeRegionWrite(
  msgId: number,
  region: number,
  offset: bigint | number,
  data: Uint8Array,
  noReply = false,
): Uint8Array {
  const flags = noReply ? HeaderFlags.NO_REPLY : 0;
  return encodeAccess(msgId, Command.REGION_WRITE, flags, region, offset, data.length, data);
}
/**
 * Client: a REGION_WRITE as two parts, header + access struct and the caller's data, so a
 * large write is sent without copying the data into a message buffer.
 */
export function encodeRegionWriteParts(
  msgId: number,
  region: number,
  offset: bigint | number,
  data: Uint8Array,
  noReply = false,
): [Uint8Array, Uint8Array] {
  const head = allocBytes(ACCESS_HEAD);
  const flags = noReply ? HeaderFlags.NO_REPLY : 0;
  const size = ACCESS_HEAD + data.length;
  writeAccessHead(head, size, msgId, Command.REGION_WRITE, flags, region, offset, data.length);
  return [head, data];
}

export function decodeRegionWrite(payload: Uint8Array): RegionAccess {
  return decodeRegionAccess(payload, 'REGION_WRITE');
}
export function encodeRegionWriteReply(
  msgId: number,
  region: number,
  offset: bigint | number,
  written: number,
): Uint8Array {
  return encodeAccess(
    msgId,
    Command.REGION_WRITE,
    HeaderFlags.TYPE_REPLY,
    region,
    offset,
    written,
    null,
  );
}
/** Client: bytes written. */
export function decodeRegionWriteReply(frame: Frame): RegionAccess {
  expectReply(frame, Command.REGION_WRITE, Sizes.REGION_ACCESS);
  expectNoFds(frame, 'REGION_WRITE reply');
  return decodeRegionAccess(frame.payload, 'REGION_WRITE reply');
}

// ---- REGION_WRITE_MULTI ----

export interface WriteMultiEntry {
  offset: bigint;
  region: number;
  /** 1..8 bytes. */
  data: Uint8Array;
}

export function encodeRegionWriteMulti(
  msgId: number,
  entries: WriteMultiEntry[],
  noReply = true,
): Uint8Array {
  const len = Sizes.WRITE_MULTI_HEADER + entries.length * Sizes.WRITE_MULTI_ENTRY;
  const { bytes, view } = allocMessage(
    msgId,
    Command.REGION_WRITE_MULTI,
    noReply ? HeaderFlags.NO_REPLY : 0,
    len,
  );
  view.setBigUint64(0, BigInt(entries.length), true);
  entries.forEach((e, i) => {
    if (e.data.length > Sizes.WRITE_MULTI_DATA)
      throw new RangeError(`write-multi entry ${i} has ${e.data.length} > 8 bytes`);
    const o = Sizes.WRITE_MULTI_HEADER + i * Sizes.WRITE_MULTI_ENTRY;
    view.setBigUint64(o, e.offset, true);
    view.setUint32(o + 8, e.region, true);
    view.setUint32(o + 12, e.data.length, true);
    bytes.set(e.data, HEADER_SIZE + o + 16);
  });
  return bytes;
}

/** Decode entries; the entry count must match the payload exactly and each count must be ≤ 8. */
export function decodeRegionWriteMulti(payload: Uint8Array): WriteMultiEntry[] {
  if (payload.length < Sizes.WRITE_MULTI_HEADER) {
    badPayload(`REGION_WRITE_MULTI payload is ${payload.length} bytes, below the minimum of 8`);
  }
  const v = viewOf(payload);
  const n = v.getBigUint64(0, true);
  const bytes = payload.length - Sizes.WRITE_MULTI_HEADER;
  const room = Math.floor(bytes / Sizes.WRITE_MULTI_ENTRY);
  if (bytes % Sizes.WRITE_MULTI_ENTRY !== 0 || BigInt(room) !== n) {
    badPayload(
      `REGION_WRITE_MULTI wr_cnt ${n} does not match its ${payload.length - 8} entry bytes (24 per entry)`,
    );
  }
  const out: WriteMultiEntry[] = [];
  for (let i = 0; i < room; i++) {
    const o = Sizes.WRITE_MULTI_HEADER + i * Sizes.WRITE_MULTI_ENTRY;
    const count = v.getUint32(o + 12, true);
    if (count > Sizes.WRITE_MULTI_DATA)
      badPayload(`REGION_WRITE_MULTI entry ${i} count ${count} exceeds 8`);
    out.push({
      offset: v.getBigUint64(o, true),
      region: v.getUint32(o + 8, true),
      data: payload.subarray(o + 16, o + 16 + count),
    });
  }
  return out;
}

export function encodeRegionWriteMultiReply(msgId: number, written: number): Uint8Array {
  const { bytes, view } = allocMessage(
    msgId,
    Command.REGION_WRITE_MULTI,
    HeaderFlags.TYPE_REPLY,
    8,
  );
  view.setBigUint64(0, BigInt(written), true);
  return bytes;
}
export function decodeRegionWriteMultiReply(frame: Frame): bigint {
  expectReply(frame, Command.REGION_WRITE_MULTI, 8);
  expectNoFds(frame, 'REGION_WRITE_MULTI reply');
  return viewOf(frame.payload).getBigUint64(0, true);
}
