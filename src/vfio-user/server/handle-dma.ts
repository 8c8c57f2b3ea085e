/**
 * DMA_MAP and DMA_UNMAP: the session's DMA window table (rules in dma-table.ts).
 *
 * Choices: a window with an fd is mapped through HostOps.dmaRegionFromFd (which then owns the
 * fd); an exact duplicate re-map succeeds without touching the existing window (its new fd is
 * closed); a window with an fd larger than 2^53 bytes → ENOSPC. Unmap closes the window's
 * mapping before replying (the spec requires every reference dropped first). The legacy
 * GET_DIRTY_BITMAP unmap is answered with an all-zero bitmap of the asked size: no dirty
 * tracking is done (no migration support); QEMU 10.1 never asks for it.
 */

import { DmaUnmapFlags } from '../../uapi/vfio.js';
import { fail } from '../../vfio/errors.js';
import { type DmaMapRequest, type DmaUnmapRequest, encodeDmaUnmapReply } from '../protocol/dma.js';
import { encodeReply } from '../protocol/header.js';
import { type Handler, type HandlerContext, reply } from './context.js';
import type { DmaWindow } from './dma-table.js';

export const handleDmaMap: Handler<DmaMapRequest> = (ctx, frame, fds, req) => {
  const hasFd = fds.fds.length === 1;
  const verdict = ctx.dma.check(req.address, req.size, req.offset, req.flags, hasFd);
  if (verdict === 'duplicate') {
    ctx.log(
      'debug',
      `DMA_MAP 0x${req.address.toString(16)}+0x${req.size.toString(16)} repeated: kept`,
    );
    return reply(encodeReply(frame.header.msgId, frame.header.command));
  }
  let region = null;
  if (hasFd) {
    if (req.size > BigInt(Number.MAX_SAFE_INTEGER))
      fail('ENOSPC', `DMA window of 0x${req.size.toString(16)} bytes is too large`);
    region = ctx.host.dmaRegionFromFd(fds.fds[0]!, req.offset, req.size, req.flags);
    fds.take(0);
  }
  ctx.dma.insert({
    address: req.address,
    size: req.size,
    offset: req.offset,
    flags: req.flags,
    region,
  });
  return reply(encodeReply(frame.header.msgId, frame.header.command));
};

function closeWindow(ctx: HandlerContext, w: DmaWindow): void {
  try {
    w.region?.close();
  } catch (e) {
    ctx.log('warn', `closing DMA window 0x${w.address.toString(16)}: ${(e as Error).message}`);
  }
}

/** Drop every window (FLAG_ALL, and session close). */
export function unmapAll(ctx: Pick<HandlerContext, 'dma' | 'log'>): number {
  const all = ctx.dma.removeAll();
  for (const w of all) closeWindow(ctx as HandlerContext, w);
  return all.length;
}

export const handleDmaUnmap: Handler<DmaUnmapRequest> = (ctx, frame, _fds, req) => {
  if (req.flags & DmaUnmapFlags.ALL) {
    unmapAll(ctx);
  } else {
    closeWindow(ctx, ctx.dma.remove(req.address, req.size));
  }
  let bitmap: Uint8Array | undefined;
  if (req.bitmap) {
    const size = req.bitmap.size;
    if (size > BigInt(ctx.limits.maxDataXfer))
      fail('EINVAL', `dirty bitmap of ${size} bytes is too large`);
    if (req.argsz < 40 + Number(size))
      fail('EINVAL', `DMA_UNMAP argsz ${req.argsz} cannot hold a ${size}-byte bitmap`);
    bitmap = new Uint8Array(Number(size));
  }
  // Echo the struct only when the client accepts that much reply (QEMU: argsz 24 → echo fits in 40).
  if (req.argsz < 24) return reply(encodeReply(frame.header.msgId, frame.header.command));
  return reply(encodeDmaUnmapReply(frame.header.msgId, req, bitmap));
};
