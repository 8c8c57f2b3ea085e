/**
 * ServerEndpoint: the glue between a listening socket and ServerSession — one client at a
 * time, replies in order, every resource a client can make the server hold bounded, and the
 * device handed back in a clean state when a client leaves.
 *
 * Rules:
 * - attach: a newcomer while a client is attached asks the kernel whether the attached one
 *   is still there (Connection.peerGone: a pending hang-up is seen before its EOF is read).
 *   A gone client is torn down at once and the newcomer served. A live one keeps the device;
 *   the newcomer waits (not read from) up to `attachWaitMs` for it to leave, and is served
 *   when it does. Only if it is still attached then is the newcomer refused: its VERSION is
 *   answered with an error reply, errno EBUSY ("device in use by another VMM"), then closed.
 *   At most MAX_WAITING wait and MAX_REFUSING are being refused; past that, closed at once;
 * - frames are processed one at a time from a queue. Reading stops while more than
 *   `highWaterBytes` of replies or `highWaterFds` fds wait in the socket (a client that stops
 *   reading cannot make the server buffer without bound, nor run it out of fds), and while
 *   more than `maxQueuedInput` bytes of requests wait behind a request still being handled
 *   (the readiness gate, a reset);
 * - deadlines: VERSION within `handshakeMs` of attaching, and a message begun must be
 *   finished within `handshakeMs` (time the server itself was not reading does not count);
 *   past it the client is dropped and the next one served;
 * - when the session asks to close (bad VERSION, fatal framing error), the pending reply is
 *   flushed first (bounded by a short grace period), then the connection is dropped;
 * - each client has its own reply memory, and each reply is sent before the next message is
 *   handled: the zero-copy read path relies on both (read-path.ts states its invariants);
 * - chunks are taken as transient (views of the socket's read buffer) and parsed in place:
 *   frames handled before the data callback returns need no copy; when a frame outlives it
 *   (queued behind a waiting handler, or that handler's own) the connection is told to keep
 *   the chunk (Connection.retainChunk; without it the reader copies). After a synchronous
 *   REGION_WRITE with nothing else queued the reader gets its store back
 *   (FrameReader.recycle): a stream of 1 MiB writes allocates nothing;
 * - replies in place: during a data callback, replies of the frames it handles are built in
 *   (or copied into) the connection's replyArea and returned, so the transport sends them as
 *   the callback returns — one crossing per request. Any other reply (fds, a tail of device
 *   memory, a handler that waits) first sends what the area holds, so order holds; the area
 *   is used only while nothing is queued on the connection and no handler waits (a waiting
 *   handler may hold its slot of the area until it answers);
 * - when a client goes (cleanly or mid-message) its DMA maps and IRQ fds are dropped
 *   (session.close → device.close, which resets the function as the kernel does at
 *   release); device memory is kept; the next client may attach.
 * - observers (control plane): `onEvent` hears attach/detach/refusal; `tracer`, when set,
 *   sees every processed message with its reply — tracing off costs one null check per
 *   message (`this.tracer !== null`), nothing else.
 */
import type { VfioDevice } from '../../vfio/device.js';
import {
  Command,
  Errno,
  encodeErrorReply,
  FrameReader,
  HeaderFlags,
  type ReadEvent,
} from '../protocol/index.js';
import type { ServerLimits } from '../protocol/limits.js';
import { ACCESS_HEAD } from '../protocol/region-io.js';
import { type Connection, type Listener, REPLY_SETTLED } from '../transport/types.js';
import { type ReadReplyMemory, readReplyIn } from './context.js';
import type { HostOps, Reply, SessionLogger } from './host.js';
import { ReplyMemory, sendReply } from './read-path.js';
import { ServerSession, type SessionStats } from './session.js';

/** What the endpoint tells its observer (control-plane events). */
export type EndpointEvent =
  | { type: 'client-attached' }
  | { type: 'client-detached'; reason: string | null }
  | { type: 'client-refused' };

/** Sees each processed message and its reply (null: none sent); `startMs` set for async ones. */
export interface MessageTracer {
  record(ev: ReadEvent, reply: Reply | null, startMs?: number): void;
}

/** Newcomers waiting for the attached client to leave, and busy ones being told so. */
const MAX_WAITING = 8;
const MAX_REFUSING = 16;

/** The endpoint's bounds and deadlines, with their defaults (documented in serve --help). */
export const ENDPOINT_DEFAULTS = Object.freeze({
  highWaterBytes: 8 * 2 ** 20,
  highWaterFds: 64,
  maxQueuedInput: 8 * 2 ** 20,
  attachWaitMs: 2000,
  handshakeMs: 10000,
  closeGraceMs: 1000,
});

export interface EndpointOptions {
  device: VfioDevice;
  host: HostOps;
  limits?: Partial<ServerLimits>;
  log?: SessionLogger;
  /** Stop reading from a client while this many reply bytes are queued (default 8 MiB). */
  highWaterBytes?: number;
  /** ... or while this many fds ride on queued replies (default 64). */
  highWaterFds?: number;
  /** ... or while this many request bytes wait behind one being handled (default 8 MiB). */
  maxQueuedInput?: number;
  /** How long a newcomer waits for a live attached client to leave (ms, default 2000). */
  attachWaitMs?: number;
  /** Deadline for VERSION after attaching and for finishing a begun message (ms, default 10000). */
  handshakeMs?: number;
  /** How long a reply before a forced close may take to flush (ms, default 1000). */
  closeGraceMs?: number;
  /** Poll mode: after answering, poll the client's socket this long before sleeping (µs, 0). */
  pollUs?: number;
}

interface Attached {
  conn: Connection;
  session: ServerSession;
  reader: FrameReader;
  queue: ReadEvent[];
  /** Index of the next frame to process in `queue`. */
  head: number;
  /** True while a handler's Promise (or the device open) is pending. */
  busy: boolean;
  closing: boolean;
  /** Request bytes in `queue` not yet processed. */
  queuedBytes: number;
  /** Reading stopped by the endpoint (output or input bound), not by the client. */
  paused: boolean;
  /** When the incomplete message in `reader` began to arrive while reading (0: none). */
  partialSince: number;
  attachedAt: number;
  deadlineTimer: NodeJS.Timeout;
  /** The connection's replyArea (null: the transport has none). */
  area: Uint8Array | null;
  /** Bytes of replies in `area` during a data callback; -1 outside one (no in-place replies). */
  areaUsed: number;
  /** The slot of `area` last handed to a handler (a reply built in place is this object). */
  areaSlot: Uint8Array | null;
  /**
   * During a data callback: everything so far was a REGION_READ answered in place, so
   * nothing was scheduled (the transport may skip Node's callback bookkeeping).
   */
  settled: boolean;
  /** Read-reply slots at the start of the area by data size (built once: no view per read). */
  readSlots: Map<number, ReadReplyMemory>;
}

/** Replies up to this size go through the reply area; larger ones are sent as they are. */
const AREA_REPLY_MAX = 4096;
/** Read sizes whose area slots are kept (a guest uses a handful: 1, 2, 4, 8 bytes). */
const READ_SLOT_SIZES = 16;

interface Waiting {
  conn: Connection;
  timer: NodeJS.Timeout;
}

export class ServerEndpoint {
  private current: Attached | null = null;
  private readonly log: SessionLogger;
  private readonly highWater: number;
  private readonly highWaterFds: number;
  private readonly maxQueuedInput: number;
  private readonly attachWaitMs: number;
  private readonly handshakeMs: number;
  private stopped = false;
  private waiting: Waiting[] = [];
  private readonly refusing = new Set<Connection>();
  /** Connections served so far (for logs and tests). */
  served = 0;
  /** Clients refused because a live one was attached. */
  refused = 0;
  /** Attached clients found gone (hung up, EOF not yet read) when a newcomer arrived. */
  reaped = 0;
  /** Clients dropped at the handshake / message deadline. */
  timedOut = 0;
  private idleWaiters: (() => void)[] = [];
  /** Messages processed and error replies, over all clients. */
  readonly stats: SessionStats = { messages: 0, errors: 0 };
  /** When the current client attached (ms since the epoch), or null. */
  attachedSince: number | null = null;
  /** Set to trace every message (control plane); null = off. */
  tracer: MessageTracer | null = null;
  /** Told about attach/detach/refusal (control plane); null = nobody listens. */
  onEvent: ((event: EndpointEvent) => void) | null = null;

  constructor(
    private readonly listener: Listener,
    private readonly options: EndpointOptions,
  ) {
    this.log = options.log ?? (() => {});
    const d = ENDPOINT_DEFAULTS;
    this.highWater = options.highWaterBytes ?? d.highWaterBytes;
    this.highWaterFds = options.highWaterFds ?? d.highWaterFds;
    this.maxQueuedInput = options.maxQueuedInput ?? d.maxQueuedInput;
    this.attachWaitMs = options.attachWaitMs ?? d.attachWaitMs;
    this.handshakeMs = options.handshakeMs ?? d.handshakeMs;
    listener.onConnection((conn) => this.accept(conn));
  }

  /** True while a client is attached. */
  get attached(): boolean {
    return this.current !== null;
  }

  /** Resolves when no client is attached. */
  idle(): Promise<void> {
    if (!this.current) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drop the attached client (as if it hung up); false when none is attached. */
  disconnect(): boolean {
    if (!this.current) return false;
    this.current.closing = true;
    this.current.conn.close();
    return true;
  }

  /** Stop listening and drop the attached client and any waiting one. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.listener.close();
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.conn.close();
    }
    for (const c of this.refusing) c.close();
    this.current?.conn.close();
    await this.idle();
  }

  private accept(conn: Connection): void {
    if (this.stopped) {
      conn.close();
      return;
    }
    const cur = this.current;
    if (!cur) {
      this.attach(conn);
      return;
    }
    // Not read from while it waits: what it sends stays in the kernel's socket buffer.
    conn.pause();
    if (cur.conn.closed || cur.conn.peerGone()) {
      // The attached client hung up; its EOF is just not read yet. Tear it down now.
      this.reaped++;
      this.log('info', 'previous client hung up; serving the new one');
      this.enqueueWaiting(conn);
      cur.conn.close();
      return;
    }
    this.enqueueWaiting(conn);
  }

  private enqueueWaiting(conn: Connection): void {
    if (this.waiting.length >= MAX_WAITING) {
      this.refuse(conn);
      return;
    }
    const w: Waiting = {
      conn,
      timer: setTimeout(() => {
        const i = this.waiting.indexOf(w);
        if (i < 0) return;
        this.waiting.splice(i, 1);
        this.refuse(conn);
      }, this.attachWaitMs),
    };
    this.waiting.push(w);
  }

  /** Serve the longest-waiting newcomer, if any, now that no client is attached. */
  private promote(): void {
    while (!this.current && !this.stopped) {
      const w = this.waiting.shift();
      if (!w) return;
      clearTimeout(w.timer);
      if (w.conn.closed) continue;
      this.attach(w.conn);
      w.conn.resume();
    }
  }

  /**
   * A live client keeps the device: answer the newcomer's first request (its VERSION) with
   * EBUSY so it can say why, then close. Bounded in number and by the handshake deadline.
   */
  private refuse(conn: Connection): void {
    this.refused++;
    if (!this.stopped) this.onEvent?.({ type: 'client-refused' });
    if (conn.closed) return;
    if (this.refusing.size >= MAX_REFUSING || this.stopped) {
      this.log(
        'warn',
        'refused a client: device in use by another VMM (too many refusals pending)',
      );
      conn.close();
      return;
    }
    this.log('warn', 'refused a client: device in use by another VMM');
    this.refusing.add(conn);
    const reader = new FrameReader({ maxMessageSize: 4096 });
    const timer = setTimeout(() => conn.close(), this.handshakeMs);
    let answered = false;
    conn.onData((chunk, fds) => {
      for (const fd of fds) this.options.host.closeFd(fd);
      if (answered) return;
      for (const ev of reader.push(chunk)) {
        const h = ev.header;
        answered = true;
        if (h && (h.flags & HeaderFlags.TYPE_MASK) === HeaderFlags.TYPE_COMMAND) {
          conn.send(encodeErrorReply(h.msgId, h.command, Errno.EBUSY));
        }
        conn.pause();
        if (conn.pendingBytes === 0) conn.close();
        else conn.onDrain(() => conn.close());
        break;
      }
      for (const fd of reader.releaseFds()) this.options.host.closeFd(fd);
    });
    conn.onClose(() => {
      clearTimeout(timer);
      this.refusing.delete(conn);
      for (const fd of reader.releaseFds()) this.options.host.closeFd(fd);
    });
    conn.resume();
  }

  private attach(conn: Connection): void {
    this.served++;
    if (this.options.pollUs) conn.setPollUs?.(this.options.pollUs);
    this.onEvent?.({ type: 'client-attached' });
    // The kernel opens the device fd when a VMM attaches: function reset, fake BARs zeroed.
    let opened: ReturnType<VfioDevice['open']>;
    try {
      opened = this.options.device.open();
    } catch (e) {
      this.log('error', `device open failed: ${(e as Error).message}`);
      conn.close();
      this.onEvent?.({
        type: 'client-detached',
        reason: `device open failed: ${(e as Error).message}`,
      });
      return;
    }
    const replies = new ReplyMemory(() => conn.pendingBytes);
    const session = new ServerSession(this.options.device, this.options.host, {
      limits: this.options.limits ?? {},
      log: this.log,
      stats: this.stats,
      allocReply: (size) => this.allocReply(a, replies, size),
      allocReadReply: (count) => this.allocReadReply(a, replies, count),
    });
    const reader = new FrameReader({ maxMessageSize: session.limits.maxMsgSize });
    const a: Attached = {
      conn,
      session,
      reader,
      queue: [],
      head: 0,
      busy: false,
      closing: false,
      queuedBytes: 0,
      paused: false,
      partialSince: 0,
      attachedAt: Date.now(),
      deadlineTimer: setInterval(() => this.checkDeadline(a), Math.min(1000, this.handshakeMs)),
      area: conn.replyArea ?? null,
      areaUsed: -1,
      areaSlot: null,
      readSlots: new Map(),
      settled: false,
    };
    a.deadlineTimer.unref();
    this.current = a;
    this.attachedSince = Date.now();
    if (opened instanceof Promise) {
      a.busy = true;
      opened.then(
        () => {
          a.busy = false;
          this.pump(a);
        },
        (e: Error) => {
          this.log('error', `device open failed: ${e.message}`);
          a.conn.close();
        },
      );
    }
    this.log('info', 'client attached');
    // Transient chunks (views of the socket's read buffer), parsed in place when the
    // connection can keep one that a frame outlives; else the reader copies what it keeps.
    const canRetain = conn.retainChunk !== undefined;
    // The reader's output for one chunk, reused (read only up to the count it returns).
    const events: ReadEvent[] = [];
    conn.onData(
      (chunk, fds, transient) => {
        const inPlace = !transient || canRetain;
        const n = reader.pushInto(events, chunk, fds, !inPlace);
        if (reader.bufferedBytes === 0) a.partialSince = 0;
        else if (a.partialSince === 0) a.partialSince = Date.now();
        if (a.area && !a.busy && conn.pendingBytes === 0) a.areaUsed = 0;
        a.settled = n > 0 && this.tracer === null;
        this.take(a, events, n);
        const placed = a.areaUsed;
        a.areaUsed = -1;
        a.areaSlot = null;
        // A frame of this chunk still waits (queued, or its handler does): keep the chunk.
        if (transient && canRetain && (a.busy || a.head < a.queue.length)) {
          a.settled = false;
          conn.retainChunk?.();
        }
        if (placed <= 0 || conn.closed) return 0;
        return a.settled && !a.closing ? placed | REPLY_SETTLED : placed;
      },
      { transient: true, replyInPlace: true },
    );
    conn.onDrain(() => {
      if (!a.closing) this.pump(a);
    });
    conn.onClose((error) => this.detach(a, error));
  }

  /** Drop a client that has not sent VERSION, or not finished a message, within the deadline. */
  private checkDeadline(a: Attached): void {
    if (a.closing || a.conn.closed || a.paused) return;
    const now = Date.now();
    let why: string | null = null;
    if (!a.session.peer && !a.busy && a.queue.length === a.head) {
      if (now - a.attachedAt >= this.handshakeMs) why = `no VERSION within ${this.handshakeMs} ms`;
    }
    if (a.partialSince !== 0 && now - a.partialSince >= this.handshakeMs) {
      why = `a message begun was not finished within ${this.handshakeMs} ms`;
    }
    if (!why) return;
    this.timedOut++;
    this.log('warn', `dropping the client: ${why}`);
    a.closing = true;
    a.conn.close();
  }

  /** Stop reading (endpoint's own backpressure): a partial message is not the client's fault meanwhile. */
  private setPaused(a: Attached, on: boolean): void {
    if (a.paused === on) return;
    a.paused = on;
    if (on) {
      a.conn.pause();
      a.partialSince = 0;
    } else {
      a.conn.resume();
      if (a.reader.bufferedBytes > 0) a.partialSince = Date.now();
    }
  }

  private outputFull(a: Attached): boolean {
    return a.conn.pendingBytes > this.highWater || a.conn.pendingFds > this.highWaterFds;
  }

  /** Process queued frames in order until the queue is empty, a handler waits, or output is full. */
  private pump(a: Attached): void {
    if (!a.busy) {
      while (a.head < a.queue.length && !a.closing && !a.conn.closed) {
        if (this.outputFull(a)) break;
        const ev = a.queue[a.head]!;
        // Advance a head index instead of shift(): a chunk can queue thousands of frames.
        a.head++;
        if (ev.kind === 'frame') a.queuedBytes -= ev.payload.length;
        if (a.head === a.queue.length) {
          a.queue.length = 0;
          a.head = 0;
          a.queuedBytes = 0;
        }
        if (!this.processOne(a, ev, a.head === a.queue.length)) break;
      }
    }
    this.readOn(a);
  }

  /** Read on only while neither output nor waiting input is past its bound. */
  private readOn(a: Attached): void {
    if (a.closing || a.conn.closed) return;
    this.setPaused(a, this.outputFull(a) || a.queuedBytes > this.maxQueuedInput);
  }

  /**
   * The events of one chunk: handled as they come while nothing waits before them (no queue
   * traffic on the common path), queued from the first one that must wait.
   */
  private take(a: Attached, events: readonly ReadEvent[], count: number): void {
    let i = 0;
    if (!a.busy && a.head === a.queue.length) {
      for (; i < count; i++) {
        if (a.busy || a.closing || a.conn.closed || this.outputFull(a)) break;
        this.processOne(a, events[i]!, i === count - 1);
      }
    }
    for (; i < count; i++) {
      const ev = events[i]!;
      if (ev.kind === 'frame') a.queuedBytes += ev.payload.length;
      a.queue.push(ev);
    }
    this.pump(a);
  }

  /**
   * Handle one event and deliver its reply; false when its handler waits (the session is
   * busy). `last`: no other frame is waiting to be handled.
   */
  private processOne(a: Attached, ev: ReadEvent, last: boolean): boolean {
    if (ev.kind !== 'frame' || ev.header.command !== Command.REGION_READ) a.settled = false;
    const result = a.session.handle(ev);
    if (result instanceof Promise) {
      // Replies so far go first; the waiting handler may hold its slot of the area.
      a.settled = false;
      this.flushArea(a);
      a.areaUsed = -1;
      a.busy = true;
      const startMs = Date.now();
      result.then((reply) => {
        a.busy = false;
        if (this.tracer !== null) this.tracer.record(ev, reply, startMs);
        this.deliver(a, reply);
        this.pump(a);
      });
      return false;
    }
    if (this.tracer !== null) this.tracer.record(ev, result);
    this.deliver(a, result);
    // A REGION_WRITE's data is consumed once its handler returns (the device copies it):
    // with nothing else waiting, no frame refers to the reader's store any more.
    if (last && ev.kind === 'frame' && ev.header.command === Command.REGION_WRITE)
      a.reader.recycle(ev.payload);
    return true;
  }

  /**
   * Reply memory for a handler: during a data callback, the next slot of the reply area
   * (nothing is copied when the reply is delivered); otherwise the connection's ReplyMemory.
   */
  private allocReply(a: Attached, replies: ReplyMemory, size: number): Uint8Array {
    if (a.areaUsed >= 0 && size <= AREA_REPLY_MAX && a.area && a.areaUsed + size <= a.area.length) {
      a.areaSlot = a.area.subarray(a.areaUsed, a.areaUsed + size);
      return a.areaSlot;
    }
    return replies.alloc(size);
  }

  /** A read reply: at the start of the area, slots made once per size are reused. */
  private allocReadReply(a: Attached, replies: ReplyMemory, count: number): ReadReplyMemory {
    const size = ACCESS_HEAD + count;
    if (a.areaUsed === 0 && a.area && size <= AREA_REPLY_MAX) {
      let slot = a.readSlots.get(count);
      if (!slot) {
        if (a.readSlots.size >= READ_SLOT_SIZES) a.readSlots.clear();
        slot = readReplyIn(a.area.subarray(0, size));
        a.readSlots.set(count, slot);
      }
      a.areaSlot = slot.bytes;
      return slot;
    }
    return readReplyIn(this.allocReply(a, replies, size));
  }

  private deliver(a: Attached, reply: Reply | null): void {
    if (a.conn.closed) return;
    if (reply) {
      const bytes = reply.bytes;
      const area = a.area;
      const plain = reply.tail === undefined && reply.fds.length === 0;
      if (a.areaUsed >= 0 && plain && bytes === a.areaSlot) {
        // Built in place by the read path: the one reply that keeps a callback settled.
        a.areaUsed += bytes.length;
        a.areaSlot = null;
        this.afterDeliver(a);
        return;
      }
      a.settled = false;
      if (
        a.areaUsed >= 0 &&
        area &&
        plain &&
        bytes.length <= AREA_REPLY_MAX &&
        a.areaUsed + bytes.length <= area.length
      ) {
        area.set(bytes, a.areaUsed);
        a.areaUsed += bytes.length;
        this.afterDeliver(a);
        return;
      }
      this.flushArea(a);
      // Outside a callback a reply may still live in the area (a handler that waited):
      // copy what the socket does not take, as the area is reused.
      if (a.area && bytes.buffer === a.area.buffer) {
        a.conn.send(bytes, reply.fds, { copyUnsent: true });
      } else {
        sendReply(a.conn, reply);
      }
    }
    this.afterDeliver(a);
  }

  /** Send the replies gathered in the area now (before a reply that cannot go there). */
  private flushArea(a: Attached): void {
    if (a.areaUsed > 0 && a.area) {
      a.conn.send(a.area.subarray(0, a.areaUsed), undefined, { copyUnsent: true });
      a.areaUsed = 0;
    }
  }

  private afterDeliver(a: Attached): void {
    if (a.session.wantsClose && !a.closing) {
      this.flushArea(a);
      a.closing = true;
      // Messages behind the one that ends the session are dropped: close the fds they carry.
      this.dropQueue(a);
      this.log('warn', `dropping the client: ${a.session.wantsCloseReason}`);
      this.closeAfterFlush(a);
    }
  }

  /** Forget the frames not yet processed, closing the fds they carry (we own them). */
  private dropQueue(a: Attached): void {
    for (let i = a.head; i < a.queue.length; i++) {
      for (const fd of a.queue[i]!.fds) this.options.host.closeFd(fd);
    }
    a.queue.length = 0;
    a.head = 0;
  }

  private closeAfterFlush(a: Attached): void {
    a.paused = true;
    a.conn.pause();
    if (a.conn.pendingBytes === 0) {
      a.conn.close();
      return;
    }
    const timer = setTimeout(() => a.conn.close(), this.options.closeGraceMs ?? 1000);
    a.conn.onDrain(() => {
      clearTimeout(timer);
      a.conn.close();
    });
  }

  private detach(a: Attached, error?: Error): void {
    if (this.current !== a) return;
    this.current = null;
    clearInterval(a.deadlineTimer);
    this.attachedSince = null;
    // Events still queued, and a message cut off mid-way, carry fds we now own: close them.
    this.dropQueue(a);
    for (const fd of a.reader.releaseFds()) this.options.host.closeFd(fd);
    this.log('info', `client detached${error ? ` (${error.message})` : ''}`);
    // Told before the release reset, so observers see detach, then the device's reset.
    this.onEvent?.({ type: 'client-detached', reason: error?.message ?? null });
    a.session.close();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
    this.promote();
  }
}
