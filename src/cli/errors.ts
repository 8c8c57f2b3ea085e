/**
 * Local failures of the CLI (bad flag, socket path taken, memory file of the wrong size):
 * a stable code, a clear message, and the exit status they map to. Errors a peer causes
 * never reach here; they become error replies. Codes come from the project's table (src/errors).
 */
import { type ErrorCode, NvgraceError } from '../errors/index.js';

export class CliError extends NvgraceError {
  override name = 'CliError';
  constructor(
    code: ErrorCode,
    message: string,
    readonly exitCode = 2,
  ) {
    super(code, message);
  }
}
