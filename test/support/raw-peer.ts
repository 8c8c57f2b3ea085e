/**
 * RawPeer: a deliberately dumb vfio-user client for hostile tests and the fuzzer — it sends
 * whatever bytes and fds it is given and collects what comes back, frame by frame, with no
 * notion of what is valid.
 *
 * Rules: fds received from the server are closed at once (only counted); received frames keep
 * their header and at most `keepPayload` payload bytes, and the inbox holds at most
 * `maxInbox` frames (older ones are dropped and counted), so a long run stays bounded.
 * Waiting is always bounded by a timeout (a hang guard, never a speed assertion).
 */

import { native } from '../../src/native/addon.js';
import { QEMU_CAPABILITIES } from '../../src/vfio-user/client/client.js';
import {
  encodeDeviceGetInfo,
  encodeVersion,
  type Frame,
  FrameReader,
  type Header,
  isErrorReply,
} from '../../src/vfio-user/protocol/index.js';
import type { UnixConnection } from '../../src/vfio-user/transport/connection.js';
import { connectUnix } from '../../src/vfio-user/transport/index.js';

export interface PeerOptions {
  keepPayload?: number;
  maxInbox?: number;
}

export type WaitResult<T> = T | 'closed' | 'timeout';

export class RawPeer {
  /** Frames received and not yet taken. */
  readonly inbox: Frame[] = [];
  dropped = 0;
  fdsReceived = 0;
  /** Frames received in total, and how many of them were error replies. */
  received = 0;
  errorReplies = 0;
  closed = false;
  closeError: Error | undefined;
  private readonly reader = new FrameReader({ maxMessageSize: 0xffffffff });
  private wake: (() => void) | null = null;
  private readonly keep: number;
  private readonly maxInbox: number;

  private constructor(
    readonly conn: UnixConnection,
    options: PeerOptions,
  ) {
    this.keep = options.keepPayload ?? 1 << 21;
    this.maxInbox = options.maxInbox ?? 1 << 16;
    conn.onData((chunk, fds) => {
      this.fdsReceived += fds.length;
      for (const fd of fds) native().closeFd(fd);
      for (const ev of this.reader.push(chunk)) {
        for (const fd of ev.fds) native().closeFd(fd);
        if (ev.kind !== 'frame') continue;
        this.received++;
        if (isErrorReply(ev.header)) this.errorReplies++;
        const payload =
          ev.payload.length > this.keep ? ev.payload.slice(0, this.keep) : ev.payload.slice();
        this.inbox.push({ header: ev.header, payload, fds: [] });
        if (this.inbox.length > this.maxInbox) {
          this.inbox.shift();
          this.dropped++;
        }
      }
      this.poke();
    });
    conn.onClose((error) => {
      this.closed = true;
      this.closeError = error;
      this.poke();
    });
  }

  static async connect(path: string, options: PeerOptions = {}): Promise<RawPeer> {
    return new RawPeer(await connectUnix(path), options);
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Wait until `test` holds, the connection closes, or `ms` pass. */
  private async waitFor<T>(test: () => T | undefined, ms: number): Promise<WaitResult<T>> {
    const end = Date.now() + ms;
    for (;;) {
      const v = test();
      if (v !== undefined) return v;
      if (this.closed) return 'closed';
      const left = end - Date.now();
      if (left <= 0) return 'timeout';
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  send(bytes: Uint8Array, fds: readonly number[] = []): void {
    if (this.closed) return;
    this.conn.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), fds);
  }

  /**
   * Wait for the reply with this msg id; returns it and every frame that came before it
   * (all taken out of the inbox).
   */
  async reply(msgId: number, ms = 5000): Promise<WaitResult<{ reply: Frame; before: Frame[] }>> {
    return this.waitFor(() => {
      const i = this.inbox.findIndex((f) => f.header.msgId === msgId);
      if (i < 0) return undefined;
      const before = this.inbox.splice(0, i + 1);
      return { reply: before.pop()!, before };
    }, ms);
  }

  /** Wait until the server closes the connection; returns the frames that came before. */
  async hangup(ms = 5000): Promise<Frame[] | 'timeout'> {
    const r = await this.waitFor<never>(() => undefined, ms);
    return r === 'timeout' ? 'timeout' : this.inbox.splice(0);
  }

  /** VERSION as QEMU 10.1 sends it; true when a successful reply came back. */
  async negotiate(msgId = 0x7f00, ms = 5000): Promise<boolean> {
    this.send(encodeVersion(msgId, 0, 0, QEMU_CAPABILITIES));
    const r = await this.reply(msgId, ms);
    return typeof r === 'object' && !isErrorReply(r.reply.header);
  }

  /** A valid DEVICE_GET_INFO; true when answered with a success reply. */
  async probe(msgId = 0x7f01, ms = 5000): Promise<boolean> {
    this.send(encodeDeviceGetInfo(msgId));
    const r = await this.reply(msgId, ms);
    return typeof r === 'object' && !isErrorReply(r.reply.header) && r.reply.payload.length === 16;
  }

  close(): void {
    this.conn.close();
  }
}

/** A header-only error reply with a non-zero errno, as the protocol demands of every error. */
export function isProperErrorReply(h: Header): boolean {
  return isErrorReply(h) && (h.flags & 0xf) === 1 && h.size === 16 && h.error !== 0;
}

/**
 * Connect and negotiate, retrying while the server still holds the previous client (it refuses
 * a second one by closing at once). Bounded by `attempts`.
 */
export async function attachWithRetry(
  path: string,
  attempts = 200,
  options: PeerOptions = {},
): Promise<{ peer: RawPeer; retries: number }> {
  for (let i = 0; i < attempts; i++) {
    let peer: RawPeer;
    try {
      peer = await RawPeer.connect(path, options);
    } catch {
      await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    if (await peer.negotiate()) return { peer, retries: i };
    peer.close();
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`could not attach to ${path} in ${attempts} attempts`);
}
