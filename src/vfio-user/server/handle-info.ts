/**
 * The query commands: DEVICE_GET_INFO, GET_REGION_INFO, GET_REGION_IO_FDS, GET_IRQ_INFO.
 *
 * Region info rules (docs/protocol.md §3.3, §4.4): the device answers with kernel semantics for the
 * client's argsz; if the full answer needs more than that argsz we send only the 32-byte struct
 * with argsz = full size, CAPS cleared, cap_offset 0 and no fd. For a region the device can map
 * (mapping non-null with an fd, client accepts ≥ 1 fd) MMAP is set, `offset` becomes
 * the mmap offset inside that fd (sparse-area offsets stay region-relative), and exactly
 * one fd — the mapping's — rides on the full reply. Without an fd MMAP is cleared, so the client
 * keeps posted writes and uses messages. Never more payload than the client's argsz.
 *
 * GET_REGION_IO_FDS: we offer no ioeventfds (the variant driver answers ENOTTY to
 * VFIO_DEVICE_IOEVENTFD), so a valid request gets count 0 and no fds rather than an error.
 */
import { type RegionInfo, RegionInfoFlags } from '../../uapi/vfio.js';
import { fail } from '../../vfio/errors.js';
import { Sizes } from '../protocol/constants.js';
import {
  encodeDeviceGetInfoReply,
  encodeGetIrqInfoReply,
  encodeGetRegionInfoReply,
  encodeGetRegionIoFdsReply,
} from '../protocol/info.js';
import { type Handler, type HandlerContext, reply } from './context.js';

export function checkRegion(ctx: HandlerContext, index: number): void {
  const n = ctx.deviceInfo().numRegions;
  if (index >= n) fail('EINVAL', `region index ${index} out of range (device has ${n})`);
}

export const handleDeviceGetInfo: Handler = (ctx, frame) => {
  const info = ctx.deviceInfo();
  return reply(encodeDeviceGetInfoReply(frame.header.msgId, info));
};

export const handleGetRegionInfo: Handler<{ argsz: number; index: number }> = (
  ctx,
  frame,
  _fds,
  { argsz, index },
) => {
  checkRegion(ctx, index);
  const ri = ctx.device.regionInfo(index, argsz);
  const mapping = ctx.device.mapping(index);
  const fd = mapping?.fd ?? null;
  const mappable = mapping !== null && fd !== null && (ctx.peer?.maxMsgFds ?? 1) >= 1;
  const flags = mappable ? ri.flags | RegionInfoFlags.MMAP : ri.flags & ~RegionInfoFlags.MMAP;
  const offset = mappable ? BigInt(mapping.offset) : ri.offset;
  const fullSize = Math.max(ri.argsz, Sizes.REGION_INFO + ri.caps.length);
  const base = { index, size: ri.size, offset };
  if (fullSize > argsz) {
    const head: RegionInfo = {
      ...base,
      argsz: fullSize,
      flags: flags & ~RegionInfoFlags.CAPS,
      capOffset: 0,
      caps: new Uint8Array(0),
    };
    return reply(encodeGetRegionInfoReply(frame.header.msgId, head));
  }
  const hasCaps = ri.caps.length > 0;
  const full: RegionInfo = {
    ...base,
    argsz: fullSize,
    flags: hasCaps ? flags : flags & ~RegionInfoFlags.CAPS,
    capOffset: hasCaps ? ri.capOffset : 0,
    caps: ri.caps,
  };
  return { bytes: encodeGetRegionInfoReply(frame.header.msgId, full), fds: mappable ? [fd] : [] };
};

export const handleGetRegionIoFds: Handler<{ index: number }> = (ctx, frame, _fds, req) => {
  checkRegion(ctx, req.index);
  return reply(encodeGetRegionIoFdsReply(frame.header.msgId, req.index, []));
};

export const handleGetIrqInfo: Handler<{ index: number }> = (ctx, frame, _fds, { index }) => {
  const n = ctx.deviceInfo().numIrqs;
  if (index >= n) fail('EINVAL', `IRQ index ${index} out of range (device has ${n})`);
  const info = ctx.device.irqInfo(index);
  return reply(
    encodeGetIrqInfoReply(frame.header.msgId, { flags: info.flags, index, count: info.count }),
  );
};
