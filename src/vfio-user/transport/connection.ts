/**
 * Connection over a native AF_UNIX stream socket: chunks and their fds in, bytes and fds out.
 *
 * Rules: a reply the data handler writes into replyArea and returns is sent by the addon as
 * the callback returns (one crossing per request); if anything is queued, it is queued
 * behind that instead (a copy), so order holds. A send the kernel takes whole costs one
 * sendmsg and no copy; the rest is queued
 * (as views, no copy, unless the caller asks for its unsent part to be copied) and flushed
 * when the socket is writable. Fds of a queued message are
 * dup'ed (the caller keeps ownership of its own and may close them at once) and ride on the
 * first sendmsg that carries the message's first byte; a batch never spans a later message
 * that has fds; pendingFds counts the dups held, so the caller can bound them (each is an open
 * file of this process). A dup that fails (EMFILE) fails this connection only. Received fds
 * not delivered (closed early) are closed here. onClose fires once, on the next tick.
 */

import {
  type NativeHandle,
  native,
  SOCKET_READ_BUFFER,
  SOCKET_REPLY_BUFFER,
  SOCKET_SETTLED,
} from '../../native/addon.js';
import { errnoCode, TransportError } from './errors.js';
import { type Connection, REPLY_SETTLED, type SendOptions } from './types.js';

/** Its result matters only for a replyInPlace handler (a number: see placed()). */
type DataHandler = (chunk: Uint8Array, fds: number[], transient: boolean) => unknown;
interface DataOptions {
  transient?: boolean;
  replyInPlace?: boolean;
}

interface Pending {
  buf: Uint8Array;
  /** Our dups of the message's fds, until the first byte is sent. */
  fds: number[] | null;
}

const MAX_BATCH = 512;

export class UnixConnection implements Connection {
  private handle: NativeHandle | null;
  private readonly dataHandlers: DataHandler[] = [];
  private readonly closeHandlers: ((error?: Error) => void)[] = [];
  private readonly drainHandlers: (() => void)[] = [];
  /** Chunks that arrived before anyone listened. */
  private early: { chunk: Uint8Array; fds: number[] }[] | null = [];
  private queue: Pending[] = [];
  private queued = 0;
  private queuedFds = 0;
  /** Whether every data handler takes transient chunks (views of readBuffer). */
  private allTransient = true;
  /** The sole data handler answers in replyArea (see Connection.onData). */
  private replyInPlace = false;
  /**
   * Where the addon lands small reads (replaced when a handler retains a chunk). Chunks are
   * plain Uint8Array views of it: a Buffer's subarray reads .buffer and .byteOffset through
   * slow getters, which cost more than the rest of delivering a small request.
   */
  private readBuffer = Buffer.allocUnsafeSlow(SOCKET_READ_BUFFER);
  private readMemory: ArrayBuffer = this.readBuffer.buffer as ArrayBuffer;
  private lastView: Uint8Array | null = null;
  private readonly replyBuffer = Buffer.allocUnsafeSlow(SOCKET_REPLY_BUFFER);
  /** Replies a data handler writes in place (see Connection.onData). */
  readonly replyArea = new Uint8Array(this.replyBuffer.buffer, 0, SOCKET_REPLY_BUFFER);
  private closeError: Error | undefined;
  private closeEmitted = false;
  closed = false;

  /** Takes ownership of a connected socket fd. */
  constructor(fd: number) {
    this.handle = native().socketOpen(
      fd,
      (kind, a, b) => this.onEvent(kind, a, b),
      this.readBuffer,
      this.replyBuffer,
    );
  }

  get pendingBytes(): number {
    return this.queued;
  }

  get pendingFds(): number {
    return this.queuedFds;
  }

  onData(handler: (chunk: Buffer, fds: number[]) => void): void;
  onData(handler: DataHandler, opts: { transient: true }): void;
  onData(handler: (c: Uint8Array, f: number[], t: boolean) => number, opts: DataOptions): void;
  onData(
    handler: DataHandler | ((chunk: Buffer, fds: number[]) => void),
    opts?: DataOptions,
  ): void {
    if (this.replyInPlace || (opts?.replyInPlace && this.dataHandlers.length > 0)) {
      throw new Error('a replyInPlace data handler must be the only one');
    }
    if (opts?.replyInPlace) this.replyInPlace = true;
    this.dataHandlers.push(handler as DataHandler);
    if (!opts?.transient) this.allTransient = false;
    const early = this.early;
    if (early) {
      this.early = null;
      for (const e of early) {
        // Not inside the addon's callback: an in-place reply is sent from here.
        const n = this.deliver(e.chunk, e.fds);
        if (n) this.send(this.replyArea.subarray(0, n), undefined, { copyUnsent: true });
      }
    }
  }

  onClose(handler: (error?: Error) => void): void {
    this.closeHandlers.push(handler);
    if (this.closeEmitted) process.nextTick(() => handler(this.closeError));
  }

  onDrain(handler: () => void): void {
    this.drainHandlers.push(handler);
  }

  pause(): void {
    if (this.handle) native().socketSetReading(this.handle, false);
  }

  resume(): void {
    if (this.handle) native().socketSetReading(this.handle, true);
  }

  /** Poll mode (`serve --poll-us`): after answering, poll up to `us` µs before sleeping. */
  setPollUs(us: number): void {
    if (this.handle) native().socketSetPoll(this.handle, us);
  }

  retainChunk(): void {
    if (!this.handle) return;
    this.readBuffer = Buffer.allocUnsafeSlow(SOCKET_READ_BUFFER);
    this.readMemory = this.readBuffer.buffer as ArrayBuffer;
    this.lastView = null;
    native().socketSetReadBuffer(this.handle, this.readBuffer);
  }

  peerGone(): boolean {
    return this.handle === null || native().socketPeerGone(this.handle);
  }

  /** Whether the socket keeps the process alive (default true). */
  ref(on: boolean): void {
    if (this.handle) native().handleRef(this.handle, on);
  }

  send(
    data: Uint8Array | readonly Uint8Array[],
    fds?: readonly number[],
    opts?: SendOptions,
  ): void {
    if (!this.handle) return;
    const parts: readonly Uint8Array[] = data instanceof Uint8Array ? [data] : data;
    let total = 0;
    for (const p of parts) total += p.length;
    if (total === 0) {
      if (fds && fds.length > 0) throw new RangeError('cannot send fds without at least one byte');
      return;
    }
    const hasFds = fds !== undefined && fds.length > 0;
    let sent = 0;
    if (this.queue.length === 0) {
      try {
        sent = native().socketWrite(
          this.handle,
          parts.length === 1 ? parts[0]! : parts,
          hasFds ? fds : undefined,
        );
      } catch (error) {
        this.fail(error);
        return;
      }
      if (sent === total) return;
    }
    // Queue what the kernel did not take; fds stay with the message until its first byte goes.
    let msgFds: number[] | null = null;
    if (sent === 0 && hasFds) {
      msgFds = this.dupAll(fds);
      if (!msgFds) return;
    }
    let skip = sent;
    for (const p of parts) {
      if (skip >= p.length) {
        skip -= p.length;
        continue;
      }
      const rest = skip > 0 ? p.subarray(skip) : p;
      skip = 0;
      if (rest.length === 0) continue;
      const buf = opts?.copyUnsent ? Buffer.from(rest) : rest;
      this.queue.push({ buf, fds: msgFds });
      msgFds = null;
      this.queued += buf.length;
    }
    native().socketSetWantWrite(this.handle, true);
  }

  close(): void {
    this.finish(undefined);
  }

  /** Our own copies of a queued message's fds; on failure (EMFILE) the connection fails. */
  private dupAll(fds: readonly number[]): number[] | null {
    const n = native();
    const out: number[] = [];
    try {
      for (const fd of fds) out.push(n.dupFd(fd));
    } catch (error) {
      for (const fd of out) n.closeFd(fd);
      this.fail(error);
      return null;
    }
    this.queuedFds += out.length;
    return out;
  }

  private onEvent(
    kind: 0 | 1 | 2 | 3 | 4 | 5,
    a?: Buffer | number | Error,
    b?: number[] | number,
  ): number | undefined {
    const fds = (b as number[] | undefined) ?? [];
    switch (kind) {
      case 0:
        if (typeof a !== 'number') return this.deliver(a as Buffer, fds);
        if (this.allTransient && !this.early && this.dataHandlers.length > 0)
          return this.deliver(this.view(a), fds, true);
        return this.deliver(this.takeRead(a), fds);
      case 1:
        this.flush();
        return;
      case 2:
        this.finish(undefined);
        return;
      case 3:
        this.fail(a);
        return;
      case 4:
        this.queueCopy(this.replyArea.subarray(a as number, b as number));
        return;
      case 5:
        return; // Node runs its callback bookkeeping after this
    }
  }

  /**
   * The n bytes the addon read into readBuffer, as a chunk of our own (for handlers that did
   * not say `transient`, and before anyone listens): readBuffer is reused by the next read.
   * Buffer.allocUnsafe takes small chunks from Node's pool: no allocation per request.
   */
  private takeRead(n: number): Buffer {
    const chunk = Buffer.allocUnsafe(n);
    this.readBuffer.copy(chunk, 0, 0, n);
    return chunk;
  }

  /**
   * readBuffer[0, n) as a Uint8Array: the last one made is reused when n repeats (a guest's
   * trapped accesses have a handful of sizes), so a small request creates no view here.
   */
  private view(n: number): Uint8Array {
    let v = this.lastView;
    if (v === null || v.length !== n) {
      v = new Uint8Array(this.readMemory, 0, n);
      this.lastView = v;
    }
    return v;
  }

  /**
   * A reply in replyArea: the addon sends it, unless something is queued (then, behind it).
   * REPLY_SETTLED passes through to the addon (which then skips Node's callback bookkeeping).
   */
  private placed(r: unknown): number {
    if (typeof r !== 'number' || r <= 0 || this.closed) return 0;
    const n = r & ~REPLY_SETTLED;
    if (n > 0 && this.queue.length > 0) {
      this.queueCopy(this.replyArea.subarray(0, n));
      return 0;
    }
    return r & REPLY_SETTLED ? n | SOCKET_SETTLED : n;
  }

  private queueCopy(bytes: Uint8Array): void {
    if (!this.handle || bytes.length === 0) return;
    const buf = Buffer.from(bytes);
    this.queue.push({ buf, fds: null });
    this.queued += buf.length;
    native().socketSetWantWrite(this.handle, true);
  }

  private deliver(chunk: Uint8Array, fds: number[], transient = false): number | undefined {
    if (this.closed) {
      for (const fd of fds) native().closeFd(fd);
      return;
    }
    if (this.early) {
      this.early.push({ chunk, fds });
      return;
    }
    const handlers = this.dataHandlers;
    if (this.replyInPlace) return this.placed(handlers[0]!(chunk, fds, transient));
    for (const h of handlers) h(chunk, fds, transient);
  }

  private flush(): void {
    const n = native();
    while (this.handle && this.queue.length > 0) {
      const head = this.queue[0]!;
      const batch: Uint8Array[] = [head.buf];
      let batchBytes = head.buf.length;
      for (let i = 1; i < this.queue.length && batch.length < MAX_BATCH; i++) {
        const e = this.queue[i]!;
        if (e.fds) break;
        batch.push(e.buf);
        batchBytes += e.buf.length;
      }
      let sent: number;
      try {
        sent = n.socketWrite(this.handle, batch, head.fds ?? undefined);
      } catch (error) {
        this.fail(error);
        return;
      }
      if (sent === 0) return;
      if (head.fds) {
        for (const fd of head.fds) n.closeFd(fd);
        this.queuedFds -= head.fds.length;
        head.fds = null;
      }
      this.consume(sent);
      if (sent < batchBytes) return;
    }
    if (this.handle && this.queue.length === 0) {
      n.socketSetWantWrite(this.handle, false);
      for (const h of this.drainHandlers) h();
    }
  }

  private consume(bytes: number): void {
    this.queued -= bytes;
    let k = 0;
    while (bytes > 0) {
      const e = this.queue[k]!;
      if (bytes >= e.buf.length) {
        bytes -= e.buf.length;
        k++;
      } else {
        e.buf = e.buf.subarray(bytes);
        bytes = 0;
      }
    }
    if (k > 0) this.queue.splice(0, k);
  }

  private fail(error: unknown): void {
    const code = errnoCode(error);
    const wrapped =
      code === 'EMSGSIZE'
        ? new TransportError('E_FD_TRUNCATED', 'peer sent more fds than could be received', {
            cause: error,
          })
        : new TransportError('E_SOCKET', `socket error: ${(error as Error)?.message ?? error}`, {
            cause: error,
          });
    this.finish(wrapped);
  }

  private finish(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    const n = native();
    if (this.handle) n.handleClose(this.handle);
    this.handle = null;
    for (const e of this.queue) if (e.fds) for (const fd of e.fds) n.closeFd(fd);
    this.queue = [];
    this.queued = 0;
    this.queuedFds = 0;
    if (this.early) for (const e of this.early) for (const fd of e.fds) n.closeFd(fd);
    this.early = null;
    process.nextTick(() => {
      this.closeEmitted = true;
      for (const h of this.closeHandlers) h(error);
    });
  }
}
