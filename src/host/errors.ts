/** Local failures of the host edge (memory files, foreign fds): a stable code and a clear message. */
import { type ErrorCode, NvgraceError } from '../errors/index.js';

export type HostErrorCode = ErrorCode &
  /** --memory-file exists with a size other than the device memory size. */
  (
    | 'E_MEMFILE_SIZE'
    /** --memory-file exists and is not a regular file. */
    | 'E_MEMFILE_NOT_REGULAR'
    /** --memory-file is a symlink or belongs to another user (and that was not allowed). */
    | 'E_MEMFILE_UNSAFE'
    /** --memory-file could not be created or opened. */
    | 'E_MEMFILE_OPEN'
    /** An fd handed to us is not what it must be (e.g. an IRQ fd that is not an eventfd). */
    | 'E_BAD_FD'
  );

export class HostError extends NvgraceError {
  override name = 'HostError';
  declare readonly code: HostErrorCode;
  constructor(code: HostErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
