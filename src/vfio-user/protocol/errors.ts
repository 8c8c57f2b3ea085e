/**
 * Errors of the protocol layer, with stable codes.
 *
 * Rules: a decoder that meets bytes it cannot accept throws ProtocolError (never anything
 * else) carrying the errno a server would answer with; `fatal` means the byte stream can no
 * longer be trusted (the connection must be dropped). An error reply received from the peer
 * is a RemoteError.
 */
import { type ErrorCode, NvgraceError } from '../../errors/index.js';
import { Errno } from '../../uapi/errno.js';

export type ProtocolErrorCode = ErrorCode &
  (
    | 'E_FRAME_SIZE_TOO_SMALL'
    | 'E_FRAME_TOO_LARGE'
    | 'E_FRAME_TYPE'
    | 'E_READER_FAILED'
    | 'E_PAYLOAD'
    | 'E_CAPABILITIES'
    | 'E_UNEXPECTED_REPLY'
    | 'E_VERSION'
  );

export class ProtocolError extends NvgraceError {
  override name = 'ProtocolError';
  declare readonly code: ProtocolErrorCode;
  readonly errno: number;
  readonly fatal: boolean;

  constructor(
    code: ProtocolErrorCode,
    message: string,
    errno: number = Errno.EINVAL,
    fatal = false,
  ) {
    super(code, message);
    this.errno = errno;
    this.fatal = fatal;
  }
}

/** A malformed payload: the one error decoders throw. */
export function badPayload(message: string, errno: number = Errno.EINVAL): never {
  throw new ProtocolError('E_PAYLOAD', message, errno);
}

/** The peer answered with an error reply (header flag ERROR). */
export class RemoteError extends Error {
  readonly errno: number;
  readonly command: number;

  constructor(command: number, errno: number) {
    super(`peer replied with errno ${errno} to command ${command}`);
    this.name = 'RemoteError';
    this.command = command;
    this.errno = errno;
  }
}
