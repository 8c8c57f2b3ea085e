/**
 * Positioned reads and writes on an fd (pread/pwrite), looping on short transfers.
 *
 * Rules: positions must be non-negative safe integers (checked up front); a read that hits end
 * of file fills the rest with zeros (a sparse hole and a short file read alike); a write that
 * makes no progress is an error, never a spin. Both go through one native call each (the addon
 * loops in C): device-memory accesses are on the server's hot path, and fs.readSync/writeSync
 * spend more on argument handling than a small pread costs.
 */
import { native } from '../native/addon.js';

function toPosition(position: number | bigint): number {
  const p = Number(position);
  if (!Number.isSafeInteger(p) || p < 0) throw new RangeError(`bad file position ${position}`);
  return p;
}

export function preadFull(fd: number, target: Uint8Array, position: number | bigint): void {
  native().preadFull(fd, target, toPosition(position));
}

export function pwriteFull(fd: number, data: Uint8Array, position: number | bigint): void {
  native().pwriteFull(fd, data, toPosition(position));
}
