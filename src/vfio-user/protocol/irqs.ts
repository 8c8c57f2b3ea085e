/**
 * DEVICE_SET_IRQS (8): argsz u32 @0 (size of this payload incl. data), flags u32 @4,
 * index u32 @8, start u32 @12, count u32 @16, data @20 (DATA_BOOL: count bytes).
 * DATA_EVENTFD carries no inline data: 0 fds (de-assign) or `count` fds ride along.
 * Reply: header only.
 */
import { IrqSetFlags } from '../../uapi/vfio.js';
import { Command, HEADER_SIZE, Sizes } from './constants.js';
import { badPayload } from './errors.js';
import { allocMessage, type Frame, viewOf } from './header.js';
import { expectNoFds, expectReply } from './reply.js';

export interface SetIrqsWire {
  argsz: number;
  flags: number;
  index: number;
  start: number;
  count: number;
  /** Bytes after the 20-byte struct (BOOL data; empty otherwise). */
  data: Uint8Array;
}

export function decodeSetIrqs(payload: Uint8Array): SetIrqsWire {
  if (payload.length < Sizes.SET_IRQS) {
    badPayload(`DEVICE_SET_IRQS payload is ${payload.length} bytes, below the minimum of 20`);
  }
  const v = viewOf(payload);
  return {
    argsz: v.getUint32(0, true),
    flags: v.getUint32(4, true),
    index: v.getUint32(8, true),
    start: v.getUint32(12, true),
    count: v.getUint32(16, true),
    data: payload.subarray(Sizes.SET_IRQS),
  };
}

/**
 * Client: a SET_IRQS request. For DATA_BOOL pass `bools` (count bytes); for DATA_EVENTFD attach
 * the fds to the send (QEMU sends argsz 20 and no inline fd array).
 */
export function encodeSetIrqs(
  msgId: number,
  req: { flags: number; index: number; start: number; count: number; bools?: Uint8Array },
): Uint8Array {
  const data =
    req.flags & IrqSetFlags.DATA_BOOL
      ? (req.bools ?? new Uint8Array(req.count))
      : new Uint8Array(0);
  const { bytes, view } = allocMessage(
    msgId,
    Command.DEVICE_SET_IRQS,
    0,
    Sizes.SET_IRQS + data.length,
  );
  view.setUint32(0, Sizes.SET_IRQS + data.length, true);
  view.setUint32(4, req.flags, true);
  view.setUint32(8, req.index, true);
  view.setUint32(12, req.start, true);
  view.setUint32(16, req.count, true);
  bytes.set(data, HEADER_SIZE + Sizes.SET_IRQS);
  return bytes;
}

export function decodeSetIrqsReply(frame: Frame): void {
  expectReply(frame, Command.DEVICE_SET_IRQS);
  expectNoFds(frame, 'SET_IRQS reply');
}
