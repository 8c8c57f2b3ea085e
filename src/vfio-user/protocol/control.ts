/**
 * DEVICE_RESET (13), DEVICE_FEATURE (16), MIG_DATA_READ (17), MIG_DATA_WRITE (18).
 *
 * DEVICE_RESET: header-only request and reply.
 * DEVICE_FEATURE: argsz u32 @0 (max reply payload), flags u32 @4 (feature index bits 0-15,
 *   GET 1<<16, SET 1<<17, PROBE 1<<18), data @8. Reply: SET/PROBE echo; GET appends data.
 * MIG_DATA_READ: argsz u32 @0, size u32 @4; reply argsz (8 + n), size n, data @8.
 * MIG_DATA_WRITE: argsz u32 @0, size u32 @4, data @8; reply header-only.
 */
import { Command, HEADER_SIZE, HeaderFlags, Sizes } from './constants.js';
import { badPayload } from './errors.js';
import { allocMessage, encodeCommand, type Frame, viewOf } from './header.js';
import { expectNoFds, expectReply } from './reply.js';

export function encodeDeviceReset(msgId: number): Uint8Array {
  return encodeCommand(msgId, Command.DEVICE_RESET);
}
export function decodeDeviceResetReply(frame: Frame): void {
  expectReply(frame, Command.DEVICE_RESET);
  expectNoFds(frame, 'DEVICE_RESET reply');
}

export interface ArgszSizeData {
  argsz: number;
  /** flags (DEVICE_FEATURE) or size (MIG_DATA_*). */
  word: number;
  data: Uint8Array;
}

function decodeAsd(payload: Uint8Array, what: string): ArgszSizeData {
  if (payload.length < 8)
    badPayload(`${what} payload is ${payload.length} bytes, below the minimum of 8`);
  const v = viewOf(payload);
  return { argsz: v.getUint32(0, true), word: v.getUint32(4, true), data: payload.subarray(8) };
}

function encodeAsd(
  msgId: number,
  command: number,
  flags: number,
  argsz: number,
  word: number,
  data: Uint8Array,
): Uint8Array {
  const { bytes, view } = allocMessage(msgId, command, flags, 8 + data.length);
  view.setUint32(0, argsz, true);
  view.setUint32(4, word, true);
  bytes.set(data, HEADER_SIZE + 8);
  return bytes;
}

export function encodeDeviceFeature(
  msgId: number,
  argsz: number,
  flags: number,
  data: Uint8Array = new Uint8Array(0),
): Uint8Array {
  return encodeAsd(msgId, Command.DEVICE_FEATURE, 0, argsz, flags, data);
}
export function decodeDeviceFeature(payload: Uint8Array): {
  argsz: number;
  flags: number;
  data: Uint8Array;
} {
  const r = decodeAsd(payload, 'DEVICE_FEATURE');
  return { argsz: r.argsz, flags: r.word, data: r.data };
}
export function encodeDeviceFeatureReply(
  msgId: number,
  argsz: number,
  flags: number,
  data: Uint8Array,
): Uint8Array {
  return encodeAsd(msgId, Command.DEVICE_FEATURE, HeaderFlags.TYPE_REPLY, argsz, flags, data);
}
export function decodeDeviceFeatureReply(frame: Frame): {
  argsz: number;
  flags: number;
  data: Uint8Array;
} {
  expectReply(frame, Command.DEVICE_FEATURE, Sizes.DEVICE_FEATURE);
  expectNoFds(frame, 'DEVICE_FEATURE reply');
  return decodeDeviceFeature(frame.payload);
}

export function encodeMigDataRead(
  msgId: number,
  size: number,
  argsz: number = 8 + size,
): Uint8Array {
  return encodeAsd(msgId, Command.MIG_DATA_READ, 0, argsz, size, new Uint8Array(0));
}
export function decodeMigDataRead(payload: Uint8Array): { argsz: number; size: number } {
  const r = decodeAsd(payload, 'MIG_DATA_READ');
  return { argsz: r.argsz, size: r.word };
}
export function encodeMigDataReadReply(msgId: number, data: Uint8Array): Uint8Array {
  return encodeAsd(
    msgId,
    Command.MIG_DATA_READ,
    HeaderFlags.TYPE_REPLY,
    8 + data.length,
    data.length,
    data,
  );
}
export function decodeMigDataReadReply(frame: Frame): Uint8Array {
  expectReply(frame, Command.MIG_DATA_READ, Sizes.MIG_DATA);
  expectNoFds(frame, 'MIG_DATA_READ reply');
  const r = decodeAsd(frame.payload, 'MIG_DATA_READ reply');
  if (r.word !== r.data.length)
    badPayload(`MIG_DATA_READ reply size ${r.word} but ${r.data.length} data bytes`);
  return r.data;
}

export function encodeMigDataWrite(msgId: number, data: Uint8Array): Uint8Array {
  return encodeAsd(msgId, Command.MIG_DATA_WRITE, 0, 8 + data.length, data.length, data);
}
export function decodeMigDataWrite(payload: Uint8Array): {
  argsz: number;
  size: number;
  data: Uint8Array;
} {
  const r = decodeAsd(payload, 'MIG_DATA_WRITE');
  if (r.data.length < r.word)
    badPayload(`MIG_DATA_WRITE size ${r.word} but only ${r.data.length} data bytes`);
  return { argsz: r.argsz, size: r.word, data: r.data.subarray(0, r.word) };
}
/** Server: MIG_DATA_WRITE's fields and every byte after them (validation compares with size). */
export function decodeMigDataWriteRequest(payload: Uint8Array): {
  argsz: number;
  size: number;
  data: Uint8Array;
} {
  const r = decodeAsd(payload, 'MIG_DATA_WRITE');
  return { argsz: r.argsz, size: r.word, data: r.data };
}
export function decodeMigDataWriteReply(frame: Frame): void {
  expectReply(frame, Command.MIG_DATA_WRITE);
  expectNoFds(frame, 'MIG_DATA_WRITE reply');
}
