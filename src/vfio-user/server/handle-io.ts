/**
 * Region accesses and interrupts: REGION_READ, REGION_WRITE, REGION_WRITE_MULTI, SET_IRQS.
 *
 * Rules: the region index is checked against the device's count; offsets above 2^53 are EINVAL
 * (the model works in plain numbers); range and clipping rules belong to the device, and a
 * short count it returns is reported as is. count 0 is passed to the device too (the kernel
 * checks the offset, and nvgrace's post-reset readiness, for a zero-length access). A
 * REGION_WRITE_MULTI entry of length 0 is skipped.
 * The synchronous path stays synchronous: a Promise only when the device returns one.
 * SET_IRQS turns each eventfd into a sink via HostOps; if the device rejects the request the
 * sinks created for it are closed (which closes their fds).
 */

import { IrqSetFlags } from '../../uapi/vfio.js';
import type { IrqSink, MaybePromise, SetIrqsRequest } from '../../vfio/device.js';
import { fail } from '../../vfio/errors.js';
import { encodeReply } from '../protocol/header.js';
import { decodeSetIrqs } from '../protocol/irqs.js';
import {
  ACCESS_HEAD,
  decodeRegionAccess,
  decodeRegionWriteMulti,
  encodeRegionWriteMultiReply,
  encodeRegionWriteReply,
  finishRegionReadReply,
  regionReadReplyHead,
} from '../protocol/region-io.js';
import { andThen, type Handler, type HandlerContext, reply } from './context.js';
import { checkRegion } from './handle-info.js';

/** The model works in plain numbers: an offset above 2^53 − 1 is beyond any region. */
function offsetNumber(offset: number | bigint): number {
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) fail('EINVAL', `offset ${offset} is beyond any region`);
  return n;
}

/** Reads at least this large are sent from device memory in place when the device can. */
const IN_PLACE_FROM = 64 * 1024;

/**
 * A large read the device can serve in place goes out as header + a view of device memory
 * (one copy, into the socket); otherwise the device reads straight into the reply buffer (no intermediate copy); the buffer comes
 * from ctx.allocReply (possibly reused), and only the bytes the device wrote are sent.
 */
export const handleRegionRead: Handler = (ctx, frame) => {
  const req = decodeRegionAccess(frame.payload, 'REGION_READ');
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
  const buf = ctx.allocReply(ACCESS_HEAD + count);
  const target = buf.subarray(ACCESS_HEAD);
  return andThen(ctx.device.readInto(region, offset, target), (n) =>
    reply(finishRegionReadReply(buf, msgId, region, offset, Math.min(n, count))),
  );
};

export const handleRegionWrite: Handler = (ctx, frame) => {
  const req = decodeRegionAccess(frame.payload, 'REGION_WRITE');
  checkRegion(ctx, req.region);
  const { msgId } = frame.header;
  // Zero-length writes reach the device too (offset check, nvgrace readiness gate).
  const written = ctx.device.write(req.region, offsetNumber(req.offset), req.data);
  return andThen(written, (n) =>
    reply(encodeRegionWriteReply(msgId, req.region, req.offset, Math.min(n, req.count))),
  );
};

/** Apply the entries in order; stop at the first failure (its errno is the answer). */
export const handleRegionWriteMulti: Handler = (ctx, frame) => {
  const entries = decodeRegionWriteMulti(frame.payload);
  const { msgId } = frame.header;
  const step = (i: number): MaybePromise<number> => {
    for (; i < entries.length; i++) {
      const e = entries[i]!;
      checkRegion(ctx, e.region);
      if (e.data.length === 0) continue;
      const r = ctx.device.write(e.region, offsetNumber(e.offset), e.data);
      if (r instanceof Promise) {
        const next = i + 1;
        return r.then(() => step(next));
      }
    }
    return entries.length;
  };
  return andThen(step(0), (n) => reply(encodeRegionWriteMultiReply(msgId, n)));
};

function closeSinks(ctx: HandlerContext, sinks: IrqSink[]): void {
  for (const s of sinks) {
    try {
      s.close();
    } catch (e) {
      ctx.log('warn', `closing an interrupt sink failed: ${(e as Error).message}`);
    }
  }
}

export const handleSetIrqs: Handler = (ctx, frame, fds) => {
  const w = decodeSetIrqs(frame.payload);
  const n = ctx.deviceInfo().numIrqs;
  if (w.index >= n) fail('EINVAL', `IRQ index ${w.index} out of range (device has ${n})`);
  const req: SetIrqsRequest = { flags: w.flags, index: w.index, start: w.start, count: w.count };
  if (w.flags & IrqSetFlags.DATA_BOOL) req.bools = w.data;
  const sinks: IrqSink[] = [];
  if (w.flags & IrqSetFlags.DATA_EVENTFD) {
    try {
      for (let i = 0; i < fds.fds.length; i++) {
        sinks.push(ctx.host.sinkFromFd(fds.fds[i]!));
        fds.take(i);
      }
    } catch (e) {
      closeSinks(ctx, sinks);
      throw e;
    }
    req.sinks = sinks;
  }
  try {
    ctx.device.setIrqs(req);
  } catch (e) {
    closeSinks(ctx, sinks);
    throw e;
  }
  return reply(encodeReply(frame.header.msgId, frame.header.command));
};
