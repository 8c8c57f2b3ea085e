/**
 * Region writes and interrupts: REGION_WRITE, REGION_WRITE_MULTI, SET_IRQS (REGION_READ is
 * read-path.ts).
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
import type { SetIrqsWire } from '../protocol/irqs.js';
import {
  encodeRegionWriteMultiReply,
  encodeRegionWriteReply,
  type RegionAccess,
  type WriteMultiEntry,
} from '../protocol/region-io.js';
import { andThen, type Handler, type HandlerContext, offsetNumber, reply } from './context.js';
import { checkRegion } from './handle-info.js';

export const handleRegionWrite: Handler<RegionAccess> = (ctx, frame, _fds, req) => {
  checkRegion(ctx, req.region);
  const { msgId } = frame.header;
  // Zero-length writes reach the device too (offset check, nvgrace readiness gate).
  const written = ctx.device.write(req.region, offsetNumber(req.offset), req.data);
  return andThen(written, (n) =>
    reply(encodeRegionWriteReply(msgId, req.region, req.offset, Math.min(n, req.count))),
  );
};

/** Apply the entries in order; stop at the first failure (its errno is the answer). */
export const handleRegionWriteMulti: Handler<WriteMultiEntry[]> = (ctx, frame, _fds, entries) => {
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

export const handleSetIrqs: Handler<SetIrqsWire> = (ctx, frame, fds, w) => {
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
