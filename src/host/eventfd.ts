/**
 * eventfds: our own (EventFd, for the client to receive interrupts) and the client's as an
 * interrupt sink (eventfdSink, for the server's SET_IRQS).
 *
 * Rules: our eventfds are non-blocking and close-on-exec. A sink never throws and never blocks
 * the event loop: a full counter (EAGAIN) drops the signal (the interrupt is already pending),
 * and a foreign fd that may be blocking is checked for writability first.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { native } from '../native/addon.js';
import type { IrqSink } from '../vfio/device.js';
import { HostError } from './errors.js';
import { type FdWatch, watchReadable } from './watch.js';

export class EventFd {
  private open = true;
  private watcher: FdWatch | null = null;

  /** Wraps (and owns) an existing eventfd. */
  constructor(readonly fd: number) {}

  static create(initval = 0, opts: { semaphore?: boolean } = {}): EventFd {
    return new EventFd(native().eventfdCreate(initval, opts.semaphore ?? false));
  }

  /** Add `n` to the counter; false if it would overflow. */
  signal(n: number | bigint = 1): boolean {
    return native().eventfdWrite(this.fd, n);
  }

  /** Read and reset the counter; null when it is zero. */
  read(): bigint | null {
    return native().eventfdRead(this.fd);
  }

  /** Call `onSignal(count)` whenever the counter becomes non-zero (it is drained first). */
  watch(onSignal: (count: bigint) => void): FdWatch {
    this.watcher?.close();
    const w = watchReadable(this.fd, () => {
      const v = this.read();
      if (v !== null) onSignal(v);
    });
    this.watcher = w;
    return w;
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.watcher?.close();
    this.watcher = null;
    native().closeFd(this.fd);
  }
}

/** True if `fd` is an eventfd (per /proc/self/fd). */
export function isEventFd(fd: number): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]';
  } catch {
    return false;
  }
}

/** Whether the open file behind `fd` has O_NONBLOCK (per /proc/self/fdinfo); false if unknown. */
function isNonBlocking(fd: number): boolean {
  try {
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m !== null && (Number.parseInt(m[1]!, 8) & 0o4000) !== 0;
  } catch {
    return false;
  }
}

export interface EventFdSink extends IrqSink {
  /** Signals that could not be delivered (counter full, fd error). */
  readonly dropped: number;
}

/** An interrupt sink writing 1 to `fd` per signal; takes ownership of the fd. */
export function eventfdSink(fd: number, opts: { requireEventFd?: boolean } = {}): EventFdSink {
  if ((opts.requireEventFd ?? true) && !isEventFd(fd)) {
    throw new HostError('E_BAD_FD', `fd ${fd} is not an eventfd`);
  }
  const n = native();
  const pollFirst = !isNonBlocking(fd);
  let open = true;
  let dropped = 0;
  return {
    get dropped() {
      return dropped;
    },
    signal() {
      if (!open) return;
      try {
        if (!n.eventfdWrite(fd, 1, pollFirst)) dropped++;
      } catch {
        dropped++;
      }
    },
    close() {
      if (!open) return;
      open = false;
      n.closeFd(fd);
    },
  };
}
