/**
 * Listening on and connecting to AF_UNIX stream sockets.
 *
 * Rules: a socket path held by a live server is refused (E_ADDR_IN_USE), a stale socket file
 * is replaced, anything that is not a socket is never deleted (E_PATH_NOT_SOCKET). The socket
 * file is created mode 0600 (chmod before listen) and removed on close — only if it is still
 * the file we created. An inherited fd must be a listening AF_UNIX stream socket. When accept
 * fails for lack of fds or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), the listener stops
 * watching for ACCEPT_BACKOFF_MS instead of spinning on a level-triggered readable backlog.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { type NativeHandle, native } from '../../native/addon.js';
import { UnixConnection } from './connection.js';
import { errnoCode, TransportError } from './errors.js';
import type { Connection, Listener } from './types.js';

/** Pause before accepting again after EMFILE and friends (the backlog keeps the client). */
const ACCEPT_BACKOFF_MS = 250;
const OUT_OF_RESOURCES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM']);

export interface ListenOptions {
  /** listen() backlog (default 16). */
  backlog?: number;
}

/** The most bytes of a socket path sockaddr_un holds (108 with the terminating NUL). */
export const MAX_SOCKET_PATH = 107;

/** Refuse an empty or over-long socket path before any syscall sees it. */
function checkPath(path: string): void {
  const n = Buffer.byteLength(path);
  if (n === 0) throw new TransportError('E_PATH_LENGTH', 'the socket path is empty');
  if (n > MAX_SOCKET_PATH) {
    throw new TransportError(
      'E_PATH_LENGTH',
      `socket path is ${n} bytes, the most a UNIX socket address holds is ${MAX_SOCKET_PATH}: use a shorter path (e.g. under /run)`,
    );
  }
}

/** What sits at a socket path: a live listener, a stale socket file, nothing, or a non-socket. */
export function probeSocketPath(path: string): 'live' | 'stale' | 'absent' | 'other' {
  return native().probePath(path);
}

export class UnixListener implements Listener {
  private watcher: NativeHandle | null;
  private readonly handlers: ((conn: Connection) => void)[] = [];
  private backoff: NodeJS.Timeout | null = null;
  private refd = true;
  private open = true;
  /** accept() failures for lack of resources so far (each began a back-off). */
  acceptFailures = 0;

  /** Takes ownership of a listening, non-blocking fd; `ino` identifies the file to remove on close. */
  constructor(
    private fd: number,
    readonly path: string | undefined,
    private readonly ino?: bigint,
  ) {
    this.watcher = native().watchReadable(fd, () => this.acceptAll());
  }

  onConnection(handler: (conn: Connection) => void): void {
    this.handlers.push(handler);
  }

  /** Whether the listener keeps the process alive (default true). */
  ref(on: boolean): void {
    this.refd = on;
    if (this.watcher) native().handleRef(this.watcher, on);
    if (this.backoff) {
      if (on) this.backoff.ref();
      else this.backoff.unref();
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    const n = native();
    if (this.backoff) clearTimeout(this.backoff);
    this.backoff = null;
    if (this.watcher) n.handleClose(this.watcher);
    this.watcher = null;
    n.closeFd(this.fd);
    this.fd = -1;
    if (this.path !== undefined && this.ino !== undefined) {
      try {
        const st = lstatSync(this.path, { bigint: true });
        if (st.isSocket() && st.ino === this.ino) unlinkSync(this.path);
      } catch {
        // Already gone: nothing to remove.
      }
    }
  }

  /** Out of fds: the pending client stays in the backlog; try again a little later. */
  private pauseAccepting(): void {
    this.acceptFailures++;
    const n = native();
    if (this.watcher) n.handleClose(this.watcher);
    this.watcher = null;
    this.backoff = setTimeout(() => {
      this.backoff = null;
      if (!this.open) return;
      this.watcher = n.watchReadable(this.fd, () => this.acceptAll());
      if (!this.refd) n.handleRef(this.watcher, false);
    }, ACCEPT_BACKOFF_MS);
    if (!this.refd) this.backoff.unref();
  }

  private acceptAll(): void {
    const n = native();
    while (this.watcher) {
      let fd: number;
      try {
        fd = n.acceptFd(this.fd);
      } catch (error) {
        if (OUT_OF_RESOURCES.has(errnoCode(error) ?? '')) this.pauseAccepting();
        return;
      }
      if (fd < 0) return;
      if (this.handlers.length === 0) {
        n.closeFd(fd);
        continue;
      }
      const conn = new UnixConnection(fd);
      for (const h of this.handlers) h(conn);
    }
  }
}

/** Listen on a filesystem path (mode 0600), replacing a stale socket file. */
export function listenUnix(path: string, opts: ListenOptions = {}): UnixListener {
  checkPath(path);
  const n = native();
  const state = n.probePath(path);
  if (state === 'live') {
    throw new TransportError('E_ADDR_IN_USE', `${path}: another server is listening there`);
  }
  if (state === 'other') {
    throw new TransportError(
      'E_PATH_NOT_SOCKET',
      `${path}: exists and is not a socket; refusing to replace it`,
    );
  }
  if (state === 'stale') {
    try {
      unlinkSync(path);
    } catch (error) {
      if (errnoCode(error) !== 'ENOENT') {
        throw new TransportError('E_LISTEN', `${path}: cannot remove stale socket`, {
          cause: error,
        });
      }
    }
  }
  let fd: number;
  try {
    fd = n.listenPath(path, opts.backlog ?? 16);
  } catch (error) {
    if (errnoCode(error) === 'EADDRINUSE') {
      throw new TransportError('E_ADDR_IN_USE', `${path}: taken while we were binding`, {
        cause: error,
      });
    }
    throw new TransportError('E_LISTEN', `${path}: ${(error as Error).message}`, { cause: error });
  }
  const ino = lstatSync(path, { bigint: true }).ino;
  return new UnixListener(fd, path, ino);
}

/** Listen on an inherited fd (systemd-style `--fd N`); the listener owns and closes it. */
export function listenFd(fd: number): UnixListener {
  if (!Number.isSafeInteger(fd) || fd < 0) {
    throw new TransportError('E_BAD_LISTEN_FD', `fd ${fd}: not a valid file descriptor number`);
  }
  try {
    native().checkListenFd(fd);
  } catch (error) {
    throw new TransportError('E_BAD_LISTEN_FD', `fd ${fd}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return new UnixListener(fd, undefined);
}

/** Connect to a listening socket path. */
export function connectUnix(path: string): Promise<UnixConnection> {
  try {
    checkPath(path);
  } catch (error) {
    return Promise.reject(error);
  }
  try {
    return Promise.resolve(new UnixConnection(native().connectPath(path)));
  } catch (error) {
    return Promise.reject(
      new TransportError('E_CONNECT', `${path}: ${(error as Error).message}`, { cause: error }),
    );
  }
}
