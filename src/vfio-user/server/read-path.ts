/**
 * The zero-copy REGION_READ path, end to end, and the one place its invariants are stated
 * (the device's readInto/readView, Reply.tail, the endpoint's reply memory and the
 * transport's copyUnsent refer here).
 *
 * How a read goes out:
 * - a read of IN_PLACE_FROM bytes or more that the device can serve in place
 *   (VfioDevice.readView: no gate, no clipping or padding, memory known to hold data) is sent
 *   as a 32-byte head plus a view of device memory (Reply.tail): one copy, into the socket;
 * - any other read goes straight into the reply: the device's readInto fills the data part of
 *   a buffer from ReplyMemory, and only the bytes it reports are sent.
 *
 * Invariants (each step relies on the one before):
 * 1. readInto writes every byte of target[0, n) it reports, so a reused buffer never leaks an
 *    earlier reply's bytes; finishRegionReadReply writes the head.
 * 2. A view shows later writes. The endpoint therefore sends a tail reply before it handles
 *    the next message, with copyUnsent: what the socket does not take at once is copied at
 *    once (Connection.send), so the reply is the memory as it was when the read was handled.
 * 3. ReplyMemory hands out its reused buffer only while the connection has nothing queued:
 *    then no earlier reply can still reference it. Replies below REUSE_FROM take fresh
 *    message memory (allocBytes); above it a fresh buffer per read would cost more in page
 *    faults than the copy into it.
 * 4. Everything here is per connection: a ReplyMemory belongs to one endpoint's client, so a
 *    server with several devices keeps one per attached client and shares nothing.
 */

import { allocBytes } from '../protocol/le.js';
import {
  finishRegionReadReply,
  type RegionAccess,
  regionReadReplyHead,
} from '../protocol/region-io.js';
import type { Connection } from '../transport/types.js';
import { type Handler, offsetNumber, reply } from './context.js';
import { checkRegion } from './handle-info.js';
import type { Reply } from './host.js';

/** Reads at least this large are sent from device memory in place when the device can. */
export const IN_PLACE_FROM = 64 * 1024;

/** Replies at least this large are built in the connection's reused buffer when possible. */
export const REUSE_FROM = 64 * 1024;

export const handleRegionRead: Handler<RegionAccess> = (ctx, frame, _fds, req) => {
  checkRegion(ctx, req.region);
  const { msgId } = frame.header;
  const { region, count } = req;
  // A zero-length read still reaches the device: the kernel's read paths check the offset
  // and (nvgrace ≥ 6.19) the post-reset readiness for it (nvgrace_gpu_read_mem).
  const offset = offsetNumber(req.offset);
  if (count >= IN_PLACE_FROM) {
    const view = ctx.device.readView(region, offset, count);
    if (view && view.length === count) {
      return { bytes: regionReadReplyHead(msgId, region, offset, count), fds: [], tail: view };
    }
  }
  const { bytes, data } = ctx.allocReadReply(count);
  const n = ctx.device.readInto(region, offset, data);
  // No closure on the synchronous path (a trapped register read is the hot path).
  if (n instanceof Promise) {
    return n.then((k) =>
      reply(finishRegionReadReply(bytes, msgId, region, offset, Math.min(k, count))),
    );
  }
  return reply(finishRegionReadReply(bytes, msgId, region, offset, Math.min(n, count)));
};

/** One connection's reply memory (invariant 3). */
export class ReplyMemory {
  private scratch: Buffer | null = null;

  /** `queued`: the bytes the connection still holds for sending. */
  constructor(private readonly queued: () => number) {}

  /** `size` bytes for a reply the caller fills completely (they may hold older bytes). */
  alloc(size: number): Uint8Array {
    if (size < REUSE_FROM || this.queued() > 0) return allocBytes(size);
    if (!this.scratch || this.scratch.length < size) this.scratch = Buffer.allocUnsafe(size);
    return this.scratch.subarray(0, size);
  }
}

/** Send a reply; a tail (a view of device memory) goes with copyUnsent (invariant 2). */
export function sendReply(conn: Connection, r: Reply): void {
  if (r.tail) conn.send([r.bytes, r.tail], r.fds, { copyUnsent: true });
  else conn.send(r.bytes, r.fds);
}
