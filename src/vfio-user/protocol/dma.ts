/**
 * DMA_MAP (2), DMA_UNMAP (3) — client → server — and DMA_READ (11), DMA_WRITE (12) —
 * server → client — in both directions.
 *
 * DMA_MAP payload (32): argsz u32 @0, flags u32 @4, offset u64 @8, address u64 @16, size u64 @24;
 *   0 or 1 fd; reply header-only.
 * DMA_UNMAP payload (24): argsz u32 @0, flags u32 @4, address u64 @8, size u64 @16; with the legacy
 *   GET_DIRTY_BITMAP flag a bitmap header follows (pgsize u64 @24, size u64 @32). Reply echoes the
 *   24-byte struct (+ bitmap header and bitmap when requested).
 * DMA_READ/WRITE (spec layout): address u64 @0, count u64 @8, data @16.
 *   NOTE: QEMU 10.1 decodes these with {address u64 @0, count u32 @8, data @12} and answers
 *   DMA_WRITE header-only, so spec-layout messages to QEMU 10.1 misplace data by 4 bytes
 *   (docs/protocol.md §4.3, §7.1). The server here never sends them; it requires fd-backed DMA.
 */
import { DmaUnmapFlags } from '../../uapi/vfio.js';
import { Command, HEADER_SIZE, HeaderFlags, Sizes } from './constants.js';
import { badPayload } from './errors.js';
import { allocMessage, type Frame, viewOf } from './header.js';
import { expectNoFds, expectReply } from './reply.js';

export interface DmaMapRequest {
  argsz: number;
  flags: number;
  offset: bigint;
  address: bigint;
  size: bigint;
}

export interface DmaUnmapRequest {
  argsz: number;
  flags: number;
  address: bigint;
  size: bigint;
  /** Present with GET_DIRTY_BITMAP: page size and bitmap byte size requested. */
  bitmap?: { pgsize: bigint; size: bigint };
}

function need(payload: Uint8Array, min: number, what: string): DataView {
  if (payload.length < min)
    badPayload(`${what} payload is ${payload.length} bytes, below the minimum of ${min}`);
  return viewOf(payload);
}

export function decodeDmaMap(payload: Uint8Array): DmaMapRequest {
  const v = need(payload, Sizes.DMA_MAP, 'DMA_MAP');
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    offset: v.getBigUint64(8, true),
    address: v.getBigUint64(16, true),
    size: v.getBigUint64(24, true),
  };
}

export function encodeDmaMap(
  msgId: number,
  req: { flags: number; offset?: bigint; address: bigint; size: bigint; argsz?: number },
): Uint8Array {
  const { bytes, view } = allocMessage(msgId, Command.DMA_MAP, 0, Sizes.DMA_MAP);
  view.setUint32(0, req.argsz ?? Sizes.DMA_MAP, true);
  view.setUint32(4, req.flags, true);
  view.setBigUint64(8, req.offset ?? 0n, true);
  view.setBigUint64(16, req.address, true);
  view.setBigUint64(24, req.size, true);
  return bytes;
}

export function decodeDmaMapReply(frame: Frame): void {
  expectReply(frame, Command.DMA_MAP);
  expectNoFds(frame, 'DMA_MAP reply');
}

export function decodeDmaUnmap(payload: Uint8Array): DmaUnmapRequest {
  const v = need(payload, Sizes.DMA_UNMAP, 'DMA_UNMAP');
  const req: DmaUnmapRequest = {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    address: v.getBigUint64(8, true),
    size: v.getBigUint64(16, true),
  };
  if (req.flags & DmaUnmapFlags.GET_DIRTY_BITMAP) {
    need(payload, Sizes.DMA_UNMAP + Sizes.DMA_UNMAP_BITMAP, 'DMA_UNMAP with GET_DIRTY_BITMAP');
    req.bitmap = { pgsize: v.getBigUint64(24, true), size: v.getBigUint64(32, true) };
  }
  return req;
}

function writeUnmap(view: DataView, req: DmaUnmapRequest): void {
  view.setUint32(0, req.argsz, true);
  view.setUint32(4, req.flags, true);
  view.setBigUint64(8, req.address, true);
  view.setBigUint64(16, req.size, true);
  if (req.bitmap) {
    view.setBigUint64(24, req.bitmap.pgsize, true);
    view.setBigUint64(32, req.bitmap.size, true);
  }
}

export function encodeDmaUnmap(
  msgId: number,
  req: {
    flags?: number;
    address: bigint;
    size: bigint;
    argsz?: number;
    bitmap?: { pgsize: bigint; size: bigint };
  },
): Uint8Array {
  const len = Sizes.DMA_UNMAP + (req.bitmap ? Sizes.DMA_UNMAP_BITMAP : 0);
  const { bytes, view } = allocMessage(msgId, Command.DMA_UNMAP, 0, len);
  const full: DmaUnmapRequest = {
    argsz: req.argsz ?? len,
    flags: (req.flags ?? 0) | (req.bitmap ? DmaUnmapFlags.GET_DIRTY_BITMAP : 0),
    address: req.address,
    size: req.size,
  };
  if (req.bitmap) full.bitmap = req.bitmap;
  writeUnmap(view, full);
  return bytes;
}

/** Server: echo the request struct (and the bitmap header + bitmap bytes when asked for). */
export function encodeDmaUnmapReply(
  msgId: number,
  req: DmaUnmapRequest,
  bitmap?: Uint8Array,
): Uint8Array {
  const extra = req.bitmap ? Sizes.DMA_UNMAP_BITMAP + (bitmap?.length ?? 0) : 0;
  const { bytes, view } = allocMessage(
    msgId,
    Command.DMA_UNMAP,
    HeaderFlags.TYPE_REPLY,
    Sizes.DMA_UNMAP + extra,
  );
  writeUnmap(view, req);
  if (req.bitmap && bitmap)
    bytes.set(bitmap, HEADER_SIZE + Sizes.DMA_UNMAP + Sizes.DMA_UNMAP_BITMAP);
  return bytes;
}

/** Client: a header-only reply or the echo; returns the echoed struct when present. */
export function decodeDmaUnmapReply(frame: Frame): DmaUnmapRequest | null {
  expectReply(frame, Command.DMA_UNMAP);
  expectNoFds(frame, 'DMA_UNMAP reply');
  return frame.payload.length === 0 ? null : decodeDmaUnmap(frame.payload);
}

// ---- server → client DMA (spec layout) ----

export interface DmaAccess {
  address: bigint;
  count: bigint;
  data: Uint8Array;
}

export function encodeDmaRead(msgId: number, address: bigint, count: number | bigint): Uint8Array {
  const { bytes, view } = allocMessage(msgId, Command.DMA_READ, 0, Sizes.DMA_ACCESS);
  view.setBigUint64(0, address, true);
  view.setBigUint64(8, BigInt(count), true);
  return bytes;
}

export function decodeDmaAccess(payload: Uint8Array, what: string): DmaAccess {
  const v = need(payload, Sizes.DMA_ACCESS, what);
  return {
    address: v.getBigUint64(0, true),
    count: v.getBigUint64(8, true),
    data: payload.subarray(Sizes.DMA_ACCESS),
  };
}

/** Client: decode a DMA_READ request (data is empty). */
export function decodeDmaRead(payload: Uint8Array): DmaAccess {
  return decodeDmaAccess(payload, 'DMA_READ');
}

export function encodeDmaReadReply(msgId: number, address: bigint, data: Uint8Array): Uint8Array {
  const { bytes, view } = allocMessage(
    msgId,
    Command.DMA_READ,
    HeaderFlags.TYPE_REPLY,
    Sizes.DMA_ACCESS + data.length,
  );
  view.setBigUint64(0, address, true);
  view.setBigUint64(8, BigInt(data.length), true);
  bytes.set(data, HEADER_SIZE + Sizes.DMA_ACCESS);
  return bytes;
}

export function decodeDmaReadReply(frame: Frame): DmaAccess {
  expectReply(frame, Command.DMA_READ, Sizes.DMA_ACCESS);
  expectNoFds(frame, 'DMA_READ reply');
  const r = decodeDmaAccess(frame.payload, 'DMA_READ reply');
  if (r.count !== BigInt(r.data.length)) {
    badPayload(`DMA_READ reply count ${r.count} does not match its ${r.data.length} data bytes`);
  }
  return r;
}

export function encodeDmaWrite(msgId: number, address: bigint, data: Uint8Array): Uint8Array {
  const { bytes, view } = allocMessage(msgId, Command.DMA_WRITE, 0, Sizes.DMA_ACCESS + data.length);
  view.setBigUint64(0, address, true);
  view.setBigUint64(8, BigInt(data.length), true);
  bytes.set(data, HEADER_SIZE + Sizes.DMA_ACCESS);
  return bytes;
}

export function decodeDmaWrite(payload: Uint8Array): DmaAccess {
  const r = decodeDmaAccess(payload, 'DMA_WRITE');
  if (r.count !== BigInt(r.data.length)) {
    badPayload(`DMA_WRITE count ${r.count} does not match its ${r.data.length} data bytes`);
  }
  return r;
}

export function encodeDmaWriteReply(
  msgId: number,
  address: bigint,
  count: number | bigint,
): Uint8Array {
  const { bytes, view } = allocMessage(
    msgId,
    Command.DMA_WRITE,
    HeaderFlags.TYPE_REPLY,
    Sizes.DMA_ACCESS,
  );
  view.setBigUint64(0, address, true);
  view.setBigUint64(8, BigInt(count), true);
  return bytes;
}

/** Server side: accepts the spec reply (address + count) or QEMU 10.1's header-only reply. */
export function decodeDmaWriteReply(frame: Frame): { address: bigint; count: bigint } | null {
  expectReply(frame, Command.DMA_WRITE);
  expectNoFds(frame, 'DMA_WRITE reply');
  if (frame.payload.length === 0) return null;
  const r = decodeDmaAccess(frame.payload, 'DMA_WRITE reply');
  return { address: r.address, count: r.count };
}
