/**
 * What a command handler sees: the session's state and device, the fds of its message (with
 * ownership tracking), and the handler signature the dispatch table is built from.
 *
 * Rules: a handler marks each fd it keeps with `take`; whatever it did not take is closed by
 * the session once the handler finished (success or error). A handler throws VfioError (or
 * ProtocolError) to answer with an error; it never builds error replies itself.
 */
import type { DeviceInfo, MaybePromise, VfioDevice } from '../../vfio/device.js';
import { fail } from '../../vfio/errors.js';
import type { Frame } from '../protocol/header.js';
import type { ServerLimits } from '../protocol/limits.js';
import { ACCESS_HEAD } from '../protocol/region-io.js';
import type { Capabilities } from '../protocol/version.js';
import type { DmaTable } from './dma-table.js';
import type { HostOps, Reply, SessionLogger } from './host.js';

/** What we know of the client after VERSION (spec defaults when it said nothing). */
export interface PeerCaps {
  major: number;
  minor: number;
  maxMsgFds: number;
  maxDataXferSize: number;
  raw: Capabilities;
}

export interface HandlerContext {
  readonly device: VfioDevice;
  readonly host: HostOps;
  readonly limits: ServerLimits;
  readonly dma: DmaTable;
  readonly log: SessionLogger;
  /** Device info, read once. */
  deviceInfo(): DeviceInfo;
  peer: PeerCaps | null;
  /** Ask the caller to drop the connection after this message's reply. */
  requestClose(reason: string): void;
  /**
   * Memory for a reply of `size` bytes, possibly holding an earlier reply's bytes: the
   * handler writes every byte it returns (read-path.ts, invariants 1 and 3).
   */
  allocReply(size: number): Uint8Array;
  /**
   * Memory for a REGION_READ reply with `count` data bytes: the whole message and its data
   * part (a view of `bytes` from ACCESS_HEAD), under the same rule as allocReply.
   */
  allocReadReply(count: number): ReadReplyMemory;
}

export interface ReadReplyMemory {
  readonly bytes: Uint8Array;
  readonly data: Uint8Array;
}

/** A read reply's memory in `bytes` (header + access struct + data): the data part is a view. */
export function readReplyIn(bytes: Uint8Array): ReadReplyMemory {
  return { bytes, data: bytes.subarray(ACCESS_HEAD) };
}

export class FdBag {
  /** Indices taken; created on the first take (most messages carry no fds). */
  private taken: Set<number> | null = null;

  constructor(readonly fds: readonly number[]) {}

  /** Take ownership of fds[i]. */
  take(i: number): number {
    const fd = this.fds[i];
    if (fd === undefined) throw new RangeError(`no fd #${i}`);
    this.taken ??= new Set<number>();
    this.taken.add(i);
    return fd;
  }

  /** Close every fd nobody took. */
  closeRest(host: HostOps, log: SessionLogger): void {
    for (let i = 0; i < this.fds.length; i++) {
      if (this.taken?.has(i)) continue;
      const fd = this.fds[i]!;
      try {
        host.closeFd(fd);
      } catch (e) {
        log('warn', `closing unused fd ${fd} failed: ${(e as Error).message}`);
      }
    }
  }
}

/**
 * A command's handler: it gets the request decoded once (validate.ts's RequestSpec for its
 * command) and never reads the frame's payload bytes itself.
 */
export type Handler<T = unknown> = (
  ctx: HandlerContext,
  frame: Frame,
  fds: FdBag,
  req: T,
) => MaybePromise<Reply>;

/** Apply `fn` now if `v` is a value, after it resolves if it is a Promise (keeps the sync path sync). */
export function andThen<T, U>(v: MaybePromise<T>, fn: (t: T) => MaybePromise<U>): MaybePromise<U> {
  return v instanceof Promise ? v.then(fn) : fn(v);
}

/** The model works in plain numbers: an offset above 2^53 − 1 is beyond any region. */
export function offsetNumber(offset: number | bigint): number {
  const n = Number(offset);
  if (!Number.isSafeInteger(n)) fail('EINVAL', `offset ${offset} is beyond any region`);
  return n;
}

/** The fds of a reply that carries none: shared and frozen (nobody may add to it). */
const NO_FDS: number[] = Object.freeze([]) as unknown as number[];

/** A reply without fds. */
export function reply(bytes: Uint8Array): Reply {
  return { bytes, fds: NO_FDS };
}
