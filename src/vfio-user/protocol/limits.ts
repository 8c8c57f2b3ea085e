/**
 * The server's limits: what it accepts and advertises in the VERSION reply. The transport
 * sizes its receive buffers from these (MAX_MSG_FDS for the cmsg space).
 *
 * Rules: MAX_MSG_SIZE leaves room for a maximal REGION_WRITE (16 header + 16 access struct
 * + MAX_DATA_XFER), as libvfio-user does. MAX_MSG_FDS ≤ 16 because QEMU 10.1 rejects more;
 * MAX_DMA_MAPS ≤ 65535 for the same reason. PGSIZES must never be 0 (QEMU asserts).
 */

/** Largest `count` in REGION_READ/WRITE (and any data transfer) we accept: 1 MiB. */
export const MAX_DATA_XFER = 1 << 20;
/** Largest message we accept (header included): 1 MiB + 16 + 16. */
export const MAX_MSG_SIZE = MAX_DATA_XFER + 16 + 16;
/** Most fds we accept on one message (SET_IRQS chunks arrive in at most this many). */
export const MAX_MSG_FDS = 16;
/** Most simultaneous DMA windows per session. */
export const MAX_DMA_MAPS = 65535;
/** DMA page sizes we support (4 KiB only). */
export const PGSIZES = 4096;

/** The protocol version we speak: 0.0 (no twin socket, no migration — see version.ts). */
export const PROTOCOL_MAJOR = 0;
export const PROTOCOL_MINOR = 0;

export interface ServerLimits {
  maxMsgSize: number;
  maxMsgFds: number;
  maxDataXfer: number;
  maxDmaMaps: number;
  pgsizes: number;
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxMsgSize: MAX_MSG_SIZE,
  maxMsgFds: MAX_MSG_FDS,
  maxDataXfer: MAX_DATA_XFER,
  maxDmaMaps: MAX_DMA_MAPS,
  pgsizes: PGSIZES,
});
