/**
 * The project's one error taxonomy: every failure the program reports by name is an
 * NvgraceError with a code from ERROR_CODES — a closed set, one prefix (E_), stable across
 * releases (scripts match them), printed as `nvgrace-user: <code>: <message>`.
 *
 * Rules: a layer throws its own subclass (ProtocolError, TransportError, HostError,
 * CliError, …) with one of these codes and never re-wraps another layer's error (the CLI
 * prints what reaches it as it is). Errno values a device or peer answers with are not
 * codes: they travel as `errno` (VfioError, RemoteError, and the server's FdRefusedError and
 * HostResourceError, which become error replies and are never printed). Pure: no Node APIs.
 */

/** Every code, with what it means. Adding one is a deliberate act: a test lists them all. */
export const ERROR_CODES = {
  // Usage and local refusals (exit 2).
  E_USAGE: 'the command line is wrong (unknown flag, missing argument, bad value)',
  E_INVALID: 'a value is out of range',
  E_SIZE: 'a size could not be parsed',
  E_PROBE: 'the driver refused to bind the device (as the kernel would at probe)',
  E_SOCKET_DIR: 'the socket directory could not be created',
  // Transport (sockets).
  E_ADDR_IN_USE: 'another server is listening on the socket path',
  E_PATH_NOT_SOCKET: 'something that is not a socket sits at the socket path',
  E_PATH_LENGTH: 'the socket path is empty or longer than 107 bytes',
  E_BAD_LISTEN_FD: 'the inherited fd is not a listening AF_UNIX stream socket',
  E_LISTEN: 'creating, binding or listening on the socket failed',
  E_CONNECT: 'connecting to the socket failed',
  E_SOCKET: 'reading or writing an established connection failed',
  E_FD_TRUNCATED: 'the peer sent more fds than could be received',
  // Host edge (memory files, fds).
  E_MEMFILE_SIZE: '--memory-file exists with another size than the device memory',
  E_MEMFILE_NOT_REGULAR: '--memory-file is not a regular file',
  E_MEMFILE_UNSAFE: '--memory-file is a symlink or belongs to another user',
  E_MEMFILE_OPEN: '--memory-file could not be created or opened',
  E_BAD_FD: 'an fd handed over is not what it must be',
  // Protocol (bytes on the wire).
  E_FRAME_SIZE_TOO_SMALL: 'a message header announces fewer than 16 bytes',
  E_FRAME_TOO_LARGE: 'a message is larger than the accepted maximum',
  E_FRAME_TYPE: 'a message has an unknown type',
  E_READER_FAILED: 'bytes arrived after a fatal framing error',
  E_PAYLOAD: 'a message payload is malformed',
  E_CAPABILITIES: 'the VERSION capabilities are malformed',
  E_VERSION: 'the client speaks a protocol major version we do not',
  E_UNEXPECTED_REPLY: 'a reply arrived for no outstanding request',
  // Peers as a client sees them (exit 1).
  E_PEER: 'the server failed, never answered, or spoke something else',
  E_BUSY: 'the device is in use by another VMM',
  E_INSPECT: 'inspect could not gather the device',
  // Control plane and traces.
  E_CONTROL_SOCKET: 'the control socket could not be set up',
  E_CONTROL_SOCKET_BUSY: 'the control socket is in use by a running server',
  E_TRACE_READ: 'a trace file could not be read',
  E_TRACE_WRITE: 'a trace file could not be written',
  E_TIMEOUT: 'ctl: no reply, or no awaited event, within --timeout',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The base of every named error: a stable code and a message for a human. */
export class NvgraceError extends Error {
  override name = 'NvgraceError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
