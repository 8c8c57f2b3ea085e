/**
 * What a session needs from its host (the process owning the socket): the few fd operations
 * that cannot be pure. Tests pass a fake; the transport layer passes the real thing.
 *
 * Ownership rules: sinkFromFd and dmaRegionFromFd take ownership of the fd when they return
 * (closing the returned object closes the fd); if they throw, the fd is still the session's
 * and it closes it with closeFd. A refused fd is reported with FdRefusedError.
 */
import type { IrqSink } from '../../vfio/device.js';

/** Guest memory reached through a DMA_MAP fd; offsets are relative to the mapped DMA address. */
export interface DmaRegionAccess {
  read(offset: number, length: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
  close(): void;
}

/**
 * Thrown by HostOps when an fd the client sent is not what it must be (not an eventfd, a file
 * shorter than its DMA window): the client's fault, answered EINVAL (not a server failure).
 */
export class FdRefusedError extends Error {
  override readonly name = 'FdRefusedError';
}

/**
 * Thrown by the host backing when the host itself runs out (a full filesystem under
 * --memory-file): answered with `errno` (ENOSPC), logged as what it is — not a handler bug.
 */
export class HostResourceError extends Error {
  override readonly name = 'HostResourceError';
  constructor(
    readonly errno: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface HostOps {
  closeFd(fd: number): void;
  /** An eventfd as an interrupt sink (signal() writes 1 to it). */
  sinkFromFd(fd: number): IrqSink;
  /** Map `size` bytes of `fd` at `offset` with DMA_MAP's protection flags (READ 1, WRITE 2). */
  dmaRegionFromFd(fd: number, offset: bigint, size: bigint, prot: number): DmaRegionAccess;
}

/** A reply to send: whole message bytes and fds to attach (owned by the device backing: do not close). */
export interface Reply {
  bytes: Uint8Array;
  fds: number[];
  /**
   * Sent right after `bytes` as part of the same message, without a copy: a view of device
   * memory (REGION_READ served in place; read-path.ts owns the rules for sending it).
   */
  tail?: Uint8Array;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type SessionLogger = (level: LogLevel, message: string) => void;
