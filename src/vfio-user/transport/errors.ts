/**
 * Local transport failures (socket path taken, bad inherited fd, lost fds): one error type
 * with a stable code, the underlying native error as `cause`.
 */
export type TransportErrorCode =
  /** Another process is listening on the socket path. */
  | 'EADDRINUSE_LIVE'
  /** The socket path is empty or longer than sockaddr_un can hold (107 bytes). */
  | 'EPATH_LENGTH'
  /** Something that is not a socket (a regular file, a directory) sits at the socket path. */
  | 'EPATH_NOT_SOCKET'
  /** The inherited fd is not a listening AF_UNIX stream socket. */
  | 'EBAD_LISTEN_FD'
  /** Creating, binding or listening on the socket failed. */
  | 'ELISTEN'
  /** Connecting to a socket path failed. */
  | 'ECONNECT'
  /** Reading or writing an established connection failed (reset, broken pipe, …). */
  | 'ESOCKET'
  /** The peer sent more fds than could be received; the connection is closed. */
  | 'EFD_TRUNCATED';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The errno name (e.g. 'ECONNREFUSED') of a native error, if any. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
