/**
 * Waiting for an fd to become readable without blocking the event loop (level-triggered:
 * the callback repeats until the fd is drained).
 */
import { type NativeHandle, native } from '../native/addon.js';

export interface FdWatch {
  /** Stop watching (the fd itself stays open). Idempotent. */
  close(): void;
  /** Whether the watch keeps the process alive (default true). */
  ref(on: boolean): void;
}

export function watchReadable(fd: number, onReadable: (error?: Error) => void): FdWatch {
  const n = native();
  let handle: NativeHandle | null = n.watchReadable(fd, onReadable);
  return {
    close() {
      if (handle) n.handleClose(handle);
      handle = null;
    },
    ref(on: boolean) {
      if (handle) n.handleRef(handle, on);
    },
  };
}
