/**
 * The 16-byte message header and whole-message assembly.
 *
 * Layout: msg id u16 @0, command u16 @2, size u32 @4 (whole message), flags u32 @8
 * (bits 0-3 type: 0 command, 1 reply; 0x10 No_reply; 0x20 Error), error u32 @12.
 * Little-endian (the host order of every platform vfio-user runs on).
 */
import { Errno } from '../../uapi/errno.js';
import { HEADER_SIZE, HeaderFlags } from './constants.js';
import { allocBytes } from './le.js';

export interface Header {
  msgId: number;
  command: number;
  /** Whole message size, header included. */
  size: number;
  flags: number;
  error: number;
}

/** A complete received message: header, payload (size - 16 bytes) and the fds that came with it. */
export interface Frame {
  header: Header;
  payload: Uint8Array;
  fds: number[];
}

export function decodeHeader(bytes: Uint8Array, offset = 0): Header {
  if (offset < 0 || offset + HEADER_SIZE > bytes.length) {
    throw new RangeError(`no 16-byte header at offset ${offset}`);
  }
  const b = bytes;
  const o = offset;
  // Byte reads: no DataView per message.
  return {
    msgId: b[o]! | (b[o + 1]! << 8),
    command: b[o + 2]! | (b[o + 3]! << 8),
    size: (b[o + 4]! | (b[o + 5]! << 8) | (b[o + 6]! << 16) | (b[o + 7]! << 24)) >>> 0,
    flags: (b[o + 8]! | (b[o + 9]! << 8) | (b[o + 10]! << 16) | (b[o + 11]! << 24)) >>> 0,
    error: (b[o + 12]! | (b[o + 13]! << 8) | (b[o + 14]! << 16) | (b[o + 15]! << 24)) >>> 0,
  };
}

export function encodeHeader(h: Header, target: Uint8Array = allocBytes(HEADER_SIZE)): Uint8Array {
  writeHeader(target, h.msgId, h.command, h.size, h.flags, h.error);
  return target;
}

/** The 16 header bytes, little-endian, written byte by byte (no DataView or object per message). */
export function writeHeader(
  t: Uint8Array,
  msgId: number,
  command: number,
  size: number,
  flags: number,
  error: number,
): void {
  if (t.length < HEADER_SIZE) throw new RangeError('header target below 16 bytes');
  t[0] = msgId;
  t[1] = msgId >>> 8;
  t[2] = command;
  t[3] = command >>> 8;
  t[4] = size;
  t[5] = size >>> 8;
  t[6] = size >>> 16;
  t[7] = size >>> 24;
  t[8] = flags;
  t[9] = flags >>> 8;
  t[10] = flags >>> 16;
  t[11] = flags >>> 24;
  t[12] = error;
  t[13] = error >>> 8;
  t[14] = error >>> 16;
  t[15] = error >>> 24;
}

export function messageType(h: Header): number {
  return h.flags & HeaderFlags.TYPE_MASK;
}
export function isReply(h: Header): boolean {
  return messageType(h) === HeaderFlags.TYPE_REPLY;
}
export function isCommand(h: Header): boolean {
  return messageType(h) === HeaderFlags.TYPE_COMMAND;
}
export function wantsNoReply(h: Header): boolean {
  return (h.flags & HeaderFlags.NO_REPLY) !== 0;
}
export function isErrorReply(h: Header): boolean {
  return (h.flags & HeaderFlags.ERROR) !== 0;
}

/** Header + zeroed payload in one buffer (see allocBytes); the payload is left for the caller. */
export function allocMessageBytes(
  msgId: number,
  command: number,
  flags: number,
  payloadSize: number,
): Uint8Array {
  const bytes = allocBytes(HEADER_SIZE + payloadSize);
  writeHeader(bytes, msgId, command, bytes.length, flags, 0);
  return bytes;
}

/** allocMessageBytes plus a DataView over the payload, for the encoders off the hot path. */
export function allocMessage(
  msgId: number,
  command: number,
  flags: number,
  payloadSize: number,
): { bytes: Uint8Array; view: DataView } {
  const bytes = allocMessageBytes(msgId, command, flags, payloadSize);
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset + HEADER_SIZE, payloadSize) };
}

/** A command message with the given payload. */
export function encodeCommand(
  msgId: number,
  command: number,
  payload: Uint8Array = new Uint8Array(0),
  noReply = false,
): Uint8Array {
  const flags = HeaderFlags.TYPE_COMMAND | (noReply ? HeaderFlags.NO_REPLY : 0);
  const bytes = allocMessageBytes(msgId, command, flags, payload.length);
  bytes.set(payload, HEADER_SIZE);
  return bytes;
}

/** A success reply with the given payload. */
export function encodeReply(
  msgId: number,
  command: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const bytes = allocMessageBytes(msgId, command, HeaderFlags.TYPE_REPLY, payload.length);
  bytes.set(payload, HEADER_SIZE);
  return bytes;
}

/** A header-only error reply. errno must be non-zero (QEMU reads 0 as success); 0 becomes EINVAL. */
export function encodeErrorReply(msgId: number, command: number, errno: number): Uint8Array {
  const e = errno > 0 && errno <= 0xffffffff ? errno : Errno.EINVAL;
  return encodeHeader({
    msgId,
    command,
    size: HEADER_SIZE,
    flags: HeaderFlags.TYPE_REPLY | HeaderFlags.ERROR,
    error: e,
  });
}

/** A DataView over a payload (no copy). */
export function viewOf(payload: Uint8Array): DataView {
  return new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
}
