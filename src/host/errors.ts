/** Local failures of the host edge (memory files, foreign fds): a stable code and a clear message. */
export type HostErrorCode =
  /** --memory-file exists with a size other than the device memory size. */
  | 'EMEMFILE_SIZE'
  /** --memory-file exists and is not a regular file. */
  | 'EMEMFILE_NOT_REGULAR'
  /** --memory-file is a symlink or belongs to another user (and that was not allowed). */
  | 'EMEMFILE_UNSAFE'
  /** --memory-file could not be created or opened. */
  | 'EMEMFILE_OPEN'
  /** An fd handed to us is not what it must be (e.g. an IRQ fd that is not an eventfd). */
  | 'EBAD_FD';

export class HostError extends Error {
  override readonly name = 'HostError';
  constructor(
    readonly code: HostErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
