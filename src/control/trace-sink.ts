/**
 * Where trace records go: a file (one JSON line each, appended) or a callback (a control
 * connection's notifications).
 *
 * Rules: output is bounded — while more than MAX_PENDING_BYTES wait to be written (a slow
 * disk, a full pipe), records are dropped and counted, never buffered without bound. A file
 * that cannot be opened throws from the constructor (a FIFO with no reader too: it is opened
 * non-blocking); a later write error is reported through `onError` once and the sink stops.
 */
import { constants, createWriteStream, openSync, type WriteStream } from 'node:fs';
import type { TraceRecord } from './trace-record.js';

export const MAX_PENDING_BYTES = 16 * 2 ** 20;

export interface TraceSink {
  write(r: TraceRecord): void;
  readonly written: number;
  readonly dropped: number;
  /** Where the records go ("file:PATH" or "notify"). */
  readonly target: string;
  /** One more GPU writes here (`--trace FILE` shares one sink among all GPUs). */
  retain(): void;
  /** Release one user; the last one closes the sink. */
  close(): Promise<void>;
}

export class FileTraceSink implements TraceSink {
  written = 0;
  dropped = 0;
  private readonly stream: WriteStream;
  private failed = false;
  readonly target: string;

  constructor(
    readonly path: string,
    onError: (e: Error) => void,
  ) {
    this.target = `file:${path}`;
    // O_NONBLOCK: a FIFO nobody reads fails at open (ENXIO) instead of holding a libuv
    // thread forever; for a regular file it changes nothing.
    const flags =
      constants.O_WRONLY |
      constants.O_CREAT |
      constants.O_APPEND |
      constants.O_NONBLOCK |
      constants.O_NOCTTY;
    // Opened here, synchronously: a file that cannot be opened is the caller's error now.
    const fd = openSync(path, flags, 0o600);
    this.stream = createWriteStream('', { fd });
    this.stream.on('error', (e) => {
      if (this.failed) return;
      this.failed = true;
      onError(e);
    });
  }

  write(r: TraceRecord): void {
    if (this.failed || this.stream.writableLength > MAX_PENDING_BYTES) {
      this.dropped++;
      return;
    }
    this.stream.write(`${JSON.stringify(r)}\n`);
    this.written++;
  }

  private users = 0;

  retain(): void {
    this.users++;
  }

  close(): Promise<void> {
    if (--this.users > 0) return Promise.resolve();
    return new Promise((resolve) => {
      if (this.failed || this.stream.destroyed) {
        resolve();
        return;
      }
      this.stream.end(() => resolve());
    });
  }
}

export class CallbackTraceSink implements TraceSink {
  written = 0;
  dropped = 0;
  readonly target = 'notify';

  constructor(
    private readonly send: (r: TraceRecord) => boolean,
    /** The connection the records go to (its trace stops when it closes). */
    readonly owner: unknown = null,
  ) {}

  write(r: TraceRecord): void {
    if (this.send(r)) this.written++;
    else this.dropped++;
  }

  retain(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
