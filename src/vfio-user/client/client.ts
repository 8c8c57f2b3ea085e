/**
 * VfioUserClient: the project's own vfio-user client — one method per command, fd passing
 * included. Used by the tests, `inspect` and the benchmarks; it behaves like a VMM would.
 *
 * Rules: message ids come from a 16-bit counter and replies are matched by id only (as QEMU
 * does); every request has a timeout; fds that arrive on a reply that does not expect them
 * are closed; a command from the server (DMA_READ/WRITE) gets an error reply, since this
 * client offers no DMA-by-message; once the connection fails every pending and later
 * request rejects with the reason.
 */

import { NvgraceError } from '../../errors/index.js';
import {
  type Capabilities,
  commandName,
  type DeviceInfoWire,
  decodeDeviceGetInfoReply,
  decodeDeviceResetReply,
  decodeDmaMapReply,
  decodeDmaUnmapReply,
  decodeGetIrqInfoReply,
  decodeGetRegionInfoReply,
  decodeRegionReadReply,
  decodeRegionWriteMultiReply,
  decodeRegionWriteReply,
  decodeSetIrqsReply,
  decodeVersionReply,
  Errno,
  encodeDeviceGetInfo,
  encodeDeviceReset,
  encodeDmaMap,
  encodeDmaUnmap,
  encodeErrorReply,
  encodeGetIrqInfo,
  encodeGetRegionInfo,
  encodeRegionRead,
  encodeRegionWrite,
  encodeRegionWriteMulti,
  encodeRegionWriteParts,
  encodeSetIrqs,
  encodeVersion,
  type Frame,
  FrameReader,
  type IrqInfoWire,
  isReply,
  type RegionInfo,
  RemoteError,
  VfioSize,
  type WriteMultiEntry,
} from '../protocol/index.js';
import type { Connection } from '../transport/types.js';

export interface ClientOptions {
  /** Per-request timeout in ms (QEMU's x-msg-timeout default is 5000). */
  timeoutMs?: number;
  /** Close an fd this client received and does not hand out. */
  closeFd: (fd: number) => void;
}

/** What a VMM like QEMU 10.1 proposes (docs/protocol.md §2). */
export const QEMU_CAPABILITIES: Capabilities = {
  migration: { pgsize: 4096, maxBitmapSize: 268435456 },
  maxMsgFds: 16,
  maxDataXferSize: 1048576,
  pgsizes: 4096,
  maxDmaMaps: 65535,
  writeMultiple: true,
};

export interface RegionInfoResult extends RegionInfo {
  /** The region's fd when the server handed one out (owned by the caller now). */
  fd: number | null;
}

/** Data at least this large is sent as its own part rather than copied into the message. */
const SEPARATE_DATA_FROM = 4096;

function encodeWriteNoCopy(
  msgId: number,
  region: number,
  offset: bigint | number,
  data: Uint8Array,
): Uint8Array | Uint8Array[] {
  return data.length >= SEPARATE_DATA_FROM
    ? encodeRegionWriteParts(msgId, region, offset, data)
    : encodeRegionWrite(msgId, region, offset, data);
}

/** The server failed this client: closed, silent, or sent what it must not (code E_PEER). */
export class ClientError extends NvgraceError {
  override name = 'ClientError';
  constructor(message: string, code: 'E_PEER' | 'E_BUSY' = 'E_PEER') {
    super(code, message);
  }
}

export class DeviceBusyError extends ClientError {
  override name = 'DeviceBusyError';
  /** The server's answer to VERSION while another VMM holds the device. */
  readonly errno = Errno.EBUSY;
  constructor() {
    super('device in use by another VMM (the server answered VERSION with EBUSY)', 'E_BUSY');
  }
}

interface Pending {
  command: number;
  resolve: (frame: Frame) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class VfioUserClient {
  private readonly reader = new FrameReader();
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | null = null;
  private readonly timeoutMs: number;
  /** Negotiated server capabilities (after version()). */
  serverCaps: Capabilities = {};

  constructor(
    private readonly conn: Connection,
    private readonly options: ClientOptions,
  ) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    conn.onData((chunk, fds) => this.onData(chunk, fds));
    conn.onClose((error) => this.fail(error ?? new ClientError('server closed the connection')));
  }

  get closed(): boolean {
    return this.failure !== null;
  }

  /**
   * Send a pre-encoded message (one buffer, or parts sent back to back without a copy) and
   * wait for its reply. Tests use it to send odd frames.
   */
  request(
    message: Uint8Array | readonly Uint8Array[],
    fds: readonly number[] = [],
  ): Promise<Frame> {
    if (this.failure) return Promise.reject(this.failure);
    const head = message instanceof Uint8Array ? message : message[0];
    if (!head || head.length < 4) throw new RangeError('a message needs its header first');
    const msgId = head[0]! | (head[1]! << 8);
    const command = head[2]! | (head[3]! << 8);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(msgId);
        reject(
          new ClientError(
            `${commandName(command)} (id ${msgId}) got no reply in ${this.timeoutMs} ms`,
          ),
        );
      }, this.timeoutMs);
      this.pending.set(msgId, { command, resolve, reject, timer });
      this.conn.send(message, fds);
    });
  }

  /** Send a message that expects no reply (posted writes, odd frames in tests). */
  post(message: Uint8Array | readonly Uint8Array[], fds: readonly number[] = []): void {
    if (this.failure) throw this.failure;
    this.conn.send(message, fds);
  }

  /** A fresh message id (16-bit, wrapping). */
  id(): number {
    this.nextId = (this.nextId + 1) & 0xffff;
    return this.nextId;
  }

  /**
   * Negotiate. A server whose device another VMM holds answers EBUSY: that becomes a
   * ClientError "device in use by another VMM" (DeviceBusyError), the rest stay RemoteErrors.
   */
  async version(caps: Capabilities | null = QEMU_CAPABILITIES, major = 0, minor = 0) {
    const frame = await this.request(encodeVersion(this.id(), major, minor, caps));
    let reply: ReturnType<typeof decodeVersionReply>;
    try {
      reply = decodeVersionReply(frame);
    } catch (e) {
      if (e instanceof RemoteError && e.errno === Errno.EBUSY) throw new DeviceBusyError();
      throw e;
    }
    this.serverCaps = reply.capabilities;
    return reply;
  }

  async dmaMap(
    map: { flags: number; offset?: bigint; address: bigint; size: bigint },
    fd?: number,
  ): Promise<void> {
    decodeDmaMapReply(
      await this.request(encodeDmaMap(this.id(), map), fd === undefined ? [] : [fd]),
    );
  }

  async dmaUnmap(unmap: { flags?: number; address: bigint; size: bigint }) {
    return decodeDmaUnmapReply(await this.request(encodeDmaUnmap(this.id(), unmap)));
  }

  async deviceInfo(): Promise<DeviceInfoWire> {
    return decodeDeviceGetInfoReply(await this.request(encodeDeviceGetInfo(this.id())));
  }

  /**
   * GET_REGION_INFO the way QEMU does it: argsz 32 first, then again with the argsz the
   * server asked for. The fd of a truncated first reply is closed.
   */
  async regionInfo(index: number, argsz: number = VfioSize.REGION_INFO): Promise<RegionInfoResult> {
    const first = decodeGetRegionInfoReply(
      await this.request(encodeGetRegionInfo(this.id(), index, argsz)),
    );
    if (first.argsz <= argsz) return first;
    if (first.fd !== null) this.options.closeFd(first.fd);
    const full = decodeGetRegionInfoReply(
      await this.request(encodeGetRegionInfo(this.id(), index, first.argsz)),
    );
    if (full.argsz > first.argsz) {
      if (full.fd !== null) this.options.closeFd(full.fd);
      throw new ClientError(
        `region ${index}: server keeps growing argsz (${first.argsz} → ${full.argsz})`,
      );
    }
    return full;
  }

  async irqInfo(index: number): Promise<IrqInfoWire> {
    return decodeGetIrqInfoReply(await this.request(encodeGetIrqInfo(this.id(), index)));
  }

  async setIrqs(
    req: { flags: number; index: number; start: number; count: number; bools?: Uint8Array },
    fds: readonly number[] = [],
  ): Promise<void> {
    decodeSetIrqsReply(await this.request(encodeSetIrqs(this.id(), req), fds));
  }

  /** REGION_READ; returns the bytes the server read (possibly fewer than asked). */
  async regionRead(region: number, offset: bigint | number, count: number): Promise<Uint8Array> {
    const reply = decodeRegionReadReply(
      await this.request(encodeRegionRead(this.id(), region, offset, count)),
    );
    return reply.data;
  }

  /**
   * REGION_WRITE with a reply; returns the count the server reports written. Large data is
   * sent without a copy, so it must not change until the promise settles.
   */
  async regionWrite(region: number, offset: bigint | number, data: Uint8Array): Promise<number> {
    const reply = decodeRegionWriteReply(
      await this.request(encodeWriteNoCopy(this.id(), region, offset, data)),
    );
    return reply.count;
  }

  /** A posted (No_reply) REGION_WRITE, as QEMU sends for memory-BAR writes. */
  regionWritePosted(region: number, offset: bigint | number, data: Uint8Array): void {
    // Copied: nothing tells the caller when a posted write has left, so it must own its bytes.
    this.post(encodeRegionWrite(this.id(), region, offset, data, true));
  }

  /** REGION_WRITE_MULTI; posted unless `withReply`, then returns the server's count. */
  async regionWriteMulti(entries: WriteMultiEntry[], withReply = false): Promise<bigint | null> {
    const bytes = encodeRegionWriteMulti(this.id(), entries, !withReply);
    if (!withReply) {
      this.post(bytes);
      return null;
    }
    return decodeRegionWriteMultiReply(await this.request(bytes));
  }

  async reset(): Promise<void> {
    decodeDeviceResetReply(await this.request(encodeDeviceReset(this.id())));
  }

  close(): void {
    this.conn.close();
    this.fail(new ClientError('client closed'));
  }

  private onData(chunk: Buffer, fds: number[]): void {
    for (const ev of this.reader.push(chunk, fds)) {
      if (ev.kind === 'error') {
        for (const fd of ev.fds) this.options.closeFd(fd);
        if (ev.error.fatal) {
          this.fail(new ClientError(`protocol error from server: ${ev.error.message}`));
          this.conn.close();
          return;
        }
        continue;
      }
      if (!isReply(ev.header)) {
        // A server→client command (DMA_READ/WRITE): this client serves no DMA by message.
        for (const fd of ev.fds) this.options.closeFd(fd);
        const reply = encodeErrorReply(ev.header.msgId, ev.header.command, Errno.ENOSYS);
        this.conn.send(reply);
        continue;
      }
      const waiter = this.pending.get(ev.header.msgId);
      if (!waiter) {
        for (const fd of ev.fds) this.options.closeFd(fd);
        this.fail(
          new ClientError(
            `unexpected reply id ${ev.header.msgId} (${commandName(ev.header.command)})`,
          ),
        );
        this.conn.close();
        return;
      }
      this.pending.delete(ev.header.msgId);
      clearTimeout(waiter.timer);
      // Keep the frame's payload stable: the chunk buffer may be reused by the transport.
      waiter.resolve({ ...ev, payload: ev.payload.slice() });
    }
  }

  private fail(error: Error): void {
    if (!this.failure) this.failure = error;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.failure);
      this.pending.delete(id);
    }
  }
}
