/**
 * The transport contract: a byte stream with file descriptors riding alongside, over an
 * AF_UNIX SOCK_STREAM socket. The only socket code lives behind these interfaces.
 *
 * Rules: received fds are owned by the receiver (close what you do not keep); fds passed to
 * send() are duplicated into the message by the kernel and stay owned by the caller.
 * A chunk's fds belong to the message that contains the chunk's last byte (the kernel
 * stops a read right after the segment that carried them, and a sender attaches them to
 * the first segment of a message).
 */
/**
 * Or'ed into an in-place handler's result (see Connection.onData): the handler scheduled
 * nothing — no promise reaction, nextTick, timer or I/O callback — so the transport may skip
 * the bookkeeping Node runs after a callback. Without it, that bookkeeping runs.
 */
export const REPLY_SETTLED = 0x4000_0000;

export interface SendOptions {
  copyUnsent?: boolean;
}

export interface Connection {
  /**
   * Chunks as they arrive, with the fds that came with them (possibly none). With
   * `transient`, a chunk may be a view of memory the transport reuses as soon as the handler
   * returns (the handler's third argument says so): the handler copies what it keeps, or
   * calls retainChunk() to keep the chunk itself. Transient chunks are plain Uint8Arrays.
   *
   * With `replyInPlace` (transports with a replyArea; the only data handler), the handler may
   * answer in place: it writes reply bytes at the start of `replyArea` and returns their
   * length (or'ed with REPLY_SETTLED when it scheduled nothing); they are sent as it
   * returns, after anything it send()s itself and before anything sent later; replyArea is
   * the handler's again on its next call.
   */
  onData(handler: (chunk: Buffer, fds: number[]) => void): void;
  onData(
    handler: (chunk: Uint8Array, fds: number[], transient: boolean) => void,
    opts: { transient: true },
  ): void;
  onData(
    handler: (chunk: Uint8Array, fds: number[], transient: boolean) => number,
    opts: { transient: true; replyInPlace: true },
  ): void;
  /** Memory for replies written in place by a data handler (optional; see onData). */
  readonly replyArea?: Uint8Array;
  /**
   * Called by a data handler that keeps views of a transient chunk past its return: the
   * transport reads into fresh memory from then on (optional; without it, copy).
   */
  retainChunk?(): void;
  /** Called once when the peer hangs up, on a socket error, or after close(). */
  onClose(handler: (error?: Error) => void): void;
  /**
   * Queue bytes (and fds, attached to the first byte) for sending; never blocks. Without a
   * copy: the caller leaves `data` alone until it has gone — or passes `copyUnsent`, and
   * whatever the kernel does not take at once is copied before send() returns (for memory
   * that may change right after, such as a view of device memory: the server's read path,
   * src/vfio-user/server/read-path.ts).
   */
  send(data: Uint8Array | readonly Uint8Array[], fds?: readonly number[], opts?: SendOptions): void;
  /** Bytes queued but not yet accepted by the kernel. */
  readonly pendingBytes: number;
  /** Fds held (duplicated) for queued messages until their first byte is sent. */
  readonly pendingFds: number;
  /** Called when pendingBytes drops to zero after having been non-zero. */
  onDrain(handler: () => void): void;
  /** Stop / restart reading (backpressure). */
  pause(): void;
  resume(): void;
  /**
   * True when the peer has hung up (or the socket failed), asked of the kernel now: a
   * hang-up is seen before its EOF has been read and delivered.
   */
  peerGone(): boolean;
  /**
   * Poll mode (optional; the native socket has it): after a delivery, keep reading for up
   * to `us` µs before sleeping in the event loop. 0 turns it off.
   */
  setPollUs?(us: number): void;
  /** Close the socket; pending output is discarded. Idempotent. */
  close(): void;
  readonly closed: boolean;
}

export interface Listener {
  /** Called for each accepted connection. */
  onConnection(handler: (conn: Connection) => void): void;
  /** Stop listening; removes the socket file if this listener created it. Idempotent. */
  close(): void;
  /** The filesystem path, or undefined for an inherited fd. */
  readonly path: string | undefined;
}
