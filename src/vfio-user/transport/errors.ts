/**
 * Local transport failures (socket path taken, bad inherited fd, lost fds): one error type
 * with a stable code (from the project's table, src/errors), the underlying native error as
 * `cause`.
 */
import { type ErrorCode, NvgraceError } from '../../errors/index.js';

export type TransportErrorCode = ErrorCode &
  /** Another process is listening on the socket path. */
  (
    | 'E_ADDR_IN_USE'
    /** The socket path is empty or longer than sockaddr_un can hold (107 bytes). */
    | 'E_PATH_LENGTH'
    /** Something that is not a socket (a regular file, a directory) sits at the socket path. */
    | 'E_PATH_NOT_SOCKET'
    /** The inherited fd is not a listening AF_UNIX stream socket. */
    | 'E_BAD_LISTEN_FD'
    /** Creating, binding or listening on the socket failed. */
    | 'E_LISTEN'
    /** Connecting to a socket path failed. */
    | 'E_CONNECT'
    /** Reading or writing an established connection failed (reset, broken pipe, …). */
    | 'E_SOCKET'
    /** The peer sent more fds than could be received; the connection is closed. */
    | 'E_FD_TRUNCATED'
  );

export class TransportError extends NvgraceError {
  override name = 'TransportError';
  declare readonly code: TransportErrorCode;
  constructor(code: TransportErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** The errno name (e.g. 'ECONNREFUSED') of a native error, if any. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
