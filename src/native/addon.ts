/**
 * The typed face and loader of the native addon whose C sources sit beside this file
 * (build/Release/nvgrace_user.node, built by node-gyp at `npm ci`). Every fd-level operation
 * Node cannot do (SCM_RIGHTS, eventfd, memfd, mmap) is here; the transport and the host edge
 * import it.
 *
 * Rules: load lazily and once; a missing addon is a clear error telling how to build it.
 * Native errors carry `code` (errno name), `errno` (negative) and `syscall`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An opaque native poll handle (socket or watcher). */
export type NativeHandle = { readonly __nativeHandle: unique symbol };
/** An opaque native mapping handle. */
export type NativeMapping = { readonly __nativeMapping: unique symbol };

/**
 * Socket events: 0 data (a chunk, or the number of bytes that landed at the start of the
 * socket's readBuffer; fds) — may return the length of a reply it wrote at the start of the
 * replyBuffer, which the addon sends right after; 1 writable; 2 peer hung up; 3 error;
 * 4 that reply went out only up to `a` of `fds` bytes (queue the rest now); 5 nothing (Node
 * runs microtasks and nextTicks after it).
 */
export type SocketCallback = (
  kind: 0 | 1 | 2 | 3 | 4 | 5,
  a?: Buffer | number | Error,
  fds?: number[] | number,
) => number | undefined;

/**
 * In a data callback's result: the callback scheduled nothing (no promise reaction,
 * nextTick or anything else Node runs after a callback), so the addon may skip that
 * bookkeeping; without it, the addon runs it (event 5) right after sending the reply.
 * The addon's side of this number is SETTLED_FLAG in socket.c.
 */
export const SOCKET_SETTLED = 0x4000_0000;

/** Size of the readBuffer socketOpen takes. */
export const SOCKET_READ_BUFFER = 256 * 1024;
/** Size of the replyBuffer socketOpen takes (at least 4 KiB). */
export const SOCKET_REPLY_BUFFER = 128 * 1024;

export interface NativeAddon {
  /** readBuffer, replyBuffer: SOCKET_READ_BUFFER, SOCKET_REPLY_BUFFER bytes off the V8 heap. */
  socketOpen(fd: number, cb: SocketCallback, readBuffer: Buffer, replyBuffer: Buffer): NativeHandle;
  /** Later reads land in this buffer (SOCKET_READ_BUFFER bytes, off the heap). */
  socketSetReadBuffer(h: NativeHandle, readBuffer: Buffer): void;
  socketWrite(
    h: NativeHandle,
    data: Uint8Array | readonly Uint8Array[],
    fds?: readonly number[],
  ): number;
  socketSetReading(h: NativeHandle, on: boolean): void;
  socketSetWantWrite(h: NativeHandle, on: boolean): void;
  /** Poll mode: after a delivery, keep reading for up to `us` µs before sleeping (0: off). */
  socketSetPoll(h: NativeHandle, us: number): void;
  /** The peer hung up or the socket failed (pending RDHUP/HUP/ERR), even before EOF is read. */
  socketPeerGone(h: NativeHandle): boolean;
  handleClose(h: NativeHandle): void;
  handleRef(h: NativeHandle, on: boolean): void;
  listenPath(path: string, backlog: number): number;
  checkListenFd(fd: number): void;
  acceptFd(fd: number): number;
  connectPath(path: string): number;
  probePath(path: string): 'live' | 'stale' | 'absent' | 'other';
  watchReadable(fd: number, cb: (error?: Error) => void): NativeHandle;
  eventfdCreate(initval: number, semaphore: boolean): number;
  eventfdRead(fd: number): bigint | null;
  eventfdWrite(fd: number, value: number | bigint, pollFirst?: boolean): boolean;
  memfdCreate(name: string): number;
  ftruncateFd(fd: number, size: number | bigint): void;
  /** F_SEAL_SHRINK | F_SEAL_GROW on a memfd: its size can no longer change. */
  sealSize(fd: number): void;
  mmapFd(
    fd: number,
    offset: number | bigint,
    length: number,
    prot: number,
  ): [ArrayBuffer, NativeMapping];
  unmapRegion(m: NativeMapping, buffer: ArrayBuffer): void;
  /** pread until `target` is full; zero-fills past end of file; returns bytes from the file. */
  preadFull(fd: number, target: Uint8Array, position: number | bigint): number;
  /** pwrite all of `data` (loops over short writes). */
  pwriteFull(fd: number, data: Uint8Array, position: number | bigint): void;
  closeFd(fd: number): void;
  dupFd(fd: number): number;
  /** Raise the soft RLIMIT_NOFILE to the hard limit; the limits after (-1 = unlimited). */
  raiseNofile(): { soft: number; hard: number };
  /** One datagram to a systemd notify socket ('@' = abstract namespace). */
  notifySocket(address: string, message: string): void;
}

const ADDON = join('build', 'Release', 'nvgrace_user.node');

/** The package root: the nearest ancestor of this file holding binding.gyp. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'binding.gyp'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('nvgrace-user: cannot find the package root (binding.gyp)');
    dir = up;
  }
}

let cached: NativeAddon | undefined;

/** The loaded addon; throws a clear error if it was never built. */
export function native(): NativeAddon {
  if (cached) return cached;
  const root = packageRoot();
  const file = join(root, ADDON);
  if (!existsSync(file)) {
    throw new Error(
      `nvgrace-user: native addon missing at ${file}; build it with \`npm ci\` or \`npx node-gyp rebuild\` in ${root} (needs g++, make, python3 and node headers)`,
    );
  }
  cached = createRequire(import.meta.url)(file) as NativeAddon;
  return cached;
}
