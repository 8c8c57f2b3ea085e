/**
 * ServerSession: one client connection's state and the dispatch of its messages, one at a time.
 *
 * Lifecycle: the caller opens the device, creates the session (which hands the device a
 * DmaSpace over the session's DMA windows), feeds it every FrameReader event with handle(),
 * sends each non-null Reply in the order handle() was called, drops the connection when
 * `wantsClose` turns true (after sending the pending reply), and calls close() when the client
 * is gone; then it resets/reopens the device for the next client, as a real host would.
 *
 * Rules:
 * - one message at a time: the caller (ServerEndpoint) owns the order of messages and hands
 *   over the next one only when the previous reply is out;
 * - each request is decoded once (protocol/validate.ts checkRequest): validation checks the
 *   decoded fields and the handler receives them; VERSION is negotiated here, as it sets this
 *   session's peer and state;
 * - VERSION first (else EINVAL); every error reply is header-only with a non-zero errno;
 * - No_reply commands are executed and never answered, not even on error (errors are logged);
 * - replies from the client are dropped with a log line (we never have a server→client request
 *   outstanding: DMA goes through fd-backed windows), since answering a reply would desync it;
 * - fds a handler does not keep are closed through HostOps; fatal framing errors get an error
 *   reply for their msg id when possible, then wantsClose.
 */

import { Errno } from '../../uapi/errno.js';
import type { DeviceInfo, MaybePromise, VfioDevice } from '../../vfio/device.js';
import { VfioError } from '../../vfio/errors.js';
import { Command, commandName, HeaderFlags } from '../protocol/constants.js';
import { ProtocolError } from '../protocol/errors.js';
import type { ReadEvent } from '../protocol/frame-reader.js';
import { encodeErrorReply, type Frame, type Header, wantsNoReply } from '../protocol/header.js';
import { allocBytes } from '../protocol/le.js';
import { DEFAULT_LIMITS, type ServerLimits } from '../protocol/limits.js';
import { ACCESS_HEAD } from '../protocol/region-io.js';
import { checkRequest, type ValidationLimits } from '../protocol/validate.js';
import {
  FdBag,
  type HandlerContext,
  type PeerCaps,
  type ReadReplyMemory,
  readReplyIn,
} from './context.js';
import { HANDLERS } from './dispatch.js';
import { DmaTable } from './dma-table.js';
import { unmapAll } from './handle-dma.js';
import { type Negotiated, negotiateVersion } from './handle-version.js';
import {
  FdRefusedError,
  type HostOps,
  HostResourceError,
  type Reply,
  type SessionLogger,
} from './host.js';

/** The bag of a message without fds: nothing to take or close, so one serves them all. */
const NO_FD_BAG = new FdBag([]);

export interface SessionOptions {
  limits?: Partial<ServerLimits>;
  log?: SessionLogger;
  /**
   * Where reply memory comes from (default: fresh zeroed memory each time); ServerEndpoint
   * passes its per-client ReplyMemory (read-path.ts states when reuse is safe).
   */
  allocReply?: (size: number) => Uint8Array;
  /** Where REGION_READ reply memory comes from (default: allocReply, and a view of it). */
  allocReadReply?: (count: number) => ReadReplyMemory;
  /** Counters the session adds to (messages processed, error replies); shared across sessions by the endpoint. */
  stats?: SessionStats;
}

export interface SessionStats {
  messages: number;
  errors: number;
}

type State = 'awaiting-version' | 'ready' | 'closed';

export class ServerSession {
  readonly limits: ServerLimits;
  private readonly ctx: HandlerContext;
  private state: State = 'awaiting-version';
  /** True while a handle() Promise is pending (see handle). */
  private inFlight = false;
  private closeReason: string | null = null;
  private info: DeviceInfo | null = null;
  /** The limits validation needs, built once (not per message). */
  private readonly validation: ValidationLimits;
  readonly stats: SessionStats;

  constructor(
    readonly device: VfioDevice,
    private readonly host: HostOps,
    options: SessionOptions = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.stats = options.stats ?? { messages: 0, errors: 0 };
    this.validation = { maxDataXfer: this.limits.maxDataXfer, maxMsgFds: this.limits.maxMsgFds };
    const log: SessionLogger = options.log ?? (() => {});
    const allocReply = options.allocReply ?? ((size: number) => allocBytes(size));
    const dma = new DmaTable(this.limits.maxDmaMaps);
    this.ctx = {
      device,
      host,
      limits: this.limits,
      dma,
      log,
      peer: null,
      deviceInfo: () => {
        this.info ??= device.deviceInfo();
        return this.info;
      },
      requestClose: (reason) => {
        this.closeReason ??= reason;
      },
      allocReply,
      allocReadReply:
        options.allocReadReply ?? ((count) => readReplyIn(allocReply(ACCESS_HEAD + count))),
    };
    device.setDmaSpace(dma);
  }

  /** True once the connection should be dropped (fatal framing error, bad VERSION). */
  get wantsClose(): boolean {
    return this.closeReason !== null;
  }
  /** Why the session asked to close, or null. */
  get wantsCloseReason(): string | null {
    return this.closeReason;
  }
  /** What the client announced in VERSION (null before). */
  get peer(): PeerCaps | null {
    return this.ctx.peer;
  }
  get dmaWindows(): DmaTable {
    return this.ctx.dma;
  }
  get closed(): boolean {
    return this.state === 'closed';
  }

  /**
   * Process one FrameReader event. Returns the reply to send (null: nothing to send), or a
   * Promise of it when the device waits. Never rejects. One message at a time: the caller
   * owns the order of messages (ServerEndpoint's queue) and does not call handle() again
   * until a returned Promise has settled; doing so is a caller bug and throws.
   */
  handle(ev: ReadEvent | Frame): MaybePromise<Reply | null> {
    if (this.inFlight) throw new Error('ServerSession.handle: a message is still in progress');
    const r = this.process(ev);
    if (r instanceof Promise) {
      this.inFlight = true;
      return r.finally(() => {
        this.inFlight = false;
      });
    }
    return r;
  }

  /** The client is gone: drop DMA windows, detach DMA from the device, close the device. Idempotent. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    unmapAll(this.ctx);
    try {
      this.device.setDmaSpace(null);
      this.device.close();
    } catch (e) {
      this.ctx.log('error', `closing device ${this.device.name}: ${(e as Error).message}`);
    }
  }

  private closeFds(fds: readonly number[]): void {
    new FdBag(fds).closeRest(this.host, this.ctx.log);
  }

  private process(ev: ReadEvent | Frame): MaybePromise<Reply | null> {
    this.stats.messages++;
    if ('kind' in ev && ev.kind === 'error') {
      this.stats.errors++;
      this.closeFds(ev.fds);
      if (ev.error.fatal) this.ctx.requestClose(ev.error.message);
      this.ctx.log('warn', `framing: ${ev.error.message}`);
      const h = ev.header;
      if (
        !h ||
        this.state === 'closed' ||
        wantsNoReply(h) ||
        (h.flags & HeaderFlags.TYPE_MASK) === HeaderFlags.TYPE_REPLY
      ) {
        return null;
      }
      return { bytes: encodeErrorReply(h.msgId, h.command, ev.error.errno), fds: [] };
    }
    const frame: Frame = ev;
    const { header } = frame;
    if (this.state === 'closed') {
      this.closeFds(frame.fds);
      return null;
    }
    if ((header.flags & HeaderFlags.TYPE_MASK) !== HeaderFlags.TYPE_COMMAND) {
      this.closeFds(frame.fds);
      this.ctx.log(
        'warn',
        `dropping unexpected reply id ${header.msgId} (${commandName(header.command)}): no request outstanding`,
      );
      return null;
    }
    const noReply = wantsNoReply(header);
    // Decoded once: validation checks the decoded fields, the handler gets them.
    const checked = checkRequest(frame, this.validation);
    if (!checked.ok) {
      this.closeFds(frame.fds);
      return this.fail(header, noReply, checked.errno, checked.message);
    }
    if (this.state === 'awaiting-version' && header.command !== Command.VERSION) {
      this.closeFds(frame.fds);
      return this.fail(header, noReply, Errno.EINVAL, 'VERSION must be the first command');
    }
    if (header.command === Command.VERSION) return this.version(frame, noReply);
    const handler = HANDLERS.get(header.command);
    if (!handler) {
      this.closeFds(frame.fds);
      return this.fail(header, noReply, Errno.EINVAL, 'command not handled');
    }
    // Per-message closures only on the (rare) asynchronous path: the sync path allocates none.
    const bag = frame.fds.length === 0 ? NO_FD_BAG : new FdBag(frame.fds);
    let r: MaybePromise<Reply>;
    try {
      r = handler(this.ctx, frame, bag, checked.req);
    } catch (e) {
      return this.failed(header, noReply, bag, e);
    }
    if (r instanceof Promise) {
      return r.then(
        (v) => this.done(noReply, bag, v),
        (e: unknown) => this.failed(header, noReply, bag, e),
      );
    }
    return this.done(noReply, bag, r);
  }

  private done(noReply: boolean, bag: FdBag, r: Reply): Reply | null {
    bag.closeRest(this.host, this.ctx.log);
    return noReply ? null : r;
  }

  /** VERSION: negotiate, then apply the result here (peer and state have this one owner). */
  private version(frame: Frame, noReply: boolean): Reply | null {
    const { header } = frame;
    const bag = new FdBag(frame.fds);
    if (this.state !== 'awaiting-version') {
      return this.failed(header, noReply, bag, new VfioError(Errno.EINVAL, 'VERSION sent twice'));
    }
    let v: Negotiated;
    try {
      v = negotiateVersion(frame, this.limits);
    } catch (e) {
      this.ctx.requestClose(`bad VERSION: ${(e as Error).message}`);
      return this.failed(header, noReply, bag, e);
    }
    if (v.unknownKeys)
      this.ctx.log('debug', `VERSION: ignoring unknown capabilities ${v.unknownKeys.join(', ')}`);
    this.ctx.peer = v.peer;
    this.state = 'ready';
    return this.done(noReply, bag, { bytes: v.reply, fds: [] });
  }

  private failed(header: Header, noReply: boolean, bag: FdBag, e: unknown): Reply | null {
    bag.closeRest(this.host, this.ctx.log);
    const [errno, message] = errorOf(e);
    if (e instanceof HostResourceError) {
      this.ctx.log('error', `${commandName(header.command)}: ${e.message}`);
    } else if (
      !(e instanceof VfioError) &&
      !(e instanceof ProtocolError) &&
      !(e instanceof FdRefusedError)
    ) {
      this.ctx.log(
        'error',
        `${commandName(header.command)} handler bug: ${(e as Error)?.stack ?? String(e)}`,
      );
    }
    return this.fail(header, noReply, errno, message);
  }

  private fail(header: Header, noReply: boolean, errno: number, message: string): Reply | null {
    this.stats.errors++;
    const name = commandName(header.command);
    this.ctx.log(
      noReply ? 'warn' : 'debug',
      `${name} id ${header.msgId}: ${message}${noReply ? ' (no reply requested)' : ''}`,
    );
    return noReply
      ? null
      : { bytes: encodeErrorReply(header.msgId, header.command, errno), fds: [] };
  }
}

function errorOf(e: unknown): [number, string] {
  if (e instanceof VfioError || e instanceof ProtocolError)
    return [e.errno > 0 ? e.errno : Errno.EINVAL, e.message];
  if (e instanceof FdRefusedError) return [Errno.EINVAL, e.message];
  if (e instanceof HostResourceError) return [e.errno, e.message];
  return [Errno.EIO, e instanceof Error ? e.message : String(e)];
}
