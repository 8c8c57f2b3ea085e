/**
 * The error the model throws for a rejected access: it carries the errno the kernel would
 * return. The server's dispatcher is the one place that turns it into an error reply.
 */
import { Errno, type ErrnoName, errnoName } from '../uapi/errno.js';

export class VfioError extends Error {
  readonly errno: number;

  constructor(errno: number, message: string) {
    super(`${errnoName(errno)}: ${message}`);
    this.name = 'VfioError';
    this.errno = errno;
  }
}

/** Throw a VfioError with the named errno. */
export function fail(name: ErrnoName, message: string): never {
  throw new VfioError(Errno[name], message);
}
