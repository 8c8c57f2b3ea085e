/**
 * Local failures of the CLI (bad flag, socket path taken, memory file of the wrong size):
 * a stable code, a clear message, and the exit status they map to. Errors a peer causes
 * never reach here; they become error replies.
 */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
