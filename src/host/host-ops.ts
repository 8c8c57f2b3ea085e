/**
 * The real HostOps for a vfio-user session: fds received from the client become eventfd
 * sinks and pread/pwrite DMA windows.
 *
 * Rule: an fd the client sent that is not what it must be (not an eventfd, a memfd shorter
 * than its DMA window) is the client's fault: it is refused with FdRefusedError, which the
 * session answers as such, rather than surfacing as a server failure (EIO).
 */

import { native } from '../native/addon.js';
import { FdRefusedError, type HostOps } from '../vfio-user/server/host.js';
import { FdDmaRegion } from './dma-region.js';
import { HostError } from './errors.js';
import { eventfdSink } from './eventfd.js';

function refusingBadFds<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HostError && e.code === 'E_BAD_FD')
      throw new FdRefusedError(e.message, { cause: e });
    throw e;
  }
}

export const nodeHostOps: HostOps = {
  closeFd(fd: number): void {
    native().closeFd(fd);
  },
  sinkFromFd(fd: number) {
    return refusingBadFds(() => eventfdSink(fd));
  },
  dmaRegionFromFd(fd: number, offset: bigint, size: bigint, prot: number) {
    return refusingBadFds(() => new FdDmaRegion(fd, offset, size, prot));
  },
};
