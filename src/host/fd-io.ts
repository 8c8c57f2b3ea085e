/**
 * Positioned reads and writes on an fd (pread/pwrite through fs.readSync/writeSync), looping on
 * short transfers.
 *
 * Rules: positions are converted to numbers up front (fs.writeSync treats a bigint position as
 * "current position"), and must be safe integers; a read that hits end of file fills the rest with zeros (a sparse hole and a short file
 * read alike); a write that makes no progress is an error, never a spin.
 */
import { readSync, writeSync } from 'node:fs';

/** Largest single transfer (the kernel caps one read/write near 2 GiB anyway). */
const CHUNK = 1 << 30;

function toPosition(position: number | bigint): number {
  const p = Number(position);
  if (!Number.isSafeInteger(p) || p < 0) throw new RangeError(`bad file position ${position}`);
  return p;
}

export function preadFull(fd: number, target: Uint8Array, position: number | bigint): void {
  const start = toPosition(position);
  let done = 0;
  while (done < target.length) {
    const len = Math.min(CHUNK, target.length - done);
    const pos = start + done;
    const n = readSync(fd, target, done, len, pos);
    if (n === 0) {
      target.fill(0, done);
      return;
    }
    done += n;
  }
}

export function pwriteFull(fd: number, data: Uint8Array, position: number | bigint): void {
  const start = toPosition(position);
  let done = 0;
  while (done < data.length) {
    const len = Math.min(CHUNK, data.length - done);
    const pos = start + done;
    const n = writeSync(fd, data, done, len, pos);
    if (n <= 0) throw new Error(`pwrite on fd ${fd} made no progress at ${pos}`);
    done += n;
  }
}
