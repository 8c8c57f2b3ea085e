/**
 * ServerEndpoint: the glue between a listening socket and ServerSession — one client at a
 * time, replies in order, bounded output, and the device handed back in a clean state
 * when a client leaves.
 *
 * Rules:
 * - a second client while one is attached is refused: its connection is closed at once;
 * - frames are processed one at a time from a queue; while more than `highWaterBytes` of
 *   replies wait in the socket, reading stops and the queue is not drained (a client that
 *   stops reading cannot make the server buffer without bound);
 * - when the session asks to close (bad VERSION, fatal framing error), the pending reply is
 *   flushed first (bounded by a short grace period), then the connection is dropped;
 * - replies of 64 KiB and more are built in one reused buffer when the socket has nothing
 *   queued (then no earlier reply can still reference it): a fresh 1 MiB buffer per bulk read
 *   costs more in page faults than the copy into it;
 * - a reply whose data is a view of device memory (Reply.tail) is sent with copyUnsent: what
 *   the socket does not take at once is copied at once, so later writes cannot reach it;
 * - when a client goes (cleanly or mid-message) its DMA maps and IRQ fds are dropped
 *   (session.close → device.close, which resets the function as the kernel does at
 *   release); device memory is kept; the next client may attach.
 */
import type { VfioDevice } from '../../vfio/device.js';
import { allocBytes, FrameReader, type ReadEvent } from '../protocol/index.js';
import type { ServerLimits } from '../protocol/limits.js';
import type { Connection, Listener } from '../transport/types.js';
import type { HostOps, Reply, SessionLogger } from './host.js';
import { ServerSession } from './session.js';

/** Replies at least this large are built in the connection's reused buffer when possible. */
const REUSE_FROM = 64 * 1024;

export interface EndpointOptions {
  device: VfioDevice;
  host: HostOps;
  limits?: Partial<ServerLimits>;
  log?: SessionLogger;
  /** Stop reading from a client while this many reply bytes are queued (default 8 MiB). */
  highWaterBytes?: number;
  /** How long a reply before a forced close may take to flush (ms, default 1000). */
  closeGraceMs?: number;
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
}

export class ServerEndpoint {
  private current: Attached | null = null;
  private readonly log: SessionLogger;
  private readonly highWater: number;
  private stopped = false;
  /** Connections served so far (for logs and tests). */
  served = 0;
  /** Clients refused because one was attached. */
  refused = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly listener: Listener,
    private readonly options: EndpointOptions,
  ) {
    this.log = options.log ?? (() => {});
    this.highWater = options.highWaterBytes ?? 8 * 2 ** 20;
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

  /** Stop listening and drop the attached client. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.listener.close();
    this.current?.conn.close();
    await this.idle();
  }

  private accept(conn: Connection): void {
    if (this.stopped || this.current) {
      this.refused++;
      this.log('warn', 'refused a second client: one VMM is attached already');
      conn.close();
      return;
    }
    this.served++;
    // The kernel opens the device fd when a VMM attaches: function reset, fake BARs zeroed.
    let opened: ReturnType<VfioDevice['open']>;
    try {
      opened = this.options.device.open();
    } catch (e) {
      this.log('error', `device open failed: ${(e as Error).message}`);
      conn.close();
      return;
    }
    let scratch: Buffer | null = null;
    const session = new ServerSession(this.options.device, this.options.host, {
      limits: this.options.limits ?? {},
      log: this.log,
      allocReply: (size) => {
        if (size < REUSE_FROM || conn.pendingBytes > 0) return allocBytes(size);
        if (!scratch || scratch.length < size) scratch = Buffer.allocUnsafe(size);
        return scratch.subarray(0, size);
      },
    });
    const reader = new FrameReader({ maxMessageSize: session.limits.maxMsgSize });
    const a: Attached = { conn, session, reader, queue: [], head: 0, busy: false, closing: false };
    this.current = a;
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
    conn.onData((chunk, fds) => {
      for (const ev of reader.push(chunk, fds)) a.queue.push(ev);
      this.pump(a);
    });
    conn.onDrain(() => {
      if (!a.closing) {
        conn.resume();
        this.pump(a);
      }
    });
    conn.onClose((error) => this.detach(a, error));
  }

  /** Process queued frames in order until the queue is empty, a handler waits, or output is full. */
  private pump(a: Attached): void {
    if (a.busy) return;
    while (a.head < a.queue.length && !a.closing && !a.conn.closed) {
      if (a.conn.pendingBytes > this.highWater) {
        a.conn.pause();
        return;
      }
      const ev = a.queue[a.head]!;
      // Advance a head index instead of shift(): a chunk can queue thousands of frames.
      a.head++;
      if (a.head === a.queue.length) {
        a.queue.length = 0;
        a.head = 0;
      }
      const result = a.session.handle(ev);
      if (result instanceof Promise) {
        a.busy = true;
        result.then((reply) => {
          a.busy = false;
          this.deliver(a, reply);
          this.pump(a);
        });
        return;
      }
      this.deliver(a, result);
    }
    if (a.head < a.queue.length && a.conn.pendingBytes > this.highWater) a.conn.pause();
  }

  private deliver(a: Attached, reply: Reply | null): void {
    if (a.conn.closed) return;
    if (reply) {
      if (reply.tail) {
        // Device memory in place: what the socket does not take now is copied now, so the
        // reply is the memory as it was when the read was handled.
        a.conn.send([reply.bytes, reply.tail], reply.fds, { copyUnsent: true });
      } else {
        a.conn.send(reply.bytes, reply.fds);
      }
    }
    if (a.session.wantsClose && !a.closing) {
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
    // Events still queued, and a message cut off mid-way, carry fds we now own: close them.
    this.dropQueue(a);
    for (const fd of a.reader.releaseFds()) this.options.host.closeFd(fd);
    a.session.close();
    this.log('info', `client detached${error ? ` (${error.message})` : ''}`);
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
