/**
 * The 16-byte message header and whole-message assembly.
 *
 * Layout: msg id u16 @0, command u16 @2, size u32 @4 (whole message), flags u32 @8
 * (bits 0-3 type: 0 command, 1 reply; 0x10 No_reply; 0x20 Error), error u32 @12.
 * Little-endian (the host order of every platform vfio-user runs on).
 */
import { HEADER_SIZE, HeaderFlags } from './constants.js';

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
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, HEADER_SIZE);
  return {
    msgId: v.getUint16(0, true),
    command: v.getUint16(2, true),
    size: v.getUint32(4, true),
    flags: v.getUint32(8, true),
    error: v.getUint32(12, true),
  };
}

export function encodeHeader(
  h: Header,
  target: Uint8Array = new Uint8Array(HEADER_SIZE),
): Uint8Array {
  const v = new DataView(target.buffer, target.byteOffset, HEADER_SIZE);
  v.setUint16(0, h.msgId & 0xffff, true);
  v.setUint16(2, h.command & 0xffff, true);
  v.setUint32(4, h.size >>> 0, true);
  v.setUint32(8, h.flags >>> 0, true);
  v.setUint32(12, h.error >>> 0, true);
  return target;
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

/** Header + payload in one buffer; `payloadSize` bytes after the header are left for the caller. */
export function allocMessage(
  msgId: number,
  command: number,
  flags: number,
  payloadSize: number,
): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(HEADER_SIZE + payloadSize);
  encodeHeader({ msgId, command, size: bytes.length, flags, error: 0 }, bytes);
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
  const { bytes } = allocMessage(msgId, command, flags, payload.length);
  bytes.set(payload, HEADER_SIZE);
  return bytes;
}

/** A success reply with the given payload. */
export function encodeReply(
  msgId: number,
  command: number,
  payload: Uint8Array = new Uint8Array(0),
): Uint8Array {
  const { bytes } = allocMessage(msgId, command, HeaderFlags.TYPE_REPLY, payload.length);
  bytes.set(payload, HEADER_SIZE);
  return bytes;
}

/** A header-only error reply. errno must be non-zero (QEMU reads 0 as success); 0 becomes EINVAL. */
export function encodeErrorReply(msgId: number, command: number, errno: number): Uint8Array {
  const e = errno > 0 && errno <= 0xffffffff ? errno : 22;
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
