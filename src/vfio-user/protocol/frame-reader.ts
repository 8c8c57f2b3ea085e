/**
 * FrameReader: bytes and fds in, complete frames out — it never sees a socket
 * (modelled on node-postgres pg-protocol's parser).
 *
 * Rules:
 * - Every length is checked before anything is buffered: a header size < 16 is fatal; a size
 *   above `maxMessageSize` is fatal and reported as soon as its 16 header bytes are in, without
 *   waiting for (or buffering) the body. The header is handed back so the caller can send an
 *   error reply for that msg id before dropping the connection (the stream cannot be resynced).
 * - Type bits other than 0 (command) / 1 (reply) reject that frame only: its size is sane, so
 *   the body is skipped and the stream continues.
 * - fd attribution: the fds that arrive with a chunk belong to the frame containing the chunk's
 *   last byte (see transport/types.ts). An empty chunk's fds go to the next frame.
 * - After a fatal error every push reports E_READER_FAILED with the fds, so they can be closed.
 * - push() never throws. Completed payloads are views into the pushed chunk when the frame lies
 *   inside one chunk (zero copy): the caller must not reuse a chunk's memory after pushing it.
 *   A frame assembled from several chunks is copied out of the reader's store when small; a
 *   large one (≥ 64 KiB) takes the store with it and the reader starts a new one.
 * - A chunk pushed as `transient` (memory the caller reuses at once, e.g. the socket's read
 *   buffer) is copied into the store first, so nothing handed out refers to it.
 * - recycle(payload): the caller is done with every frame of the store a large payload took
 *   (nothing refers to that memory any more); the reader takes the store back instead of
 *   growing a new one — a stream of 1 MiB writes then assembles in one buffer.
 */
import { Errno } from '../../uapi/errno.js';
import { HEADER_SIZE, HeaderFlags } from './constants.js';
import { ProtocolError } from './errors.js';
import { decodeHeader, type Frame, type Header } from './header.js';
import { MAX_MSG_SIZE } from './limits.js';

/** Frames at least this large that complete in the store are handed out as a view of it. */
const GIVE_STORE_FROM = 64 * 1024;
/** The fds of a frame that carries none (frozen: nobody may add to it). */
const NO_FDS: number[] = Object.freeze([]) as unknown as number[];
const NO_EVENTS: ReadEvent[] = [];

export interface FrameEvent extends Frame {
  kind: 'frame';
}

/** A rejected frame or a framing failure. `header` is null when no header could be read. */
export interface FrameErrorEvent {
  kind: 'error';
  error: ProtocolError;
  header: Header | null;
  /** fds that arrived for the rejected frame: the caller closes them. */
  fds: number[];
}

export type ReadEvent = FrameEvent | FrameErrorEvent;

export interface FrameReaderOptions {
  /** Largest accepted message, header included (default MAX_MSG_SIZE = 1 MiB + 32). */
  maxMessageSize?: number;
}

interface PendingFds {
  /** Stream position of the byte the fds belong with. */
  pos: number;
  fds: number[];
}

export class FrameReader {
  readonly maxMessageSize: number;
  /** Bytes of an incomplete frame: store[0, len). Grows by doubling (amortised O(n) copying). */
  private store: Uint8Array = new Uint8Array(0);
  private len = 0;
  /** Stream position of store[0]. */
  private base = 0;
  private pendingFds: PendingFds[] = [];
  private failure: ProtocolError | null = null;
  /** Set while cutting frames once a large frame has been handed out as a view of the store. */
  private storeGiven = false;
  /** The store last handed out under a large payload (see recycle). */
  private given: Uint8Array | null = null;
  /** The last payload view cut from a caller's chunk, and where (see frameAt). */
  private lastChunk: Uint8Array | null = null;
  private lastOff = 0;
  private lastSize = 0;
  private lastPayload: Uint8Array = new Uint8Array(0);
  /** Where cutFrames puts events during one pushInto, and how many so far. */
  private out: ReadEvent[] = NO_EVENTS;
  private count = 0;

  constructor(options: FrameReaderOptions = {}) {
    const max = options.maxMessageSize ?? MAX_MSG_SIZE;
    if (!Number.isInteger(max) || max < HEADER_SIZE || max > 0xffffffff) {
      throw new RangeError(`bad maxMessageSize ${max}`);
    }
    this.maxMessageSize = max;
  }

  /** True after a fatal framing error: the connection must be dropped. */
  get failed(): boolean {
    return this.failure !== null;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.len;
  }

  /**
   * The fds of frames not yet complete, handed over (and forgotten) so the caller can close
   * them when the stream ends mid-message — nothing else would.
   */
  releaseFds(): number[] {
    const fds = this.pendingFds.flatMap((p) => p.fds);
    this.pendingFds = [];
    return fds;
  }

  /**
   * The caller is done with `payload` and every other frame handed out of the same store:
   * if that was the store a large payload took, the reader reuses it.
   */
  recycle(payload: Uint8Array): void {
    const g = this.given;
    if (!g || payload.buffer !== g.buffer) return;
    this.given = null;
    if (this.store.length >= g.length) return;
    g.set(this.store.subarray(0, this.len));
    this.store = g;
  }

  /**
   * Feed a chunk and the fds that came with it; returns the events it completes. The steps:
   * attribute the fds, take the bytes (in place or appended to the store), cut frames, keep
   * the incomplete rest.
   */
  push(chunk: Uint8Array, fds: readonly number[] = [], transient = false): ReadEvent[] {
    const events: ReadEvent[] = [];
    events.length = this.pushInto(events, chunk, fds, transient);
    return events;
  }

  /**
   * push() into the caller's array, reused from chunk to chunk (no array per chunk on the
   * per-request path): the events are out[0, n) for the n returned; entries past n are stale.
   */
  pushInto(
    out: ReadEvent[],
    chunk: Uint8Array,
    fds: readonly number[] = NO_FDS,
    transient = false,
  ): number {
    if (this.failure) return this.afterFailure(out, chunk, fds);
    this.attributeFds(chunk.length, fds);
    if (chunk.length === 0) return 0;
    const buf = this.take(chunk, transient);
    const fromStore = buf !== chunk;
    this.out = out;
    this.count = 0;
    const off = this.cutFrames(buf, fromStore);
    this.out = NO_EVENTS;
    if (off < 0) return this.count; // fatal: fail() has reported it and dropped the store
    this.base += off;
    this.keepRest(buf, off, fromStore);
    return this.count;
  }

  /** Append an event to the current output. */
  private emit(ev: ReadEvent): void {
    this.out[this.count++] = ev;
  }

  /** After a fatal error: nothing more is parsed; fds that arrive are handed back to close. */
  private afterFailure(out: ReadEvent[], chunk: Uint8Array, fds: readonly number[]): number {
    const error = new ProtocolError('E_READER_FAILED', 'reader already failed', Errno.EPROTO, true);
    if (fds.length === 0 && chunk.length === 0) return 0;
    out[0] = { kind: 'error', error, header: null, fds: [...fds] };
    return 1;
  }

  /** The chunk's fds belong with its last byte (an empty chunk's: with the next byte). */
  private attributeFds(chunkLength: number, fds: readonly number[]): void {
    if (fds.length === 0) return;
    const end = this.base + this.len + chunkLength;
    this.pendingFds.push({ pos: chunkLength > 0 ? end - 1 : end, fds: [...fds] });
  }

  /**
   * The bytes to parse: the caller's chunk when nothing is pending and it is not transient
   * (zero copy), else the store with the chunk appended.
   */
  private take(chunk: Uint8Array, transient: boolean): Uint8Array {
    if (this.len === 0 && !transient) return chunk;
    this.reserve(this.len + chunk.length);
    this.store.set(chunk, this.len);
    this.len += chunk.length;
    return this.store.subarray(0, this.len);
  }

  /**
   * Cut every complete frame out of `buf` into `events`; returns the offset of the first byte
   * not consumed, or -1 after a fatal error. Sets storeGiven when a frame took the store.
   */
  private cutFrames(buf: Uint8Array, fromStore: boolean): number {
    this.storeGiven = false;
    let off = 0;
    while (buf.length - off >= HEADER_SIZE) {
      const header = decodeHeader(buf, off);
      if (header.size < HEADER_SIZE) {
        const why = `message size ${header.size} is below the 16-byte header`;
        this.fail(header, why, 'E_FRAME_SIZE_TOO_SMALL');
        return -1;
      }
      if (header.size > this.maxMessageSize) {
        const why = `message size ${header.size} exceeds the limit of ${this.maxMessageSize}`;
        this.fail(header, why, 'E_FRAME_TOO_LARGE');
        return -1;
      }
      if (buf.length - off < header.size) {
        this.reserve(header.size);
        break;
      }
      this.emit(this.frameAt(buf, off, header, fromStore));
      off += header.size;
    }
    return off;
  }

  /** The event for the complete frame at buf[off, off + header.size). */
  private frameAt(buf: Uint8Array, off: number, header: Header, fromStore: boolean): ReadEvent {
    const fds = this.takeFds(this.base + off + header.size);
    const type = header.flags & HeaderFlags.TYPE_MASK;
    if (type !== HeaderFlags.TYPE_COMMAND && type !== HeaderFlags.TYPE_REPLY) {
      const error = new ProtocolError(
        'E_FRAME_TYPE',
        `message type ${type} is neither command (0) nor reply (1)`,
      );
      return { kind: 'error', error, header, fds };
    }
    // Views into our own store would be overwritten later: copy small payloads; give the
    // store away under a large one (a second copy of up to 1 MiB costs more than a new store).
    // Once given, later frames in it may be views too.
    if (fromStore && !this.storeGiven && header.size >= GIVE_STORE_FROM) this.storeGiven = true;
    let payload: Uint8Array;
    if (fromStore && !this.storeGiven) {
      payload = buf.slice(off + HEADER_SIZE, off + header.size);
    } else if (buf === this.lastChunk && off === this.lastOff && header.size === this.lastSize) {
      // The same frame position in the same chunk object (a transport reusing its view of
      // the read buffer): the same window, so the same view — none made per request.
      payload = this.lastPayload;
    } else {
      payload = buf.subarray(off + HEADER_SIZE, off + header.size);
      if (!fromStore) {
        this.lastChunk = buf;
        this.lastOff = off;
        this.lastSize = header.size;
        this.lastPayload = payload;
      }
    }
    return { kind: 'frame', header, payload, fds };
  }

  /** Keep buf[off, end) — the incomplete rest — in a store of our own. */
  private keepRest(buf: Uint8Array, off: number, fromStore: boolean): void {
    const rest = buf.length - off;
    if (this.storeGiven) {
      // The store went out with a frame (recycle may bring it back): the rest goes into a
      // fresh one.
      this.given = this.store;
      this.store = new Uint8Array(0);
      this.len = 0;
      if (rest > 0) {
        this.reserve(rest);
        this.store.set(buf.subarray(off), 0);
      }
    } else if (fromStore) {
      this.store.copyWithin(0, off, buf.length);
    } else if (rest > 0) {
      // The caller's chunk may be reused once push() returns.
      this.reserve(rest);
      this.store.set(buf.subarray(off), 0);
    }
    this.len = rest;
  }

  /** Make room for `n` bytes in the store, keeping store[0, len). */
  private reserve(n: number): void {
    if (this.store.length >= n) return;
    const grown = new Uint8Array(Math.max(n, Math.min(this.store.length * 2, this.maxMessageSize)));
    grown.set(this.store.subarray(0, this.len));
    this.store = grown;
  }

  private takeFds(endExclusive: number): number[] {
    // Most frames carry none: one shared, frozen empty list instead of an array per frame.
    if (this.pendingFds.length === 0 || this.pendingFds[0]!.pos >= endExclusive) return NO_FDS;
    const out: number[] = [];
    while (this.pendingFds.length > 0 && this.pendingFds[0]!.pos < endExclusive) {
      out.push(...this.pendingFds.shift()!.fds);
    }
    return out;
  }

  private fail(
    header: Header,
    message: string,
    code: 'E_FRAME_SIZE_TOO_SMALL' | 'E_FRAME_TOO_LARGE',
  ): void {
    this.failure = new ProtocolError(code, message, Errno.EINVAL, true);
    const fds = this.pendingFds.flatMap((p) => p.fds);
    this.pendingFds = [];
    this.store = new Uint8Array(0);
    this.len = 0;
    this.emit({ kind: 'error', error: this.failure, header, fds });
  }
}
