/**
 * The query commands: DEVICE_GET_INFO (4), DEVICE_GET_REGION_INFO (5),
 * DEVICE_GET_REGION_IO_FDS (6), DEVICE_GET_IRQ_INFO (7).
 *
 * In these requests argsz is the largest reply payload the client accepts; in the replies it is
 * the size the full answer needs. Layouts:
 * - GET_INFO (16): argsz, flags, num_regions, num_irqs (u32 each).
 * - GET_REGION_INFO (32): argsz u32, flags u32, index u32, cap_offset u32, size u64, offset u64;
 *   reply = the struct + capability chain bytes (cap `next` offsets count from the struct start).
 * - GET_REGION_IO_FDS (16): argsz, flags, index, count; reply + count sub-regions of 40 bytes.
 * - GET_IRQ_INFO (16): argsz, flags, index, count.
 */
import type { RegionInfo } from '../../uapi/vfio.js';
import { Command, HEADER_SIZE, HeaderFlags, Sizes } from './constants.js';
import { badPayload } from './errors.js';
import { allocMessage, type Frame, viewOf } from './header.js';
import { expectNoFds, expectReply } from './reply.js';

/** Four u32s: the shape of GET_INFO, GET_REGION_IO_FDS and GET_IRQ_INFO requests/replies. */
export interface Quad {
  argsz: number;
  flags: number;
  /** num_regions (GET_INFO) or index (IO_FDS, IRQ_INFO). */
  a: number;
  /** num_irqs (GET_INFO) or count (IO_FDS, IRQ_INFO). */
  b: number;
}

function decodeQuad(payload: Uint8Array, what: string): Quad {
  if (payload.length < 16)
    badPayload(`${what} payload is ${payload.length} bytes, below the minimum of 16`);
  const v = viewOf(payload);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    a: v.getUint32(8, true),
    b: v.getUint32(12, true),
  };
}

function encodeQuad(msgId: number, command: number, flags: number, q: Quad, extra = 0): Uint8Array {
  const { bytes, view } = allocMessage(msgId, command, flags, 16 + extra);
  view.setUint32(0, q.argsz, true);
  view.setUint32(4, q.flags, true);
  view.setUint32(8, q.a, true);
  view.setUint32(12, q.b, true);
  return bytes;
}

// ---- DEVICE_GET_INFO ----

export interface DeviceInfoWire {
  argsz: number;
  flags: number;
  numRegions: number;
  numIrqs: number;
}

export function encodeDeviceGetInfo(msgId: number, argsz: number = Sizes.DEVICE_INFO): Uint8Array {
  return encodeQuad(msgId, Command.DEVICE_GET_INFO, 0, { argsz, flags: 0, a: 0, b: 0 });
}
export function decodeDeviceGetInfo(payload: Uint8Array): { argsz: number } {
  return { argsz: decodeQuad(payload, 'DEVICE_GET_INFO').argsz };
}
export function encodeDeviceGetInfoReply(
  msgId: number,
  info: Omit<DeviceInfoWire, 'argsz'>,
): Uint8Array {
  return encodeQuad(msgId, Command.DEVICE_GET_INFO, HeaderFlags.TYPE_REPLY, {
    argsz: Sizes.DEVICE_INFO,
    flags: info.flags,
    a: info.numRegions,
    b: info.numIrqs,
  });
}
export function decodeDeviceGetInfoReply(frame: Frame): DeviceInfoWire {
  expectReply(frame, Command.DEVICE_GET_INFO, Sizes.DEVICE_INFO);
  expectNoFds(frame, 'DEVICE_GET_INFO reply');
  const q = decodeQuad(frame.payload, 'DEVICE_GET_INFO reply');
  return { argsz: q.argsz, flags: q.flags, numRegions: q.a, numIrqs: q.b };
}

// ---- DEVICE_GET_REGION_INFO ----

export function decodeRegionInfoStruct(payload: Uint8Array, what: string): RegionInfo {
  if (payload.length < Sizes.REGION_INFO) {
    badPayload(`${what} payload is ${payload.length} bytes, below the minimum of 32`);
  }
  const v = viewOf(payload);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    index: v.getUint32(8, true),
    capOffset: v.getUint32(12, true),
    size: v.getBigUint64(16, true),
    offset: v.getBigUint64(24, true),
    caps: payload.subarray(Sizes.REGION_INFO),
  };
}

export function encodeGetRegionInfo(
  msgId: number,
  index: number,
  argsz: number = Sizes.REGION_INFO,
): Uint8Array {
  const { bytes, view } = allocMessage(msgId, Command.DEVICE_GET_REGION_INFO, 0, Sizes.REGION_INFO);
  view.setUint32(0, argsz, true);
  view.setUint32(8, index, true);
  return bytes;
}
export function decodeGetRegionInfo(payload: Uint8Array): { argsz: number; index: number } {
  const r = decodeRegionInfoStruct(payload, 'DEVICE_GET_REGION_INFO');
  return { argsz: r.argsz, index: r.index };
}
export function encodeGetRegionInfoReply(msgId: number, info: RegionInfo): Uint8Array {
  const { bytes, view } = allocMessage(
    msgId,
    Command.DEVICE_GET_REGION_INFO,
    HeaderFlags.TYPE_REPLY,
    Sizes.REGION_INFO + info.caps.length,
  );
  view.setUint32(0, info.argsz, true);
  view.setUint32(4, info.flags, true);
  view.setUint32(8, info.index, true);
  view.setUint32(12, info.capOffset, true);
  view.setBigUint64(16, info.size, true);
  view.setBigUint64(24, info.offset, true);
  bytes.set(info.caps, HEADER_SIZE + Sizes.REGION_INFO);
  return bytes;
}
/** Client: the reply and the (at most one) fd that came with it. */
export function decodeGetRegionInfoReply(frame: Frame): RegionInfo & { fd: number | null } {
  expectReply(frame, Command.DEVICE_GET_REGION_INFO, Sizes.REGION_INFO);
  if (frame.fds.length > 1)
    badPayload(`GET_REGION_INFO reply carries ${frame.fds.length} fds, at most 1 allowed`);
  return {
    ...decodeRegionInfoStruct(frame.payload, 'GET_REGION_INFO reply'),
    fd: frame.fds[0] ?? null,
  };
}

export interface CapHeader {
  id: number;
  version: number;
  next: number;
  /** Offset of this cap from the region-info struct start. */
  at: number;
  /** The cap's bytes (header included) up to the next cap or the end. */
  bytes: Uint8Array;
}

/** Walk a region-info capability chain (`full` = the reply payload from offset 0). */
export function walkCaps(full: Uint8Array, capOffset: number): CapHeader[] {
  const out: CapHeader[] = [];
  const seen = new Set<number>();
  let at = capOffset;
  while (at !== 0) {
    if (at < Sizes.REGION_INFO || at + 8 > full.length || seen.has(at)) {
      badPayload(`capability at offset ${at} is outside the reply or loops`);
    }
    seen.add(at);
    const v = new DataView(full.buffer, full.byteOffset + at, 8);
    const next = v.getUint32(4, true);
    out.push({
      id: v.getUint16(0, true),
      version: v.getUint16(2, true),
      next,
      at,
      bytes: full.subarray(at, next > at ? next : full.length),
    });
    at = next;
  }
  return out;
}

/** Decode a SPARSE_MMAP capability's areas from the cap's bytes. */
export function decodeSparseMmapCap(cap: Uint8Array): { offset: bigint; size: bigint }[] {
  if (cap.length < 16) badPayload('SPARSE_MMAP capability shorter than 16 bytes');
  const v = viewOf(cap);
  const n = v.getUint32(8, true);
  if (16 + n * 16 > cap.length)
    badPayload(`SPARSE_MMAP capability claims ${n} areas but has room for fewer`);
  const areas: { offset: bigint; size: bigint }[] = [];
  for (let i = 0; i < n; i++) {
    areas.push({
      offset: v.getBigUint64(16 + i * 16, true),
      size: v.getBigUint64(24 + i * 16, true),
    });
  }
  return areas;
}

/** Decode a TYPE capability (id 2): { type u32, subtype u32 } after the 8-byte header. */
export function decodeTypeCap(cap: Uint8Array): { type: number; subtype: number } {
  if (cap.length < 16) badPayload('TYPE capability shorter than 16 bytes');
  const v = viewOf(cap);
  return { type: v.getUint32(8, true), subtype: v.getUint32(12, true) };
}

// ---- DEVICE_GET_REGION_IO_FDS ----

export interface IoFdEntry {
  offset: bigint;
  size: bigint;
  fdIndex: number;
  type: number;
  flags: number;
  /** datamatch (ioeventfd) or user_data (ioregionfd). */
  data: bigint;
}

export function encodeGetRegionIoFds(
  msgId: number,
  index: number,
  argsz: number = Sizes.REGION_IO_FDS,
): Uint8Array {
  return encodeQuad(msgId, Command.DEVICE_GET_REGION_IO_FDS, 0, {
    argsz,
    flags: 0,
    a: index,
    b: 0,
  });
}
export function decodeGetRegionIoFds(payload: Uint8Array): {
  argsz: number;
  flags: number;
  index: number;
  count: number;
} {
  const q = decodeQuad(payload, 'DEVICE_GET_REGION_IO_FDS');
  return { argsz: q.argsz, flags: q.flags, index: q.a, count: q.b };
}
export function encodeGetRegionIoFdsReply(
  msgId: number,
  index: number,
  entries: IoFdEntry[],
  argsz?: number,
): Uint8Array {
  const full = Sizes.REGION_IO_FDS + entries.length * Sizes.IO_FD_ENTRY;
  const bytes = encodeQuad(
    msgId,
    Command.DEVICE_GET_REGION_IO_FDS,
    HeaderFlags.TYPE_REPLY,
    { argsz: argsz ?? full, flags: 0, a: index, b: entries.length },
    entries.length * Sizes.IO_FD_ENTRY,
  );
  const v = viewOf(bytes);
  entries.forEach((e, i) => {
    const o = HEADER_SIZE + Sizes.REGION_IO_FDS + i * Sizes.IO_FD_ENTRY;
    v.setBigUint64(o, e.offset, true);
    v.setBigUint64(o + 8, e.size, true);
    v.setUint32(o + 16, e.fdIndex, true);
    v.setUint32(o + 20, e.type, true);
    v.setUint32(o + 24, e.flags, true);
    v.setBigUint64(o + 32, e.data, true);
  });
  return bytes;
}
export function decodeGetRegionIoFdsReply(frame: Frame): {
  argsz: number;
  index: number;
  count: number;
  entries: IoFdEntry[];
  fds: number[];
} {
  expectReply(frame, Command.DEVICE_GET_REGION_IO_FDS, Sizes.REGION_IO_FDS);
  const q = decodeQuad(frame.payload, 'GET_REGION_IO_FDS reply');
  const room = Math.floor((frame.payload.length - Sizes.REGION_IO_FDS) / Sizes.IO_FD_ENTRY);
  const n = Math.min(q.b, room);
  const v = viewOf(frame.payload);
  const entries: IoFdEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = Sizes.REGION_IO_FDS + i * Sizes.IO_FD_ENTRY;
    const e: IoFdEntry = {
      offset: v.getBigUint64(o, true),
      size: v.getBigUint64(o + 8, true),
      fdIndex: v.getUint32(o + 16, true),
      type: v.getUint32(o + 20, true),
      flags: v.getUint32(o + 24, true),
      data: v.getBigUint64(o + 32, true),
    };
    if (e.fdIndex >= frame.fds.length)
      badPayload(`IO_FDS entry ${i} names fd_index ${e.fdIndex} but ${frame.fds.length} fds came`);
    entries.push(e);
  }
  return { argsz: q.argsz, index: q.a, count: q.b, entries, fds: frame.fds };
}

// ---- DEVICE_GET_IRQ_INFO ----

export interface IrqInfoWire {
  argsz: number;
  flags: number;
  index: number;
  count: number;
}

export function encodeGetIrqInfo(
  msgId: number,
  index: number,
  argsz: number = Sizes.IRQ_INFO,
): Uint8Array {
  return encodeQuad(msgId, Command.DEVICE_GET_IRQ_INFO, 0, { argsz, flags: 0, a: index, b: 0 });
}
export function decodeGetIrqInfo(payload: Uint8Array): { argsz: number; index: number } {
  const q = decodeQuad(payload, 'DEVICE_GET_IRQ_INFO');
  return { argsz: q.argsz, index: q.a };
}
export function encodeGetIrqInfoReply(msgId: number, info: Omit<IrqInfoWire, 'argsz'>): Uint8Array {
  return encodeQuad(msgId, Command.DEVICE_GET_IRQ_INFO, HeaderFlags.TYPE_REPLY, {
    argsz: Sizes.IRQ_INFO,
    flags: info.flags,
    a: info.index,
    b: info.count,
  });
}
export function decodeGetIrqInfoReply(frame: Frame): IrqInfoWire {
  expectReply(frame, Command.DEVICE_GET_IRQ_INFO, Sizes.IRQ_INFO);
  expectNoFds(frame, 'GET_IRQ_INFO reply');
  const q = decodeQuad(frame.payload, 'GET_IRQ_INFO reply');
  return { argsz: q.argsz, flags: q.flags, index: q.a, count: q.b };
}
