/**
 * Mapping an fd into this process (MAP_SHARED), for the client side and the mapped-path
 * benchmark: what a VMM does with a region-info fd.
 *
 * Rules: unmap() detaches the buffer before munmap, so a stale view throws instead of faulting;
 * an unreferenced mapping is unmapped by the garbage collector.
 */
import { native } from '../native/addon.js';

export interface Mapping {
  /** A view over the whole mapping. */
  readonly buffer: Uint8Array;
  unmap(): void;
}

export function mapFd(
  fd: number,
  offset: number | bigint,
  length: number,
  writable: boolean,
): Mapping {
  const n = native();
  const [ab, handle] = n.mmapFd(fd, offset, length, writable ? 3 : 1);
  return {
    buffer: new Uint8Array(ab),
    unmap: () => n.unmapRegion(handle, ab),
  };
}
